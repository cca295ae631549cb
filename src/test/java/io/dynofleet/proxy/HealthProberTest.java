package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** How a failed probe reads in the stats and the log. */
class HealthProberTest {

  /** Audit 13: the stats showed a Netty exception's class and its native call. */
  @Test
  void aFailedProbeReadsInPlainWords() {
    assertThat(
            HealthProber.failure(
                new ConnectException(
                    "finishConnect(..) failed with error(-111): Connection refused")))
        .isEqualTo("connection refused");
    assertThat(HealthProber.failure(new TimeoutException("probe not done within 1000 ms")))
        .isEqualTo("probe not done within 1000 ms");
    assertThat(HealthProber.failure(new IllegalStateException()))
        .isEqualTo("IllegalStateException");
  }
}
