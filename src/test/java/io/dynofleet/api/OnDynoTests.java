package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.TOKEN;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.endsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * On a Heroku dyno the router says in {@code X-Forwarded-Proto} how the client came: the token is
 * not taken over plain http (security review 1: nothing stopped a CLI or a browser sending it in
 * clear to http://app.herokuapp.com).
 */
@QuarkusTest
@TestProfile(OnDynoTests.Dyno.class)
class OnDynoTests {

  public static class Dyno implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("DYNO", "web.1");
    }
  }

  @Test
  void theDashboardIsRedirectedToHttpsAndTheApiRefusedOverHttp() {
    given().redirects().follow(false).header("X-Forwarded-Proto", "http").header("Host", "fleet.example.com")
        .get("/_dynofleet/?x=1").then().statusCode(308).header("Location", "https://fleet.example.com/_dynofleet/?x=1");
    given().header("X-Forwarded-Proto", "http").header("Authorization", "Bearer " + TOKEN).get(POOLS)
        .then().statusCode(403).contentType("application/problem+json").body("type", endsWith("https-required"));
    given().header("X-Forwarded-Proto", "http").contentType("application/json").body("{}")
        .post(POOLS).then().statusCode(403);
    // health stays open to uptime checks; https, and a request from inside the dyno, are served
    given().header("X-Forwarded-Proto", "http").get("/_dynofleet/q/health/live").then().statusCode(200);
    given().header("X-Forwarded-Proto", "https").header("Authorization", "Bearer " + TOKEN).get(POOLS)
        .then().statusCode(200);
    given().header("Authorization", "Bearer " + TOKEN).get(POOLS).then().statusCode(200);
  }
}
