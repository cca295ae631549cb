package io.dynofleet.heroku;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * The account's Platform API budget as Heroku last reported it ({@code RateLimit-Remaining} on
 * every response, {@code GET /account/rate-limits}) plus the refill since ({@link #remaining()}),
 * and the one limiter every call of this process goes through.
 *
 * <p>While plenty is left (at or above {@link HerokuConfig#lowWatermark()}) a call costs no wait.
 * Below it, each call takes a turn of a token bucket shared by every thread of the process,
 * refilled at this process's share of the account's refill: one call every {@code 3600 s /
 * refill-per-hour × dynos}, the dynos being those of the fleet seen recently ({@link
 * #dynos(IntSupplier)}, at most {@link #MAX_DYNOS}). Before, each thread slept on its own, so 22
 * threads a dyno spent many times the refill together and ran into 429s (audit 21 M1). A 429 pauses
 * every thread of the process (one 429 means the account is empty for everyone), not only the one
 * that met it.
 *
 * <p>Hand-written, not a library's: no rate limiter resolves offline here but SmallRye Fault
 * Tolerance's {@code @RateLimit}, which rejects a call over the rate instead of making it wait, and
 * none offers a turn that only applies below a threshold, a pause that empties the bucket for
 * everyone, or a rate that follows the number of dynos. The bucket holds one call: a burst would be
 * spent out of a budget that is already low.
 */
@ApplicationScoped
public class RateBudget {
  private static final Logger LOG = Logger.getLogger(RateBudget.class);

  /** Heroku refills 4500 calls per hour: one call every 800 ms. */
  static final Duration REFILL_INTERVAL = Duration.ofMillis(800);

  /**
   * The most dynos the refill is shared between: a process's share is at least a tenth, so rows of
   * dynos that went (their verdicts last a minute) can never slow one to a crawl.
   */
  static final int MAX_DYNOS = 10;

  /**
   * How old a figure below the low watermark may be before {@code GET /account/rate-limits} reads
   * it again (and how often a failing read is tried): past it, the refill assumed since stands in
   * for what Heroku would say, while other dynos, deploys and the CLI spent meanwhile (audit 21
   * L5).
   */
  static final Duration STALE_AFTER = Duration.ofSeconds(30);

  /**
   * Heroku's account limit: what a figure estimated from the refill never goes above (unless Heroku
   * itself said more).
   */
  static final long ACCOUNT_LIMIT = 4500;

  /** A turn: wait {@code delay}, then send; {@code paused}: the wait is (partly) a 429's. */
  record Turn(Duration delay, boolean paused) {
    static final Turn NOW = new Turn(Duration.ZERO, false);
  }

  /** A figure Heroku gave, and when (ticker nanoseconds) it arrived. */
  private record Seen(long value, long at) {}

  private volatile Seen seen;
  private final int lowWatermark;
  private final long perCallNanos;
  // Waits are real sleeps, so the limiter measures real, monotonic time: an injected Clock (set by
  // tests, or moved back by NTP) would hold every caller until it caught up.
  private final LongSupplier ticker;
  private final List<Consumer<Duration>> waitListeners = new CopyOnWriteArrayList<>();
  private volatile IntSupplier dynos = () -> 1;

  // the limiter (guarded by this): the earliest next turn, and the end of a 429's pause
  private long nextFree;
  private long pausedUntil;
  // threads in await (written under this; read without it by update, which wakes them)
  private volatile int waiters;

  // GET /account/rate-limits: once read; when last tried (guarded by this)
  private volatile boolean read;
  private long triedAt;
  private boolean tried;

  @Inject
  RateBudget(HerokuConfig config) {
    this(config, System::nanoTime);
  }

  /** For tests: a ticker of their own (nanoseconds, as {@link System#nanoTime()}). */
  RateBudget(HerokuConfig config, LongSupplier ticker) {
    if (config.rateLimitRefillPerHour() < 1) {
      // one call an hour would refuse, unsent, every call under the watermark (review 26)
      throw new IllegalStateException(
          "dynofleet.heroku.rate-limit-refill-per-hour (DYNOFLEET_HEROKU_RATE_LIMIT_REFILL_PER_HOUR)"
              + " is "
              + config.rateLimitRefillPerHour()
              + ": it must be at least 1 (Heroku's is 4500; in sandbox mode it defaults to"
              + " DYNOFLEET_SANDBOX_RATE_LIMIT_REFILL_PER_HOUR)");
    }
    this.lowWatermark = Math.max(1, config.lowWatermark());
    this.perCallNanos = TimeUnit.HOURS.toNanos(1) / config.rateLimitRefillPerHour();
    this.ticker = ticker;
    // empty at start: what a process before this one spent is not known
    this.nextFree = ticker.getAsLong() + perCallNanos;
    this.seen = new Seen(ACCOUNT_LIMIT, ticker.getAsLong());
  }

  /**
   * Calls left, estimated: the last figure Heroku gave ({@code RateLimit-Remaining}, {@code GET
   * /account/rate-limits}; 4500 until one arrives) plus the account's refill since it arrived, up
   * to the account's limit. The figure alone, of any age, kept a quiet dyno's gates shut long after
   * the account had refilled (audit 21 L5). The refill is the whole account's, and other dynos
   * spend too, so the estimate may be high: a figure under the low watermark is read again once it
   * is {@link #STALE_AFTER} old ({@link #refreshDue()}).
   */
  public long remaining() {
    return estimate(seen, ticker.getAsLong());
  }

  private long estimate(Seen s, long now) {
    long refilled = Math.max(0, now - s.at()) / perCallNanos;
    long cap = Math.max(ACCOUNT_LIMIT, s.value());
    return Math.min(cap, s.value() + refilled);
  }

  /**
   * Whether a call sent now takes a turn of the limiter: the budget under the low watermark, or a
   * 429's pause under way.
   */
  public boolean paced() {
    synchronized (this) {
      return !recovered();
    }
  }

  /** True when at least {@code calls} calls are left. */
  public boolean canSpend(int calls) {
    return remaining() >= calls;
  }

  void update(long value) {
    long now = ticker.getAsLong();
    seen = new Seen(value, now);
    if (value >= lowWatermark && waiters > 0) {
      synchronized (this) {
        // the turns given out are owed no more: above the watermark calls do not wait, and when
        // it falls under again the next turn is at hand, not behind a line that went early
        if (nextFree - now > 0) {
          nextFree = now;
        }
        notifyAll();
      }
    }
  }

  /**
   * Waits out a turn ({@link Turn#delay()}): up to {@code delay}, less when an answer or the
   * budget's read puts the budget at or above the low watermark outside a 429's pause meanwhile. A
   * thread whose turn was 50 s out slept the 50 s through a recovery while calls begun after it
   * went at once (review 26). How long it waited; interrupted: the call was not sent.
   */
  Duration await(Duration delay) throws InterruptedException {
    // real time, as the sleep it replaces: the ticker (a test's) need not move while it waits
    long began = System.nanoTime();
    long deadline = began + delay.toNanos();
    synchronized (this) {
      waiters++;
      try {
        while (true) {
          long left = deadline - System.nanoTime();
          if (left <= 0 || recovered()) {
            break;
          }
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
      } finally {
        waiters--;
      }
    }
    return Duration.ofNanos(System.nanoTime() - began);
  }

  /** At or above the low watermark outside a 429's pause (guarded by this). */
  private boolean recovered() {
    long now = ticker.getAsLong();
    return pausedUntil - now <= 0 && estimate(seen, now) >= lowWatermark;
  }

  /**
   * The dynos of the fleet that spend the account's budget, this one included; read at each turn,
   * so it must be cheap (a value kept up to date elsewhere). Less than 1 counts as 1.
   */
  public void dynos(IntSupplier dynos) {
    this.dynos = dynos;
  }

  /** Time between two turns of this process: its share of the account's refill. */
  Duration interval() {
    return Duration.ofNanos(interval(dynosNow()));
  }

  private long interval(int n) {
    return perCallNanos * n;
  }

  private int dynosNow() {
    int n;
    try {
      n = dynos.getAsInt();
    } catch (RuntimeException e) {
      LOG.debugf("dynos of the fleet not known, counting this one alone: %s", e.toString());
      n = 1;
    }
    return Math.max(1, Math.min(MAX_DYNOS, n));
  }

  /**
   * The calling thread's turn to send one call: no wait at or above the low watermark outside a
   * 429's pause; else the next turn of the process's bucket, taken. Null when that turn is more
   * than {@code within} away: nothing is taken, and the call should fail rather than hold its
   * thread.
   */
  Turn turn(Duration within) {
    int n = dynosNow();
    synchronized (this) {
      long now = ticker.getAsLong();
      boolean paused = pausedUntil - now > 0;
      if (!paused && estimate(seen, now) >= lowWatermark) {
        return Turn.NOW;
      }
      long at = Math.max(now, Math.max(nextFree, pausedUntil));
      // whole milliseconds, rounded up: a sleep cut short would wake before the turn (or the pause)
      Duration wait = Duration.ofMillis((at - now + 999_999) / 1_000_000);
      if (wait.compareTo(within) > 0) {
        return null;
      }
      nextFree = at + interval(n);
      return new Turn(wait, paused);
    }
  }

  /** How long until the next turn is free (the line of turns given, or a 429's pause). */
  synchronized Duration line() {
    long now = ticker.getAsLong();
    return Duration.ofNanos(Math.max(0, Math.max(nextFree, pausedUntil) - now));
  }

  /** True while a 429's pause lasts: a thread that waited for its turn meanwhile waits again. */
  synchronized boolean paused() {
    return pausedUntil - ticker.getAsLong() > 0;
  }

  /**
   * A 429: the account is empty, for every thread of the process. No turn is given before {@code
   * wait} has passed (or a longer pause already set), and the budget reads 0 until an answer says
   * otherwise.
   */
  void rateLimited(Duration wait) {
    update(0);
    synchronized (this) {
      long until = ticker.getAsLong() + wait.toNanos();
      if (until - pausedUntil > 0) {
        pausedUntil = until;
      }
      if (pausedUntil - nextFree > 0) {
        nextFree = pausedUntil;
      }
    }
  }

  /**
   * Whether {@code GET /account/rate-limits} should be read now: before the process's first call
   * (it would otherwise believe 4500 were left), and when the last figure was under the low
   * watermark and is {@link #STALE_AFTER} old: the estimate above it is the refill assumed since,
   * which other spenders may have taken (a figure at or above the watermark is corrected by the
   * next answer's header, and calls above it do not wait). Tried at most once a {@link
   * #STALE_AFTER}; marks the read as tried when it answers true.
   */
  synchronized boolean refreshDue() {
    long now = ticker.getAsLong();
    if (tried && now - triedAt < STALE_AFTER.toNanos()) {
      return false;
    }
    Seen s = seen;
    if (read && (s.value() >= lowWatermark || now - s.at() < STALE_AFTER.toNanos())) {
      return false;
    }
    tried = true;
    triedAt = now;
    return true;
  }

  /** Whether the budget was ever read from {@code GET /account/rate-limits}. */
  boolean wasRead() {
    return read;
  }

  /** What {@code GET /account/rate-limits} said. */
  void refreshed(long value) {
    update(value);
    read = true;
  }

  /**
   * Calls {@code listener} with the wait, on the waiting thread, each time a call is about to wait
   * out a 429 (its own, or another thread's: the pause is the process's), so whoever made the call
   * can say so before the wait ends.
   */
  public void onWait(Consumer<Duration> listener) {
    waitListeners.add(listener);
  }

  void waiting(Duration delay) {
    for (Consumer<Duration> l : waitListeners) {
      try {
        l.accept(delay);
      } catch (RuntimeException e) {
        // a listener's trouble must not fail the call it watches
        LOG.debugf("rate-limit wait listener failed: %s", e.toString());
      }
    }
  }
}
