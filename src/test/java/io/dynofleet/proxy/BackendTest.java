package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** Review 7: the figures status and the dashboard show for a backend. */
class BackendTest {
  static Backend b() {
    return new Backend(new BackendTarget("b", URI.create("http://127.0.0.1:1/b"), true));
  }

  @Test
  void requestsPerSecondIsTheLastMinutesRateNotTheMeanSinceTheBackendWasAdded() {
    Backend b = b();
    long t0 = b.createdNanos;
    for (int s = 1; s <= 3600; s++) { // an hour at 100 requests a second
      b.requests.addAndGet(100);
      b.sampleRate(t0 + s * 1_000_000_000L);
    }
    assertThat(b.requestsPerSecond(t0 + 3600 * 1_000_000_000L))
        .isCloseTo(100, org.assertj.core.data.Offset.offset(1.0));
    for (int s = 3601; s <= 3660; s++) b.sampleRate(t0 + s * 1_000_000_000L); // then a minute at 0
    // the mean since it was added says 98
    assertThat(b.requestsPerSecond(t0 + 3661 * 1_000_000_000L)).isLessThan(2);
    // samples every 250 ms (the proxy's timer) are taken once a second; a young backend's rate runs
    // from its creation
    Backend young = b();
    young.requests.set(50);
    for (int q = 1; q <= 40; q++) young.sampleRate(young.createdNanos + q * 250_000_000L);
    assertThat(young.requestsPerSecond(young.createdNanos + 10_000_000_000L))
        .isCloseTo(5, org.assertj.core.data.Offset.offset(0.01));
  }

  /**
   * Audit 10: the error rate was the share since the backend was added, shown beside the last
   * minute's request rate: failing every request for a minute after an hour of good ones showed a
   * few percent, and fixed and idle it kept showing the failures for good.
   */
  @Test
  void theErrorRateIsTheLastMinutes() {
    Backend b = b();
    long t0 = b.createdNanos;
    for (int s = 1; s <= 3600; s++) { // an hour of good requests
      b.requests.addAndGet(100);
      b.sampleRate(t0 + s * 1_000_000_000L);
    }
    for (int s = 3601; s <= 3660; s++) { // then a minute of failing every one
      b.requests.addAndGet(100);
      b.errors5xx.addAndGet(100);
      b.sampleRate(t0 + s * 1_000_000_000L);
    }
    assertThat(b.errorRate(t0 + 3660 * 1_000_000_000L)).isGreaterThan(0.95);
    for (int s = 3661; s <= 3730; s++) b.sampleRate(t0 + s * 1_000_000_000L); // fixed, and idle
    assertThat(b.errorRate(t0 + 3730 * 1_000_000_000L)).isZero();
  }

  @Test
  void percentilesSurviveTwoToTheThirtyOneSamples() throws Exception {
    Backend b = b();
    java.lang.reflect.Field pos = Backend.class.getDeclaredField("ringPos");
    pos.setAccessible(true);
    pos.set(b, Integer.MAX_VALUE); // 2^31 - 1 samples so far (25 days at 1000/s)
    long now = System.nanoTime();
    // the 2^31st sample and on: an int went negative here. A full ring's worth, so every slot
    // holds one: a sample put in a wrong slot (the bug's real symptom, not only an exception)
    // leaves an empty one, and the median falls to 0 (">= 0" could not see it: review 12)
    for (int i = 0; i < 256; i++) b.observeLatency(5_000_000, now);
    assertThat(b.stats().p50Millis()).isEqualTo(5.0);
    assertThat(b.stats().p99Millis()).isEqualTo(5.0);
  }
}
