package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.api.EventDocument;
import io.dynofleet.api.PoolService;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.sandbox.Simulator;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 12, finding 15: a static pool (spec.staticBackends) with a dead backend said Degraded False
 * "no errors" and recorded no event. Two simulated apps as the static backends, the proxy's real
 * probes, the reconciler's passes.
 */
@QuarkusTest
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StaticBackendHealthTests {
  private static final AtomicInteger SEQ = new AtomicInteger();

  @Inject Simulator sim;
  @Inject Reconciler reconciler;
  @Inject PoolService pools;

  private String name;
  private String urlA;
  private String urlB;
  private String appB;
  /** How the status names the backends: host and port. */
  private String idA;
  private String idB;

  @BeforeEach
  void world() {
    sim.resetFaults();
    String tag = SEQ.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 100000, 36);
    name = "static" + tag;
    var a = sim.createSourceApp("sta" + tag);
    appB = "stb" + tag;
    var b = sim.createSourceApp(appB);
    urlA = a.webUrl();
    urlB = b.webUrl();
    idA = "127.0.0.1:" + a.port();
    idB = "127.0.0.1:" + b.port();
  }

  @AfterEach
  void cleanUp() {
    sim.resetFaults();
  }

  private PoolStatus.Condition condition(String type) {
    return pools.status(name).conditions().stream().filter(c -> c.type().equals(type)).findFirst().orElseThrow();
  }

  private List<EventDocument> events(String reason) {
    return pools.events(name, 200).stream().filter(e -> e.reason().equals(reason)).toList();
  }

  /** Passes until the status shows {@code healthy} of the two backends healthy. */
  private void awaitHealthy(int healthy) {
    await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(200)).until(() -> {
      reconciler.reconcile(new PoolKey(name));
      List<PoolStatus.BackendStatus> b = pools.status(name).backends();
      return b.size() == 2 && b.stream().filter(x -> Boolean.TRUE.equals(x.healthy())).count() == healthy;
    });
  }

  @Test
  void aDeadStaticBackendIsAWarningAndAConditionAndItsRecoveryIsTold() {
    SimWorld.api().body("""
        {"metadata": {"name": "%s"},
         "spec": {"staticBackends": ["%s", "%s"],
                  "healthCheck": {"path": "/health", "intervalSeconds": 1, "timeoutSeconds": 1,
                                  "healthyThreshold": 1, "unhealthyThreshold": 1},
                  "routing": {"hosts": ["%s.static.test"]}}}
        """.formatted(name, urlA, urlB, name))
        .post(SimWorld.POOLS).then().statusCode(201);
    awaitHealthy(2);
    assertThat(condition("Degraded").status()).isEqualTo("False");

    sim.backendDead(appB);
    awaitHealthy(1);
    assertThat(condition("Degraded").status()).isEqualTo("True");
    assertThat(condition("Degraded").reason()).isEqualTo("BackendUnhealthy");
    assertThat(condition("Degraded").message()).contains(idB).doesNotContain(idA);
    reconciler.reconcile(new PoolKey(name));
    assertThat(events("BackendUnhealthy")).as("said once, as it went").singleElement().satisfies(e -> {
      assertThat(e.type()).isEqualTo("Warning");
      assertThat(e.message()).contains(idB);
    });

    sim.backendHealthy(appB);
    awaitHealthy(2);
    assertThat(condition("Degraded").status()).isEqualTo("False");
    assertThat(events("BackendRecovered")).singleElement().satisfies(e -> assertThat(e.message()).contains(idB));
  }
}
