package io.dynofleet.reconcile;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.api.HookTarget;
import io.dynofleet.api.PoolService;
import io.dynofleet.config.ReconcileConfig;
import io.dynofleet.heroku.HerokuConfig;
import io.dynofleet.heroku.TestHerokuClients;
import io.dynofleet.pool.model.PoolEvents;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.proxy.RouteSync;
import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 12, finding 16: a key Heroku refuses was reported with Heroku's words only ("Invalid
 * credentials provided."), naming neither HEROKU_API_KEY nor the way to a new one.
 */
@QuarkusTest
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadKeyTests {
  private static final String TOKEN = "test-token-0123456789";
  private static final String POOLS = "/_dynofleet/api/v1/pools";
  private static final AtomicInteger SEQ = new AtomicInteger();

  @Inject Simulator sim;
  @Inject HerokuConfig herokuConfig;
  @Inject ReconcileStore store;
  @Inject PoolLocks locks;
  @Inject RouteSync routes;
  @Inject PoolEvents events;
  @Inject ReconcileConfig config;
  @Inject Clock clock;
  @Inject MeterRegistry registry;
  @Inject HookTarget hookTarget;
  @Inject PoolService pools;

  @Test
  void aRefusedKeyIsNamedWithHowToMakeANewOne() {
    String tag = SEQ.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 100000, 36);
    String name = "badkey" + tag;
    sim.createSourceApp("bksrc" + tag);
    sim.createPipeline("bkpipe" + tag);
    given().header("Authorization", "Bearer " + TOKEN).contentType("application/json").body("""
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "bkpipe%s", "replicas": 1, "template": {"sourceApp": "bksrc%s"}}}
        """.formatted(name, tag, tag))
        .post(POOLS).then().statusCode(201);
    String wrongKey = "HRKU-wrong-" + tag;
    Reconciler wrong = new Reconciler(store, locks,
        new HerokuPlatform(TestHerokuClients.client(herokuConfig, registry, sim.url(), wrongKey)),
        routes, events, config, clock, registry, hookTarget);
    try {
      wrong.reconcile(new PoolKey(name));
    } finally {
      wrong.stop();
    }
    PoolStatus.Condition degraded = pools.status(name).conditions().stream()
        .filter(c -> c.type().equals("Degraded")).findFirst().orElseThrow();
    assertThat(degraded.reason()).isEqualTo("HerokuUnauthorized");
    assertThat(degraded.message())
        .contains("HEROKU_API_KEY", "Invalid credentials provided", "heroku authorizations:create", "heroku config:set")
        .doesNotContain(wrongKey).doesNotContain(sim.apiKey());
    assertThat(pools.events(name, 50)).anySatisfy(e -> assertThat(e.message()).contains("HEROKU_API_KEY"));
  }
}
