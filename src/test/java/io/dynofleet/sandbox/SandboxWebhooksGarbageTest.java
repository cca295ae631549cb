package io.dynofleet.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynofleet.LogCapture;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * The simulator's webhook deliveries go out on a Vert.x HTTP client of their own. A receiver
 * answering a status line Netty cannot parse made Vert.x log an ERROR of its own per delivery, with
 * the receiver's bytes unescaped: the client's connections had no exception handler of Dynofleet's,
 * as the backends' had (security review 6 S6-3). The delivery fails as any, and nothing is logged
 * at ERROR.
 */
class SandboxWebhooksGarbageTest {

  @Test
  void aReceiverAnsweringGarbageFailsTheDeliveryAndLogsNoVertxError() throws Exception {
    Vertx vertx = Vertx.vertx();
    SandboxWebhooks hooks = new SandboxWebhooks(vertx, Clock.systemUTC(), new ObjectMapper());
    AtomicInteger answered = new AtomicInteger();
    NetServer garbage =
        vertx
            .createNetServer()
            .connectHandler(
                so ->
                    so.handler(
                        head -> {
                          answered.incrementAndGet();
                          so.write(
                              Buffer.buffer(
                                  "XTTP/1.1\u009b2J 200 OK\r\nContent-Length: 2\r\n\r\nok",
                                  "ISO-8859-1"));
                        }));
    try (LogCapture logs = LogCapture.under("io.vertx", "io.netty", "io.dynofleet")) {
      garbage
          .listen(0, "127.0.0.1")
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      hooks.create(
          "app-1",
          "src",
          new JsonObject(
              Map.of(
                  "include",
                  List.of("api:release"),
                  "level",
                  "notify",
                  "url",
                  "http://127.0.0.1:" + garbage.actualPort() + "/hook")));
      for (int i = 0; i < 3; i++) {
        hooks.publish("app-1", "api:release", "release", "create", Map.of("id", "r" + i));
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  hooks.deliveries("app-1").stream()
                          .filter(d -> "failed".equals(d.get("status")))
                          .count()
                      == 3);
      assertThat(answered.get()).as("deliveries the receiver answered").isEqualTo(3);
      // the connection's failure is told after the delivery's: a moment for a late ERROR line
      Thread.sleep(500);
      assertThat(logs.records())
          .as("records at ERROR, or quoting the receiver's bytes")
          .filteredOn(
              r ->
                  r.getLevel().intValue() >= Level.SEVERE.intValue()
                      || String.valueOf(LogCapture.text(r)).contains("\u009b"))
          .extracting(r -> r.getLevel() + " " + r.getLoggerName() + " " + LogCapture.text(r))
          .isEmpty();
    } finally {
      hooks.close();
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
