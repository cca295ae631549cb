package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Security review 5 S5-8: nothing bounded the probes a second a dyno sends, and a static URL named
 * by several pools was probed once per pool. Real backends on loopback count the probes they get.
 */
class ProbeCapTest {
  Vertx vertx;
  final List<AtomicInteger> counts = new ArrayList<>();
  final List<URI> urls = new ArrayList<>();

  @BeforeEach
  void servers() throws Exception {
    vertx = Vertx.vertx();
    for (int i = 0; i < 40; i++) {
      AtomicInteger n = new AtomicInteger();
      HttpServer s =
          vertx
              .createHttpServer()
              .requestHandler(
                  r -> {
                    n.incrementAndGet();
                    r.response().end("ok");
                  })
              .listen(0, "127.0.0.1")
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      counts.add(n);
      urls.add(URI.create("http://127.0.0.1:" + s.actualPort()));
    }
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static PoolRoute pool(String name, List<URI> urls, boolean assumeHealthy) {
    List<BackendTarget> bs = new ArrayList<>();
    for (URI u : urls) bs.add(new BackendTarget(u.toString(), u, assumeHealthy));
    return new PoolRoute(
        name,
        List.of(name + ".example"),
        false,
        Algorithm.ROUND_ROBIN,
        Duration.ofSeconds(30),
        0,
        0,
        0,
        Duration.ofSeconds(1),
        new HealthCheckSpec("/probe", Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 3),
        bs);
  }

  HealthProber prober(RoutingTable table, int max) {
    HealthProber p =
        new HealthProber(
            table, vertx.createHttpClient(), Duration.ofSeconds(5), Clock.systemUTC(), vertx, max);
    vertx.setPeriodic(250, id -> p.tick());
    return p;
  }

  int total() {
    return counts.stream().mapToInt(AtomicInteger::get).sum();
  }

  /**
   * Five pools of the same ten URLs at 1 s: each URL gets one probe a turn, not five, and every
   * pool's backend has its verdict.
   */
  @Test
  void aUrlNamedByFivePoolsIsProbedOnceATurnForAllOfThem() {
    List<URI> ten = urls.subList(0, 10);
    RoutingTable table = new RoutingTable();
    for (int i = 0; i < 5; i++) table.put(pool("p" + i, ten, false));
    long start = System.nanoTime();
    prober(table, 0);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                table.pools().values().stream()
                    .flatMap(p -> p.backends().stream())
                    .allMatch(b -> "HTTP 200".equals(b.lastProbeResult) && b.healthy));
    // let a few more turns pass
    await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> true);
    int seconds = (int) ((System.nanoTime() - start) / 1_000_000_000L) + 1;
    // one probe at once (not yet healthy), then one a second: at most that many per URL, where
    // one per pool is five times as many
    for (int i = 0; i < 10; i++)
      assertThat(counts.get(i).get()).as("probes of url %d", i).isLessThanOrEqualTo(seconds + 1);
  }

  /**
   * Forty URLs probed every second and a cap of ten a second: every interval is four times as long,
   * and no more than ten a second (plus a second's burst) reach the backends.
   */
  @Test
  void probesBeyondTheCapStretchEveryInterval() {
    RoutingTable table = new RoutingTable();
    table.put(pool("a", urls.subList(0, 20), false));
    table.put(pool("b", urls.subList(20, 40), false));
    long start = System.nanoTime();
    HealthProber p = prober(table, 10);
    await().atMost(Duration.ofSeconds(30)).until(() -> p.stretch() > 1);
    assertThat(p.stretch()).isEqualTo(4.0);
    await().pollDelay(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10)).until(() -> true);
    int sent = total();
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(sent).as("probes in %.1f s", seconds).isLessThanOrEqualTo((int) (10 * seconds) + 10);
    // both pools are probed: the stretch is fair, not first come first served
    assertThat(counts.subList(0, 20).stream().mapToInt(AtomicInteger::get).sum()).isPositive();
    assertThat(counts.subList(20, 40).stream().mapToInt(AtomicInteger::get).sum()).isPositive();
  }

  /**
   * Review 31 R31-5: when the cap's allowance ran out mid-tick, the next tick walked the targets
   * from the first in table order again, and those due again took every probe before the rest got
   * one. Ticks by hand, each once the targets probed before are due again (1 s stretched x4): forty
   * new backends at ten a second are each probed once in four turns, none starved.
   */
  @Test
  void theTargetsTheCapLeftOverGoFirstAtTheNextTick() throws Exception {
    RoutingTable table = new RoutingTable();
    table.put(pool("a", urls.subList(0, 20), false));
    table.put(pool("b", urls.subList(20, 40), false));
    HealthProber p =
        new HealthProber(
            table, vertx.createHttpClient(), Duration.ofSeconds(5), Clock.systemUTC(), vertx, 10);
    for (int turn = 0; turn < 4; turn++) {
      if (turn > 0) {
        // past the stretched interval (4 s), and the allowance full again (a second's)
        await().pollDelay(Duration.ofMillis(4500)).atMost(Duration.ofSeconds(10)).until(() -> true);
      }
      java.util.concurrent.CompletableFuture<Void> ticked =
          new java.util.concurrent.CompletableFuture<>();
      vertx.runOnContext(
          v -> {
            p.tick();
            ticked.complete(null);
          });
      ticked.get(30, TimeUnit.SECONDS);
      int expected = 10 * (turn + 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> total() >= expected);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  table.pools().values().stream()
                      .flatMap(x -> x.backends().stream())
                      .noneMatch(b -> b.probing));
    }
    List<Integer> each = counts.stream().map(AtomicInteger::get).toList();
    assertThat(each).as("probes of each backend after four turns of ten").containsOnly(1);
  }
}
