package io.dynofleet.api;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The webhook deliveries heard, each until it could no longer pass as fresh, and at most {@code
 * max} of them: past that the oldest heard is dropped (security review 3 #4: a holder of the
 * webhook secret signs fresh notifications at will, and every one was kept for ten minutes, without
 * bound). A delivery dropped early may be taken once more within its window: one pass, no more. Per
 * process.
 */
final class HeardDeliveries {
  private final int max;

  /** In the order heard: the eldest is the first dropped. */
  private final LinkedHashMap<String, Instant> heard;

  HeardDeliveries(int max) {
    this.max = max;
    this.heard =
        new LinkedHashMap<>(16, 0.75f, false) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
            return size() > HeardDeliveries.this.max;
          }
        };
  }

  /**
   * Records {@code key} as heard until {@code until}; false when it was heard before and is still
   * remembered at {@code now} (a duplicate).
   */
  synchronized boolean first(String key, Instant until, Instant now) {
    heard.values().removeIf(u -> u.isBefore(now));
    return heard.putIfAbsent(key, until) == null;
  }

  /** Forgets {@code key}: it was not acted on, so Heroku's retry of it must be heard. */
  synchronized void forget(String key) {
    heard.remove(key);
  }

  synchronized int size() {
    return heard.size();
  }
}
