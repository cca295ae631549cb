package io.dynofleet.heroku;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A release phase's output is read from its {@code output_stream_url}, a stream a release still
 * running keeps open: the read must end (with what came) rather than hold a reconcile worker.
 */
@QuarkusTest
class ReleaseOutputTests {
  @Inject HerokuConfig config;
  @Inject MeterRegistry registry;

  @Test
  @Timeout(value = 40, unit = TimeUnit.SECONDS)
  void aStreamLeftOpenIsReadForAWhileAndItsLastLinesKept() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        "/streams/x",
        ex -> {
          ex.getResponseHeaders().add("Content-Type", "text/plain");
          ex.sendResponseHeaders(200, 0); // chunked: no length, the stream stays open
          OutputStream out = ex.getResponseBody();
          out.write(
              "Running release command...\nmigrating\nstill migrating\n"
                  .getBytes(StandardCharsets.UTF_8));
          out.flush();
          try {
            release.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
          }
          ex.close();
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/streams/x";
      var client = TestHerokuClients.client(config, registry, "http://127.0.0.1:9/", "HRKU-unused");
      assertThat(client.releaseOutput(url, 2)).containsExactly("migrating", "still migrating");
    } finally {
      release.countDown();
      server.stop(0);
    }
  }

  /**
   * Review 13: plain http to any host and redirects anywhere were followed, and a 401 from the
   * output's host was told as "Heroku refused HEROKU_API_KEY" (the key is never sent there).
   */
  @Test
  @Timeout(value = 40, unit = TimeUnit.SECONDS)
  void onlyHttpsOrLoopbackNoRedirectAndA401IsNotTheKey() throws Exception {
    var client = TestHerokuClients.client(config, registry, "http://127.0.0.1:9/", "HRKU-unused");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> client.releaseOutput("http://example.com/streams/x", 2))
        .hasMessageContaining("not a release output URL");
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/moved",
        ex -> {
          ex.getResponseHeaders().add("Location", "http://127.0.0.1:9/elsewhere");
          ex.sendResponseHeaders(302, -1);
          ex.close();
        });
    server.createContext(
        "/denied",
        ex -> {
          ex.sendResponseHeaders(401, -1);
          ex.close();
        });
    server.start();
    try {
      String base = "http://127.0.0.1:" + server.getAddress().getPort();
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> client.releaseOutput(base + "/moved", 2))
          .hasMessageContaining("release output: HTTP 302");
      // not a 401 of Heroku's: the platform layer would tell it as the key refused
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> client.releaseOutput(base + "/denied", 2))
          .hasMessageContaining("release output: HTTP 401")
          .isInstanceOfSatisfying(
              HerokuException.class, e -> assertThat(e.status()).isNotEqualTo(401));
    } finally {
      server.stop(0);
    }
  }
}
