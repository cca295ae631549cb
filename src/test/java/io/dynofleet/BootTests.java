package io.dynofleet;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class BootTests {
  @Test
  void readinessIncludesTheDatabase() {
    // our own check, not Quarkus's: that one showed the driver's error text to anyone (security
    // review 1), and health needs no token
    given()
        .when()
        .get("/_dynofleet/q/health/ready")
        .then()
        .statusCode(200)
        .body("checks.find { it.name == 'database' }.status", org.hamcrest.Matchers.equalTo("UP"))
        .body(org.hamcrest.Matchers.not(containsString("Database connections health check")));
  }
}
