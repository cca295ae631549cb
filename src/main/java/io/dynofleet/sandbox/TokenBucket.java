package io.dynofleet.sandbox;

import java.time.Clock;

/**
 * Heroku's rate limit: a bucket of calls refilled gradually. Time comes from the injected clock.
 */
final class TokenBucket {
  private final Clock clock;
  private final int capacity;
  private double perMilli;
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

  /** Holds {@code calls} now (a test's starting point). */
  synchronized void set(int calls) {
    refill();
    tokens = Math.min(capacity, calls);
  }

  /** Refills {@code perHour} calls an hour from now on. */
  synchronized void refillPerHour(int perHour) {
    refill();
    perMilli = perHour / 3_600_000.0;
  }

  /** Whole seconds until a call is taken again, rounded up (0: one can be taken now). */
  synchronized long secondsUntilOne() {
    refill();
    if (tokens >= 1) {
      return 0;
    }
    if (perMilli <= 0) {
      return 3600;
    }
    return (long) Math.ceil((1 - tokens) / perMilli / 1000.0);
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
