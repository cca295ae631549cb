package io.dynofleet.reconcile;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dynofleet.api.PoolService;
import io.dynofleet.heroku.HerokuClient;
import io.dynofleet.heroku.HerokuException;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.sandbox.Simulator;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 12, finding 10: a template config var that an add-on attachment owns (DATABASE_URL of a
 * shared database) was set on every backend by the simulator, while Heroku refuses it ("Cannot
 * overwrite attachment values"): on Heroku every backend would have stopped at its config step.
 */
@QuarkusTest
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AttachmentVarTests {
  private static final String TOKEN = "test-token-0123456789";
  private static final String POOLS = "/_dynofleet/api/v1/pools";

  @Inject Simulator sim;
  @Inject HerokuClient heroku;
  @Inject Reconciler reconciler;
  @Inject PoolService pools;

  private String name;
  private String source;
  private String pipeline;

  @BeforeEach
  void world() {
    SimWorld w = SimWorld.fresh(sim, reconciler, "attvar");
    name = w.name();
    source = w.source();
    pipeline = w.pipeline();
  }

  @AfterEach
  void cleanUp() {
    sim.resetFaults();
  }

  private PoolStatus.Condition degraded() {
    return pools.status(name).conditions().stream().filter(c -> c.type().equals("Degraded")).findFirst().orElseThrow();
  }

  @Test
  void aTemplateVarAnAttachmentOwnsIsRefusedAsHerokuDoesAndNamedWithItsAddOn() {
    String addon = sim.createAddon(source, "heroku-postgresql");
    // Heroku's own answer, which the simulator now gives as well
    assertThatThrownBy(() -> heroku.updateConfigVars(source, Map.of("DATABASE_URL", "postgres://o@elsewhere/db")))
        .isInstanceOf(HerokuException.Permanent.class)
        .hasMessageContaining("Cannot overwrite attachment values").hasMessageContaining("DATABASE_URL");

    given().header("Authorization", "Bearer " + TOKEN).contentType("application/json").body("""
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "%s", "replicas": 1,
                  "template": {"sourceApp": "%s", "configVars": {"DATABASE_URL": "postgres://o@elsewhere/db"}}}}
        """.formatted(name, pipeline, source))
        .post(POOLS).then().statusCode(201);
    for (int i = 0; i < 3; i++) {
      reconciler.reconcile(new PoolKey(name));
    }
    assertThat(degraded().reason()).isEqualTo("InvalidSpec");
    assertThat(degraded().message()).contains("DATABASE_URL", addon, "spec.template.configVars");
    assertThat(sim.apps()).as("no app made that would stop at its config step")
        .noneMatch(a -> a.name().startsWith(name + "-"));
  }
}
