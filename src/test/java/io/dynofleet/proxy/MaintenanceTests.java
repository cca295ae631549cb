package io.dynofleet.proxy;

import static io.dynofleet.proxy.TestBackends.rawHead;
import static io.dynofleet.proxy.TestBackends.upgrade;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.emptyOrNullString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import io.dynofleet.reconcile.PoolKey;
import io.dynofleet.reconcile.Reconciler;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pool's maintenance mode ({@code spec.routing.maintenance}, audit 20 M6), Dynofleet's {@code
 * heroku maintenance:on}: every request of the pool gets 503 and a maintenance page, its backends
 * get none and keep running; the API's switch reaches the proxy by the route sync, with no restart.
 */
@QuarkusTest
@TestProfile(ProxyProfile.class)
@Timeout(90)
class MaintenanceTests {
  static final String TOKEN = "test-token-0123456789";
  static final String POOLS = "/_dynofleet/api/v1/pools";

  @Inject RoutingTable table;
  @Inject RouteSync sync;
  @Inject ReverseProxy proxy;
  @Inject Reconciler reconciler;
  @Inject io.micrometer.core.instrument.MeterRegistry registry;
  @Inject ProxyConfig config;
  @Inject io.vertx.core.Vertx vertx;

  @io.quarkus.test.common.http.TestHTTPResource("/")
  java.net.URL app;

  final TestBackends backends = new TestBackends();

  @AfterEach
  void stop() {
    io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
        .run(
            () ->
                io.dynofleet.pool.model.Pool.getEntityManager()
                    .createNativeQuery("delete from pools where name like 'mnt-%'")
                    .executeUpdate());
    table.replaceAll(List.of());
    proxy.maintenancePages().forTests(null, config.maintenance().allowPrivatePages());
    backends.close();
  }

  static RequestSpecification api() {
    return given().auth().oauth2(TOKEN).contentType("application/json");
  }

  /**
   * A backend counting the requests it gets, each answered with its name; its health checks (on
   * {@code /healthz}, which the running backends still answer under maintenance) not counted.
   */
  URI counted(String name, AtomicInteger hits) {
    return backends.start(
        req -> {
          if (!req.path().equals("/healthz")) hits.incrementAndGet();
          req.response().putHeader("X-Backend", name).end(name);
        });
  }

  static PoolRoute route(String name, List<String> hosts, boolean dflt, URI backend) {
    return TestBackends.pool(name, hosts, dflt, List.of(TestBackends.target(name, backend)));
  }

  private double answered(String pool) {
    io.micrometer.core.instrument.Counter c =
        registry.find("dynofleet.proxy.maintenance").tag("pool", pool).counter();
    return c == null ? 0 : c.count();
  }

  /**
   * A pool in maintenance answers every request itself: 503, {@code Retry-After}, the maintenance
   * code, {@code no-store} and the built-in page; a POST with a body (its connection ends) and a
   * WebSocket upgrade too. Its backend gets nothing but an ACME challenge. Dynofleet's own prefix
   * still answers, though the pool is the default pool; another pool is served as before.
   */
  @Test
  void aPoolInMaintenanceAnswers503AndItsBackendGetsNothing() throws Exception {
    AtomicInteger hits = new AtomicInteger();
    AtomicInteger otherHits = new AtomicInteger();
    URI shop = counted("shop", hits);
    table.put(route("mnt-shop", List.of(), true, shop).withMaintenance(true, null));
    table.put(route("mnt-other", List.of("other.example"), false, counted("other", otherHits)));
    double before = answered("mnt-shop");

    given()
        .header("Host", "shop.example")
        .get("/checkout?x=1")
        .then()
        .statusCode(503)
        .header("Retry-After", "60")
        .header("X-Dynofleet-Error", "maintenance")
        .header("Cache-Control", "no-store")
        .header("Content-Type", startsWith("text/html"))
        .header("X-Request-Id", not(emptyOrNullString()))
        .body(containsString("Down for maintenance"));
    given()
        .header("Host", "shop.example")
        .body("order=1")
        .post("/orders")
        .then()
        .statusCode(503)
        .header("X-Dynofleet-Error", "maintenance");
    given().header("Host", "shop.example").head("/").then().statusCode(503);
    assertThat(rawHead(app.getPort(), upgrade("shop.example", "Upgrade"), Duration.ofSeconds(5)))
        .startsWith("HTTP/1.1 503")
        .containsIgnoringCase("\r\nX-Dynofleet-Error: maintenance\r\n")
        .containsIgnoringCase("\r\nRetry-After: 60\r\n");
    assertThat(hits.get()).as("requests that reached the backend").isZero();
    assertThat(answered("mnt-shop") - before).isEqualTo(4);

    // ACME's http-01 challenges pass, as past the https redirect: a renewal must not fail
    given()
        .header("Host", "shop.example")
        .get("/.well-known/acme-challenge/tok")
        .then()
        .statusCode(200)
        .header("X-Backend", "shop");
    assertThat(hits.get()).isEqualTo(1);
    // ... but only GET or HEAD of one token: dot segments after the prefix reached a backend
    // that resolves them, with any method (security review 3 #2), and so did upgrades
    given()
        .urlEncodingEnabled(false)
        .header("Host", "shop.example")
        .body("order=1")
        .post("/.well-known/acme-challenge/%2e%2e/%2e%2e/orders")
        .then()
        .statusCode(503)
        .header("X-Dynofleet-Error", "maintenance");
    given()
        .urlEncodingEnabled(false)
        .header("Host", "shop.example")
        .get("/.well-known/acme-challenge/%2e%2e/checkout")
        .then()
        .statusCode(503);
    given()
        .header("Host", "shop.example")
        .body("x")
        .post("/.well-known/acme-challenge/tok")
        .then()
        .statusCode(503);
    assertThat(
            rawHead(
                app.getPort(),
                upgrade("shop.example", "Upgrade")
                    .replace("GET /ws ", "GET /.well-known/acme-challenge/tok "),
                Duration.ofSeconds(5)))
        .startsWith("HTTP/1.1 503");
    assertThat(hits.get()).as("only the challenge itself reached the backend").isEqualTo(1);
    // Dynofleet's own prefix is not the pool's
    api().get(POOLS).then().statusCode(200);
    given().header("Host", "other.example").get("/").then().statusCode(200).body(equalTo("other"));

    // the same route out of maintenance: the backend serves again, no restart
    table.put(route("mnt-shop", List.of(), true, shop));
    given()
        .header("Host", "shop.example")
        .get("/checkout")
        .then()
        .statusCode(200)
        .body(equalTo("shop"));
  }

  /**
   * The switch as users flip it: through the API, reaching the proxy by the route sync's poll (as
   * on every other dyno), with no restart. An {@code apply} of the pool's file, which does not name
   * the switch, keeps the maintenance; {@code false} ends it. Each flip is an event, and the
   * reconciler's pass shows condition {@code Maintenance} while it lasts, going on as ever.
   */
  @Test
  void theApiSwitchReachesTheProxyWithoutARestart() throws Exception {
    AtomicInteger hits = new AtomicInteger();
    URI backend = counted("api", hits);
    String doc =
        """
        {"metadata":{"name":"mnt-api"},"spec":{"staticBackends":["%s"],"healthCheck":{"path":"/healthz"},"routing":{"hosts":["mnt.example"]}}}
        """
            .formatted(backend);
    api()
        .body(doc)
        .post(POOLS)
        .then()
        .statusCode(201)
        .body("spec.routing.maintenance", equalTo(false));
    sync.sync();
    given().header("Host", "mnt.example").get("/").then().statusCode(200);
    assertThat(hits.get()).isEqualTo(1);

    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\":{\"routing\":{\"maintenance\":true}}}")
        .patch(POOLS + "/mnt-api")
        .then()
        .statusCode(200)
        .body("spec.routing.maintenance", equalTo(true))
        .body("metadata.generation", equalTo(2));
    assertThat(sync.sync(false)).as("the poll another dyno makes").isTrue();
    given()
        .header("Host", "mnt.example")
        .get("/")
        .then()
        .statusCode(503)
        .header("X-Dynofleet-Error", "maintenance");
    assertThat(hits.get()).isEqualTo(1);

    reconciler.reconcile(new PoolKey("mnt-api"));
    Response read = api().get(POOLS + "/mnt-api");
    read.then()
        .body("status.conditions.find { it.type == 'Maintenance' }.status", equalTo("True"))
        .body(
            "status.conditions.find { it.type == 'Maintenance' }.reason", equalTo("MaintenanceOn"))
        .body("status.observedGeneration", equalTo(2));
    api().get(POOLS + "/mnt-api/events").then().body("reason", hasItem("MaintenanceOn"));

    // the pool file applied again, without the switch: still in maintenance, no new generation
    api()
        .body(doc)
        .put(POOLS + "/mnt-api")
        .then()
        .statusCode(200)
        .body("spec.routing.maintenance", equalTo(true))
        .body("metadata.generation", equalTo(2));
    sync.sync(false);
    given().header("Host", "mnt.example").get("/").then().statusCode(503);

    api()
        .body(doc.replace("\"hosts\"", "\"maintenance\":false,\"hosts\""))
        .put(POOLS + "/mnt-api")
        .then()
        .statusCode(200)
        .body("spec.routing.maintenance", equalTo(false));
    assertThat(sync.sync(false)).isTrue();
    given().header("Host", "mnt.example").get("/").then().statusCode(200).body(equalTo("api"));
    assertThat(hits.get()).isEqualTo(2);
    api().get(POOLS + "/mnt-api/events").then().body("reason", hasItem("MaintenanceOff"));
    reconciler.reconcile(new PoolKey("mnt-api"));
    api()
        .get(POOLS + "/mnt-api")
        .then()
        .body("status.conditions.type", not(hasItem("Maintenance")))
        .body("status.conditions.type", hasItem("Ready"));
  }

  /** Bad input is refused by name and changes nothing: the pool stays out of maintenance. */
  @Test
  void aSwitchThatIsNoBooleanOrAPageThatIsNotHttpsIsRefused() {
    AtomicInteger hits = new AtomicInteger();
    String doc =
        """
        {"metadata":{"name":"mnt-bad"},"spec":{"staticBackends":["%s"],"healthCheck":{"path":"/healthz"}}}
        """
            .formatted(counted("bad", hits));
    api().body(doc).post(POOLS).then().statusCode(201);
    String[][] bad = {
      {"\"maintenance\": \"true\"", "spec.routing.maintenance"},
      {"\"maintenance\": 1", "spec.routing.maintenance"},
      {
        "\"maintenancePageUrl\": \"http://pages.example/down.html\"",
        "spec.routing.maintenancePageUrl"
      },
      {"\"maintenancePageUrl\": \"pages.example/down.html\"", "spec.routing.maintenancePageUrl"},
      {
        "\"maintenancePageUrl\": \"https://user:pw@pages.example/\"",
        "spec.routing.maintenancePageUrl"
      },
      {"\"maintenancePageUrl\": true", "spec.routing.maintenancePageUrl"},
    };
    for (String[] b : bad) {
      api()
          .contentType("application/merge-patch+json")
          .body("{\"spec\":{\"routing\":{" + b[0] + "}}}")
          .patch(POOLS + "/mnt-bad")
          .then()
          .statusCode(422)
          .contentType("application/problem+json")
          .body("errors.field", hasItem(b[1]))
          .body(not(containsString("user:pw")));
    }
    api()
        .get(POOLS + "/mnt-bad")
        .then()
        .body("spec.routing.maintenance", equalTo(false))
        .body("spec.routing", not(org.hamcrest.Matchers.hasKey("maintenancePageUrl")))
        .body("metadata.generation", equalTo(1));
  }

  /**
   * A page of the pool's own ({@code maintenancePageUrl}) is fetched by the proxy off the request
   * path, from a real https server on loopback (taken as {@code allow-private-pages} takes it, its
   * self-signed certificate trusted), and served with the maintenance headers; a refresh brings an
   * edit. A refresh that fails keeps the copy fetched last; a page that cannot be had at all (an
   * error, not HTML, too large) leaves the built-in page. The page host is asked by its name, as
   * the URL has it, though connected to at the address checked.
   */
  @Test
  void aPageOfThePoolsOwnIsFetchedCachedAndRefreshedAndFallsBack() throws Exception {
    AtomicReference<String> content = new AtomicReference<>("<h1>Back at 10:00</h1>");
    AtomicInteger status = new AtomicInteger(200);
    AtomicInteger fetches = new AtomicInteger();
    AtomicReference<String> hostHeader = new AtomicReference<>();
    io.vertx.core.http.HttpServerOptions tls = TestBackends.selfSignedTls();
    proxy.maintenancePages().forTests((io.vertx.core.net.PfxOptions) tls.getKeyCertOptions(), true);
    URI pages =
        backends.start(
            tls,
            req -> {
              fetches.incrementAndGet();
              hostHeader.set(req.getHeader("Host"));
              switch (req.path()) {
                case "/down.html" ->
                    req.response()
                        .setStatusCode(status.get())
                        .putHeader("Content-Type", "text/html; charset=utf-8")
                        .putHeader("Set-Cookie", "pages=1")
                        .end(content.get());
                case "/text" -> req.response().putHeader("Content-Type", "text/plain").end("x");
                case "/huge" ->
                    req.response()
                        .setChunked(true)
                        .putHeader("Content-Type", "text/html")
                        .end("x".repeat(MaintenancePages.MAX_BYTES + 1));
                default -> req.response().setStatusCode(404).end();
              }
            },
            "https");
    AtomicInteger hits = new AtomicInteger();
    URI backend = counted("paged", hits);
    table.put(
        route("mnt-paged", List.of("paged.example"), false, backend)
            .withMaintenance(true, pages + "/down.html"));
    // fetched when the route came, off the request path: its outcome awaited, not polled for
    join(proxy.maintenancePages().fetch(pages + "/down.html"));
    given()
        .header("Host", "paged.example")
        .get("/")
        .then()
        .statusCode(503)
        .header("X-Dynofleet-Error", "maintenance")
        .header("Retry-After", "60")
        .header("Cache-Control", "no-store")
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Set-Cookie", org.hamcrest.Matchers.nullValue())
        .body(equalTo("<h1>Back at 10:00</h1>"));
    assertThat(hostHeader.get()).isEqualTo("localhost:" + pages.getPort());
    int fetched = fetches.get();
    for (int i = 0; i < 5; i++) {
      given().header("Host", "paged.example").get("/").then().body(containsString("10:00"));
    }
    assertThat(fetches.get())
        .as("served from the copy, not fetched per request")
        .isEqualTo(fetched);

    content.set("<h1>Back at 11:00</h1>");
    join(proxy.maintenancePages().refresh());
    given().header("Host", "paged.example").get("/").then().body(equalTo("<h1>Back at 11:00</h1>"));

    // the page host fails: the copy fetched last goes on
    status.set(500);
    int before = fetches.get();
    join(proxy.maintenancePages().refresh());
    assertThat(fetches.get()).isGreaterThan(before);
    given().header("Host", "paged.example").get("/").then().body(equalTo("<h1>Back at 11:00</h1>"));

    // pages that cannot be had at all: the built-in one
    for (String bad : List.of("/missing", "/text", "/huge")) {
      int n = fetches.get();
      table.put(
          route("mnt-paged", List.of("paged.example"), false, backend)
              .withMaintenance(true, pages + bad));
      // the fetch the swap started, or one after it: either way its outcome has landed
      join(proxy.maintenancePages().fetch(pages + bad));
      assertThat(fetches.get()).isGreaterThan(n);
      given()
          .header("Host", "paged.example")
          .get("/")
          .then()
          .statusCode(503)
          .header("Content-Type", "text/html; charset=utf-8")
          .body(containsString("Down for maintenance"));
    }
    assertThat(hits.get()).as("requests that reached the backend").isZero();
  }

  /**
   * Review 25 #7: a page fetched inside the dyno's network and served publicly let an API token
   * read what answers there. A page whose host is, or resolves to, a loopback address is not
   * fetched (the page server gets no connection) while {@code allow-private-pages} is off, as by
   * default: the built-in page is served and a WARN names the host and why.
   */
  @Test
  void aPageOnANonPublicAddressIsNotFetched() throws Exception {
    AtomicInteger fetches = new AtomicInteger();
    io.vertx.core.http.HttpServerOptions tls = TestBackends.selfSignedTls();
    proxy
        .maintenancePages()
        .forTests((io.vertx.core.net.PfxOptions) tls.getKeyCertOptions(), false);
    URI pages =
        backends.start(
            tls,
            req -> {
              fetches.incrementAndGet();
              req.response().putHeader("Content-Type", "text/html").end("<h1>internal</h1>");
            },
            "https");
    URI backend = counted("private", new AtomicInteger());
    for (String host : List.of("127.0.0.1", "localhost")) {
      String url = "https://" + host + ":" + pages.getPort() + "/down.html";
      try (io.dynofleet.LogCapture log = io.dynofleet.LogCapture.of(MaintenancePages.class)) {
        table.put(
            route("mnt-private", List.of("private.example"), false, backend)
                .withMaintenance(true, url));
        join(proxy.maintenancePages().fetch(url));
        given()
            .header("Host", "private.example")
            .get("/")
            .then()
            .statusCode(503)
            .header("X-Dynofleet-Error", "maintenance")
            .body(containsString("Down for maintenance"))
            .body(not(containsString("internal")));
        assertThat(log.records())
            .filteredOn(r -> r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
            .extracting(io.dynofleet.LogCapture::text)
            .singleElement()
            .asString()
            .contains("maintenance page on " + host + " not fetched")
            .contains("127.0.0.1 is not a public address")
            .contains("the built-in page is served")
            .doesNotContain("/down.html");
      }
    }
    assertThat(fetches.get()).as("requests that reached the page server").isZero();
  }

  /**
   * The pages' client is not the backends': {@code trust-all}, which this profile sets for the
   * backends' self-signed certificates, does not reach a page. A page host whose certificate no
   * trusted authority signed is not fetched, though its address is taken.
   */
  @Test
  void aPagesCertificateIsVerifiedThoughBackendsTrustAll() throws Exception {
    assertThat(config.trustAll()).isTrue();
    proxy.maintenancePages().forTests(null, true);
    URI pages =
        backends.start(
            TestBackends.selfSignedTls(),
            req -> req.response().putHeader("Content-Type", "text/html").end("<h1>forged</h1>"),
            "https");
    String url = pages + "/down.html";
    try (io.dynofleet.LogCapture log = io.dynofleet.LogCapture.of(MaintenancePages.class)) {
      table.put(
          route("mnt-tls", List.of("tls.example"), false, counted("tls", new AtomicInteger()))
              .withMaintenance(true, url));
      join(proxy.maintenancePages().fetch(url));
      given()
          .header("Host", "tls.example")
          .get("/")
          .then()
          .statusCode(503)
          .body(containsString("Down for maintenance"))
          .body(not(containsString("forged")));
      assertThat(log.records())
          .extracting(io.dynofleet.LogCapture::text)
          .anySatisfy(t -> assertThat(t).contains("maintenance page on localhost not fetched"));
    }
  }

  /**
   * A page host answering a status line Netty cannot parse made Vert.x log an ERROR of its own at
   * every fetch (one a minute per URL, by the refresh), with the host's bytes unescaped: the pages'
   * client had no connection exception handler of Dynofleet's, as the backends' had (S6-3). The
   * fetch fails as any (the built-in page, one WARN), and nothing is logged at ERROR.
   */
  @Test
  void aPageHostAnsweringGarbageFailsTheFetchAndLogsNoVertxError() throws Exception {
    io.vertx.core.http.HttpServerOptions tls = TestBackends.selfSignedTls();
    proxy.maintenancePages().forTests((io.vertx.core.net.PfxOptions) tls.getKeyCertOptions(), true);
    AtomicInteger answered = new AtomicInteger();
    io.vertx.core.net.NetServer garbage =
        vertx
            .createNetServer(
                new io.vertx.core.net.NetServerOptions()
                    .setSsl(true)
                    .setKeyCertOptions(tls.getKeyCertOptions())
                    .setHost("127.0.0.1"))
            .connectHandler(
                so ->
                    so.handler(
                        head -> {
                          answered.incrementAndGet();
                          so.write(
                              io.vertx.core.buffer.Buffer.buffer(
                                  "XTTP/1.1\u009b2J 200 OK\r\nContent-Type: text/html\r\n"
                                      + "Content-Length: 2\r\n\r\nok",
                                  "ISO-8859-1"));
                        }));
    join(garbage.listen(0));
    String url = "https://localhost:" + garbage.actualPort() + "/down.html";
    try (io.dynofleet.LogCapture logs =
        io.dynofleet.LogCapture.under("io.vertx", "io.netty", "io.dynofleet", "io.quarkus")) {
      table.put(
          route("mnt-garbage", List.of("garbage.example"), false, counted("g", new AtomicInteger()))
              .withMaintenance(true, url));
      for (int i = 0; i < 3; i++) join(proxy.maintenancePages().fetch(url));
      await().atMost(Duration.ofSeconds(30)).until(() -> answered.get() >= 3);
      given()
          .header("Host", "garbage.example")
          .get("/")
          .then()
          .statusCode(503)
          .body(containsString("Down for maintenance"));
      // the connection's failure is told after the fetch's: a moment for a late ERROR line
      Thread.sleep(500);
      assertThat(logs.records())
          .as("records at ERROR, or quoting the page host's bytes")
          .filteredOn(
              r ->
                  r.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()
                      || String.valueOf(io.dynofleet.LogCapture.text(r)).contains("\u009b"))
          .extracting(
              r -> r.getLevel() + " " + r.getLoggerName() + " " + io.dynofleet.LogCapture.text(r))
          .isEmpty();
    } finally {
      join(garbage.close());
    }
  }

  static void join(io.vertx.core.Future<?> f) throws Exception {
    f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
