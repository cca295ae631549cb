package io.dynofleet.reconcile;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.api.EventDocument;
import io.dynofleet.api.PoolService;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.sandbox.SandboxApp;
import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Backends under live traffic, end to end: the live reconcile loop, the real proxy (its passive
 * ejection and its probes over loopback) and the simulator, with production's drain time. The sweep
 * runs once an hour here, so whatever marks the backend within seconds is a pass the proxy's health
 * changes started.
 */
@QuarkusTest
@TestProfile(CrashedUnderTrafficTests.Live.class)
@Timeout(200)
class CrashedUnderTrafficTests {
  private static final String TOKEN = "test-token-0123456789";

  /** A live reconciler whose sweep is too rare to matter. */
  public static class Live implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "dynofleet.reconcile.workers", "2",
          "dynofleet.reconcile.interval", "1h",
          "dynofleet.reconcile.in-flight-requeue", "300ms",
          "dynofleet.reconcile.release-poll", "300ms",
          // production's drain (the pool's routing timeout + 10 s), not the test profile's 300 ms:
          // an empty value is no setting
          "dynofleet.reconcile.drain-time", "");
    }
  }

  @Inject Simulator sim;
  @Inject PoolService pools;
  @Inject MeterRegistry meters;

  private final AtomicBoolean loading = new AtomicBoolean();
  private Thread load;

  @AfterEach
  void stop() throws InterruptedException {
    loading.set(false);
    if (load != null) {
      load.join(5000);
    }
    sim.resetFaults();
  }

  /**
   * Audit 22 M1: a crashed backend that live traffic reached was ejected by its failed requests
   * first; its probes failed a second or two later, but the healthy set did not move again, so no
   * pass ran: the status said {@code Ejected} with a Warning that its health check passed (advising
   * to change it) for up to minutes, until the sweep, and its restart came that much late. Its
   * failing probes now win: {@code Unhealthy} within a few probe intervals, no such event, and the
   * restart {@code replaceAfterSeconds} after it.
   */
  @Test
  void aCrashedBackendUnderTrafficTurnsUnhealthyAndIsRestarted() {
    String name = "crash" + Long.toString(System.nanoTime() % 100000, 36);
    String sick =
        readyPool(
            name,
            2,
            """
                  "healthCheck": {"path": "/health", "intervalSeconds": 2, "timeoutSeconds": 1,
                                  "healthyThreshold": 1, "unhealthyThreshold": 3, "replaceAfterSeconds": 30},
                  "routing": {"hosts": ["%s.sim.test"]}
            """
                .formatted(name));

    // live traffic, as fast as one client sends it: the crashed backend's first failed requests
    // eject it well before its probes fail three times (4 to 6 s at 2 s)
    loading.set(true);
    load =
        new Thread(
            () -> {
              while (loading.get()) {
                try {
                  given().header("Host", name + ".sim.test").get("/hello");
                } catch (RuntimeException e) {
                  // the test's end closed the server: the loop stops with it
                }
              }
            },
            "crash-load");
    load.setDaemon(true);
    load.start();
    Instant crashed = Instant.now();
    sim.backendCrashed(sick);

    // a few probe intervals, not a sweep (an hour here): unhealthyThreshold (3) failed probes at
    // 2 s since review 28 #1, not the first, and a loaded box may be late with the pass they start
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> "Unhealthy".equals(phase(name, sick)));
    Instant unhealthy = Instant.now();
    assertThat(Duration.between(crashed, unhealthy)).isLessThan(Duration.ofSeconds(30));
    assertThat(events(name))
        .filteredOn(e -> e.reason().equals("BackendUnhealthy"))
        .singleElement()
        .extracting(EventDocument::message)
        .isEqualTo("app " + sick + " fails its health checks: HTTP 503");

    // restarted replaceAfterSeconds (30 s) after its probes failed, not a sweep later
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> events(name).stream().anyMatch(e -> e.reason().equals("BackendRestarted")));
    EventDocument restarted =
        events(name).stream()
            .filter(e -> e.reason().equals("BackendRestarted"))
            .findFirst()
            .orElseThrow();
    assertThat(restarted.message()).contains(sick);
    assertThat(Duration.between(crashed, restarted.firstTimestamp()))
        // not before replaceAfterSeconds; the upper bound leaves a loaded box room, and is still
        // far below the sweep (an hour), which is when the old code would have restarted it
        .isBetween(Duration.ofSeconds(30), Duration.ofSeconds(80));
    // never told its health check passes: it failed within seconds of the ejection
    assertThat(events(name))
        .noneMatch(e -> e.reason().equals("BackendEjected"))
        .noneMatch(e -> e.message().contains("passes"));
  }

  /**
   * Audit 27: a backend scaled away was deleted a fixed 10 s ({@code drain-time}) after it left the
   * data plane, though a request may wait the pool's routing timeout (30 s by default) for its
   * answer: a 14 s request in flight on it was cut by its app's deletion. Unset, the drain is the
   * pool's timeout + 10 s: the request is answered 200 by its backend, and only then is the app
   * deleted.
   */
  @Test
  void aRequestInFlightOnABackendScaledAwayEndsBeforeItsAppIsDeleted() throws Exception {
    String name = "drain" + Long.toString(System.nanoTime() % 100000, 36);
    // its probes time out too once it is slow: 10 of them in a row (20 s) before it is unhealthy,
    // though the drain does not depend on it
    String app =
        readyPool(
            name,
            1,
            """
                  "healthCheck": {"path": "/health", "intervalSeconds": 2, "timeoutSeconds": 1,
                                  "healthyThreshold": 1, "unhealthyThreshold": 10},
                  "routing": {"hosts": ["%s.sim.test"], "timeoutSeconds": 20, "retries": 0}
            """
                .formatted(name));

    // longer than the old fixed drain (10 s), shorter than the pool's timeout (20 s)
    sim.backendSlow(app, Duration.ofSeconds(14));
    // the answer's status, and whether the app was still there when it came
    CompletableFuture<Map.Entry<Integer, Boolean>> answer =
        CompletableFuture.supplyAsync(
            () -> {
              int code = given().header("Host", name + ".sim.test").get("/hello").statusCode();
              return Map.entry(code, sim.apps().stream().anyMatch(a -> a.name().equals(app)));
            });
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> inFlight(name) >= 1);

    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body("{\"replicas\": 0}")
        .put("/_dynofleet/api/v1/pools/" + name + "/scale")
        .then()
        .statusCode(200);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> "Draining".equals(phase(name, app)));

    Map.Entry<Integer, Boolean> answered = answer.get(60, TimeUnit.SECONDS);
    assertThat(answered.getKey()).as("the request in flight on the drained backend").isEqualTo(200);
    assertThat(answered.getValue()).as("its app still there when it was answered").isTrue();
    // and then it goes: the pool's timeout + 10 s after the drain began
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> sim.apps().stream().noneMatch(a -> a.name().equals(app)));
    // said by the pass that deleted it, once its call returned: a look right after the app was
    // gone could come first (a clean-clone run)
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> events(name).stream().anyMatch(e -> e.reason().equals("AppDeleted")));
  }

  /**
   * A pool of {@code replicas} made through the API with its own source app and pipeline, the
   * spec's {@code healthCheck} and {@code routing} given as JSON members, once as many backends are
   * ready: the app name of one of its backends.
   */
  private String readyPool(String name, int replicas, String healthAndRouting) {
    sim.createSourceApp(name + "-src");
    sim.createPipeline(name + "-pipe");
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body(
            """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "%s-pipe", "replicas": %d,
                  "template": {"sourceApp": "%s-src", "dynoSize": "basic"},
        %s}}
        """
                .formatted(name, name, replicas, name, healthAndRouting.strip()))
        .post("/_dynofleet/api/v1/pools")
        .then()
        .statusCode(201);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> status(name) != null && status(name).readyReplicas() == replicas);
    String uid = pools.get(name).metadata().uid().toString();
    return sim.apps().stream()
        .filter(a -> uid.equals(a.configVars().get(Reconciler.OWNER_VAR)))
        .map(SandboxApp::name)
        .findFirst()
        .orElseThrow();
  }

  private double inFlight(String pool) {
    return meters.find("dynofleet.proxy.in.flight").tag("pool", pool).gauges().stream()
        .mapToDouble(Gauge::value)
        .sum();
  }

  private PoolStatus status(String name) {
    return pools.status(name);
  }

  private String phase(String name, String app) {
    PoolStatus s = status(name);
    return s == null || s.backends() == null
        ? null
        : s.backends().stream()
            .filter(b -> b.app().equals(app))
            .map(PoolStatus.BackendStatus::phase)
            .findFirst()
            .orElse(null);
  }

  private List<EventDocument> events(String name) {
    return pools.events(name, 200);
  }
}
