package io.dynofleet.reconcile;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How often the sweep looks at an idle pool (every backend ready at the target, nothing in flight),
 * so that the looks of the whole fleet fit a share of Heroku's refill (audit 21 H1: 30 idle pools,
 * two calls each every 30 s, wanted 120 calls a minute of the account's 75):
 *
 * <pre>
 *   every = max(sweep interval, pools × CALLS_PER_LOOK × 800 ms / share)
 * </pre>
 *
 * four times that while the pool's release webhook is subscribed and its deliveries are heard (a
 * release brings a pass at once: the look is only the safety net; see {@link #heard}), plus up to a
 * quarter at random so pools made together do not look together. The interval is kept in the
 * database ({@code pool_sweeps.next_look_at}), so it holds for every dyno, and the fleet's looks
 * cost about {@code share} of the refill however many dynos run. The dyno that passed the pool
 * keeps the look at that turn itself, and another takes it over once it is {@link
 * ReconcileLoop#TAKEOVER_GRACE} past: the sweep's ticks alone took it up to an interval late (audit
 * 23 L8). A spec change or a webhook delivery still brings a pass at once; a backend's health
 * change one at its turn, at most once per {@code health-debounce} for the fleet ({@link
 * ReconcileLoop#healthTurn}), which only a pass that began after the turn stands for, not the idle
 * look.
 */
final class IdleLooks {
  /**
   * What one look at an idle pool costs: its source's releases, and now and then the pipeline's
   * couplings.
   */
  static final int CALLS_PER_LOOK = 2;

  /** How much longer an idle pool with a subscribed release webhook waits between looks. */
  static final int WEBHOOK_FACTOR = 4;

  /**
   * How long after the last delivery heard an idle pool's subscription is trusted with the longer
   * turn: a day. A subscription alone was trusted (review 25 #3), so deliveries failing (a wrong
   * public URL, admin hosts without the app's host, a CDN in front) left each release waiting up to
   * four turns, some 100 min at 300 pools, unseen. A day bounds how long deliveries that stop go on
   * costing that; a source that releases less often gets the plain turn, the one the sweep's share
   * of the budget is sized for.
   */
  static final Duration HEARD_WITHIN = Duration.ofHours(24);

  /** The interval when the sweep's own is not a duration ({@code off}, a cron expression). */
  static final Duration DEFAULT_SWEEP = Duration.ofSeconds(30);

  private IdleLooks() {}

  /**
   * The interval between looks at an idle pool, before jitter.
   *
   * @param pools how many pools there are (each with its own looks)
   * @param sweep the sweep's interval: never looked at more often than it sweeps
   * @param share the share of the refill the looks may spend, kept within 0.01..1
   * @param webhook whether the pool's release webhook is subscribed and its deliveries heard
   *     ({@link #heard})
   */
  static Duration every(long pools, Duration sweep, double share, boolean webhook) {
    double s = Double.isNaN(share) ? 1 : Math.min(1, Math.max(0.01, share));
    long millis =
        (long) (Math.max(1, pools) * CALLS_PER_LOOK * Reconciler.REFILL_PER_CALL.toMillis() / s);
    Duration base = Duration.ofMillis(Math.max(millis, sweep.toMillis()));
    return webhook ? base.multipliedBy(WEBHOOK_FACTOR) : base;
  }

  /**
   * Whether the pool's deliveries are heard: one was, for its current subscription, within {@link
   * #HEARD_WITHIN} of {@code now}.
   *
   * @param heardAt when a delivery was last heard (null: none since the subscription was recorded)
   */
  static boolean heard(java.time.Instant heardAt, java.time.Instant now) {
    return heardAt != null && !heardAt.isBefore(now.minus(HEARD_WITHIN));
  }

  /** {@link #every} plus up to a quarter of it at random. */
  static Duration jittered(Duration every) {
    return every.plusMillis(ThreadLocalRandom.current().nextLong(every.toMillis() / 4 + 1));
  }

  /** The sweep's interval as configured ({@code dynofleet.reconcile.interval}). */
  static Duration sweep(String interval) {
    try {
      Duration d = io.quarkus.runtime.configuration.DurationConverter.parseDuration(interval);
      return d == null || d.isNegative() || d.isZero() ? DEFAULT_SWEEP : d;
    } catch (RuntimeException e) {
      return DEFAULT_SWEEP;
    }
  }
}
