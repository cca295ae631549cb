package io.dynofleet.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.api.EventDocument;
import io.dynofleet.api.PoolService;
import io.dynofleet.reconcile.PoolKey;
import io.dynofleet.reconcile.Reconciler;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Audit 22 L3: the sandbox's demo source app sat outside its pipeline, so every sandbox pool began
 * with a SourceNotInPipeline Warning the sandbox gave no way to fix; and with {@code
 * dynofleet.sandbox.demo=false} (the test profile's setting) the account was empty, though README
 * and cli.md send pools to {@code pipeline: demo}, {@code sourceApp: demo-source}.
 */
@QuarkusTest
class SandboxDemoTests {
  @Inject SandboxDemo demo;
  @Inject Simulator sim;
  @Inject PoolService pools;
  @Inject Reconciler reconciler;

  @Test
  void theDemoAppAndPipelineAreMadeWithoutTheDemoPool() {
    demo.onStart(null);
    assertThat(sim.apps()).anyMatch(a -> a.name().equals(SandboxDemo.SOURCE_APP));
    assertThat(sim.stageOf(SandboxDemo.SOURCE_APP)).isEqualTo("production");
    assertThat(pools.list(null, null, null).items())
        .noneMatch(p -> p.metadata().name().equals("demo"));
  }

  @Test
  void theDemoPoolStartsWithoutAWarning() {
    demo.seedAccount();
    String name = "demo" + Long.toString(System.nanoTime() % 100000, 36);
    // the demo pool's own spec (stage left to its default, source), under another name and not
    // the default pool, so that other tests' requests are not routed to it
    pools.create(
        SandboxDemo.POOL
            .replace("\"name\": \"demo\"", "\"name\": \"" + name + "\"")
            .replace("\"default\": true", "\"default\": false")
            .replace("\"replicas\": 3", "\"replicas\": 1"));
    // passes until its app is coupled (a pass may end while its create, release or coupling is
    // still in flight), then the events of all of them
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              reconciler.reconcile(new PoolKey(name));
              return sim.apps().stream()
                  .anyMatch(a -> a.name().startsWith(name + "-") && a.stage() != null);
            });
    assertThat(pools.events(name, 200))
        .extracting(EventDocument::reason)
        .as("the pass got as far as making an app")
        .contains("AppCreated")
        .doesNotContain("SourceNotInPipeline");
    assertThat(sim.apps())
        .filteredOn(a -> a.name().startsWith(name + "-"))
        .allSatisfy(a -> assertThat(a.stage()).isEqualTo("production"));
    pools.delete(name, new PoolService.Precondition(null));
  }
}
