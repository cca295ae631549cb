package io.dynofleet.heroku;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The account's Platform API budget as Heroku last reported it ({@code RateLimit-Remaining} on
 * every response). Shared by every caller so the reconciler can slow down before it hits 429.
 */
@ApplicationScoped
public class RateBudget {
  private static final Logger LOG = Logger.getLogger(RateBudget.class);

  /** Heroku refills 4500 calls per hour: one call every 800 ms. */
  static final Duration REFILL_INTERVAL = Duration.ofMillis(800);

  private final AtomicLong remaining = new AtomicLong(4500);
  private final int lowWatermark;
  private final List<Consumer<Duration>> waitListeners = new CopyOnWriteArrayList<>();

  RateBudget(HerokuConfig config) {
    this.lowWatermark = Math.max(1, config.lowWatermark());
  }

  /** Calls left as of the last response (4500 until one arrives). */
  public long remaining() {
    return remaining.get();
  }

  /** True when at least {@code calls} calls are left. */
  public boolean canSpend(int calls) {
    return remaining.get() >= calls;
  }

  /**
   * Zero while plenty is left; below the low watermark grows linearly to one refill interval, and
   * at zero is two intervals, so callers spread their calls instead of draining the bucket.
   */
  public Duration suggestedDelay() {
    long left = remaining.get();
    if (left >= lowWatermark) {
      return Duration.ZERO;
    }
    if (left <= 0) {
      return REFILL_INTERVAL.multipliedBy(2);
    }
    return Duration.ofMillis(REFILL_INTERVAL.toMillis() * (lowWatermark - left) / lowWatermark);
  }

  void update(long value) {
    remaining.set(value);
  }

  /**
   * Calls {@code listener} with the wait, on the waiting thread, each time a call is about to wait
   * out a 429, so whoever made the call can say so before the wait ends.
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
