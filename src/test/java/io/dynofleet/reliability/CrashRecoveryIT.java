package io.dynofleet.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.reliability.Fleet.Dyno;
import io.dynofleet.sandbox.SandboxApp;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * kill -9 at a random moment of a scale-up or a rollout, 20 times: the next process converges with
 * exactly the desired apps, each created once, none leaked. Packaged jar as child processes, this
 * JVM as Heroku (simulator) and database host (see {@link Fleet}).
 */
@Tag("reliability")
class CrashRecoveryIT {
  private static final int ROUNDS = 20;
  private static final int REPLICAS = 5;

  /**
   * Short Platform API timeouts (the simulator answers on loopback in milliseconds): a process
   * killed between marking a release or a create sent and its answer leaves a mark the next process
   * waits out for the client's whole send window (audit 19 #6, #11), about 70 s with the default 30
   * s read timeout, longer than a round's convergence wait; about 12 s with these.
   */
  private static final Map<String, String> SHORT_TIMEOUTS =
      Map.of("dynofleet.heroku.connect-timeout", "1s", "dynofleet.heroku.read-timeout", "3s");

  @Test
  @Timeout(value = 12, unit = TimeUnit.MINUTES)
  void killNineAtRandomMomentsConvergesWithoutTwinsOrLeaks() throws Exception {
    long seed = Long.getLong("crash.seed", System.nanoTime());
    Random random = new Random(seed);
    String pool = "crash";
    long t0 = System.nanoTime();
    try (Fleet fleet = new Fleet("crash")) {
      fleet.sourceAndPipeline("origin-app", "crash-pipe");
      Dyno dyno = fleet.start(SHORT_TIMEOUTS);
      assertThat(
              dyno.send("POST", Fleet.POOLS, Fleet.pool(pool, "origin-app", "crash-pipe", 0, "")))
          .isEqualTo(201);
      int twins = 0;
      int leaked = 0;
      int rollouts = 0;
      Map<String, Integer> killedAt = new TreeMap<>();
      long createsBefore = 0;
      for (int round = 1; round <= ROUNDS; round++) {
        boolean rollout = round % 4 == 0;
        dyno.scale(pool, REPLICAS);
        if (rollout) {
          // a rollout under way when the process dies: first the pool, then a new release
          fleet.awaitConverged(dyno, pool, "origin-app", REPLICAS, Duration.ofSeconds(60));
          fleet.sim.pushRelease("origin-app");
          rollouts++;
        }
        Thread.sleep(random.nextInt(rollout ? 1500 : 1200)); // the random moment of the kill
        dyno.kill9();
        fleet.steps(pool).forEach((step, n) -> killedAt.merge(step, n, Integer::sum));
        dyno = fleet.start(SHORT_TIMEOUTS);
        fleet.awaitConverged(dyno, pool, "origin-app", REPLICAS, Duration.ofSeconds(60));
        Set<String> marked =
            fleet.named(pool).stream()
                .map(a -> a.configVars().get("DYNOFLEET_POOL"))
                .collect(Collectors.toSet());
        // every app of the account but the source, whatever its name: the convergence wait
        // counts the pool's named apps only, so a second app under another name shows here alone
        twins += others(fleet) - REPLICAS;
        assertThat(marked)
            .as("round %d: every app owned by this pool", round)
            .hasSize(1)
            .doesNotContainNull();

        // back to zero for the next round; nothing may stay behind
        dyno.scale(pool, 0);
        fleet.awaitConverged(dyno, pool, "origin-app", 0, Duration.ofSeconds(30));
        leaked += others(fleet);
        long created = fleet.creates(pool) - createsBefore;
        createsBefore = fleet.creates(pool);
        // a scale-up makes 5; a rollout 5 more; a crash may cost an intent, never a second app
        assertThat(created)
            .as("round %d: apps created", round)
            .isEqualTo(rollout ? 2L * REPLICAS : REPLICAS);
      }
      long seconds = (System.nanoTime() - t0) / 1_000_000_000;
      System.out.printf(
          "%nCrashRecoveryIT: rounds=%d (rollouts=%d) apps_created=%d leaked=%d twins=%d "
              + "backend_rows_at_kill=%s seconds=%d seed=%d%n",
          ROUNDS, rollouts, fleet.creates(pool), leaked, twins, killedAt, seconds, seed);
      assertThat(twins).isZero();
      assertThat(leaked).isZero();
      // every process subscribed the pool (kills included): one subscription, never a twin
      assertThat(fleet.webhooks("origin-app")).singleElement().asString().endsWith("?pool=" + pool);
      assertThat(fleet.callsOnApp("POST", "origin-app", "/webhooks", 201))
          .as("made once, adopted after")
          .isEqualTo(1);
      assertThat(fleet.named(pool)).extracting(SandboxApp::name).isEmpty();
    }
  }

  /** Apps of the simulated account other than the source app. */
  private static int others(Fleet fleet) {
    return (int) fleet.sim.apps().stream().filter(a -> !a.name().equals("origin-app")).count();
  }
}
