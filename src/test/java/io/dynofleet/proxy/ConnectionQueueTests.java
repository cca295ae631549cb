package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The wait for a pooled connection to a backend is bounded in size as well as in time: one event
 * loop, one connection per backend and one place in its wait queue, so the third concurrent request
 * to a busy backend finds the queue full.
 */
@QuarkusTest
@TestProfile(ConnectionQueueTests.Profile.class)
@Timeout(90)
class ConnectionQueueTests {
  public static class Profile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      Map<String, String> m = new HashMap<>(new ProxyProfile().getConfigOverrides());
      m.put("quarkus.vertx.event-loops-pool-size", "1");
      m.put("quarkus.http.idle-timeout", "60s"); // the held requests' clients wait, silent
      m.put("dynofleet.proxy.pool-size-per-backend", "1");
      m.put("dynofleet.proxy.connection-queue-per-backend", "1");
      return m;
    }
  }

  @Inject RoutingTable table;

  @TestHTTPResource("/")
  URL app;

  final TestBackends backends = new TestBackends();
  final HttpClient client =
      TestBackends.VERTX.createHttpClient(new HttpClientOptions().setMaxPoolSize(8));

  @AfterEach
  void stop() {
    table.replaceAll(List.of());
    backends.close();
    client.close();
  }

  Future<String> post(String host) {
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost("127.0.0.1")
            .setPort(app.getPort())
            .setURI("/x")
            .putHeader("Host", host);
    return client
        .request(o)
        .compose(
            r ->
                r.send("body")
                    .compose(
                        resp ->
                            resp.body()
                                .map(
                                    b ->
                                        resp.statusCode()
                                            + " "
                                            + resp.getHeader("X-Dynofleet-Error"))));
  }

  static String join(Future<String> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /**
   * Review 16: the queue for a pooled connection was unbounded in size (only its wait was bounded,
   * by the pool's timeout): a burst on a stuck backend queued without limit, each waiter holding
   * its client and memory. A full queue answers at once, and is not the backend's failure.
   */
  final List<HttpServerRequest> held = new CopyOnWriteArrayList<>();

  Backend b;
  Future<String> first;
  Future<String> second;

  /**
   * A held request on the backend's one connection, a second one waiting for it: the queue is full.
   */
  void fillTheQueue() {
    URI slow = backends.start(held::add);
    table.put(
        new PoolRoute(
            "cq",
            List.of("cq.example"),
            false,
            Algorithm.ROUND_ROBIN,
            Duration.ofSeconds(20),
            0,
            0,
            0,
            Duration.ZERO,
            null,
            List.of(new BackendTarget("slow", slow, true))));
    b = table.pools().get("cq").backends().get(0);
    first = post("cq.example");
    await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 1); // the one connection
    second = post("cq.example");
    await().atMost(Duration.ofSeconds(10)).until(() -> b.inFlight.get() == 2); // waits for it
  }

  @Test
  void aFullConnectionQueueAnswers503AtOnce() throws Exception {
    fillTheQueue();
    assertThat(join(post("cq.example"))).isEqualTo("503 connection-queue-full");
    assertThat(first.isComplete() || second.isComplete()).isFalse();
    held.get(0).response().end("one");
    // the waiter got the connection
    await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 2);
    held.get(1).response().end("two");
    assertThat(join(first)).isEqualTo("200 null");
    assertThat(join(second)).isEqualTo("200 null");
    // nothing reached the backend for the third: not its failure
    assertThat(b.consecutiveFailures).isZero();
    assertThat(b.errors5xx.get()).isZero();
  }

  /**
   * A WebSocket upgrade waits for a pooled connection the same way (its handshake is a request on
   * one), and a full queue refuses it the same way: 503 with the code, not the library's bare 502,
   * and no tunnel counted.
   */
  @Test
  void anUpgradeFindingTheQueueFullIsRefusedWith503() throws Exception {
    fillTheQueue();
    java.util.concurrent.CompletableFuture<io.vertx.core.http.WebSocket> ws =
        new java.util.concurrent.CompletableFuture<>();
    TestBackends.VERTX.runOnContext(
        v ->
            client
                .webSocket(
                    new io.vertx.core.http.WebSocketConnectOptions()
                        .setHost("127.0.0.1")
                        .setPort(app.getPort())
                        .setURI("/ws")
                        .addHeader("Host", "cq.example"))
                .onComplete(
                    ar -> {
                      if (ar.succeeded()) ws.complete(ar.result());
                      else ws.completeExceptionally(ar.cause());
                    }));
    assertThat(ws)
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            io.vertx.core.http.UpgradeRejectedException.class,
            e -> {
              assertThat(e.getStatus()).isEqualTo(503);
              assertThat(e.getHeaders().get("X-Dynofleet-Error"))
                  .isEqualTo("connection-queue-full");
            });
    assertThat(b.tunnels.get()).isZero();
    assertThat(held).hasSize(1); // the upgrade never reached the backend
    held.get(0).response().end("one");
    await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 2);
    held.get(1).response().end("two");
    assertThat(join(first)).isEqualTo("200 null");
    assertThat(join(second)).isEqualTo("200 null");
    assertThat(b.consecutiveFailures).isZero();
  }
}
