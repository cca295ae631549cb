package io.dynofleet.heroku;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The limiter's arithmetic on a ticker of the test's own (nothing sleeps): turns below the low
 * watermark are the process's share of the refill, whichever thread takes them; a 429 pauses them
 * all; the budget is read from Heroku before the first call and at most once a minute while low.
 * Over real HTTP with threads: {@code HerokuClientRateLimitTests}.
 */
class RateBudgetTest {

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  /** Heroku's refill (4500 an hour: one call per 800 ms), the low watermark at 500. */
  private final RateBudget budget = new RateBudget(config(500, 4500), nanos::get);

  static HerokuConfig config(int lowWatermark, int perHour) {
    return TestHerokuClients.with(
        null, java.util.Map.of("lowWatermark", lowWatermark, "rateLimitRefillPerHour", perHour));
  }

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  private List<Duration> turns(int n) {
    List<Duration> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(budget.turn(Duration.ofMinutes(5)).delay());
    }
    return out;
  }

  @Test
  void plentyLeftCostsNoWait() {
    budget.update(500);
    assertThat(turns(20)).allMatch(Duration::isZero);
  }

  /**
   * Audit 21 M1: each thread slept on its own (1.6 s at 0), so 20 threads spent 12.5 calls a
   * second. Now 20 turns asked at once are one refill apart, the first one interval away (the
   * bucket starts empty: what the process before spent is not known).
   */
  @Test
  void belowTheWatermarkTurnsAreTheRefillWhateverTheThreads() {
    budget.update(499);
    List<Duration> waits = turns(20);
    for (int i = 0; i < waits.size(); i++) {
      assertThat(waits.get(i)).isEqualTo(Duration.ofMillis(800L * (i + 1)));
    }
    // after a quiet while one turn is at hand, not a burst of them
    advance(Duration.ofMinutes(1));
    budget.update(499); // a fresh figure: the refill since the last is not assumed
    assertThat(turns(2)).containsExactly(Duration.ZERO, Duration.ofMillis(800));
  }

  @Test
  void theRefillIsSharedBetweenTheDynosSeenWithAFloor() {
    budget.update(0);
    budget.dynos(() -> 3);
    assertThat(budget.interval()).isEqualTo(Duration.ofMillis(2400));
    advance(Duration.ofMinutes(1));
    assertThat(turns(3))
        .containsExactly(Duration.ZERO, Duration.ofMillis(2400), Duration.ofMillis(4800));
    budget.dynos(() -> 500);
    assertThat(budget.interval())
        .as("a tenth of the refill at least")
        .isEqualTo(Duration.ofMillis(8000));
    budget.dynos(
        () -> {
          throw new IllegalStateException("database down");
        });
    assertThat(budget.interval()).isEqualTo(Duration.ofMillis(800));
  }

  @Test
  void a429PausesEveryTurnEvenAboveTheWatermark() {
    budget.update(4000);
    budget.rateLimited(Duration.ofSeconds(2));
    assertThat(budget.remaining()).as("the account is empty").isZero();
    assertThat(budget.paused()).isTrue();
    budget.update(4000); // an answer sent before the 429 arrives after it
    RateBudget.Turn first = budget.turn(Duration.ofMinutes(1));
    RateBudget.Turn second = budget.turn(Duration.ofMinutes(1));
    assertThat(first).isEqualTo(new RateBudget.Turn(Duration.ofSeconds(2), true));
    assertThat(second.delay()).isEqualTo(Duration.ofMillis(2800));
    advance(Duration.ofSeconds(2));
    assertThat(budget.paused()).isFalse();
    // a shorter pause never cuts a longer one short
    budget.rateLimited(Duration.ofSeconds(10));
    budget.rateLimited(Duration.ofSeconds(1));
    assertThat(budget.turn(Duration.ofMinutes(1)).delay()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void aTurnFurtherThanTheCallMayWaitIsNotTaken() {
    budget.update(0);
    assertThat(budget.turn(Duration.ofMillis(799))).isNull();
    assertThat(budget.turn(Duration.ofMillis(800)).delay()).isEqualTo(Duration.ofMillis(800));
    assertThat(budget.turn(Duration.ofMillis(800))).as("the next is 1.6 s away").isNull();
  }

  @Test
  void theBudgetIsReadFirstThenWhenALowFigureIs30sOld() {
    assertThat(budget.refreshDue()).as("before the first call").isTrue();
    assertThat(budget.refreshDue()).as("tried: not again at once").isFalse();
    budget.refreshed(4000);
    advance(Duration.ofMinutes(5));
    assertThat(budget.refreshDue()).as("plenty left").isFalse();
    budget.update(100); // an answer's RateLimit-Remaining
    assertThat(budget.refreshDue()).as("low, but just said").isFalse();
    advance(Duration.ofSeconds(29));
    assertThat(budget.refreshDue()).as("said 29 s ago").isFalse();
    advance(Duration.ofSeconds(2));
    assertThat(budget.refreshDue()).as("low and 31 s old").isTrue();
    assertThat(budget.refreshDue()).as("tried: not again at once").isFalse();
    advance(Duration.ofSeconds(29));
    assertThat(budget.refreshDue()).as("a failed read is tried every 30 s").isFalse();
    advance(Duration.ofSeconds(2));
    assertThat(budget.refreshDue()).isTrue();
    // over the watermark by the refill assumed alone: others may have spent it, so read
    budget.refreshed(400);
    advance(Duration.ofSeconds(100));
    assertThat(budget.remaining()).isEqualTo(525);
    assertThat(budget.refreshDue()).isTrue();
  }

  /**
   * Audit 21 L5: the figure was the last one seen, of any age, so a dyno quiet for minutes kept its
   * gates shut while the account refilled. It is the figure plus the account's refill since (4500
   * an hour: one call per 800 ms), up to the account's limit.
   */
  @Test
  void theFigureGrowsByTheRefillSinceItWasSeenUpToTheLimit() {
    budget.update(100);
    advance(Duration.ofSeconds(80));
    assertThat(budget.remaining()).as("100 seen 80 s ago").isEqualTo(200);
    assertThat(budget.canSpend(200)).isTrue();
    advance(Duration.ofSeconds(240)); // 300 calls more
    assertThat(budget.turn(Duration.ZERO))
        .as("refilled over the watermark: no turn to wait for")
        .isEqualTo(RateBudget.Turn.NOW);
    advance(Duration.ofHours(2));
    assertThat(budget.remaining()).as("the account's limit").isEqualTo(4500);
    budget.update(5000);
    advance(Duration.ofMinutes(1));
    assertThat(budget.remaining()).as("Heroku said more: kept").isEqualTo(5000);
    budget.rateLimited(Duration.ofSeconds(1));
    advance(Duration.ofSeconds(8));
    assertThat(budget.remaining()).as("a 429 is 0, refilled since").isEqualTo(10);
  }

  /** Review 26: a refill of 0 an hour made every call under the watermark fail, unsent. */
  @org.junit.jupiter.api.Test
  void aRefillUnderOneAnHourStopsTheStartNamingTheSetting() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RateBudget(config(500, 0)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("DYNOFLEET_HEROKU_RATE_LIMIT_REFILL_PER_HOUR");
  }
}
