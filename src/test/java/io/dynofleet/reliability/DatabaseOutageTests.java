package io.dynofleet.reliability;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The database goes away for 30 s while traffic flows: the proxy serves every request from its last
 * known pools, the API answers 503 problem documents, and when the database returns the API and the
 * route sync recover by themselves (no restart, no call from the test).
 */
@QuarkusTest
@QuarkusTestResource(value = DatabaseRelayResource.class, restrictToAnnotatedClass = true)
@Tag("reliability")
class DatabaseOutageTests {
  @jakarta.inject.Inject io.dynofleet.reconcile.Reconciler reconciler;
  private static final String TOKEN = "test-token-0123456789";
  private static final String POOLS = "/_dynofleet/api/v1/pools";
  private static final String HOST = "outage.example";
  private static final Duration OUTAGE = Duration.ofSeconds(30);

  private static final Vertx VERTX = Vertx.vertx();
  private final List<HttpServer> backends = new ArrayList<>();
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

  @AfterAll
  static void closeVertx() {
    VERTX.close();
  }

  private String backend(String name) throws Exception {
    hits.put(name, new AtomicInteger());
    HttpServer s =
        VERTX
            .createHttpServer()
            .requestHandler(
                req -> {
                  hits.get(name).incrementAndGet();
                  req.response().putHeader("X-Backend", name).end(name);
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    backends.add(s);
    return "http://127.0.0.1:" + s.actualPort();
  }

  private static String pool(List<String> urls) {
    return """
        {"metadata": {"name": "outage"},
         "spec": {"staticBackends": [%s], "routing": {"hosts": ["%s"]}}}
        """
        .formatted(String.join(", ", urls.stream().map(u -> "\"" + u + "\"").toList()), HOST);
  }

  @Test
  @Timeout(180)
  void proxyServesThroughADatabaseOutageAndEverythingRecovers() throws Exception {
    String a = backend("a");
    String b = backend("b");
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body(pool(List.of(a, b)))
        .post(POOLS)
        .then()
        .statusCode(201);

    HttpClient client = VERTX.createHttpClient(new HttpClientOptions().setMaxPoolSize(4));
    AtomicReference<String> seen = new AtomicReference<>("nothing yet");
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                String got = described(client);
                seen.set(got);
                return got.startsWith("200");
              });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          "the pool was not served within 10 s; the last answer: "
              + seen.get()
              + "; the pool: "
              + given()
                  .header("Authorization", "Bearer " + TOKEN)
                  .get(POOLS + "/outage")
                  .asString(),
          e);
    }

    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger sent = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<String> firstFailure = new AtomicReference<>();
    Thread traffic =
        new Thread(
            () -> {
              while (running.get()) {
                String got = described(client);
                sent.incrementAndGet();
                if (!got.startsWith("200 ")) {
                  failed.incrementAndGet();
                  firstFailure.compareAndSet(null, got);
                }
                try {
                  Thread.sleep(20);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "outage-traffic");
    traffic.start();
    try {
      Thread.sleep(1000);
      int before = sent.get();
      DatabaseRelayResource.relay.cut();
      long cutAt = System.nanoTime();
      // audit 14: a pass that cannot read its pool was tried again after a flat second, for as
      // long as the outage lasted; the waits now double (the loop's own passes count too)
      List<io.dynofleet.reconcile.ReconcileResult> passes =
          new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread reconciling =
          new Thread(
              () -> {
                for (int i = 0; i < 3; i++) {
                  passes.add(reconciler.reconcile(new io.dynofleet.reconcile.PoolKey("outage")));
                }
              },
              "outage-passes");
      reconciling.start();
      int api503 = 0;
      List<String> apiOther = new ArrayList<>();
      while (System.nanoTime() - cutAt < OUTAGE.toNanos()) {
        Response r = given().header("Authorization", "Bearer " + TOKEN).get(POOLS + "/outage");
        if (r.statusCode() == 503
            && r.contentType().startsWith("application/problem+json")
            && r.jsonPath().getString("type").endsWith("/database-unavailable")) {
          api503++;
        } else {
          apiOther.add(r.statusCode() + " " + r.contentType() + " " + r.asString());
        }
        Thread.sleep(500);
      }
      int duringOutage = sent.get() - before;
      reconciling.join(20_000);
      DatabaseRelayResource.relay.restore();
      long restoredAt = System.nanoTime();
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  given()
                          .header("Authorization", "Bearer " + TOKEN)
                          .get(POOLS + "/outage")
                          .statusCode()
                      == 200);
      double apiRecovery = (System.nanoTime() - restoredAt) / 1e9;

      // the route sync runs again: a third backend added through the API takes traffic
      String c = backend("c");
      given()
          .header("Authorization", "Bearer " + TOKEN)
          .contentType("application/merge-patch+json")
          .body("{\"spec\": {\"staticBackends\": [\"" + a + "\", \"" + b + "\", \"" + c + "\"]}}")
          .patch(POOLS + "/outage")
          .then()
          .statusCode(200);
      await().atMost(Duration.ofSeconds(15)).until(() -> hits.get("c").get() > 0);
      double routeRecovery = (System.nanoTime() - restoredAt) / 1e9;

      running.set(false);
      traffic.join(10_000);
      System.out.printf(
          "database outage: %d s cut, proxied requests %d (%d during the outage), proxy failures %d%s,"
              + " API 503 problems %d, other API answers %d, API recovered %.1f s after restore,"
              + " routing changes applied %.1f s after restore%n",
          OUTAGE.toSeconds(),
          sent.get(),
          duringOutage,
          failed.get(),
          firstFailure.get() == null ? "" : " (first: " + firstFailure.get() + ")",
          api503,
          apiOther.size(),
          apiRecovery,
          routeRecovery);
      assertThat(failed.get()).as("proxy failures").isZero();
      assertThat(duringOutage).as("requests during the outage").isGreaterThan(100);
      assertThat(apiOther).as("API answers other than a 503 problem during the outage").isEmpty();
      // each call may wait out the 5 s pool acquisition: 30 s hold at least five (14-16 measured)
      assertThat(api503).isGreaterThanOrEqualTo(3);
      assertThat(passes)
          .as("passes during the outage")
          .hasSize(3)
          .allSatisfy(
              r -> {
                assertThat(r.error()).startsWith("database: ");
                assertThat(r.requeueAfter()).isLessThanOrEqualTo(Duration.ofSeconds(30));
              });
      assertThat(passes.get(2).requeueAfter())
          .as("the wait grows")
          .isGreaterThan(passes.get(0).requeueAfter());
    } finally {
      running.set(false);
      DatabaseRelayResource.relay.restore();
      backends.forEach(HttpServer::close);
    }
  }

  /**
   * Audit 23 L5: a pool's stats are the proxy's memory, yet they answered 503 through an outage.
   * They are served, with a Warning that the store cannot be reached and when the pool was last
   * loaded; the pool itself, which is the store's, is still a 503.
   */
  @Test
  @Timeout(120)
  void statsAreServedFromMemoryThroughAnOutage() throws Exception {
    String pool = "outage-stats";
    String a = backend("stats-a");
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body(
            """
            {"metadata": {"name": "%s"},
             "spec": {"staticBackends": ["%s"], "routing": {"hosts": ["stats.example"]}}}
            """
                .formatted(pool, a))
        .post(POOLS)
        .then()
        .statusCode(201);
    HttpClient client = VERTX.createHttpClient();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> described(client, "stats.example").startsWith("200"));
    Response before =
        given().header("Authorization", "Bearer " + TOKEN).get(POOLS + "/" + pool + "/stats");
    assertThat(before.statusCode()).isEqualTo(200);
    assertThat(before.header("Warning")).isNull();
    try {
      DatabaseRelayResource.relay.cut();
      AtomicReference<Response> during = new AtomicReference<>();
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                Response r =
                    given()
                        .header("Authorization", "Bearer " + TOKEN)
                        .get(POOLS + "/" + pool + "/stats");
                during.set(r);
                return r.statusCode() == 200 && r.header("Warning") != null;
              });
      Response r = during.get();
      assertThat(r.contentType()).startsWith("application/json");
      assertThat(r.jsonPath().getList("app")).containsExactly(a.substring("http://".length()));
      assertThat(r.jsonPath().getLong("[0].requests")).isGreaterThan(0);
      assertThat(r.header("Warning"))
          .startsWith("299 - \"the desired-state store cannot be reached")
          .contains("last loaded it at ");
      given()
          .header("Authorization", "Bearer " + TOKEN)
          .get(POOLS + "/" + pool)
          .then()
          .statusCode(503);
      // a pool this proxy does not route cannot be told apart from no pool: still the 503
      given()
          .header("Authorization", "Bearer " + TOKEN)
          .get(POOLS + "/no-such-pool/stats")
          .then()
          .statusCode(503);
    } finally {
      DatabaseRelayResource.relay.restore();
      client.close();
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              Response r =
                  given()
                      .header("Authorization", "Bearer " + TOKEN)
                      .get(POOLS + "/" + pool + "/stats");
              return r.statusCode() == 200 && r.header("Warning") == null;
            });
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .delete(POOLS + "/" + pool)
        .then()
        .statusCode(org.hamcrest.Matchers.lessThan(300));
  }

  private static String described(HttpClient client, String host) {
    try {
      return client
          .request(
              new RequestOptions()
                  .setMethod(HttpMethod.GET)
                  .setHost("127.0.0.1")
                  .setPort(RestAssured.port)
                  .setURI("/hello")
                  .putHeader("Host", host)
                  .setTimeout(5000))
          .compose(req -> req.send())
          .compose(res -> res.body().map(x -> res.statusCode() + " " + x))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      return "failed: " + e;
    }
  }

  /** A proxied request's status and Dynofleet's error code, or what failed. */
  private static String described(HttpClient client) {
    try {
      return proxied(client).toString();
    } catch (Exception e) {
      return "failed: " + e;
    }
  }

  /** What the proxy answered: the status, Dynofleet's error code (or null) and the body. */
  private record Answer(int status, String error, String body) {
    @Override
    public String toString() {
      return status + " " + error + " " + body.replaceAll("\\s+", " ");
    }
  }

  private static Answer proxied(HttpClient client) throws Exception {
    return client
        .request(
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setHost("127.0.0.1")
                .setPort(RestAssured.port)
                .setURI("/hello")
                .putHeader("Host", HOST)
                .setTimeout(5000))
        .compose(req -> req.send())
        .compose(
            res ->
                res.body()
                    .map(
                        x ->
                            new Answer(
                                res.statusCode(),
                                res.getHeader("X-Dynofleet-Error"),
                                x.toString())))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }
}
