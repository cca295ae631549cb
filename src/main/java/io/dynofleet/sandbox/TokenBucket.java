package io.dynofleet.sandbox;

import java.time.Clock;

/**
 * Heroku's rate limit: a bucket of calls refilled gradually. Time comes from the injected clock.
 */
final class TokenBucket {
  private final Clock clock;
  private final int capacity;
  private final double perMilli;
  private double tokens;
  private long last;

  TokenBucket(Clock clock, int capacity, int refillPerHour) {
    this.clock = clock;
    this.capacity = capacity;
    this.perMilli = refillPerHour / 3_600_000.0;
    this.tokens = capacity;
    this.last = clock.millis();
  }

  /** Takes one call; false when the bucket is empty. */
  synchronized boolean take() {
    refill();
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }

  synchronized long remaining() {
    refill();
    return (long) Math.floor(tokens);
  }

  synchronized void drain() {
    drain(0);
  }

  /** Empty, and {@code debt} calls' worth of refill must pass before the next call is taken. */
  synchronized void drain(int debt) {
    refill();
    tokens = -debt;
  }

  synchronized void fill() {
    tokens = capacity;
    last = clock.millis();
  }

  private void refill() {
    long now = clock.millis();
    tokens = Math.min(capacity, tokens + (now - last) * perMilli);
    last = now;
  }
}
