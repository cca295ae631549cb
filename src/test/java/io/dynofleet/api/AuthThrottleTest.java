package io.dynofleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.reconcile.TestClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The window arithmetic of {@link AuthThrottle}, on a clock moved by hand. */
class AuthThrottleTest {
  private final TestClock clock = new TestClock();
  private final AuthThrottle throttle = new AuthThrottle(3, Duration.ofMinutes(10), clock);

  @Test
  void aClientWaitsUntilItsWindowEndsThenGetsItsAttemptsBack() {
    throttle.failed("a");
    clock.advance(Duration.ofMinutes(4));
    throttle.failed("a");
    assertThat(throttle.retryAfter("a")).isEmpty();
    throttle.failed("a");
    // counted from the first failure
    assertThat(throttle.retryAfter("a")).contains(Duration.ofMinutes(6));
    assertThat(throttle.retryAfter("b")).isEmpty();
    clock.advance(Duration.ofMinutes(6).minusMillis(1));
    assertThat(throttle.retryAfter("a"))
        .hasValueSatisfying(d -> assertThat(AuthThrottle.seconds(d)).isEqualTo(1));
    clock.advance(Duration.ofMillis(1));
    assertThat(throttle.retryAfter("a")).isEmpty();
    // a new window: one failure is not three
    throttle.failed("a");
    assertThat(throttle.retryAfter("a")).isEmpty();
  }

  @Test
  void aLimitOfZeroThrottlesNothing() {
    AuthThrottle off = new AuthThrottle(0, Duration.ofMinutes(10), clock);
    for (int i = 0; i < 100; i++) {
      off.failed("a");
    }
    assertThat(off.retryAfter("a")).isEmpty();
  }

  @Test
  void retryAfterIsWholeSecondsRoundedUp() {
    assertThat(AuthThrottle.seconds(Duration.ofMillis(1500))).isEqualTo(2);
    assertThat(AuthThrottle.seconds(Duration.ofSeconds(7))).isEqualTo(7);
    assertThat(AuthThrottle.seconds(Duration.ZERO)).isEqualTo(1);
  }
}
