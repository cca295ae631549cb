package io.dynofleet.reconcile;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.api.HookTarget;
import io.dynofleet.api.PoolService;
import io.dynofleet.config.ReconcileConfig;
import io.dynofleet.pool.model.Backend;
import io.dynofleet.pool.model.PoolEvents;
import io.dynofleet.proxy.RouteSync;
import io.dynofleet.reliability.DatabaseRelayResource;
import io.dynofleet.sandbox.SandboxApp;
import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 9 ("not covered"): the database goes away in the middle of a create step, after Heroku made
 * the app and before the reconciler recorded it. When it returns, the app is adopted by its
 * recorded name (the intent is written before Heroku hears of it), never made twice, never left
 * behind. Real PostgreSQL behind a TCP relay the test cuts, the real client over HTTP to the
 * simulator.
 */
@QuarkusTest
@QuarkusTestResource(value = DatabaseRelayResource.class, restrictToAnnotatedClass = true)
@Tag("reliability")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DatabaseLostMidCreateTests {
  private static final String TOKEN = "test-token-0123456789";

  @Inject Simulator sim;
  @Inject Reconciler reconciler;
  @Inject HerokuPlatform platform;
  @Inject RouteSync routes;
  @Inject ReconcileStore store;
  @Inject PoolLocks locks;
  @Inject PoolEvents events;
  @Inject PoolService pools;
  @Inject ReconcileConfig config;
  @Inject Clock clock;
  @Inject MeterRegistry registry;
  @Inject HookTarget hookTarget;

  @Test
  void aDatabaseLostAfterHerokuMadeTheAppAdoptsItWhenItReturns() throws Exception {
    String name = "dblost";
    sim.createSourceApp("srcdblost");
    sim.createPipeline("pipedblost");
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body(
            """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "pipedblost", "replicas": 2,
                  "template": {"sourceApp": "srcdblost", "dynoSize": "basic"},
                  "healthCheck": {"path": "/health", "intervalSeconds": 1, "timeoutSeconds": 1,
                                  "healthyThreshold": 1, "unhealthyThreshold": 1}}}
        """
                .formatted(name))
        .post("/_dynofleet/api/v1/pools")
        .then()
        .statusCode(201);
    String uid = pools.get(name).metadata().uid().toString();

    // the database goes the moment Heroku has made the first app, before its step is recorded
    CrashingPlatform cutting =
        new CrashingPlatform(platform, "createApp", DatabaseRelayResource::cut);
    Reconciler doomed =
        new Reconciler(store, locks, cutting, routes, events, config, clock, registry, hookTarget);
    ReconcileResult lost;
    try {
      lost = doomed.reconcile(new PoolKey(name));
    } finally {
      doomed.stop();
    }
    assertThat(cutting.fired()).isTrue();
    assertThat(lost.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    List<SandboxApp> made = named(name);
    assertThat(made).as("Heroku made the apps the pass asked for").isNotEmpty();

    // meanwhile passes fail without touching Heroku: the pool cannot even be read
    long calls = sim.callLog().size();
    assertThat(reconciler.reconcile(new PoolKey(name)).outcome())
        .isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(sim.callLog()).hasSize((int) calls);

    DatabaseRelayResource.restore();
    // a new process (no memory but the database) takes over
    reconciler.forgetCaches();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                reconciler.reconcile(new PoolKey(name)).outcome() == ReconcileResult.Outcome.DONE
                    && pools.status(name).readyReplicas() == 2);
    assertThat(named(name))
        .as("no twin, no orphan")
        .hasSize(2)
        .allMatch(a -> uid.equals(a.configVars().get(Reconciler.OWNER_VAR)));
    assertThat(named(name))
        .extracting(SandboxApp::name)
        .containsAll(made.stream().map(SandboxApp::name).toList());
    assertThat(
            sim.callLog().stream()
                .filter(
                    c ->
                        c.method().equals("POST")
                            && c.path().equals("/apps")
                            && c.status() == 201
                            && c.requestBody().contains("\"" + name + "-")))
        .as("apps created")
        .hasSize(2);
    assertThat(store.backends(pools.get(name).metadata().uid()))
        .hasSize(2)
        .allMatch(b -> b.step == Backend.Step.READY);
    assertThat(pools.events(name, 200)).extracting(e -> e.reason()).contains("Adopted");
  }

  private List<SandboxApp> named(String pool) {
    return sim.apps().stream().filter(a -> a.name().startsWith(pool + "-")).toList();
  }
}
