package io.dynofleet.proxy;

import static io.dynofleet.proxy.TestBackends.target;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.LogCapture;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The counts behind a backend's health, exactly: ejection after failures in a row (the test
 * profile's {@code ejection-consecutive-failures} is 3), and the probe thresholds. Probes are
 * driven by the backend: it answers the first at once and holds the next ones until the test lets
 * them go, so what the proxy decided after exactly one probe is checked without a race against the
 * probe timer.
 */
@QuarkusTest
@TestProfile(ProxyProfile.class)
@Timeout(120)
class ProxyHealthTests {
  @Inject RoutingTable table;
  final TestBackends backends = new TestBackends();

  @AfterEach
  void stop() {
    table.replaceAll(List.of());
    backends.close();
  }

  /** A pool of {@code t}, round-robin, no retries, reached by Host {@code name}.example. */
  static PoolRoute pool(String name, HealthCheckSpec hc, List<BackendTarget> t) {
    return new PoolRoute(
        name,
        List.of(name + ".example"),
        false,
        Algorithm.ROUND_ROBIN,
        Duration.ofSeconds(5),
        0,
        0,
        0,
        Duration.ZERO,
        hc,
        t);
  }

  Response get(String pool) {
    return given().header("Host", pool + ".example").get("/app");
  }

  BackendStats stat(String pool, String id) {
    return table.stats(pool).stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
  }

  Backend backend(String pool, String id) {
    return table.pools().get(pool).backends().stream()
        .filter(b -> b.target.id().equals(id))
        .findFirst()
        .orElseThrow();
  }

  /**
   * Review 12: every ejection test failed every request, so a count that never went back to 0 on a
   * success (it would eject, in the end, any backend with a 0.1 % error rate) passed them all.
   */
  @Test
  void fiveHundredsBetweenSuccessesNeverEjectThreeInARowDo() {
    AtomicInteger hits = new AtomicInteger();
    AtomicBoolean failAll = new AtomicBoolean();
    // its own answers alternate 500, 200, 500, ... whichever requests the balancer sends it
    URI flaky =
        backends.start(
            req ->
                req.response()
                    .setStatusCode(failAll.get() || hits.incrementAndGet() % 2 == 1 ? 500 : 200)
                    .putHeader("X-Backend", "flaky")
                    .end());
    table.put(
        pool("alt", null, List.of(target("flaky", flaky), target("good", backends.named("good")))));
    for (int i = 0; i < 40; i++) {
      get("alt");
      assertThat(stat("alt", "flaky").ejected())
          .as("ejected after %d of its answers, every other one a 500", hits.get())
          .isFalse();
      assertThat(stat("alt", "flaky").consecutiveFailures()).isLessThanOrEqualTo(1);
    }
    assertThat(hits.get()).as("answers of the flaky backend").isGreaterThanOrEqualTo(10);
    failAll.set(true);
    int failures = 0;
    while (!stat("alt", "flaky").ejected() && failures < 10) {
      if ("flaky".equals(get("alt").header("X-Backend"))) failures++;
    }
    assertThat(failures).as("500s in a row that ejected it").isEqualTo(3);
  }

  /**
   * The same with connect failures (the other way a failure is counted): the backend goes away and
   * comes back.
   */
  @Test
  void connectFailuresBetweenSuccessesNeverEjectThreeInARowDo() {
    AtomicInteger answered = new AtomicInteger();
    // Connection: close, so every request to it needs a new connection: refused while it is down
    io.vertx.core.Handler<HttpServerRequest> h =
        req -> {
          answered.incrementAndGet();
          req.response().putHeader("Connection", "close").putHeader("X-Backend", "flaky").end();
        };
    URI flaky = backends.start(h);
    table.put(
        pool("cf", null, List.of(target("flaky", flaky), target("good", backends.named("good")))));
    for (int round = 0; round < 6; round++) {
      backends.stop(flaky);
      untilAnswered("cf", "502 connect-failed");
      assertThat(stat("cf", "flaky").consecutiveFailures()).as("round %d", round).isEqualTo(1);
      assertThat(stat("cf", "flaky").ejected())
          .as("ejected after %d connect failures, each followed by a success", round + 1)
          .isFalse();
      // the same port again
      backends.start(new HttpServerOptions().setPort(flaky.getPort()), h, "http");
      int before = answered.get();
      untilAnswered("cf", "200 null");
      assertThat(answered.get()).isEqualTo(before + 1);
      assertThat(stat("cf", "flaky").consecutiveFailures()).isZero();
    }
    backends.stop(flaky);
    for (int i = 0; i < 3; i++) {
      assertThat(stat("cf", "flaky").ejected())
          .as("ejected after %d connect failures in a row", i)
          .isFalse();
      untilAnswered("cf", "502 connect-failed");
    }
    assertThat(stat("cf", "flaky").ejected())
        .as("ejected after 3 connect failures in a row")
        .isTrue();
  }

  /**
   * Sends GETs until one is answered {@code want} ("status error"): the pool alternates, so one in
   * two reaches the flaky backend; the others must come from the good one.
   */
  void untilAnswered(String pool, String want) {
    for (int i = 0; i < 4; i++) {
      Response r = get(pool);
      String got = r.statusCode() + " " + r.header("X-Dynofleet-Error");
      if (got.equals(want) && (!want.startsWith("200") || "flaky".equals(r.header("X-Backend"))))
        return;
      assertThat(r.statusCode() + " " + r.header("X-Backend"))
          .as("the other answers")
          .isEqualTo("200 good");
    }
    throw new AssertionError("no answer " + want + " from the flaky backend in four requests");
  }

  /**
   * A backend whose probes it answers itself: the first with {@code first} at once, every later one
   * held until {@link #release} answers the oldest held one. {@code probes} counts them.
   */
  static final class Probed {
    final AtomicInteger probes = new AtomicInteger();
    final AtomicInteger served = new AtomicInteger();
    final List<HttpServerResponse> held = new CopyOnWriteArrayList<>();
    final URI url;

    Probed(TestBackends backends, String name, int first) {
      url =
          backends.start(
              req -> {
                if (!req.path().equals("/health")) {
                  served.incrementAndGet();
                  req.response().putHeader("X-Backend", name).end(name);
                } else if (probes.incrementAndGet() == 1) {
                  req.response().setStatusCode(first).end();
                } else {
                  held.add(req.response());
                }
              });
    }

    void release(int status) {
      await().atMost(Duration.ofSeconds(10)).until(() -> !held.isEmpty());
      held.remove(0).setStatusCode(status).end();
    }
  }

  /** Probes far enough apart in time not to matter: held ones end only when the test says. */
  static HealthCheckSpec twoEitherWay() {
    // a probe fails at twice its timeout: 40 s, beyond any wait here
    return new HealthCheckSpec("/health", Duration.ofMillis(100), Duration.ofSeconds(20), 2, 2);
  }

  /**
   * Review 29 R29-19: a backend that crashed under traffic is ejected by its failed requests, its
   * probes then fail to the threshold, and it recovers (its probes pass again) while the ejection
   * has time left. The ejection ends with the failing spell: the old code kept the recovered
   * backend out for the rest of it, and its reconciler told a {@code BackendEjected} blaming a
   * client for the crash's failures.
   */
  @Test
  void aBackendWhoseProbesPassAgainIsNoLongerEjected() {
    AtomicBoolean down = new AtomicBoolean();
    AtomicInteger probes = new AtomicInteger();
    AtomicInteger served = new AtomicInteger();
    List<HttpServerResponse> held = new CopyOnWriteArrayList<>();
    URI crashy =
        backends.start(
            req -> {
              if (req.path().equals("/health")) {
                if (probes.incrementAndGet() == 1) req.response().end(); // the first passes
                else held.add(req.response());
              } else {
                served.incrementAndGet();
                req.response()
                    .setStatusCode(down.get() ? 503 : 200)
                    .putHeader("X-Backend", "crashy")
                    .end();
              }
            });
    java.util.function.IntConsumer release =
        status -> {
          await().atMost(Duration.ofSeconds(10)).until(() -> !held.isEmpty());
          held.remove(0).setStatusCode(status).end();
        };
    table.put(
        pool(
            "rc",
            twoEitherWay(),
            List.of(
                new BackendTarget("other", backends.named("other"), true),
                new BackendTarget("crashy", crashy, true))));
    Backend b = backend("rc", "crashy");
    await().atMost(Duration.ofSeconds(10)).until(() -> probes.get() == 2 && b.probePassing);
    // a repeat ejection (2 s << 5, 64 s): it outlasts the test by far
    b.ejections = 5;
    down.set(true);
    for (int i = 0; i < 20 && !stat("rc", "crashy").ejected(); i++) get("rc");
    assertThat(stat("rc", "crashy").ejected()).as("ejected by the crash's failures").isTrue();
    // its probes fail to the threshold, then it is back and they pass to theirs
    release.accept(503);
    release.accept(503);
    await().atMost(Duration.ofSeconds(10)).until(() -> !stat("rc", "crashy").healthy());
    down.set(false);
    release.accept(200);
    release.accept(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> stat("rc", "crashy").healthy());
    assertThat(stat("rc", "crashy").ejected())
        .as("the ejection left over from the crash ends with its failing probes")
        .isFalse();
    int before = served.get();
    for (int i = 0; i < 6; i++) get("rc").then().statusCode(200);
    assertThat(served.get()).as("requests to it once back").isGreaterThan(before);
  }

  /**
   * Review 12: {@code healthyThreshold} was never checked. The tests awaited the new backend's
   * first request, so one that took traffic after its first passing probe passed them.
   */
  @Test
  void aNewBackendTakesTrafficOnlyAfterHealthyThresholdPasses() {
    Probed fresh = new Probed(backends, "fresh", 200);
    table.put(
        pool(
            "ht",
            twoEitherWay(),
            List.of(
                new BackendTarget("old", backends.named("old"), true),
                new BackendTarget("fresh", fresh.url, false))));
    Backend b = backend("ht", "fresh");
    // the second probe is out (held), so the first one's result is in
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> fresh.probes.get() == 2 && b.probeSuccesses == 1);
    for (int i = 0; i < 20; i++) get("ht").then().statusCode(200).header("X-Backend", "old");
    assertThat(stat("ht", "fresh").lastProbeResult()).isEqualTo("HTTP 200");
    assertThat(stat("ht", "fresh").healthy())
        .as("healthy after one passing probe of two")
        .isFalse();
    assertThat(fresh.served.get()).isZero();
    fresh.release(200); // the second pass; the third probe is held
    await().atMost(Duration.ofSeconds(10)).until(() -> stat("ht", "fresh").healthy());
    assertThat(b.probeSuccesses).isEqualTo(2);
    int i = 0;
    while (fresh.served.get() == 0 && i++ < 4) get("ht").then().statusCode(200);
    assertThat(fresh.served.get()).as("requests to it once two probes passed").isPositive();
  }

  /**
   * Audit 14: Heroku's router answers an app deleted or renamed by hand with a fast "No such app"
   * 404; such a backend stayed in for the whole threshold and, fastest of the pool, drew most of
   * its traffic. A backend in service whose health path answers 404 after a passing probe goes out
   * at once.
   */
  @Test
  void aBackendInServiceWhoseHealthPathIsNotFoundGoesOutAtOnce() {
    Probed gone = new Probed(backends, "gone", 200);
    table.put(
        pool(
            "nf",
            twoEitherWay(),
            List.of(
                new BackendTarget("other", backends.named("other"), true),
                new BackendTarget("gone", gone.url, true))));
    Backend b = backend("nf", "gone");
    await().atMost(Duration.ofSeconds(10)).until(() -> gone.probes.get() == 2 && b.probePassing);
    gone.release(404); // the second probe: its app gone from the router
    await().atMost(Duration.ofSeconds(10)).until(() -> !stat("nf", "gone").healthy());
    assertThat(stat("nf", "gone").lastProbeResult()).isEqualTo("HTTP 404");
    int served = gone.served.get();
    for (int i = 0; i < 10; i++) get("nf").then().statusCode(200).header("X-Backend", "other");
    assertThat(gone.served.get()).isEqualTo(served);
  }

  /**
   * Review 18: not for a backend only assumed healthy, never seen passing here (a static URL's
   * first answer may be a passing 404 of another proxy): its threshold holds.
   */
  @Test
  void aFirst404OfABackendNeverSeenPassingCountsOnce() {
    Probed fresh = new Probed(backends, "fresh", 404);
    table.put(
        pool(
            "nf2",
            twoEitherWay(),
            List.of(
                new BackendTarget("other", backends.named("other"), true),
                new BackendTarget("fresh", fresh.url, true))));
    Backend b = backend("nf2", "fresh");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> fresh.probes.get() == 2 && b.probeFailures == 1);
    assertThat(stat("nf2", "fresh").healthy()).as("one failed probe of two").isTrue();
  }

  /**
   * And a backend assumed healthy stays in after one failed probe of {@code unhealthyThreshold} 2.
   * Its going out and coming back are logged once each: with several dynos the pool's status is all
   * of theirs, and a dyno's log is where one that alone cannot reach it shows.
   */
  @Test
  void aHealthyBackendGoesOutOnlyAfterUnhealthyThresholdFails() {
    try (LogCapture logs = LogCapture.of(HealthProber.class)) {
      goesOutOnlyAfterUnhealthyThresholdFails(logs);
    }
  }

  /** Each record so far as its level, a space and its message. */
  private static List<String> levelled(LogCapture logs) {
    return logs.records().stream().map(r -> r.getLevel() + " " + LogCapture.text(r)).toList();
  }

  private void goesOutOnlyAfterUnhealthyThresholdFails(LogCapture logs) {
    Probed sick = new Probed(backends, "sick", 503);
    table.put(
        pool(
            "ut",
            twoEitherWay(),
            List.of(
                new BackendTarget("other", backends.named("other"), true),
                new BackendTarget("sick", sick.url, true))));
    Backend b = backend("ut", "sick");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> sick.probes.get() == 2 && b.probeFailures == 1);
    for (int i = 0; i < 10; i++) get("ut").then().statusCode(200);
    assertThat(sick.served.get()).as("requests to it after one failed probe of two").isPositive();
    assertThat(stat("ut", "sick").healthy()).as("healthy after one failed probe of two").isTrue();
    sick.release(503);
    await().atMost(Duration.ofSeconds(10)).until(() -> !stat("ut", "sick").healthy());
    assertThat(stat("ut", "sick").consecutiveFailures()).isEqualTo(2);
    int served = sick.served.get();
    for (int i = 0; i < 10; i++) get("ut").then().statusCode(200).header("X-Backend", "other");
    assertThat(sick.served.get()).isEqualTo(served);
    assertThat(levelled(logs))
        .singleElement()
        .isEqualTo(
            "WARN backend fails its health checks from this process, it gets no traffic from"
                + " here: pool=ut backend=\"sick\" path=\"/health\" failure=\"HTTP 503\""
                + " failures=2");

    sick.release(200);
    sick.release(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> stat("ut", "sick").healthy());
    assertThat(levelled(logs))
        .hasSize(2)
        .last()
        .isEqualTo("INFO backend passes its health checks again: pool=ut backend=\"sick\"");
  }
}
