package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.LogCapture;
import io.dynofleet.api.PoolService;
import io.dynofleet.heroku.HerokuClient;
import io.dynofleet.pool.model.PoolEvents;
import io.dynofleet.sandbox.Simulator;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 12, finding 19: a release webhook whose removal Heroku refused once while its pool was
 * being deleted was never tried again, and stayed on the source app for good; the WebhookLeft
 * message said its sentence twice. A reconciler with release webhooks on, against the simulator.
 */
@QuarkusTest
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WebhookRemovalTests {

  @Inject Simulator sim;
  @Inject HerokuClient heroku;
  @Inject PoolService pools;
  @Inject HookedReconciler processes;

  private SimWorld w;
  private Reconciler hooked;
  private LogCapture logs;

  @BeforeEach
  void world() {
    w = SimWorld.fresh(sim, null, "unhook"); // its own reconciler is made below
    // release webhooks on (the test profile has them off): this reconciler subscribes and removes
    hooked = processes.process();
    logs = LogCapture.of(PoolEvents.class);
  }

  @AfterEach
  void cleanUp() {
    logs.close();
    sim.resetFaults();
    hooked.stop();
  }

  private ReconcileResult pass() {
    return hooked.reconcile(new PoolKey(w.name()));
  }

  /** A one-backend pool, ready, its release webhook on the source app. */
  private void subscribedPool() {
    w.createPool(1, "", SimWorld.QUICK_HEALTH);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                pass().outcome() == ReconcileResult.Outcome.DONE
                    && pools.status(w.name()).readyReplicas() == 1
                    && pools.status(w.name()).webhook() != null);
    assertThat(heroku.webhooks(w.source())).hasSize(1);
  }

  private boolean gone() {
    pass();
    return SimWorld.api().get(SimWorld.POOLS + "/" + w.name()).statusCode() == 404;
  }

  @Test
  void aRemovalRefusedOnceDuringADeletionIsTriedAgainAtTheNextPass() {
    subscribedPool();
    SimWorld.api().delete(SimWorld.POOLS + "/" + w.name()).then().statusCode(202);
    sim.keyExpired(true); // a rotated key: every call of this pass is refused (401)
    pass();
    sim.keyExpired(false);
    assertThat(pools.events(w.name(), 200))
        .as("not given up while the pool is still there")
        .noneMatch(e -> e.reason().equals("WebhookLeft"));

    await()
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(this::gone);
    assertThat(heroku.webhooks(w.source())).as("removed at a later pass").isEmpty();
    assertThat(logged()).noneMatch(m -> m.contains("WebhookLeft"));
  }

  @Test
  void aRemovalRefusedUntilThePoolGoesIsToldOnceWhenItGoes() {
    subscribedPool();
    SimWorld.api().delete(SimWorld.POOLS + "/" + w.name()).then().statusCode(202);
    String sourceId = sim.app(w.source()).id(); // the webhook is kept by the app's id
    sim.refuse(
        "(GET|DELETE) /apps/(" + w.source() + "|" + sourceId + ")/webhooks.*",
        403,
        "forbidden",
        "You do not have access to the app " + w.source() + ".");
    pass();
    assertThat(pools.events(w.name(), 200)).noneMatch(e -> e.reason().equals("WebhookLeft"));

    await()
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(this::gone);
    sim.resetFaults();
    assertThat(heroku.webhooks(w.source())).hasSize(1); // Heroku would not let it go
    List<String> left = logged().stream().filter(m -> m.contains("reason=WebhookLeft")).toList();
    assertThat(left)
        .as("told once, when the pool went")
        .singleElement()
        .satisfies(
            m -> {
              // named by the name, with the start of the id it is kept by
              String sentence =
                  "release webhook on "
                      + w.source()
                      + " ("
                      + sourceId.substring(0, 8)
                      + "…) not removed";
              assertThat(m.indexOf(sentence)).isNotNegative().isEqualTo(m.lastIndexOf(sentence));
              assertThat(m).contains("heroku webhooks:remove");
            });
  }

  /** What {@link PoolEvents} logged since the test began, each message with its parameters in. */
  private List<String> logged() {
    return logs.records().stream().map(LogCapture::text).toList();
  }
}
