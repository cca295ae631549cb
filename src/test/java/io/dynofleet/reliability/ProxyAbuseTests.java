package io.dynofleet.reliability;

import static io.dynofleet.proxy.TestBackends.pool;
import static io.dynofleet.proxy.TestBackends.raw;
import static io.dynofleet.proxy.TestBackends.target;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.proxy.ProxyProfile;
import io.dynofleet.proxy.RoutingTable;
import io.dynofleet.proxy.TestBackends;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile clients over raw sockets: request smuggling, oversized input, slow and many connections,
 * reserved-prefix tricks, backends forging Dynofleet's headers. Each is refused or bounded, the
 * proxy stays up, and a well-behaved client is served throughout.
 */
@QuarkusTest
@TestProfile(ProxyProfile.class)
@Tag("reliability")
@Timeout(90)
class ProxyAbuseTests {
  @Inject RoutingTable table;

  /**
   * Without a configured webhook secret, a notification signed with any secret (here the one the
   * default test profile configures) is no credential; nor is the API token (security review 3 #1):
   * the hook takes signed notifications only, so without a secret it takes none.
   */
  @Test
  void withoutAWebhookSecretASignatureIsNoCredential() {
    String hook = "/_dynofleet/api/v1/hooks/heroku";
    String body = "{\"resource\": \"release\", \"data\": {\"app\": {\"name\": \"x\"}}}";
    for (String secret : new String[] {io.dynofleet.api.HookSignature.TEST_SECRET, "any-secret"}) {
      io.restassured.RestAssured.given()
          .baseUri(app.toString())
          .contentType("application/json")
          .header("Heroku-Webhook-Hmac-SHA256", io.dynofleet.api.HookSignature.sign(secret, body))
          .body(body)
          .post(hook)
          .then()
          .statusCode(401)
          .contentType("application/problem+json");
    }
    io.restassured.RestAssured.given()
        .baseUri(app.toString())
        .header("Authorization", "Bearer test-token-0123456789")
        .contentType("application/json")
        .body(body)
        .post(hook)
        .then()
        .statusCode(401)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("bad-signature"))
        .body("detail", org.hamcrest.Matchers.containsString("DYNOFLEET_WEBHOOK_SECRET"));
  }

  /**
   * Security review 3 #4: a pool's own webhook secret is derived from DYNOFLEET_WEBHOOK_SECRET;
   * without it there is none to give, which is a problem document, not an empty secret.
   */
  @Test
  void withoutAWebhookSecretNoPoolHasOne() {
    String name = "unset-" + System.nanoTime() % 100000;
    io.restassured.RestAssured.given()
        .baseUri(app.toString())
        .header("Authorization", "Bearer test-token-0123456789")
        .contentType("application/json")
        .body(
            """
            {"metadata": {"name": "%s"}, "spec": {"pipeline": "shop", "replicas": 0,
             "template": {"sourceApp": "shop-web"}}}"""
                .formatted(name))
        .post("/_dynofleet/api/v1/pools")
        .then()
        .statusCode(201);
    io.restassured.RestAssured.given()
        .baseUri(app.toString())
        .header("Authorization", "Bearer test-token-0123456789")
        .get("/_dynofleet/api/v1/pools/" + name + "/webhook-secret")
        .then()
        .statusCode(404)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("no-webhook-secret"))
        .body("detail", org.hamcrest.Matchers.containsString("DYNOFLEET_WEBHOOK_SECRET"))
        .body("secret", org.hamcrest.Matchers.nullValue());
  }

  @TestHTTPResource("/")
  URL app;

  final TestBackends backends = new TestBackends();

  /** Every request line + framing headers + body the backend saw, one entry per request. */
  final List<String> seen = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    URI u =
        backends.start(
            req ->
                req.body()
                    .onSuccess(
                        b -> {
                          seen.add(
                              req.method()
                                  + " "
                                  + req.uri()
                                  + " cl="
                                  + req.getHeader("Content-Length")
                                  + " te="
                                  + req.getHeader("Transfer-Encoding")
                                  + " x="
                                  + req.getHeader("X-Injected")
                                  + " long="
                                  + req.getHeader("X-Long")
                                  + " body="
                                  + b);
                          req.response().putHeader("X-Backend", "a").end("ok");
                        }));
    table.put(pool("abuse", List.of(), true, List.of(target("a", u))));
  }

  @AfterEach
  void stop() {
    table.replaceAll(List.of());
    backends.close();
  }

  String send(String request) throws Exception {
    return raw(app.getPort(), request, Duration.ofSeconds(3));
  }

  void stillServing() {
    given().get("/healthy-client").then().statusCode(200);
  }

  @Test
  void conflictingContentLengthAndTransferEncodingCannotSmuggle() throws Exception {
    // CL.TE and TE.CL: the proxy must frame the body one way and forward it unambiguously
    String teCl =
        send(
            "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "8\r\nSMUGGLED\r\n0\r\n\r\n");
    // CL.TE: the hidden request is complete (it could never be before: review 12), its length in
    // Content-Length, and a plain request follows on the same connection, so a proxy that framed by
    // Content-Length, or kept the connection after TE framing, hands the hidden one on
    String hidden = "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    String clTe =
        send(
            "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: "
                + hidden.length()
                + "\r\n\r\n"
                + hidden
                + "GET /after-b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    String twoCl =
        send("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef");
    String badTe =
        send(
            "POST /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n");
    String teSpace =
        send(
            "POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n"
                + "0\r\n\r\n");
    System.out.printf(
        "smuggling: TE.CL=%s | CL.TE=%s | 2xCL=%s | TE list=%s | 'TE :'=%s%nbackend saw %s%n",
        status(teCl), status(clTe), status(twoCl), status(badTe), status(teSpace), seen);
    for (String s : seen) {
      // never both framings to the backend, never a request the client hid inside a body
      assertThat(s).doesNotContain("/smuggled").doesNotContainPattern("cl=\\d+ te=chunked");
    }
    assertThat(seen)
        .noneMatch(
            s -> s.startsWith("POST /c") || s.startsWith("POST /d") || s.startsWith("POST /e"));
    assertThat(seen).noneMatch(s -> s.contains("/smuggled") || s.contains("/after-b"));
    assertThat(clTe.split("HTTP/1\\.1 \\d{3} ", -1))
        .as("answers on the CL.TE connection: %s", clTe)
        .hasSize(2);
    // both framings in one request: refused (proxy.md, "Hardening"), nothing behind it served
    assertThat(status(teCl)).isEqualTo("400");
    assertThat(status(clTe)).isEqualTo("400");
    assertThat(status(twoCl)).isEqualTo("400");
    assertThat(status(badTe)).isEqualTo("400");
    assertThat(status(teSpace)).isEqualTo("400");
    stillServing();
  }

  @Test
  void obsFoldAndBareLfAreNormalisedOrRefused() throws Exception {
    String fold =
        send(
            "GET /fold HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n X-Injected: evil\r\nConnection: close\r\n\r\n");
    String lf = send("GET /lf HTTP/1.1\nHost: x\nX-Injected: lf\nConnection: close\n\n");
    String crInName =
        send("GET /cr HTTP/1.1\r\nHost: x\r\nX-Bad\rX-Injected: cr\r\nConnection: close\r\n\r\n");
    System.out.printf(
        "obs-fold=%s bare-LF=%s CR-in-header=%s; backend saw %s%n",
        status(fold), status(lf), status(crInName), seen);
    // a folded line never becomes a header of its own at the backend: it is part of the value
    // above it (RFC 9112 5.2), and the request goes on once
    assertThat(status(fold)).isEqualTo("200");
    assertThat(seen)
        .filteredOn(s -> s.startsWith("GET /fold"))
        .containsExactly("GET /fold cl=null te=null x=null long=a X-Injected: evil body=");
    assertThat(status(lf)).isEqualTo("400");
    assertThat(status(crInName)).isEqualTo("400");
    assertThat(seen).noneMatch(s -> s.startsWith("GET /lf") || s.startsWith("GET /cr"));
    stillServing();
  }

  @Test
  void oversizedHeadersLinesAndBodiesAreRefused() throws Exception {
    String bigHeader =
        send("GET /h HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n");
    String longLine = send("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    String bigBody = send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\nabc");
    System.out.printf(
        "oversized: header=%s line=%s body=%s%n",
        status(bigHeader), status(longLine), status(bigBody));
    assertThat(status(bigHeader)).isEqualTo("431");
    assertThat(status(longLine)).isEqualTo("414");
    assertThat(status(bigBody)).isEqualTo("413");
    assertThat(seen).isEmpty();
    stillServing();
  }

  /**
   * The same limits on Dynofleet's own paths, with a token: Vert.x refuses both while it reads the
   * head, before any route (the API's included) sees the request, so the answer is the status alone
   * (review 20 #8 accepted any 400 here too).
   */
  @Test
  void oversizedHeadersAndLinesOnTheReservedPrefixAre431And414() throws Exception {
    String auth = "Authorization: Bearer test-token-0123456789\r\n";
    String bigHeader =
        send(
            "GET /_dynofleet/api/v1/pools HTTP/1.1\r\nHost: x\r\n"
                + auth
                + "X-Big: "
                + "a".repeat(40_000)
                + "\r\n\r\n");
    String longLine =
        send(
            "GET /_dynofleet/api/v1/pools?limit="
                + "1".repeat(10_000)
                + " HTTP/1.1\r\nHost: x\r\n"
                + auth
                + "\r\n");
    assertThat(status(bigHeader)).isEqualTo("431");
    assertThat(status(longLine)).isEqualTo("414");
    assertThat(bigHeader).containsIgnoringCase("\r\ncontent-length: 0\r\n");
    assertThat(longLine).containsIgnoringCase("\r\ncontent-length: 0\r\n");
    // within the limits the same request is the API's
    assertThat(
            status(
                send(
                    "GET /_dynofleet/api/v1/pools HTTP/1.1\r\nHost: x\r\n"
                        + auth
                        + "X-Big: "
                        + "a".repeat(20_000)
                        + "\r\nConnection: close\r\n\r\n")))
        .isEqualTo("200");
    stillServing();
  }

  @Test
  void requestLinesAsLongAsHerokusRouterTakesAreServed() throws Exception {
    // Heroku's router passes request lines up to 8 KB: a dyno behind Dynofleet must get them too
    // (Vert.x's default is 4 KB)
    URI big =
        backends.start(
            new io.vertx.core.http.HttpServerOptions().setMaxInitialLineLength(16_384),
            req -> {
              seen.add(req.method() + " " + req.uri() + " ");
              req.response().end("ok");
            },
            "http");
    table.put(pool("abuse", List.of(), true, List.of(target("big", big))));
    String path = "/long?q=" + "a".repeat(8_000);
    String resp = send("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(status(resp)).isEqualTo("200");
    assertThat(seen).anyMatch(s -> s.startsWith("GET " + path + " "));
  }

  @Test
  void slowHeadersAndConnectionFloodLeaveOthersServed() throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 300; i++) {
        Socket s = new Socket("127.0.0.1", app.getPort());
        sockets.add(s);
        if (i % 3 == 0) { // slowloris: a request that never finishes its headers
          OutputStream out = s.getOutputStream();
          out.write("GET /slow HTTP/1.1\r\nHost: x\r\nX-A: ".getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        }
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < 20; i++) stillServing();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.printf("300 idle/slow connections open: 20 normal requests took %d ms%n", ms);
      // a connection that stops sending is closed by the idle timeout (quarkus.http.idle-timeout)
      Socket stalled = sockets.get(0);
      stalled.setSoTimeout(30_000);
      long s0 = System.nanoTime();
      int r = stalled.getInputStream().read();
      System.out.printf(
          "stalled slow-header connection closed after %d ms (read=%d)%n",
          (System.nanoTime() - s0) / 1_000_000, r);
      assertThat(r).isEqualTo(-1);
    } finally {
      for (Socket s : sockets) s.close();
    }
    assertThat(seen).noneMatch(s -> s.startsWith("GET /slow"));
    stillServing();
  }

  @Test
  void reservedPrefixTricksNeverReachABackend() throws Exception {
    // the API, plainly or by a dot segment Quarkus resolves onto it, answers for itself (no token:
    // 401); any other spelling that reaches the prefix is refused by name, not by some failure
    Map<String, String> answers = new LinkedHashMap<>();
    answers.put("/_dynofleet/api/v1/pools", "401");
    answers.put("/_dynofleet/../_dynofleet/api", "401");
    for (String path :
        List.of(
            "/%5Fdynofleet/api/v1/pools",
            "//_dynofleet/q/metrics",
            "/x/../_dynofleet/q/metrics",
            "/%2e%2e/_dynofleet/q",
            "/_dynofleet%2Fapi",
            "/.%2F_dynofleet/q",
            "/%5C_dynofleet/q")) {
      answers.put(path, "404 reserved-path");
    }
    for (Map.Entry<String, String> e : answers.entrySet()) {
      String resp = send("GET " + e.getKey() + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertThat(answer(resp)).as(e.getKey()).isEqualTo(e.getValue());
    }
    assertThat(seen).isEmpty();
  }

  @Test
  void backendCannotForgeDynofleetHeaders() throws Exception {
    URI evil =
        backends.start(
            req ->
                req.response()
                    .putHeader("X-Dynofleet-Error", "no-pool")
                    .putHeader("X-Dynofleet-Admin", "yes")
                    .putHeader("Clear-Site-Data", "\"storage\"")
                    .putHeader(
                        "Set-Cookie",
                        (Iterable<String>)
                            List.of(
                                "session=ok; Path=/",
                                "token=x; Path=/_dynofleet",
                                "t2=y; path=/_dynofleet/api"))
                    .end("evil"));
    table.put(pool("abuse", List.of(), true, List.of(target("evil", evil))));
    var r = given().get("/page");
    r.then().statusCode(200);
    assertThat(r.headers().getValues("Set-Cookie")).containsExactly("session=ok; Path=/");
    assertThat(r.header("X-Dynofleet-Error")).isNull();
    assertThat(r.header("X-Dynofleet-Admin")).isNull();
    assertThat(r.header("Clear-Site-Data")).isNull();
  }

  @Test
  void backendCannotForgeDynofleetHeadersOnAWebSocketUpgrade() throws Exception {
    URI evil =
        backends.start(
            new io.vertx.core.http.HttpServerOptions(),
            req -> {
              req.response()
                  .putHeader("X-Dynofleet-Error", "no-pool")
                  .putHeader("Clear-Site-Data", "\"storage\"")
                  .putHeader(
                      "Set-Cookie",
                      (Iterable<String>)
                          List.of("session=ok; Path=/", "token=x; Path=/_dynofleet"));
              req.toWebSocket().onSuccess(ws -> ws.writeTextMessage("hi"));
            },
            "http");
    table.put(pool("abuse", List.of(), true, List.of(target("evil", evil))));
    // the backend's 101 as the client sees it
    String direct =
        raw(evil.getPort(), TestBackends.upgrade("x", "Upgrade"), Duration.ofSeconds(2));
    assertThat(direct)
        .as("the backend does send them")
        .startsWith("HTTP/1.1 101")
        .contains("X-Dynofleet-Error");
    String resp = raw(app.getPort(), TestBackends.upgrade("x", "Upgrade"), Duration.ofSeconds(2));
    assertThat(resp)
        .startsWith("HTTP/1.1 101")
        .contains("session=ok")
        .doesNotContain("token=x")
        .doesNotContainIgnoringCase("x-dynofleet-error")
        .doesNotContainIgnoringCase("clear-site-data");
  }

  /** The status and, if there is one, the {@code X-Dynofleet-Error} code: "404 reserved-path". */
  static String answer(String response) {
    java.util.regex.Matcher code =
        java.util.regex.Pattern.compile("\r\nX-Dynofleet-Error: ([^\r]*)\r\n")
            .matcher(response.substring(0, Math.max(0, response.indexOf("\r\n\r\n") + 2)));
    return status(response) + (code.find() ? " " + code.group(1) : "");
  }

  static String status(String response) {
    return response.length() >= 12 && response.startsWith("HTTP/1.")
        ? response.substring(9, 12)
        : "closed";
  }
}
