package io.dynofleet.reliability;

import static io.dynofleet.proxy.TestBackends.target;
import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.proxy.Algorithm;
import io.dynofleet.proxy.PoolRoute;
import io.dynofleet.proxy.ProxyProfile;
import io.dynofleet.proxy.RoutingTable;
import io.dynofleet.proxy.TestBackends;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Backends killed, crashed (answering 503), hung (accepting, never answering) and restarted while a
 * steady load of safe GETs runs: as long as another backend is healthy, no client sees a failure.
 */
@QuarkusTest
@TestProfile(ProxyProfile.class)
@Tag("reliability")
@Timeout(120)
class BackendFaultTests {
  @Inject RoutingTable table;
  @Inject io.micrometer.core.instrument.MeterRegistry registry;

  @TestHTTPResource("/")
  URL app;

  final TestBackends backends = new TestBackends();
  final HttpClient client =
      TestBackends.VERTX.createHttpClient(new HttpClientOptions().setMaxPoolSize(16));

  /** How the switchable backend behaves. */
  enum Mode {
    OK,
    CRASHED,
    HUNG
  }

  final Map<String, AtomicReference<Mode>> modes = new ConcurrentHashMap<>();

  /** Answers each backend gave (OK mode). */
  final Map<String, AtomicInteger> served = new ConcurrentHashMap<>();

  URI backend(String name, int port) {
    AtomicReference<Mode> mode = modes.computeIfAbsent(name, k -> new AtomicReference<>(Mode.OK));
    return backends.start(
        new io.vertx.core.http.HttpServerOptions().setPort(port),
        (HttpServerRequest req) -> {
          switch (mode.get()) {
            case CRASHED -> req.response().setStatusCode(503).end("Application error");
            case HUNG -> {}
            default ->
                TestBackends.VERTX.setTimer(
                    2,
                    t -> {
                      served.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
                      req.response().putHeader("X-Backend", name).end(name);
                    });
          }
        },
        "http");
  }

  @AfterEach
  void stop() {
    table.replaceAll(List.of());
    backends.close();
    client.close();
  }

  /** Steady load: {@code workers} loops of GETs until stopped. */
  final class Load {
    final AtomicBoolean running = new AtomicBoolean(true);
    final AtomicInteger total = new AtomicInteger();
    final List<String> failures = new CopyOnWriteArrayList<>();
    final List<CompletableFuture<Void>> loops = new ArrayList<>();

    Load(int workers) {
      for (int i = 0; i < workers; i++) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        loops.add(f);
        TestBackends.VERTX.runOnContext(v -> next(f));
      }
    }

    void next(CompletableFuture<Void> done) {
      if (!running.get()) {
        done.complete(null);
        return;
      }
      client
          .request(
              new RequestOptions().setHost("127.0.0.1").setPort(app.getPort()).setURI("/steady"))
          .compose(
              r ->
                  r.send()
                      .compose(
                          resp ->
                              resp.body()
                                  .map(
                                      b ->
                                          resp.statusCode()
                                              + " "
                                              + resp.getHeader("X-Dynofleet-Error"))))
          .onComplete(
              ar -> {
                total.incrementAndGet();
                if (ar.failed()) failures.add(String.valueOf(ar.cause()));
                else if (!ar.result().startsWith("200")) failures.add(ar.result());
                next(done);
              });
    }

    String stop() throws Exception {
      running.set(false);
      CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      return failures.size() + "/" + total.get();
    }
  }

  PoolRoute pool(List<URI> urls) {
    return new PoolRoute(
        "faults",
        List.of(),
        true,
        Algorithm.LEAST_REQUEST,
        Duration.ofSeconds(1),
        1,
        0,
        0,
        Duration.ZERO,
        null,
        List.of(target("b0", urls.get(0)), target("b1", urls.get(1)), target("b2", urls.get(2))));
  }

  /** Runs a phase; returns how many requests the proxy retried during it (the fault was met). */
  double phase(String name, Load load, Runnable fault, Runnable repair) throws Exception {
    int before = load.total.get();
    int failedBefore = load.failures.size();
    double retriesBefore = retries();
    fault.run();
    // let the load run against the fault (duration of the phase, not an assertion)
    Thread.sleep(2500);
    repair.run();
    Thread.sleep(500);
    double retried = retries() - retriesBefore;
    System.out.printf(
        "backend fault %-28s failed/total %d/%d retried %.0f %s%n",
        name,
        load.failures.size() - failedBefore,
        load.total.get() - before,
        retried,
        new java.util.TreeSet<>(load.failures.subList(failedBefore, load.failures.size())));
    return retried;
  }

  double retries() {
    return registry.find("dynofleet.proxy.retries").tag("pool", "faults").counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count)
        .sum();
  }

  @Test
  void safeGetsNeverFailWhileAnotherBackendIsHealthy() throws Exception {
    List<URI> urls = new ArrayList<>();
    for (int i = 0; i < 3; i++) urls.add(backend("b" + i, 0));
    table.put(pool(urls));
    Load load = new Load(8);
    Thread.sleep(500);
    // each fault is met by the load (its requests retried elsewhere), not just outlasted unseen
    assertThat(
            phase("killed (connection refused)", load, () -> backends.stop(urls.get(1)), () -> {}))
        .as("retried while b1 is dead")
        .isPositive();
    int b1Before = served.get("b1").get();
    phase("restarted on the same port", load, () -> backend("b1", urls.get(1).getPort()), () -> {});
    assertThat(
            phase(
                "crashed (answers 503)",
                load,
                () -> modes.get("b2").set(Mode.CRASHED),
                () -> modes.get("b2").set(Mode.OK)))
        .as("retried while b2 answers 503")
        .isPositive();
    assertThat(
            phase(
                "hung (accepts, never answers)",
                load,
                () -> modes.get("b0").set(Mode.HUNG),
                () -> modes.get("b0").set(Mode.OK)))
        .as("retried while b0 hangs")
        .isPositive();
    String figures = load.stop();
    System.out.println("backend faults under steady GET load: failed/total " + figures);
    assertThat(load.failures).as(figures).isEmpty();
    assertThat(load.total.get()).isGreaterThan(200);
    // the restarted b1 is back in rotation (its ejection ran out), not left out for good
    assertThat(served.get("b1").get()).as("answers of the restarted b1").isGreaterThan(b1Before);
  }

  /**
   * One backend closes every kept-alive connection just after answering (as a dyno being cycled
   * does), so the proxy often picks a pooled connection that is closing under it: those GETs are
   * retried on a healthy backend, and the retry must never be torn down by the failed first try.
   */
  @Test
  void connectionsClosedUnderReuseNeverFailASafeGet() throws Exception {
    URI closer =
        backends.start(
            req ->
                req.response()
                    .putHeader("X-Backend", "closer")
                    .end("closer")
                    .onComplete(
                        v ->
                            TestBackends.VERTX.setTimer(
                                1 + java.util.concurrent.ThreadLocalRandom.current().nextInt(2),
                                t -> req.connection().close())));
    URI steady = backend("steady", 0);
    table.put(
        new PoolRoute(
            "faults",
            List.of(),
            true,
            Algorithm.ROUND_ROBIN,
            Duration.ofSeconds(2),
            1,
            0,
            0,
            Duration.ZERO,
            null,
            List.of(target("closer", closer), target("steady", steady))));
    Load load = new Load(8);
    Thread.sleep(4000); // duration of the load, not an assertion
    String figures = load.stop();
    System.out.println(
        "connections closed under reuse: failed/total "
            + figures
            + " "
            + new java.util.TreeSet<>(load.failures));
    assertThat(load.failures).as(figures).isEmpty();
    assertThat(load.total.get()).isGreaterThan(200);
  }
}
