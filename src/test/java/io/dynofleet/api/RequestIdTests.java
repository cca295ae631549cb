package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.TOKEN;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** Requests to Dynofleet's own endpoints carry a request id: the caller's, or a fresh one. */
@QuarkusTest
class RequestIdTests {

  /** The proxy's rule, Heroku's router's: 20 to 200 letters, digits, {@code + / = -}. */
  @Test
  void aCallerIdOfTheRoutersFormIsKept() {
    String id = "f03a-4a1b+Zx/9Q==-abc-123";
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .header("X-Request-Id", id)
        .get(POOLS)
        .then()
        .statusCode(200)
        .header("X-Request-Id", id);
  }

  /**
   * The API kept ids the proxy replaces (short ones, {@code . _ :}): one rule for both now, so an
   * id followed through the router and the API is kept by both or by neither.
   */
  @Test
  void anIdTheProxyWouldReplaceIsReplaced() {
    for (String id : new String[] {"abc-123", "svc.name:request_id-0000000001"}) {
      assertThat(
              given()
                  .header("Authorization", "Bearer " + TOKEN)
                  .header("X-Request-Id", id)
                  .get(POOLS)
                  .then()
                  .statusCode(200)
                  .extract()
                  .header("X-Request-Id"))
          .as(id)
          .matches("[0-9a-f-]{36}");
    }
  }

  @Test
  void aMissingOrInsaneIdIsReplaced() {
    String fresh =
        given()
            .header("Authorization", "Bearer " + TOKEN)
            .get(POOLS)
            .then()
            .statusCode(200)
            .extract()
            .header("X-Request-Id");
    assertThat(fresh).matches("[0-9a-f-]{36}");
    String again =
        given()
            .header("Authorization", "Bearer " + TOKEN)
            .get(POOLS)
            .then()
            .statusCode(200)
            .extract()
            .header("X-Request-Id");
    assertThat(again)
        .as("a fresh id per request, not a constant")
        .matches("[0-9a-f-]{36}")
        .isNotEqualTo(fresh);
    String replaced =
        given()
            .header("X-Request-Id", "evil\"id with spaces")
            .get(POOLS)
            .then()
            .statusCode(401)
            .extract()
            .header("X-Request-Id");
    assertThat(replaced).matches("[0-9a-f-]{36}").doesNotContain("evil").isNotIn(fresh, again);
  }
}
