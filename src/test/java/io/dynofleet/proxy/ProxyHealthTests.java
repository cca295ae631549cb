package io.dynofleet.proxy;

import static io.dynofleet.proxy.TestBackends.target;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The counts behind a backend's health, exactly: ejection after failures in a row (the test
 * profile's {@code ejection-consecutive-failures} is 3).
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
    return new PoolRoute(name, List.of(name + ".example"), false, Algorithm.ROUND_ROBIN, Duration.ofSeconds(5), 0,
        0, 0, Duration.ZERO, hc, t);
  }

  Response get(String pool) {
    return given().header("Host", pool + ".example").get("/app");
  }

  BackendStats stat(String pool, String id) {
    return table.stats(pool).stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
  }

  Backend backend(String pool, String id) {
    return table.pools().get(pool).backends().stream().filter(b -> b.target.id().equals(id)).findFirst()
        .orElseThrow();
  }

  /**
   * Review 12: every ejection test failed every request, so a count that never went back to 0 on
   * a success (it would eject, in the end, any backend with a 0.1 % error rate) passed them all.
   */
  @Test
  void fiveHundredsBetweenSuccessesNeverEjectThreeInARowDo() {
    AtomicInteger hits = new AtomicInteger();
    AtomicBoolean failAll = new AtomicBoolean();
    // its own answers alternate 500, 200, 500, ... whichever requests the balancer sends it
    URI flaky = backends.start(req -> req.response()
        .setStatusCode(failAll.get() || hits.incrementAndGet() % 2 == 1 ? 500 : 200).putHeader("X-Backend", "flaky")
        .end());
    table.put(pool("alt", null, List.of(target("flaky", flaky), target("good", backends.named("good")))));
    for (int i = 0; i < 40; i++) {
      get("alt");
      assertThat(stat("alt", "flaky").ejected()).as("ejected after %d of its answers, every other one a 500",
          hits.get()).isFalse();
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

  /** The same with connect failures (the other way a failure is counted): the backend goes away and comes back. */
  @Test
  void connectFailuresBetweenSuccessesNeverEjectThreeInARowDo() {
    AtomicInteger answered = new AtomicInteger();
    // Connection: close, so every request to it needs a new connection: refused while it is down
    io.vertx.core.Handler<HttpServerRequest> h = req -> {
      answered.incrementAndGet();
      req.response().putHeader("Connection", "close").putHeader("X-Backend", "flaky").end();
    };
    URI flaky = backends.start(h);
    table.put(pool("cf", null, List.of(target("flaky", flaky), target("good", backends.named("good")))));
    for (int round = 0; round < 6; round++) {
      backends.stop(flaky);
      untilAnswered("cf", "502 connect-failed");
      assertThat(stat("cf", "flaky").consecutiveFailures()).as("round %d", round).isEqualTo(1);
      assertThat(stat("cf", "flaky").ejected()).as("ejected after %d connect failures, each followed by a success",
          round + 1).isFalse();
      backends.start(new HttpServerOptions().setPort(flaky.getPort()), h, "http"); // the same port again
      int before = answered.get();
      untilAnswered("cf", "200 null");
      assertThat(answered.get()).isEqualTo(before + 1);
      assertThat(stat("cf", "flaky").consecutiveFailures()).isZero();
    }
    backends.stop(flaky);
    for (int i = 0; i < 3; i++) {
      assertThat(stat("cf", "flaky").ejected()).as("ejected after %d connect failures in a row", i).isFalse();
      untilAnswered("cf", "502 connect-failed");
    }
    assertThat(stat("cf", "flaky").ejected()).as("ejected after 3 connect failures in a row").isTrue();
  }

  /**
   * Sends GETs until one is answered {@code want} ("status error"): the pool alternates, so one in
   * two reaches the flaky backend; the others must come from the good one.
   */
  void untilAnswered(String pool, String want) {
    for (int i = 0; i < 4; i++) {
      Response r = get(pool);
      String got = r.statusCode() + " " + r.header("X-Dynofleet-Error");
      if (got.equals(want) && (!want.startsWith("200") || "flaky".equals(r.header("X-Backend")))) return;
      assertThat(r.statusCode() + " " + r.header("X-Backend")).as("the other answers").isEqualTo("200 good");
    }
    throw new AssertionError("no answer " + want + " from the flaky backend in four requests");
  }
}
