package io.dynofleet.reconcile;

import java.time.Duration;

/**
 * What a pass asks of the loop: nothing (the regular schedule picks the pool up again), a requeue
 * after a delay (work in flight), a look again soon because another process holds the pool's lock,
 * or a failure to back off from. {@code nextLook}: when an idle pool's stored turn comes (the pass
 * was {@code DONE}; null: none stored), which the loop keeps itself; {@code endedMicros}: the
 * pass's recorded end by the database's clock ({@code pool_sweeps.swept_at}; 0 when not recorded),
 * after which a pass by any dyno makes the loop's own look (the requeue, the idle turn) moot.
 */
public record ReconcileResult(
    Outcome outcome,
    Duration requeueAfter,
    String error,
    long platformCalls,
    Duration nextLook,
    long endedMicros) {

  public ReconcileResult(Outcome outcome, Duration requeueAfter, String error, long platformCalls) {
    this(outcome, requeueAfter, error, platformCalls, null, 0);
  }

  public enum Outcome {
    DONE,
    REQUEUE,
    /** Another process (or thread) held the pool's lock: nothing was done, look again soon. */
    BUSY,
    FAILED
  }

  public static ReconcileResult done(long calls) {
    return new ReconcileResult(Outcome.DONE, null, null, calls);
  }

  public static ReconcileResult requeue(Duration after, long calls) {
    return new ReconcileResult(Outcome.REQUEUE, after, null, calls);
  }

  public static ReconcileResult busy(Duration after) {
    return new ReconcileResult(Outcome.BUSY, after, null, 0);
  }

  public static ReconcileResult failed(String error, Duration after, long calls) {
    return new ReconcileResult(Outcome.FAILED, after, error, calls);
  }
}
