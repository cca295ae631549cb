package io.dynofleet.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Audit 18 #7: a repeated failure is told once, on a change, then once per interval. */
class LogThrottleTest {
  private final AtomicLong now = new AtomicLong();

  @Test
  void firstThenChangesThenOncePerIntervalWithTheCount() {
    LogThrottle t = new LogThrottle(Duration.ofMinutes(10), now::get);
    assertThat(t.tell("shop", "HerokuUnavailable: 503")).isZero();
    assertThat(t.tell("shop", "HerokuUnavailable: 503")).isEqualTo(-1);
    assertThat(t.tell("other", "HerokuUnavailable: 503")).as("keys apart").isZero();
    now.addAndGet(Duration.ofMinutes(5).toNanos());
    assertThat(t.tell("shop", "HerokuUnavailable: 503")).isEqualTo(-1);
    now.addAndGet(Duration.ofMinutes(5).toNanos());
    assertThat(t.tell("shop", "HerokuUnavailable: 503")).as("two untold since").isEqualTo(2);
    assertThat(t.tell("shop", "HerokuUnavailable: 503")).isEqualTo(-1);
    assertThat(t.tell("shop", "RateLimited: 429")).as("a new text").isZero();
    assertThat(t.clear("shop")).as("six failures in the spell").isEqualTo(6);
    assertThat(t.clear("shop")).as("nothing open").isEqualTo(-1);
    assertThat(t.tell("shop", "RateLimited: 429")).as("a new spell").isZero();
  }

  @Test
  void withoutAnIntervalOncePerSpell() {
    LogThrottle t = new LogThrottle(null, now::get);
    assertThat(t.tell("sweep", "store unavailable")).isZero();
    now.addAndGet(Duration.ofDays(1).toNanos());
    assertThat(t.tell("sweep", "store unavailable")).isEqualTo(-1);
    assertThat(t.clear("sweep")).isEqualTo(2);
  }
}
