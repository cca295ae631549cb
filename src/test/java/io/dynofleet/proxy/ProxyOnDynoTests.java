package io.dynofleet.proxy;

import static io.dynofleet.proxy.TestBackends.raw;
import static io.dynofleet.proxy.TestBackends.rawHead;
import static io.dynofleet.proxy.TestBackends.upgrade;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.emptyOrNullString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The data plane on a Heroku dyno ({@code DYNO} set), where {@code X-Forwarded-Proto} and the last
 * {@code X-Forwarded-For} entry are the router's. The backends stand behind a second router of
 * their own (their https web_url), which says https and the load balancer dyno's address to every
 * app: what the app must be told otherwise (audit 20 H1).
 */
@QuarkusTest
@TestProfile(ProxyOnDynoTests.OnDyno.class)
@Timeout(60)
class ProxyOnDynoTests {
  static final String TOKEN = "test-token-0123456789";

  /** The data plane tests' profile on a dyno. */
  public static class OnDyno extends ProxyProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      Map<String, String> m = new HashMap<>(super.getConfigOverrides());
      m.put("DYNO", "web.1");
      return m;
    }
  }

  @Inject RoutingTable table;
  @Inject RouteSync sync;
  @Inject io.micrometer.core.instrument.MeterRegistry registry;

  @TestHTTPResource("/")
  URL app;

  final TestBackends backends = new TestBackends();

  @AfterEach
  void stop() {
    table.replaceAll(List.of());
    backends.close();
  }

  int port() {
    return app.getPort();
  }

  /** An echo backend as {@link TestBackends#named}'s, counting the requests it gets. */
  URI counted(String name, AtomicInteger hits) {
    return backends.start(
        req -> {
          hits.incrementAndGet();
          StringBuilder sb = new StringBuilder(name).append('\n');
          req.headers()
              .forEach(
                  e ->
                      sb.append(e.getKey().toLowerCase())
                          .append(": ")
                          .append(e.getValue())
                          .append('\n'));
          req.response().putHeader("X-Backend", name).end(sb.toString());
        });
  }

  static PoolRoute route(String name, List<String> hosts, URI backend, boolean httpsRedirect) {
    return new PoolRoute(
        name,
        hosts,
        false,
        Algorithm.LEAST_REQUEST,
        Duration.ofSeconds(2),
        1,
        0,
        0,
        Duration.ZERO,
        null,
        List.of(TestBackends.target(name, backend)),
        httpsRedirect);
  }

  private double redirects(String pool) {
    io.micrometer.core.instrument.Counter c =
        registry.find("dynofleet.proxy.redirects").tag("pool", pool).counter();
    return c == null ? 0 : c.count();
  }

  /**
   * Audit 20 H1: a plain-http request reached the backend as https, so the app's own redirect to
   * https never fired. On a dyno the pool answers it with a 308 to the same address at https, and
   * nothing of it reaches a backend: a GET, a POST with a body (its connection ends, the body
   * unread), a WebSocket upgrade. An ACME challenge and an https request are proxied, and so is
   * plain http to a pool with {@code httpsRedirect: false}.
   */
  @Test
  void plainHttpIsRedirectedToHttpsAndNeverReachesABackend() throws Exception {
    AtomicInteger hits = new AtomicInteger();
    table.put(route("shop", List.of("shop.example"), counted("shop", hits), true));
    double before = redirects("shop");

    given()
        .redirects()
        .follow(false)
        .header("Host", "shop.example")
        .header("X-Forwarded-Proto", "http")
        .get("/a?b=1")
        .then()
        .statusCode(308)
        .header("Location", "https://shop.example/a?b=1")
        .header("Cache-Control", "no-store")
        .header("X-Request-Id", not(emptyOrNullString()));
    // the path and query as received, escapes and all
    assertThat(
            rawHead(
                port(),
                "HEAD /a%20b/%2E?x=%2F&y HTTP/1.1\r\nHost: shop.example\r\n"
                    + "X-Forwarded-Proto: HTTP\r\n\r\n",
                Duration.ofSeconds(5)))
        .startsWith("HTTP/1.1 308")
        .containsIgnoringCase("\r\nLocation: https://shop.example/a%20b/%2E?x=%2F&y\r\n");
    String post =
        raw(
            port(),
            "POST /form HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-Proto: http\r\n"
                + "Content-Length: 5\r\n\r\nhello",
            Duration.ofSeconds(5));
    assertThat(post)
        .startsWith("HTTP/1.1 308")
        .containsIgnoringCase("\r\nLocation: https://shop.example/form\r\n")
        .containsIgnoringCase("\r\nConnection: close\r\n");
    assertThat(
            rawHead(
                port(),
                upgrade("shop.example", "Upgrade\r\nX-Forwarded-Proto: http"),
                Duration.ofSeconds(5)))
        .startsWith("HTTP/1.1 308")
        .containsIgnoringCase("\r\nLocation: https://shop.example/ws\r\n");
    assertThat(hits.get()).as("requests that reached the backend").isZero();
    assertThat(redirects("shop") - before).isEqualTo(4);

    given()
        .header("Host", "shop.example")
        .header("X-Forwarded-Proto", "https")
        .get("/a?b=1")
        .then()
        .statusCode(200)
        .header("X-Backend", "shop")
        .body(containsString("x-forwarded-proto: https"));
    given()
        .header("Host", "shop.example")
        .header("X-Forwarded-Proto", "http")
        .get("/.well-known/acme-challenge/t0k3n")
        .then()
        .statusCode(200)
        .header("X-Backend", "shop");
    assertThat(hits.get()).isEqualTo(2);
    // only GET or HEAD of one token passes: not dot segments after it, not another method
    // (security review 3 #2)
    given()
        .redirects()
        .follow(false)
        .urlEncodingEnabled(false)
        .header("Host", "shop.example")
        .header("X-Forwarded-Proto", "http")
        .get("/.well-known/acme-challenge/%2e%2e/login")
        .then()
        .statusCode(308);
    given()
        .redirects()
        .follow(false)
        .header("Host", "shop.example")
        .header("X-Forwarded-Proto", "http")
        .body("x")
        .post("/.well-known/acme-challenge/t0k3n")
        .then()
        .statusCode(308);
    assertThat(hits.get()).isEqualTo(2);

    // with httpsRedirect false, plain http is proxied as before
    AtomicInteger open = new AtomicInteger();
    table.put(route("open", List.of("open.example"), counted("open", open), false));
    given()
        .redirects()
        .follow(false)
        .header("Host", "open.example")
        .header("X-Forwarded-Proto", "http")
        .get("/a?b=1")
        .then()
        .statusCode(200)
        .header("X-Backend", "open")
        .body(containsString("x-forwarded-proto: http\n"));
    assertThat(open.get()).isEqualTo(1);
  }

  /**
   * Audit 20 H2: behind their own router every backend saw the load balancer dyno as the client.
   * {@code X-Dynofleet-Client-Ip} carries the address Heroku's router appended to {@code
   * X-Forwarded-For} (the last entry: what comes before it is the client's to write), in place of
   * any the client sent; WebSocket upgrades too.
   */
  @Test
  void theClientIpIsTheAddressTheRoutersAppended() throws Exception {
    java.util.concurrent.BlockingQueue<io.vertx.core.MultiMap> seen =
        new java.util.concurrent.LinkedBlockingQueue<>();
    URI backend =
        backends.start(
            req -> {
              seen.add(io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(req.headers()));
              if (req.headers().contains("Upgrade")) {
                req.toWebSocket();
              } else {
                req.response().end("ok");
              }
            });
    table.put(route("ip", List.of("ip.example"), backend, true));
    given()
        .header("Host", "ip.example")
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-For", "198.51.100.9, 203.0.113.7")
        .header("X-Dynofleet-Client-Ip", "1.2.3.4")
        .get("/x")
        .then()
        .statusCode(200);
    io.vertx.core.MultiMap h = seen.poll(5, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(h.getAll("X-Dynofleet-Client-Ip")).containsExactly("203.0.113.7");
    assertThat(h.get("X-Forwarded-For")).isEqualTo("198.51.100.9, 203.0.113.7, 127.0.0.1");

    // several lines are one list; a blank last entry is no address
    raw(
        port(),
        "GET /y HTTP/1.1\r\nHost: ip.example\r\nX-Forwarded-Proto: https\r\n"
            + "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, 203.0.113.8, \r\n"
            + "x-dynofleet-client-ip: 1.2.3.4\r\nConnection: close\r\n\r\n",
        Duration.ofSeconds(5));
    h = seen.poll(5, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(h.getAll("X-Dynofleet-Client-Ip")).containsExactly("203.0.113.8");

    // no X-Forwarded-For (not through the router): the connection's address
    given()
        .header("Host", "ip.example")
        .header("X-Forwarded-Proto", "https")
        .header("X-Dynofleet-Client-Ip", "1.2.3.4")
        .get("/z")
        .then()
        .statusCode(200);
    h = seen.poll(5, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(h.getAll("X-Dynofleet-Client-Ip")).containsExactly("127.0.0.1");

    assertThat(
            rawHead(
                port(),
                upgrade(
                    "ip.example",
                    "Upgrade\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n"
                        + "X-Dynofleet-Client-Ip: 1.2.3.4"),
                Duration.ofSeconds(5)))
        .startsWith("HTTP/1.1 101");
    h = seen.poll(5, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(h.getAll("X-Dynofleet-Client-Ip")).containsExactly("203.0.113.9");
  }

  /**
   * The pool's spec as the API stores it reaches the proxy: off, then back to its default, on (a
   * merge patch's null), read back as such.
   */
  @Test
  void theSpecsSettingReachesTheProxy() throws Exception {
    URI shop = backends.named("spec");
    String pools = "/_dynofleet/api/v1/pools";
    given()
        .auth()
        .oauth2(TOKEN)
        .contentType("application/json")
        .body(
            """
            {"metadata":{"name":"dyno-https"},"spec":{"staticBackends":["%s"],
             "routing":{"hosts":["spec.example"],"httpsRedirect":false}}}
            """
                .formatted(shop))
        .post(pools)
        .then()
        .statusCode(201)
        .body("spec.routing.httpsRedirect", equalTo(false));
    try {
      sync.sync();
      given()
          .redirects()
          .follow(false)
          .header("Host", "spec.example")
          .header("X-Forwarded-Proto", "http")
          .get("/x")
          .then()
          .statusCode(200)
          .header("X-Backend", "spec");
      given()
          .auth()
          .oauth2(TOKEN)
          .contentType("application/merge-patch+json")
          .body("{\"spec\":{\"routing\":{\"httpsRedirect\":null}}}")
          .patch(pools + "/dyno-https")
          .then()
          .statusCode(200)
          .body("spec.routing.httpsRedirect", equalTo(true));
      sync.sync();
      given()
          .redirects()
          .follow(false)
          .header("Host", "spec.example")
          .header("X-Forwarded-Proto", "http")
          .get("/x")
          .then()
          .statusCode(308)
          .header("Location", "https://spec.example/x");
    } finally {
      given().auth().oauth2(TOKEN).delete(pools + "/dyno-https");
    }
  }
}
