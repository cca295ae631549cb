package io.dynofleet.proxy;

import static io.dynofleet.proxy.TestBackends.raw;
import static io.dynofleet.proxy.TestBackends.target;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Which requests the proxy sends a second time, and how often. A request that may have acted on the
 * backend that failed it (a DELETE that timed out, a POST answered 503) must never reach a second
 * backend; a safe, bodiless one gets exactly {@code spec.routing.retries} more tries (proxy.md,
 * "Retries"). Each request's hits are counted on every backend, so a retry shows as a hit, whatever
 * the client is answered.
 */
@QuarkusTest
@TestProfile(ProxyProfile.class)
@Timeout(120)
class ProxyRetryTests {
  @Inject RoutingTable table;

  @TestHTTPResource("/")
  URL app;

  final TestBackends backends = new TestBackends();
  int pools;

  @AfterEach
  void stop() {
    table.replaceAll(List.of());
    backends.close();
  }

  /** How the first backend of a pair fails. */
  enum Failure {
    ANSWERS_503,
    REFUSES_CONNECTIONS,
    HANGS
  }

  /**
   * Requests that may have done something on the backend that failed them: bodiless unsafe methods
   * (the method check alone stops their retry), and a POST and a GET with a body (the body check
   * alone).
   */
  static final Map<String, String> UNSAFE = new LinkedHashMap<>();

  static {
    UNSAFE.put("DELETE", "DELETE /orders/7 HTTP/1.1\r\n");
    UNSAFE.put(
        "POST, Content-Length: 0", "POST /orders/7/cancel HTTP/1.1\r\nContent-Length: 0\r\n");
    UNSAFE.put("PUT, empty body", "PUT /orders/7/flag HTTP/1.1\r\nContent-Length: 0\r\n");
    UNSAFE.put("PATCH, no body", "PATCH /orders/7 HTTP/1.1\r\n");
    UNSAFE.put("POST with a body", "POST /orders HTTP/1.1\r\nContent-Length: 1\r\n");
    UNSAFE.put("GET with a body", "GET /orders HTTP/1.1\r\nContent-Length: 1\r\n");
  }

  @Test
  void aRequestThatIsNotSafeAndBodilessReachesOneBackendOnly() throws Exception {
    // every case is checked and every miss reported at
    // once: which failure lets which method through
    SoftAssertions soft = new SoftAssertions();
    for (Failure f : Failure.values()) {
      // the control: the same pair retries a plain GET on the counting backend
      Hit get = sendToAFailingBackendFirst(f, "GET /orders HTTP/1.1\r\n", "");
      soft.assertThat(get.failuresInARow).as(f + ": GET failed on the first backend").isEqualTo(1);
      soft.assertThat(get.status + " " + get.countingHits)
          .as(f + ": GET retried on the other")
          .isEqualTo("200 1");
      for (Map.Entry<String, String> e : UNSAFE.entrySet()) {
        String body = e.getValue().contains("Content-Length: 1") ? "x" : "";
        Hit h = sendToAFailingBackendFirst(f, e.getValue(), body);
        String what = f + ": " + e.getKey();
        soft.assertThat(h.failuresInARow).as(what + " failed on the first backend").isEqualTo(1);
        if (f != Failure.REFUSES_CONNECTIONS) soft.assertThat(h.failingHits).as(what).isEqualTo(1);
        soft.assertThat(h.countingHits).as(what + " sent to the second backend too").isZero();
        switch (f) {
          case ANSWERS_503 ->
              soft.assertThat(h.status + " " + h.error).as(what).isEqualTo("503 null");
          case REFUSES_CONNECTIONS ->
              soft.assertThat(h.status + " " + h.error).as(what).isEqualTo("502 connect-failed");
          case HANGS -> soft.assertThat(h.status + " " + h.error).as(what).isEqualTo("504 timeout");
        }
      }
    }
    soft.assertAll();
  }

  /**
   * {@code retries: n} is n more tries, not n + 1: three backends all answer 503, and a GET is sent
   * to exactly n + 1 of them, the client getting the last one's 503.
   */
  @Test
  void aSafeRequestIsTriedExactlyRetriesPlusOneTimes() throws Exception {
    for (int retries = 0; retries <= 2; retries++) {
      AtomicInteger hits = new AtomicInteger();
      List<BackendTarget> t = new ArrayList<>();
      String pool = "budget" + (++pools);
      for (int i = 0; i < 3; i++) {
        String id = pool + "-" + i;
        t.add(
            target(
                id,
                backends.start(
                    req -> {
                      hits.incrementAndGet();
                      req.response().setStatusCode(503).putHeader("X-Backend", id).end("down");
                    })));
      }
      table.put(
          new PoolRoute(
              pool,
              List.of(pool + ".example"),
              false,
              Algorithm.ROUND_ROBIN,
              Duration.ofSeconds(5),
              retries,
              0,
              0,
              Duration.ZERO,
              null,
              t));
      String resp =
          raw(
              port(),
              "GET / HTTP/1.1\r\nHost: " + pool + ".example\r\nConnection: close\r\n\r\n",
              Duration.ofSeconds(20));
      assertThat(resp)
          .as("retries: " + retries)
          .startsWith("HTTP/1.1 503")
          .containsPattern("(?i)x-backend: " + pool + "-");
      assertThat(hits.get()).as("backends hit with retries: " + retries).isEqualTo(retries + 1);
    }
  }

  record Hit(int status, String error, int failingHits, int countingHits, int failuresInARow) {}

  /**
   * {@code head} (and {@code body}) sent once to a new pool of a failing backend and a counting
   * one, round-robin with one retry allowed. A new pool's cursor starts at its first backend, so
   * the request goes to the failing one first (its failures in a row, 1, show it for the dead port,
   * where nothing counts). Fresh backends per request: three failures in a row would eject.
   */
  Hit sendToAFailingBackendFirst(Failure f, String head, String body) throws Exception {
    AtomicInteger failing = new AtomicInteger(), counting = new AtomicInteger();
    URI bad =
        switch (f) {
          case ANSWERS_503 ->
              backends.start(
                  req -> {
                    failing.incrementAndGet();
                    req.response().setStatusCode(503).end("Application error");
                  });
          case REFUSES_CONNECTIONS -> URI.create("http://127.0.0.1:1");
          case HANGS -> backends.start(req -> failing.incrementAndGet()); // never answers
        };
    URI good =
        backends.start(
            req ->
                req.body()
                    .onSuccess(
                        b -> {
                          counting.incrementAndGet();
                          req.response().putHeader("X-Backend", "counting").end("done");
                        }));
    String pool = "retry" + (++pools);
    table.put(
        new PoolRoute(
            pool,
            List.of(pool + ".example"),
            false,
            Algorithm.ROUND_ROBIN,
            Duration.ofSeconds(1),
            1,
            0,
            0,
            Duration.ZERO,
            null,
            List.of(target(pool + "-bad", bad), target(pool + "-good", good))));
    String resp =
        raw(
            port(),
            head + "Host: " + pool + ".example\r\nConnection: close\r\n\r\n" + body,
            Duration.ofSeconds(20));
    assertThat(resp).as(head).startsWith("HTTP/1.1 ");
    Matcher m = Pattern.compile("(?im)^X-Dynofleet-Error: (\\S+)").matcher(resp);
    int inARow =
        table.stats(pool).stream()
            .filter(s -> s.id().equals(pool + "-bad"))
            .findFirst()
            .orElseThrow()
            .consecutiveFailures();
    return new Hit(
        Integer.parseInt(resp.substring(9, 12)),
        m.find() ? m.group(1) : null,
        failing.get(),
        counting.get(),
        inARow);
  }

  int port() {
    return app.getPort();
  }
}
