package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.api.PoolService;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.sandbox.Simulator;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 12, finding 16: a key Heroku refuses was reported with Heroku's words only ("Invalid
 * credentials provided."), naming neither HEROKU_API_KEY nor the way to a new one.
 */
@QuarkusTest
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadKeyTests {
  @Inject Simulator sim;
  @Inject Reconciler reconciler;
  @Inject PoolService pools;

  @Test
  void aRefusedKeyIsNamedWithHowToMakeANewOne() {
    SimWorld w = SimWorld.fresh(sim, reconciler, "badkey");
    w.createPool(1, "", "");
    sim.keyExpired(true); // the simulator refuses Dynofleet's key as Heroku refuses a revoked one
    try {
      reconciler.reconcile(new PoolKey(w.name()));
    } finally {
      sim.keyExpired(false);
    }
    PoolStatus.Condition degraded = w.degraded(pools);
    assertThat(degraded.reason()).isEqualTo("HerokuUnauthorized");
    assertThat(degraded.message())
        .contains(
            "HEROKU_API_KEY",
            "Invalid credentials provided",
            "heroku authorizations:create",
            "heroku config:set")
        .doesNotContain(sim.apiKey());
    assertThat(pools.events(w.name(), 50))
        .anySatisfy(e -> assertThat(e.message()).contains("HEROKU_API_KEY"));
  }
}
