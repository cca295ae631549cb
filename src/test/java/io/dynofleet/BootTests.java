package io.dynofleet;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class BootTests {
  @Test
  void readinessIncludesTheDatabase() {
    given().when().get("/_dynofleet/q/health/ready").then().statusCode(200)
        .body(containsString("Database connections health check"));
  }
}
