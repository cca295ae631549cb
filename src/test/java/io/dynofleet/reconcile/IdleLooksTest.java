package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Audit 21 H1: the idle pools' looks fit a share of Heroku's refill however many pools there are.
 */
class IdleLooksTest {
  private static final Duration SWEEP = Duration.ofSeconds(30);

  @Test
  void theIntervalGrowsWithThePoolsBeyondTheSweeps() {
    assertThat(IdleLooks.every(1, SWEEP, 0.4, false)).isEqualTo(SWEEP);
    assertThat(IdleLooks.every(7, SWEEP, 0.4, false)).isEqualTo(SWEEP); // 28 s: the sweep's
    // 30 pools × 2 calls / (0.4 × 75 a minute) = 2 minutes: 30 calls a minute, the share
    assertThat(IdleLooks.every(30, SWEEP, 0.4, false)).isEqualTo(Duration.ofMinutes(2));
    assertThat(IdleLooks.every(300, SWEEP, 0.4, false)).isEqualTo(Duration.ofMinutes(20));
    assertThat(IdleLooks.every(30, SWEEP, 0.8, false)).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void aSubscribedWebhookMakesTheLooksRarer() {
    assertThat(IdleLooks.every(30, SWEEP, 0.4, true)).isEqualTo(Duration.ofMinutes(8));
    assertThat(IdleLooks.every(1, SWEEP, 0.4, true)).isEqualTo(Duration.ofMinutes(2));
  }

  /** Review 25 #3: the subscription alone is not trusted, a delivery heard within a day is. */
  @Test
  void deliveriesAreHeardForADayAfterTheLast() {
    java.time.Instant now = java.time.Instant.parse("2026-11-26T12:00:00Z");
    assertThat(IdleLooks.heard(null, now)).as("none heard").isFalse();
    assertThat(IdleLooks.heard(now.minusSeconds(5), now)).isTrue();
    assertThat(IdleLooks.heard(now.minus(IdleLooks.HEARD_WITHIN), now)).isTrue();
    assertThat(IdleLooks.heard(now.minus(IdleLooks.HEARD_WITHIN).minusSeconds(1), now)).isFalse();
  }

  @Test
  void theShareIsKeptSaneAndTheJitterWithinAQuarter() {
    assertThat(IdleLooks.every(30, SWEEP, 5, false)).isEqualTo(Duration.ofSeconds(48));
    assertThat(IdleLooks.every(30, SWEEP, 0, false)).isEqualTo(Duration.ofSeconds(4800));
    assertThat(IdleLooks.sweep("off")).isEqualTo(SWEEP);
    assertThat(IdleLooks.sweep("1m")).isEqualTo(Duration.ofMinutes(1));
    for (int i = 0; i < 100; i++) {
      assertThat(IdleLooks.jittered(Duration.ofMinutes(2)))
          .isBetween(Duration.ofMinutes(2), Duration.ofSeconds(150));
    }
  }
}
