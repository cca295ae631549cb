package io.dynofleet.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** The reconciler: schedule, parallelism, safety margins and the dyno price table. */
@ConfigMapping(prefix = "dynofleet.reconcile")
public interface ReconcileConfig {

  /** How often every pool is reconciled ({@code off} disables the schedule, as in tests). */
  @WithDefault("30s")
  String interval();

  /**
   * Worker threads draining the reconcile queue; 0 runs passes only when called directly (tests).
   */
  @WithDefault("2")
  int workers();

  /**
   * Platform calls in flight at once within one pass (creates run in parallel up to this). As large
   * as {@link #createBatch()}: each app's steps are sequential, so a batch made four at a time took
   * five times as long as one app (bench/reconciler.sh); the rate budget, not this, bounds the
   * burst.
   */
  @WithDefault("20")
  int parallelism();

  /**
   * Most backends created in one pass, so a large scale-up is paced (slow start, as ReplicaSet).
   */
  @WithDefault("20")
  int createBatch();

  /** Requeue delay while something is in flight (an app being made, a drain, a retry). */
  @WithDefault("2s")
  Duration inFlightRequeue();

  /**
   * Least time between a pass of a pool (by any dyno) and a pass a change in its healthy backends
   * brings; unset: the pool's {@code healthCheck.intervalSeconds}. A change within it is passed at
   * its end, never dropped: in a shared outage each backend crossing its threshold on each dyno was
   * a pass at once, about 10 per pool per dyno within a probe interval (audit 21 M3). {@code 0s}:
   * every change at once, as before.
   */
  java.util.Optional<Duration> healthDebounce();

  /**
   * Requeue delay while the only work in flight is a release that is pending (a backend's release
   * phase, or a release of the source app), and the pool's other new apps waiting for it. It grows
   * with how long the release has been pending: three times as long once it has been a minute, six
   * times once it has been five (5 s, 15 s, 30 s by default). A release phase may run up to an
   * hour, and polled every {@link #inFlightRequeue()} at three calls a look it spent more than
   * Heroku's refill (audit 19 #1). The webhook of a release on the source app still brings a pass
   * at once.
   */
  @WithDefault("5s")
  Duration releasePoll();

  /**
   * First backoff after a failed pass; doubles per failure up to {@link #maxBackoff()}, with
   * jitter.
   */
  @WithDefault("1s")
  Duration baseBackoff();

  /** Longest backoff after repeated failures. */
  @WithDefault("5m")
  Duration maxBackoff();

  /**
   * Longest backoff after repeated transient failures (Platform API 5xx, timeouts, connection
   * failures): Heroku recovers within minutes, and a pool backed off for {@link #maxBackoff()}
   * stayed idle and Degraded that long after. A failed pass costs about what a sweep does.
   */
  @WithDefault("30s")
  Duration maxTransientBackoff();

  /**
   * A new app that failed (its release phase, or its health checks within the progress deadline) at
   * a release another app of the pool got ready on is replaced after this long, doubled for each
   * failure in a row; the third in a row stalls the pool like a release that never worked.
   */
  @WithDefault("1m")
  Duration failedAppRetry();

  /** A backend that is not healthy this long after being coupled has failed. */
  @WithDefault("10m")
  Duration progressDeadline();

  /**
   * How long a backend a proxy may route is out of the data plane before its app is deleted. Unset
   * (the default): the pool's routing timeout ({@code routing.timeoutSeconds}, 30 s unless set) +
   * 10 s, so that a request a proxy sent it just before it left, or until the proxy heard of the
   * drain, ends on it rather than being cut by the app's deletion. Set: that long for every pool,
   * whatever its timeout.
   */
  Optional<Duration> drainTime();

  /** Below this many remaining Platform API calls, passes slow down and skip optional reads. */
  @WithDefault("300")
  int rateLimitReserve();

  /**
   * The share of Heroku's refill (75 calls a minute for the account) the sweep's looks at idle
   * pools may spend between them, across all dynos: an idle pool is looked at every {@code
   * max(interval, pools × 2 calls / (share × 75 a minute))}, four times as long while its release
   * webhook is subscribed (see {@code IdleLooks}). 0.4 leaves the rest to rollouts, replacements
   * and the account's other tooling; 30 pools are looked at every 2 minutes.
   */
  @WithDefault("0.4")
  double sweepShare();

  /**
   * How often the config vars and web dynos of every backend are compared with the desired ones
   * (drift: reported, never set back), once per backend for the whole fleet of dynos (two calls
   * each). Also how often a pool's pipeline is looked up again, a refused coupling tried again, and
   * (with {@code shareAddons}) the source's add-ons read again. An hour: every 10 minutes, 300
   * backends took 3,600 of Heroku's 4,500 calls an hour on one dyno (audit 21 H1).
   */
  @WithDefault("1h")
  Duration driftCheckInterval();

  /**
   * Most backends one pass compares for drift (two calls each), those checked longest ago first: a
   * pool's check is spread over its passes instead of a burst of two calls per backend in one.
   */
  @WithDefault("5")
  int driftChecksPerPass();

  /**
   * Whether each managed pool keeps a webhook subscription on its source app, so a release there is
   * rolled out at once instead of at the next sweep (needs a webhook secret and a public URL; see
   * {@code ApiConfig#publicUrl}). Subscriptions Dynofleet made are removed when this is off.
   */
  @WithDefault("true")
  boolean webhooks();

  /** How often a pool's subscription is looked up again on Heroku (someone may have removed it). */
  @WithDefault("1h")
  Duration webhookCheckInterval();

  /**
   * USD per dyno per month by size, as {@code size=price,...}; the estimates in status use it.
   * Prices change: configure ({@code DYNOFLEET_RECONCILE_PRICES}).
   */
  @WithDefault(
      "eco=5,basic=7,standard-1x=25,standard-2x=50,performance-m=250,performance-l=500,"
          + "performance-l-ram=500,performance-xl=750,performance-2xl=1500")
  String prices();
}
