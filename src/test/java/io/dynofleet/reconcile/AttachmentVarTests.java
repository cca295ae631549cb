package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dynofleet.api.PoolService;
import io.dynofleet.heroku.HerokuClient;
import io.dynofleet.heroku.HerokuException;
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

  @Inject Simulator sim;
  @Inject HerokuClient heroku;
  @Inject Reconciler reconciler;
  @Inject PoolService pools;

  private SimWorld w;

  @BeforeEach
  void world() {
    w = SimWorld.fresh(sim, reconciler, "attvar");
  }

  @AfterEach
  void cleanUp() {
    sim.resetFaults();
  }

  @Test
  void aTemplateVarAnAttachmentOwnsIsRefusedAsHerokuDoesAndNamedWithItsAddOn() {
    String addon = sim.createAddon(w.source(), "heroku-postgresql");
    // Heroku's own answer, which the simulator now gives as well
    assertThatThrownBy(
            () ->
                heroku.updateConfigVars(
                    w.source(), Map.of("DATABASE_URL", "postgres://o@elsewhere/db")))
        .isInstanceOf(HerokuException.Permanent.class)
        .hasMessageContaining("Cannot overwrite attachment values")
        .hasMessageContaining("DATABASE_URL");

    w.createPool(1, ", \"configVars\": {\"DATABASE_URL\": \"postgres://o@elsewhere/db\"}", "");
    for (int i = 0; i < 3; i++) {
      reconciler.reconcile(new PoolKey(w.name()));
    }
    assertThat(w.degraded(pools).reason()).isEqualTo("InvalidSpec");
    assertThat(w.degraded(pools).message())
        .contains("DATABASE_URL", addon, "spec.template.configVars");
    assertThat(sim.apps())
        .as("no app made that would stop at its config step")
        .noneMatch(a -> a.name().startsWith(w.name() + "-"));
  }

  /**
   * Audit 17: Heroku takes at most 32 kB of config vars per app. The source's vars with the
   * template's over it made every app, then stopped each at its config step; said before any is
   * made.
   */
  @Test
  void configVarsOverHerokusLimitWithTheSourcesAreRefusedBeforeAnyAppIsMade() {
    assertThatThrownBy(() -> heroku.updateConfigVars(w.source(), Map.of("BIG", "x".repeat(40_000))))
        .as("Heroku's own refusal, which the simulator gives as well")
        .isInstanceOf(HerokuException.Permanent.class)
        .hasMessageContaining("32kb");
    heroku.updateConfigVars(w.source(), Map.of("SOURCE_BLOB", "s".repeat(20_000)));
    w.createPool(1, ", \"configVars\": {\"TEMPLATE_BLOB\": \"" + "t".repeat(15_000) + "\"}", "");
    for (int i = 0; i < 3; i++) {
      reconciler.reconcile(new PoolKey(w.name()));
    }
    assertThat(w.degraded(pools).reason()).isEqualTo("InvalidSpec");
    assertThat(w.degraded(pools).message())
        .contains("over Heroku's 32768 per app", "spec.template.configVars");
    assertThat(sim.apps())
        .as("no app made that would stop at its config step")
        .noneMatch(a -> a.name().startsWith(w.name() + "-"));
  }

  /**
   * Review 21: the shared add-ons' vars come with their attachments, made before the config step:
   * counted without them, a pool just under the limit had each app made and then refused.
   */
  @Test
  void theSharedAddOnsVarsCountTowardHerokusLimit() {
    heroku.updateConfigVars(w.source(), Map.of("SOURCE_BLOB", "s".repeat(20_000)));
    long withoutAddon = io.dynofleet.api.PoolValidator.configBytes(heroku.configVars(w.source()));
    sim.createAddon(w.source(), "heroku-postgresql");
    long attached =
        io.dynofleet.api.PoolValidator.configBytes(heroku.configVars(w.source())) - withoutAddon;
    assertThat(attached).as("the add-on's vars").isPositive();
    // under the limit without the attachment's vars, over it with them
    long owner = "DYNOFLEET_POOL".length() + 36;
    long template =
        io.dynofleet.api.PoolValidator.CONFIG_LIMIT
            - withoutAddon
            - owner
            - "TEMPLATE_BLOB".length()
            - attached / 2;
    w.createPool(
        1, ", \"configVars\": {\"TEMPLATE_BLOB\": \"" + "t".repeat((int) template) + "\"}", "");
    for (int i = 0; i < 3; i++) {
      reconciler.reconcile(new PoolKey(w.name()));
    }
    assertThat(w.degraded(pools).reason()).isEqualTo("InvalidSpec");
    assertThat(w.degraded(pools).message()).contains("over Heroku's 32768 per app");
    assertThat(sim.apps())
        .as("no app made that would stop at its config step")
        .noneMatch(a -> a.name().startsWith(w.name() + "-"));
  }
}
