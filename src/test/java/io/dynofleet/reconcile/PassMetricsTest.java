package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** Audit 18 #3: the pass metrics' bounded labels and their Prometheus names, as documented. */
class PassMetricsTest {

  @Test
  void everyResultGetsABoundedLabel() {
    assertThat(PassMetrics.label(ReconcileResult.done(3)))
        .isEqualTo(new PassMetrics.Label("ok", "none"));
    assertThat(PassMetrics.label(ReconcileResult.requeue(Duration.ofSeconds(2), 3)))
        .isEqualTo(new PassMetrics.Label("ok", "none"));
    assertThat(PassMetrics.label(ReconcileResult.busy(Duration.ofSeconds(2))))
        .isEqualTo(new PassMetrics.Label("busy", "none"));
    assertThat(PassMetrics.label(ReconcileResult.failed(Reconciler.STOPPED, Duration.ZERO, 0)))
        .isEqualTo(new PassMetrics.Label("stopped", "shutdown"));
    assertThat(PassMetrics.label(ReconcileResult.failed(Reconciler.LOCK_LOST, Duration.ZERO, 0)))
        .isEqualTo(new PassMetrics.Label("stopped", "lock-lost"));
    assertThat(
            PassMetrics.label(
                ReconcileResult.failed("database: JDBCConnectionException", Duration.ZERO, 0)))
        .isEqualTo(new PassMetrics.Label("failed", "database"));
    assertThat(
            PassMetrics.label(
                ReconcileResult.failed(
                    "HerokuUnavailable: GET /apps/x/releases → 503", Duration.ZERO, 0)))
        .isEqualTo(new PassMetrics.Label("failed", "HerokuUnavailable"));
    assertThat(
            PassMetrics.label(
                ReconcileResult.failed("IllegalStateException: pool shop", Duration.ZERO, 0)))
        .as("anything else, with its message, is one label")
        .isEqualTo(new PassMetrics.Label("failed", "internal"));
    assertThat(
            PassMetrics.label(
                ReconcileResult.failed("PSQLException: connection lost", Duration.ZERO, 0)))
        .as("the lock's connection, outside a step")
        .isEqualTo(new PassMetrics.Label("failed", "database"));
    assertThat(PassMetrics.label(null)).isEqualTo(new PassMetrics.Label("failed", "internal"));
  }

  @Test
  void prometheusNamesAreTheDocumentedOnes() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Clock at = Clock.fixed(Instant.ofEpochSecond(1_700_000_000), ZoneOffset.UTC);
    PassMetrics m = new PassMetrics(registry, at);
    m.record(ReconcileResult.failed("InvalidSpec: no", Duration.ZERO, 0), 2_000_000);
    String text = registry.scrape();
    assertThat(text)
        .contains("dynofleet_reconcile_pass_seconds_count{outcome=\"ok\",} 0.0")
        .contains("dynofleet_reconcile_pass_seconds_count{outcome=\"failed\",} 1.0")
        .contains("dynofleet_reconcile_pass_seconds_bucket{outcome=\"failed\",le=\"0.1\",} 1.0")
        .contains("dynofleet_reconcile_passes_total{outcome=\"ok\",reason=\"none\",} 0.0")
        .contains(
            "dynofleet_reconcile_passes_total{outcome=\"failed\",reason=\"InvalidSpec\",} 1.0")
        .contains("dynofleet_reconcile_last_success_timestamp_seconds 1.7E9");
  }
}
