package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.TOKEN;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every management endpoint refuses requests without the right bearer token. */
@QuarkusTest
class ApiAuthTests {

  static Stream<Arguments> endpoints() {
    List<String[]> routes =
        List.of(
            new String[] {"GET", POOLS},
            new String[] {"POST", POOLS},
            new String[] {"GET", POOLS + "/x"},
            new String[] {"PUT", POOLS + "/x"},
            new String[] {"PATCH", POOLS + "/x"},
            new String[] {"DELETE", POOLS + "/x"},
            new String[] {"PUT", POOLS + "/x/scale"},
            new String[] {"GET", POOLS + "/x/status"},
            new String[] {"GET", POOLS + "/x/events"},
            new String[] {"POST", POOLS + "/x/proxy-secret/rotate"},
            new String[] {"GET", "/_dynofleet/api/v1/unknown"});
    List<String> badHeaders =
        List.of(
            "",
            "Bearer",
            "Bearer wrong",
            "Bearer " + TOKEN.substring(0, 10),
            "Bearer " + TOKEN + "x",
            "Basic " + TOKEN,
            TOKEN);
    return routes.stream().flatMap(r -> badHeaders.stream().map(h -> Arguments.of(r[0], r[1], h)));
  }

  @ParameterizedTest(name = "{0} {1} [{2}]")
  @MethodSource("endpoints")
  void refusedWithoutTheToken(String method, String path, String authorization) {
    RequestSpecification req = given().contentType("application/json").body("{}");
    if (!authorization.isEmpty()) {
      req.header("Authorization", authorization);
    }
    req.request(method, path)
        .then()
        .statusCode(401)
        .contentType("application/problem+json")
        .header("WWW-Authenticate", "Bearer realm=\"dynofleet\"")
        .body("status", equalTo(401));
  }

  /**
   * Audit 22 L6: a missing token, a wrong one and one without {@code Bearer} were all told "send
   * Authorization: Bearer", so a stale token looked like a missing one. Each is told its own fix,
   * never echoing the token sent nor saying which would do.
   */
  @Test
  void aMissingAWrongAndABareTokenAreToldApart() {
    given()
        .get(POOLS)
        .then()
        .statusCode(401)
        .body("detail", equalTo("send Authorization: Bearer <DYNOFLEET_API_TOKEN>"));
    String wrong = "stale-t0ken-" + System.nanoTime();
    given()
        .header("Authorization", "Bearer " + wrong)
        .get(POOLS)
        .then()
        .statusCode(401)
        .body(
            "detail",
            equalTo(
                "the token was not accepted: it is not this Dynofleet's API token (rotated?"
                    + " another Dynofleet's?)"))
        .body(org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString(wrong)))
        .body(org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString(TOKEN)));
    given()
        .header("Authorization", wrong)
        .get(POOLS)
        .then()
        .statusCode(401)
        .body("detail", org.hamcrest.Matchers.containsString("add \"Bearer \" before the token"))
        .body(org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString(wrong)));
    given()
        .header("Authorization", "Bearer")
        .get(POOLS)
        .then()
        .statusCode(401)
        .body("detail", org.hamcrest.Matchers.startsWith("the token is empty"));
  }

  @Test
  void healthStaysOpenForProbesAndMetricsNeedTheToken() {
    given().get("/_dynofleet/q/health/live").then().statusCode(200);
    // audit 6: public metrics named every backend app (its address reaches it past the balancer)
    given().get("/_dynofleet/q/metrics").then().statusCode(401);
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .get("/_dynofleet/q/metrics")
        .then()
        .statusCode(200);
  }

  @Test
  void dashboardStaticFilesArePublicButTheApiIsNot() {
    given()
        .get("/_dynofleet/")
        .then()
        .statusCode(200)
        .contentType(org.hamcrest.Matchers.containsString("text/html"));
    given().get("/_dynofleet/index.html").then().statusCode(200);
    given().get("/_dynofleet/ui/app.js").then().statusCode(200);
    given().get("/_dynofleet/ui/style.css").then().statusCode(200);
    given().get("/_dynofleet/api/v1/pools").then().statusCode(401);
    given().get("/_dynofleet/uix").then().statusCode(401);
    given().get("/_dynofleet/index.htmlx").then().statusCode(401);
    given()
        .redirects()
        .follow(false)
        .get("/_dynofleet")
        .then()
        .statusCode(302)
        .header("Location", "/_dynofleet/");
    given().post("/_dynofleet").then().statusCode(401);
  }

  /**
   * Security review 1: one token for everything put the key to every app into Prometheus's config.
   */
  @Test
  void theReadTokenReadsAndChangesNothing() {
    String read = "Bearer test-read-token-0123456789";
    given().header("Authorization", read).get(POOLS).then().statusCode(200);
    given().header("Authorization", read).get("/_dynofleet/q/metrics").then().statusCode(200);
    String name = ApiFixtures.uniqueName("readonly");
    for (String method : List.of("POST", "PUT", "PATCH", "DELETE")) {
      given()
          .header("Authorization", read)
          .contentType("application/json")
          .body(ApiFixtures.pool(name, 1))
          .request(method, method.equals("POST") ? POOLS : POOLS + "/" + name)
          .then()
          .statusCode(403)
          .contentType("application/problem+json")
          .body("type", org.hamcrest.Matchers.endsWith("read-only-token"));
    }
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .get(POOLS + "/" + name)
        .then()
        .statusCode(404);
    given().header("Authorization", read + "x").get(POOLS).then().statusCode(401);

    // review 10: the token handed to Prometheus read every app's secrets in the specs
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body(
            """
        {"metadata": {"name": "%s"}, "spec": {"pipeline": "shop", "replicas": 1,
         "template": {"sourceApp": "shop-web", "configVars": {"STRIPE_KEY": "sk_live_secret"}}}}
        """
                .formatted(name))
        .post(POOLS)
        .then()
        .statusCode(201);
    try {
      given()
          .header("Authorization", read)
          .get(POOLS + "/" + name)
          .then()
          .statusCode(200)
          .body("spec.template.configVars.STRIPE_KEY", equalTo(ReadOnlyRedaction.HIDDEN))
          .body("metadata.name", equalTo(name));
      given()
          .header("Authorization", read)
          .get(POOLS + "?limit=500")
          .then()
          .statusCode(200)
          .body(org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString("sk_live_secret")));
      given()
          .header("Authorization", "Bearer " + TOKEN)
          .get(POOLS + "/" + name)
          .then()
          .statusCode(200)
          .body("spec.template.configVars.STRIPE_KEY", equalTo("sk_live_secret"));
      // an export made with it, applied with the other, cannot overwrite the secret
      given()
          .header("Authorization", "Bearer " + TOKEN)
          .contentType("application/merge-patch+json")
          .body(
              "{\"spec\": {\"template\": {\"configVars\": {\"STRIPE_KEY\": \""
                  + ReadOnlyRedaction.HIDDEN
                  + "\"}}}}")
          .patch(POOLS + "/" + name)
          .then()
          .statusCode(422);
    } finally {
      given().header("Authorization", "Bearer " + TOKEN).delete(POOLS + "/" + name);
    }
  }

  /**
   * Review 32 R32-1: the read-only token reads {@code /info}, whose warnings told it the length of
   * the weak API token they warn of. The API token's {@code /info} still has it (the test profile's
   * tokens are 21 and 26 characters).
   */
  @Test
  void infoTellsTheReadOnlyTokenNoTokensLength() {
    String read = "test-read-token-0123456789";
    java.util.List<String> readers =
        given()
            .header("Authorization", "Bearer " + read)
            .get("/_dynofleet/api/v1/info")
            .then()
            .statusCode(200)
            .extract()
            .jsonPath()
            .getList("warnings", String.class);
    org.assertj.core.api.Assertions.assertThat(readers)
        .anySatisfy(
            w ->
                org.assertj.core.api.Assertions.assertThat(w)
                    .startsWith("DYNOFLEET_API_TOKEN is shorter than 32 characters"))
        .anySatisfy(
            w ->
                org.assertj.core.api.Assertions.assertThat(w)
                    .startsWith("DYNOFLEET_READ_TOKEN is shorter than 32 characters"))
        .allSatisfy(
            w ->
                org.assertj.core.api.Assertions.assertThat(w)
                    .doesNotContain("21", "26")
                    .doesNotContainPattern("has \\d+ characters"));
    org.assertj.core.api.Assertions.assertThat(
            given()
                .header("Authorization", "Bearer " + TOKEN)
                .get("/_dynofleet/api/v1/info")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("warnings", String.class))
        .anySatisfy(
            w ->
                org.assertj.core.api.Assertions.assertThat(w)
                    .startsWith("DYNOFLEET_API_TOKEN has 21 characters"));
  }

  @Test
  void aShortTokenIsWarnedAbout() {
    org.assertj.core.api.Assertions.assertThat(
            ApiAuth.weakness("DYNOFLEET_API_TOKEN", java.util.Optional.of(" abc\n")))
        .hasValueSatisfying(
            w ->
                org.assertj.core.api.Assertions.assertThat(w)
                    .contains("DYNOFLEET_API_TOKEN has 3 characters")
                    .doesNotContain("abc"));
    org.assertj.core.api.Assertions.assertThat(
            ApiAuth.weakness("X", java.util.Optional.of("a".repeat(32))))
        .isEmpty();
    org.assertj.core.api.Assertions.assertThat(ApiAuth.weakness("X", java.util.Optional.empty()))
        .isEmpty();
  }

  @Test
  void theTokenWorks() {
    given().header("Authorization", "Bearer " + TOKEN).get(POOLS).then().statusCode(200);
    // no HSTS off a dyno and without admin hosts (every host may be a backend's)
    given()
        .header("Authorization", "bearer " + TOKEN)
        .header("X-Forwarded-Proto", "https")
        .get(POOLS)
        .then()
        .statusCode(200)
        .header("Strict-Transport-Security", (String) null);
  }
}
