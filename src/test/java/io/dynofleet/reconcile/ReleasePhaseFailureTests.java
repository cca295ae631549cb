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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 12, finding 7: a release whose release phase failed on a backend was reported as "did not
 * become healthy", and the app whose release output said why was deleted seconds later. The
 * reconciler against the simulator over HTTP, pass by pass.
 */
@QuarkusTest
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReleasePhaseFailureTests {
  /** The last line of the simulated release command's output when it fails. */
  private static final String OUTPUT = Simulator.RELEASE_PHASE_FAILURE;

  @Inject Simulator sim;
  @Inject Reconciler reconciler;
  @Inject PoolService pools;

  private SimWorld w;

  @BeforeEach
  void world() {
    w = SimWorld.fresh(sim, reconciler, "relph");
  }

  @AfterEach
  void cleanUp() {
    sim.resetFaults();
  }

  private void createPool(int replicas) {
    w.createPool(replicas, "", SimWorld.QUICK_HEALTH);
  }

  private ReconcileResult pass() {
    return reconciler.reconcile(new PoolKey(w.name()));
  }

  private PoolStatus.Condition degraded() {
    return w.degraded(pools);
  }

  @Test
  void aFailedReleasePhaseIsCalledSoWithTheEndOfItsOutput() {
    createPool(1);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                pass().outcome() == ReconcileResult.Outcome.DONE
                    && pools.status(w.name()).readyReplicas() == 1);

    sim.pushRelease(w.source());
    sim.releasePhaseFails(w.source(), true);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              pass();
              return degraded().reason().equals("RolloutStalled");
            });
    // what Heroku's release output (output_stream_url) ended with, not a guess at health
    assertThat(degraded().message())
        .contains("release phase", OUTPUT)
        .doesNotContain("did not become healthy");
    assertThat(pools.events(w.name(), 200))
        .filteredOn(e -> e.reason().equals("RolloutStalled"))
        .extracting(EventDocument::message)
        .singleElement()
        .asString()
        .contains("release phase", OUTPUT);

    // the passes after it keep saying why, not a generic "did not become healthy"
    pass();
    pass();
    assertThat(degraded().reason()).isEqualTo("RolloutStalled");
    assertThat(degraded().message()).contains("release phase", OUTPUT);
  }
}
