package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** How a failed probe reads in the stats and the log; when backends are probed. */
class HealthProberTest {

  /** Audit 13: the stats showed a Netty exception's class and its native call. */
  @Test
  void aFailedProbeReadsInPlainWords() {
    java.time.Duration second = java.time.Duration.ofSeconds(1);
    assertThat(
            HealthProber.failure(
                new ConnectException(
                    "finishConnect(..) failed with error(-111): Connection refused"),
                second,
                second))
        .isEqualTo("connection refused");
    assertThat(
            HealthProber.failure(
                new HealthProber.BodyDeadline("probe not done within 2000 ms"), second, second))
        .isEqualTo("probe not done within 2000 ms");
    assertThat(HealthProber.failure(new IllegalStateException(), second, second))
        .isEqualTo("IllegalStateException");
  }

  /**
   * Security review 6 S6-3: a static backend's malformed status line is quoted in Netty's message,
   * and its C1 controls (U+009B CSI) reached the probe's WARN line, the event and lastFailure.
   */
  @Test
  void aBackendsBytesInAnExceptionsMessageComeOutEscapedOnOneLine() {
    java.time.Duration second = java.time.Duration.ofSeconds(1);
    String said =
        HealthProber.failure(
            new IllegalArgumentException(
                "invalid version format: XTTP/1.1\u00c2\u009b2J\u009d8;;HTTPS://EVIL\u009c\u202e\nX"),
            second,
            second);
    assertThat(said)
        .doesNotContain("\u009b", "\u009d", "\u009c", "\u202e", "\n")
        .isEqualTo(
            "invalid version format: XTTP/1.1\u00c2\\u009b2J\\u009d8;;HTTPS://EVIL\\u009c\\u202e\\nX");
  }

  /**
   * Review 31 R31-11: the test above hands {@code failure} a message written by hand; here Vert.x's
   * own client meets a loopback socket that answers a status line with a C1 control in it, and the
   * failure it reports quotes those bytes (the premise of S6-3), which come out escaped.
   */
  @Test
  void aRealMalformedStatusLineComesOutEscaped() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.vertx.core.net.NetServer server =
          vertx
              .createNetServer()
              .connectHandler(
                  so ->
                      so.handler(
                          b ->
                              so.end(
                                  io.vertx.core.buffer.Buffer.buffer(
                                      "X\u009b2J\u202e HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
                                      "UTF-8"))));
      int port =
          server
              .listen(0, "127.0.0.1")
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, java.util.concurrent.TimeUnit.SECONDS)
              .actualPort();
      Throwable met;
      try {
        vertx
            .createHttpClient()
            .request(io.vertx.core.http.HttpMethod.GET, port, "127.0.0.1", "/health")
            .compose(r -> r.send())
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, java.util.concurrent.TimeUnit.SECONDS);
        throw new AssertionError("a malformed status line was taken");
      } catch (java.util.concurrent.ExecutionException e) {
        met = e.getCause();
      }
      assertThat(met.getMessage()).as("Netty quotes the bytes").contains("\u009b");
      java.time.Duration second = java.time.Duration.ofSeconds(1);
      assertThat(HealthProber.failure(met, second, second))
          .doesNotContain("\u009b", "\u202e", "\n")
          .contains("\\u009b2J");
    } finally {
      vertx
          .close()
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /**
   * Audit 22 L6: a hung backend's lastFailure (and BackendUnhealthy) was Vert.x's "The timeout
   * period of 1000ms has been exceeded while executing GET /health for server ...", which named no
   * setting.
   */
  @Test
  void aProbeTimeoutNamesTheSetting() {
    TimeoutException vertx =
        new io.vertx.core.impl.NoStackTraceTimeoutException(
            "The timeout period of 3000ms has been exceeded while executing GET /health for server"
                + " 127.0.0.1:30078");
    assertThat(HealthProber.failure(vertx, java.time.Duration.ofSeconds(3), null))
        .isEqualTo("timed out after 3 s (healthCheck.timeoutSeconds)");
    assertThat(HealthProber.failure(vertx, java.time.Duration.ofMillis(500), null))
        .isEqualTo("timed out after 500 ms (healthCheck.timeoutSeconds)");
  }

  /**
   * Audit 22 L6: Netty's connect timeout is a ConnectException, and a connect that got no answer
   * read "connection refused". (ProxyTests shows it on a real socket that drops the SYN.)
   */
  @Test
  void aConnectTimeoutIsNotARefusal() {
    Exception netty =
        new io.netty.channel.ConnectTimeoutException(
            "connection timed out after 5000 ms: /127.0.0.1:40113");
    assertThat(
            HealthProber.failure(
                netty, java.time.Duration.ofSeconds(10), java.time.Duration.ofSeconds(5)))
        .isEqualTo("connect timed out after 5 s (DYNOFLEET_PROXY_CONNECT_TIMEOUT)");
    assertThat(HealthProber.failure(netty)).isEqualTo("connect timed out");
    assertThat(HealthProber.failure(new ConnectException("Connection refused")))
        .isEqualTo("connection refused");
  }

  static final long TICK = 250_000_000L;
  static final long INTERVAL = 10_000_000_000L;

  /**
   * Audit 21 M6: every backend of a process's start was first probed in the same 250 ms tick, and
   * as each next turn was an interval from that tick, they stayed in step: a burst of 300 probes
   * every 10 s. The first probes of backends in service now spread over the interval.
   */
  @Test
  void backendsInServiceLoadedTogetherAreFirstProbedAcrossTheInterval() {
    List<Backend> all = new ArrayList<>();
    for (int i = 0; i < 300; i++) all.add(backend("b" + i, true));
    SplittableRandom random = new SplittableRandom(21);
    long start = 1L << 40;
    TreeMap<Long, Integer> firstByTick = new TreeMap<>();
    Set<Backend> probed = new HashSet<>();
    for (long now = start; now < start + 2 * INTERVAL; now += TICK) {
      for (Backend b : all) {
        if (HealthProber.due(b, INTERVAL, now, random) && probed.add(b)) {
          firstByTick.merge(now, 1, Integer::sum);
        }
      }
    }
    assertThat(firstByTick.values().stream().mapToInt(Integer::intValue).sum())
        .as("every backend probed within the interval (and the tick that ends it)")
        .isEqualTo(300);
    assertThat(firstByTick.lastKey()).isLessThanOrEqualTo(start + INTERVAL);
    assertThat(firstByTick.lastKey() - firstByTick.firstKey())
        .as("the first probes' spread")
        .isGreaterThanOrEqualTo(INTERVAL * 8 / 10);
    assertThat(firstByTick.values()).as("first probes per tick").allMatch(n -> n <= 30);
  }

  /**
   * A backend that takes traffic only once its probes pass (a new one, one the fleet last found
   * failing) is probed at the first tick, as before: the spread would hold it out for up to an
   * interval. Then once an interval.
   */
  @Test
  void aBackendNotYetHealthyIsProbedAtOnceThenOnceAnInterval() {
    Backend fresh = backend("new", false);
    SplittableRandom random = new SplittableRandom(21);
    long now = 1L << 40;
    assertThat(HealthProber.due(fresh, INTERVAL, now, random)).isTrue();
    assertThat(HealthProber.due(fresh, INTERVAL, now + TICK, random)).isFalse();
    assertThat(HealthProber.due(fresh, INTERVAL, now + INTERVAL - TICK, random)).isFalse();
    assertThat(HealthProber.due(fresh, INTERVAL, now + INTERVAL, random)).isTrue();
    // one still out is not probed again
    fresh.probing = true;
    assertThat(HealthProber.due(fresh, INTERVAL, now + 3 * INTERVAL, random)).isFalse();
  }

  static Backend backend(String id, boolean assumeHealthy) {
    return new Backend(
        new BackendTarget(id, URI.create("http://" + id + ".example:80"), assumeHealthy));
  }
}
