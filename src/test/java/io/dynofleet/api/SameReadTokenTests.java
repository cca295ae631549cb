package io.dynofleet.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.LogCapture;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Security review 7 S7-2: {@code DYNOFLEET_READ_TOKEN} set to the value of {@code
 * DYNOFLEET_API_TOKEN} (a copy-paste slip, or "to get Prometheus going") made every read-only
 * holder an admin, and nothing said so. The dyno still starts (stopping it would stop every pool's
 * traffic at an upgrade); the value is the API token it is, the read-only token is ignored, and the
 * start, {@code /info} and so the dashboard say that no read-only token is in force.
 */
@QuarkusTest
@TestProfile(SameReadTokenTests.Same.class)
class SameReadTokenTests {
  static final String TOKEN = "same-token-0123456789abcdef0123456789abcdef";

  public static class Same implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      // as pasted: a stray newline after the value is trimmed as the token itself is
      return Map.of("dynofleet.api.token", TOKEN, "dynofleet.api.read-token", TOKEN + "\n");
    }
  }

  @Inject ApiAuth auth;

  @Test
  void theStartAndInfoSayNoReadOnlyTokenIsInForce() {
    try (LogCapture capture = LogCapture.of(ApiAuth.class)) {
      auth.warnAboutConfig();
      assertThat(capture.records())
          .filteredOn(r -> LogCapture.text(r).contains("DYNOFLEET_READ_TOKEN is the same as"))
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.getLevel().getName()).isIn("WARN", "WARNING");
                assertThat(LogCapture.text(r))
                    .contains("no read-only token is in force")
                    .doesNotContain(TOKEN);
              });
    }
    String body =
        given()
            .header("Authorization", "Bearer " + TOKEN)
            .get("/_dynofleet/api/v1/info")
            .then()
            .statusCode(200)
            .extract()
            .asString();
    assertThat(io.restassured.path.json.JsonPath.from(body).getList("warnings", String.class))
        .anySatisfy(
            w ->
                assertThat(w)
                    .contains("DYNOFLEET_READ_TOKEN is the same as", "no read-only token"));
    assertThat(body).doesNotContain(TOKEN);
    // the value is the API token: it writes, as its holder (given DYNOFLEET_API_TOKEN) expects
    String name = ApiFixtures.uniqueName("same");
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body(ApiFixtures.pool(name, 0))
        .post(ApiFixtures.POOLS)
        .then()
        .statusCode(201);
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .delete(ApiFixtures.POOLS + "/" + name)
        .then()
        .statusCode(202);
  }
}
