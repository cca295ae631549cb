package io.dynofleet.reconcile;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Whether the reconciler works, as metrics (audit 18 #3): each pass's time by outcome, passes by
 * outcome and reason, and when a pass last succeeded. A pass that fails before its status write
 * (the store, the lock, a bug) leaves the pool's conditions as they were; these say it anyway.
 *
 * <p>Labels are bounded: {@code outcome} is one of {@link #OUTCOMES}, {@code reason} a Degraded
 * reason of {@link #FAILURE_REASONS}, or {@code database}, {@code internal}, {@code lock-lost},
 * {@code shutdown}, {@code none}. Never a message, a pool or an app.
 */
final class PassMetrics {
  /** ok: the pass did its work (done, or requeued for work in flight). */
  static final Set<String> OUTCOMES = Set.of("ok", "busy", "failed", "stopped");

  /** The Degraded reasons a failed step of a pass gives ({@code Reconciler.Pass#fail}). */
  static final Set<String> FAILURE_REASONS =
      Set.of(
          Reconciler.KEY_REFUSED,
          "HerokuForbidden",
          "HerokuBilling",
          "RateLimited",
          "InvalidSpec",
          "HerokuUnavailable",
          "CreateFailed",
          Reconciler.SOURCE_REPLACED);

  private static final String PASS_TIMER = "dynofleet.reconcile.pass";
  private static final String PASSES = "dynofleet.reconcile.passes";

  private final MeterRegistry registry;
  private final Clock clock;

  /** Epoch milliseconds of the last ok pass; the process's start until then. */
  private volatile long lastSuccessMillis;

  PassMetrics(MeterRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
    this.lastSuccessMillis = clock.millis();
    Gauge.builder(
            "dynofleet.reconcile.last.success.timestamp", this, m -> m.lastSuccessMillis / 1e3)
        .baseUnit("seconds")
        .description(
            "When a reconcile pass of this process last succeeded (Unix time); its start until then")
        .strongReference(true)
        .register(registry);
    // at 0 from the start: a series born at 1 shows no increase for its first pass
    for (String outcome : OUTCOMES) {
      timer(outcome);
    }
    counter("ok", "none");
    counter("failed", "database");
    counter("failed", "internal");
    // and every Degraded reason a failed pass gives: the documented alert is an increase() over
    // the failed passes, and a reason born at its first count hid its first spell (audit 27 F3)
    for (String reason : FAILURE_REASONS) {
      counter("failed", reason);
    }
  }

  /** Records one pass (run by the loop) that took {@code nanos} and ended as {@code r}. */
  void record(ReconcileResult r, long nanos) {
    Label l = label(r);
    timer(l.outcome()).record(nanos, TimeUnit.NANOSECONDS);
    counter(l.outcome(), l.reason()).increment();
    if ("ok".equals(l.outcome())) {
      lastSuccessMillis = clock.millis();
    }
  }

  /** Epoch milliseconds of the last ok pass (the start before one). */
  long lastSuccessMillis() {
    return lastSuccessMillis;
  }

  record Label(String outcome, String reason) {}

  /** The bounded labels of a pass's result; {@code null} is a pass that threw (L7). */
  static Label label(ReconcileResult r) {
    if (r == null) {
      return new Label("failed", "internal");
    }
    return switch (r.outcome()) {
      case DONE, REQUEUE -> new Label("ok", "none");
      case BUSY -> new Label("busy", "none");
      case FAILED -> failed(r.error());
    };
  }

  private static Label failed(String error) {
    if (Reconciler.STOPPED.equals(error)) {
      return new Label("stopped", "shutdown");
    }
    if (Reconciler.LOCK_LOST.equals(error)) {
      return new Label("stopped", "lock-lost");
    }
    if (error == null) {
      return new Label("failed", "internal");
    }
    if (error.startsWith("database: ")) {
      return new Label("failed", "database");
    }
    int colon = error.indexOf(':');
    String reason = colon < 0 ? error : error.substring(0, colon);
    if (FAILURE_REASONS.contains(reason)) {
      return new Label("failed", reason);
    }
    // outside a step: an exception's simple name; the store's own (the lock's connection, a write)
    // are the database, any other is a bug
    boolean store = reason.contains("SQL") || reason.contains("JDBC") || reason.contains("Persist");
    return new Label("failed", store ? "database" : "internal");
  }

  private Timer timer(String outcome) {
    return Timer.builder(PASS_TIMER)
        .description("Time of one reconcile pass of one pool, by outcome")
        .tag("outcome", outcome)
        .serviceLevelObjectives(
            Duration.ofMillis(100),
            Duration.ofMillis(500),
            Duration.ofSeconds(1),
            Duration.ofSeconds(5),
            Duration.ofSeconds(15),
            Duration.ofSeconds(30),
            Duration.ofSeconds(60),
            Duration.ofSeconds(300))
        .register(registry);
  }

  private Counter counter(String outcome, String reason) {
    return Counter.builder(PASSES)
        .description("Reconcile passes, by outcome and bounded reason")
        .tag("outcome", outcome)
        .tag("reason", reason)
        .register(registry);
  }
}
