package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.endsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Dynofleet on a Heroku dyno with an admin host. The router says in {@code X-Forwarded-Proto} how
 * the client came: the token is not taken over plain http (security review 1: nothing stopped a CLI
 * or a browser sending it in clear to http://app.herokuapp.com). And the prefix is served on the
 * admin host only, so no backend page shares the dashboard's origin.
 */
@QuarkusTest
@TestProfile(HerokuEdgeTests.Edge.class)
class HerokuEdgeTests {
  static final String ADMIN = "fleet.example.com";
  static final String OWN_HOST = "my-dynofleet-1a2b3c4d5e6f.herokuapp.com";
  static final String STRONG = "edge-token-0123456789abcdef0123456789abcdef";
  static final String TOKEN = STRONG;
  static final String STRONG_READ = "edge-read-0123456789abcdef0123456789abcdef";

  public static class Edge implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "DYNO",
          "web.1",
          // Heroku's dyno metadata: the app's own host, not among the admin hosts
          "HEROKU_APP_DEFAULT_DOMAIN_NAME",
          OWN_HOST,
          "dynofleet.admin-hosts",
          "Fleet.Example.com, other-admin.example.com",
          // long enough that no window ends during a test on a slow machine
          "dynofleet.api.auth-failures",
          "3",
          "dynofleet.api.auth-failure-window",
          "1h",
          // strong, as app.json generates them: a throttled client's right token still works
          "dynofleet.api.token",
          STRONG,
          "dynofleet.api.read-token",
          STRONG_READ,
          // a configured pool (nothing listens there): its name is not for a stored pool
          "dynofleet.proxy.static-backends",
          "http://127.0.0.1:9");
    }
  }

  private static io.restassured.specification.RequestSpecification admin() {
    return given().header("Host", ADMIN);
  }

  @jakarta.inject.Inject io.dynofleet.proxy.RouteSync sync;
  @jakarta.inject.Inject ApiAuth auth;
  @jakarta.inject.Inject io.dynofleet.config.AdminHosts adminHosts;

  /**
   * Audit 20 L1: admin hosts copied from the docs' example left the app's own herokuapp host out,
   * and the dashboard, the API and the CLI got 404 there with no word at start. One WARN says what
   * to set; the host is still not served.
   */
  @Test
  void theStartWarnsWhenTheAppsOwnHostIsNotAnAdminHost() {
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(ApiAuth.class)) {
      auth.warnAboutConfig();
      org.assertj.core.api.Assertions.assertThat(capture.records())
          .filteredOn(r -> io.dynofleet.LogCapture.text(r).contains(OWN_HOST))
          .singleElement()
          .satisfies(
              r -> {
                org.assertj.core.api.Assertions.assertThat(r.getLevel().getName())
                    .isIn("WARN", "WARNING");
                org.assertj.core.api.Assertions.assertThat(io.dynofleet.LogCapture.text(r))
                    .contains(
                        "DYNOFLEET_ADMIN_HOSTS (fleet.example.com, other-admin.example.com)",
                        "HEROKU_APP_DEFAULT_DOMAIN_NAME",
                        "heroku config:set DYNOFLEET_ADMIN_HOSTS=fleet.example.com,"
                            + "other-admin.example.com,"
                            + OWN_HOST);
              });
    }
    given().header("Host", OWN_HOST).get("/_dynofleet/api/v1/pools").then().statusCode(404);
    org.assertj.core.api.Assertions.assertThat(
            ApiAuth.ownHostNotServed(adminHosts, java.util.Optional.of(ADMIN.toUpperCase())))
        .as("an admin host (any case): nothing to say")
        .isEmpty();
  }

  /**
   * Review 32 R32-1: the read-only token's {@code /info} says the own host is not served without
   * naming the admin hosts (which serve the admin API); the API token's names them.
   */
  @Test
  void infoNamesTheAdminHostsToTheApiTokenOnly() {
    java.util.function.Function<String, java.util.List<String>> warnings =
        token ->
            admin()
                .auth()
                .oauth2(token)
                .get("/_dynofleet/api/v1/info")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("warnings", String.class);
    org.assertj.core.api.Assertions.assertThat(warnings.apply(STRONG_READ))
        .anySatisfy(w -> org.assertj.core.api.Assertions.assertThat(w).contains(OWN_HOST))
        .allSatisfy(
            w ->
                org.assertj.core.api.Assertions.assertThat(w)
                    .doesNotContain(ADMIN, "other-admin.example.com"));
    org.assertj.core.api.Assertions.assertThat(warnings.apply(TOKEN))
        .anySatisfy(
            w ->
                org.assertj.core.api.Assertions.assertThat(w)
                    .contains(OWN_HOST, "fleet.example.com, other-admin.example.com"));
  }

  @jakarta.inject.Inject HookTarget hooks;

  /**
   * The release webhook is served under the prefix, so on the admin hosts only: subscribed at
   * another host (here the sandbox's loopback URL), every notification would get 404.
   */
  @Test
  void noWebhookIsSubscribedWhereTheHookIsNotServed() {
    org.assertj.core.api.Assertions.assertThat(hooks.of("edge")).isEmpty();
    org.assertj.core.api.Assertions.assertThat(hooks.missing())
        .contains("is not among DYNOFLEET_ADMIN_HOSTS");
  }

  /**
   * Audit 13: a stored pool named {@code static} silently replaced the one
   * DYNOFLEET_STATIC_BACKENDS configures in the proxy; the name is refused while the variable is
   * set.
   */
  @Test
  void theConfiguredStaticPoolsNameIsRefused() {
    admin()
        .auth()
        .oauth2(TOKEN)
        .contentType("application/json")
        .body(
            """
        {"metadata":{"name":"static"},"spec":{"staticBackends":["http://127.0.0.1:10"]}}
        """)
        .post(POOLS)
        .then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("type", endsWith("name-reserved"))
        .body("detail", org.hamcrest.Matchers.containsString("DYNOFLEET_STATIC_BACKENDS"));
    admin().auth().oauth2(TOKEN).get(POOLS + "/static").then().statusCode(404);
  }

  /**
   * The admin host is Dynofleet's alone: the default pool does not serve it, no pool may claim it.
   */
  @Test
  void anAdminHostIsNeverProxied() throws Exception {
    try (io.dynofleet.proxy.TestBackends backends = new io.dynofleet.proxy.TestBackends()) {
      java.net.URI shop = backends.named("shop");
      ApiFixtures.noStoredDefault();
      admin()
          .auth()
          .oauth2(TOKEN)
          .contentType("application/json")
          .body(
              """
          {"metadata":{"name":"edge-claims-admin"},"spec":{"staticBackends":["%s"],"routing":{"hosts":["fleet.EXAMPLE.com"]}}}
          """
                  .formatted(shop))
          .post(POOLS)
          .then()
          .statusCode(409)
          .body("detail", org.hamcrest.Matchers.containsString("DYNOFLEET_ADMIN_HOSTS"));
      admin()
          .auth()
          .oauth2(TOKEN)
          .contentType("application/json")
          .body(
              """
          {"metadata":{"name":"edge"},"spec":{"staticBackends":["%s"],"routing":{"hosts":["shop.example.com"],"default":true}}}
          """
                  .formatted(shop))
          .post(POOLS)
          .then()
          .statusCode(201);
      try {
        sync.sync();
        given()
            .header("Host", "shop.example.com")
            .get("/x")
            .then()
            .statusCode(200)
            .header("X-Backend", "shop");
        given()
            .header("Host", "elsewhere.example.com")
            .get("/x")
            .then()
            .statusCode(200)
            .header("X-Backend", "shop");
        admin()
            .get("/x")
            .then()
            .statusCode(404)
            .header("X-Dynofleet-Error", "admin-host")
            .header("X-Backend", (String) null);
        admin()
            .redirects()
            .follow(false)
            .get("/")
            .then()
            .statusCode(302)
            .header("Location", "/_dynofleet/");
        // and no service-worker refusal is needed on the backends' own hosts
        given()
            .header("Host", "shop.example.com")
            .header("Service-Worker", "script")
            .get("/sw.js")
            .then()
            .statusCode(200);
        // HSTS is the admin host's alone: a backend's host says what its own app says
        given()
            .header("Host", "shop.example.com")
            .header("X-Forwarded-Proto", "https")
            .get("/x")
            .then()
            .statusCode(200)
            .header("Strict-Transport-Security", (String) null);
        admin()
            .header("X-Forwarded-Proto", "https")
            .get("/x")
            .then()
            .statusCode(404)
            .header("Strict-Transport-Security", STS);
        // an absolute-form target names a backend's host over the admin
        // Host header: the backend's answer, without the admin host's HSTS
        // (a review suspected the filter's header outlived the reroute)
        String head =
            io.dynofleet.proxy.TestBackends.rawHead(
                io.restassured.RestAssured.port,
                "GET http://shop.example.com/x HTTP/1.1\r\nHost: "
                    + ADMIN
                    + "\r\nX-Forwarded-Proto: https\r\n"
                    + "Connection: close\r\n\r\n",
                java.time.Duration.ofSeconds(4));
        org.assertj.core.api.Assertions.assertThat(head)
            .startsWith("HTTP/1.1 200")
            .containsIgnoringCase("x-backend: shop")
            .doesNotContainIgnoringCase("strict-transport-security");
      } finally {
        admin()
            .auth()
            .oauth2(TOKEN)
            .delete(POOLS + "/edge")
            .then()
            .statusCode(org.hamcrest.Matchers.lessThan(300));
        sync.sync();
      }
    }
  }

  @Test
  void thePrefixIsServedOnTheAdminHostsOnly() {
    admin().header("Authorization", "Bearer " + TOKEN).get(POOLS).then().statusCode(200);
    given()
        .header("Host", "FLEET.example.com.:443")
        .header("Authorization", "Bearer " + TOKEN)
        .get(POOLS)
        .then()
        .statusCode(200);
    for (String path :
        java.util.List.of(
            POOLS, "/_dynofleet/", "/_dynofleet/q/health/live", "/_dynofleet/ui/app.js")) {
      given()
          .header("Host", "shop.example.com")
          .header("Authorization", "Bearer " + TOKEN)
          .get(path)
          .then()
          .statusCode(404)
          .contentType("application/problem+json")
          .body("detail", org.hamcrest.Matchers.containsString("not served on this host"));
    }
  }

  @Test
  void theDashboardIsRedirectedToHttpsAndTheApiRefusedOverHttp() {
    given()
        .redirects()
        .follow(false)
        .header("X-Forwarded-Proto", "http")
        .header("Host", ADMIN)
        .get("/_dynofleet/?x=1")
        .then()
        .statusCode(308)
        .header("Location", "https://fleet.example.com/_dynofleet/?x=1");
    admin()
        .header("X-Forwarded-Proto", "http")
        .header("Authorization", "Bearer " + TOKEN)
        .get(POOLS)
        .then()
        .statusCode(403)
        .contentType("application/problem+json")
        .body("type", endsWith("https-required"));
    admin()
        .header("X-Forwarded-Proto", "http")
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body("{}")
        .post(POOLS)
        .then()
        .statusCode(403);
    // without a token nothing travelled in clear: the usual answers (review 10: a signed webhook
    // to an http public URL, public metrics, were refused too)
    admin()
        .header("X-Forwarded-Proto", "http")
        .contentType("application/json")
        .body("{}")
        .post(POOLS)
        .then()
        .statusCode(401);
    admin()
        .header("X-Forwarded-Proto", "http")
        .header("Heroku-Webhook-Hmac-SHA256", "bm90LWl0")
        .contentType("application/json")
        .body("{}")
        .post("/_dynofleet/api/v1/hooks/heroku")
        .then()
        .statusCode(401)
        .body("type", endsWith("bad-signature"));
    // health stays open to uptime checks; https, and a request from inside the dyno, are served
    admin()
        .header("X-Forwarded-Proto", "http")
        .get("/_dynofleet/q/health/live")
        .then()
        .statusCode(200);
    admin()
        .header("X-Forwarded-Proto", "https")
        .header("Authorization", "Bearer " + TOKEN)
        .get(POOLS)
        .then()
        .statusCode(200);
    admin().header("Authorization", "Bearer " + TOKEN).get(POOLS).then().statusCode(200);
  }

  /**
   * A request from the client Heroku's router saw at {@code ip} (it appends it last), whatever the
   * client sent before.
   */
  private static io.restassured.specification.RequestSpecification from(String ip) {
    return admin()
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-For", "198.51.100.250, " + ip);
  }

  /**
   * Failed token attempts were not slowed: a token could be guessed at full speed. After 3 (this
   * profile's limit) a client gets 429 with Retry-After for anything carrying a credential, the
   * right token included (else a guess that hit would still tell), and nothing is done; other
   * clients, health and requests with the right token from clients that never failed go on.
   */
  @Test
  void failedTokenAttemptsAreThrottledPerClient() {
    String guesser = "203.0.113.7";
    for (int i = 0; i < 3; i++) {
      from(guesser).auth().oauth2("guess-" + i).get(POOLS).then().statusCode(401);
    }
    from(guesser)
        .auth()
        .oauth2("guess-3")
        .get(POOLS)
        .then()
        .statusCode(429)
        .contentType("application/problem+json")
        .body("type", endsWith("auth-throttled"))
        .header("Retry-After", org.hamcrest.Matchers.matchesPattern("[1-9][0-9]*"))
        .header(
            "Retry-After", s -> Integer.parseInt(s), org.hamcrest.Matchers.lessThanOrEqualTo(3600));
    from(guesser).auth().oauth2(STRONG.substring(0, 40) + "xx").get(POOLS).then().statusCode(429);
    // the right tokens from that client still work (strong tokens cannot be guessed;
    // everyone behind the address would be locked out by one guesser otherwise; review 13)
    String name = ApiFixtures.uniqueName("throttled");
    from(guesser)
        .auth()
        .oauth2(TOKEN)
        .contentType("application/json")
        .body(ApiFixtures.pool(name, 1))
        .post(POOLS)
        .then()
        .statusCode(201);
    from(guesser).auth().oauth2(STRONG_READ).get(POOLS + "/" + name).then().statusCode(200);
    admin()
        .header("X-Forwarded-Proto", "https")
        .auth()
        .oauth2(TOKEN)
        .delete(POOLS + "/" + name)
        .then()
        .statusCode(202);
    from(guesser).get("/_dynofleet/q/health/live").then().statusCode(200);
    // another client (the spoofable first entry the same, the router's last one not) is not slowed
    from("203.0.113.8").auth().oauth2(TOKEN).get(POOLS).then().statusCode(200);
    admin()
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-For", guesser + ", 203.0.113.9")
        .auth()
        .oauth2(TOKEN)
        .get(POOLS)
        .then()
        .statusCode(200);
    // a guessed token on a hook that claims a signature counts as a guess there too
    for (int i = 0; i < 3; i++) {
      from("203.0.113.11")
          .auth()
          .oauth2("guess-" + i)
          .header("Heroku-Webhook-Hmac-SHA256", "bm90LWl0")
          .contentType("application/json")
          .body("{}")
          .post("/_dynofleet/api/v1/hooks/heroku")
          .then()
          .statusCode(401);
    }
    from("203.0.113.11").auth().oauth2("guess-4").get(POOLS).then().statusCode(429);
    // successes are not failures: a client using the right token many times keeps its 3 guesses
    for (int i = 0; i < 5; i++) {
      from("203.0.113.10").auth().oauth2(TOKEN).get(POOLS).then().statusCode(200);
    }
    for (int i = 0; i < 3; i++) {
      from("203.0.113.10").auth().oauth2("wrong").get(POOLS).then().statusCode(401);
    }
  }

  static final String STS = "max-age=31536000";

  /**
   * The admin hosts are Dynofleet's alone, so on a dyno their https answers carry HSTS (without
   * includeSubDomains: other apps may live below that name): no header said a browser must never
   * try the token's host over http, where a network attacker could take the first request.
   */
  @Test
  void adminHostsAnswerWithHstsOverHttpsOnly() {
    admin()
        .header("X-Forwarded-Proto", "https")
        .auth()
        .oauth2(TOKEN)
        .get(POOLS)
        .then()
        .statusCode(200)
        .header("Strict-Transport-Security", STS);
    admin()
        .header("X-Forwarded-Proto", "https")
        .get(POOLS)
        .then()
        .statusCode(401)
        .header("Strict-Transport-Security", STS);
    admin()
        .header("X-Forwarded-Proto", "https")
        .get("/_dynofleet/q/health/live")
        .then()
        .statusCode(200)
        .header("Strict-Transport-Security", STS);
    given()
        .header("Host", "other-admin.example.com:443")
        .header("X-Forwarded-Proto", "https")
        .get("/_dynofleet/")
        .then()
        .statusCode(200)
        .header("Strict-Transport-Security", STS);
    // not over http (RFC 6797 7.2: a browser ignores
    // it there; the redirect to https is what counts)
    given()
        .redirects()
        .follow(false)
        .header("X-Forwarded-Proto", "http")
        .header("Host", ADMIN)
        .get("/_dynofleet/")
        .then()
        .statusCode(308)
        .header("Strict-Transport-Security", (String) null);
    // nor on other hosts, a backend's own
    given()
        .header("Host", "shop.example.com")
        .header("X-Forwarded-Proto", "https")
        .get(POOLS)
        .then()
        .statusCode(404)
        .header("Strict-Transport-Security", (String) null);
  }
}
