package io.dynofleet.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A simulated app's server and the hold on its port, over real sockets. Linux lets the server
 * listen beside the hold (both reuse the address); the fallback for platforms where a hold keeps
 * the listener out (BSD, macOS) is driven here with a hold that does not allow reuse, which Linux
 * refuses the same way.
 */
@Timeout(30)
class PortHoldTest {
  static final Vertx VERTX = Vertx.vertx();

  /**
   * For the 200s only. Whether a port refuses is asked with a new socket ({@link #connect}): this
   * client keeps its connection to a server that served, and one stopped meanwhile shows up as that
   * connection's end ("GOAWAY received" after an h2c upgrade), not as a refused connect.
   */
  static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  @AfterAll
  static void close() {
    VERTX.close();
  }

  static <T> T join(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static int health(int port) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(2))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  static void assertNoOtherCanBind(int port) throws Exception {
    try (ServerSocket other = new ServerSocket()) {
      other.setReuseAddress(false);
      assertThatThrownBy(
              () -> other.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)))
          .isInstanceOf(BindException.class);
    }
  }

  @Test
  void theServerListensBesideTheHoldAndTheHoldStaysWhileNoneServes() throws Exception {
    PortHold hold = PortHold.acquire();
    Backend app = new Backend(VERTX, "beside", hold);
    try {
      assertThat(hold.port()).isBetween(PortHold.LOWEST, PortHold.HIGHEST);
      assertThatThrownBy(() -> connect(hold.port())).isInstanceOf(ConnectException.class);
      join(app.sync(true, 2));
      assertThat(health(hold.port())).isEqualTo(200);
      assertThat(hold.held()).as("listened beside the hold").isTrue();
      join(app.sync(false, 2));
      assertThatThrownBy(() -> connect(hold.port())).isInstanceOf(ConnectException.class);
      assertNoOtherCanBind(hold.port());
    } finally {
      join(app.close());
    }
    assertThat(hold.held()).isFalse();
  }

  /**
   * A hold that does not allow reuse: Linux then refuses a listener beside it, as BSD does any
   * hold.
   */
  static PortHold exclusiveHold() throws Exception {
    Socket exclusive = new Socket();
    exclusive.setReuseAddress(false);
    exclusive.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), PortHold.pickFree()));
    return new PortHold(exclusive);
  }

  @Test
  void whereTheHoldKeepsTheListenerOutItStepsAsideAndHoldsAgainAfterwards() throws Exception {
    PortHold hold = exclusiveHold();
    Backend app = new Backend(VERTX, "aside", hold);
    try {
      join(app.sync(true, 1));
      assertThat(health(hold.port())).as("served after the hold stepped aside").isEqualTo(200);
      assertThat(hold.held()).isFalse();
      assertThat(app.running()).isTrue();
      // no dyno: refused again, and the port is held again (now allowing a listener beside it)
      join(app.sync(false, 1));
      assertThat(hold.held()).isTrue();
      assertThatThrownBy(() -> connect(hold.port())).isInstanceOf(ConnectException.class);
      assertNoOtherCanBind(hold.port());
      join(app.sync(true, 1));
      assertThat(health(hold.port())).isEqualTo(200);
      assertThat(hold.held()).as("this time beside the hold").isTrue();
    } finally {
      join(app.close());
    }
  }

  /**
   * The close of a server that listened without the hold completes a moment before its socket is
   * gone; the hold is taken again all the same, every time (a single try missed about 1 in 100).
   */
  @Test
  void afterServingWithoutTheHoldThePortIsHeldAgainEveryTime() throws Exception {
    for (int i = 0; i < 300; i++) {
      PortHold hold = exclusiveHold();
      Backend app = new Backend(VERTX, "again-" + i, hold);
      try {
        join(app.sync(true, 1));
        assertThat(health(hold.port())).isEqualTo(200);
        assertThat(hold.held()).isFalse();
        join(app.sync(false, 1));
        assertThat(hold.held()).as("held again after stop %d", i).isTrue();
      } finally {
        join(app.close());
      }
    }
  }

  static void connect(int port) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
    }
  }

  /**
   * Vert.x completes a server's close while the listening socket still lives (NIO closes it at the
   * selector's next pass). A stop must not complete before connects are refused, and a start right
   * after a stop must not find the old listener in its way (it did: "Address already in use").
   */
  @Test
  void aStoppedAppRefusesAtOnceAndServesAgainAtOnce() throws Exception {
    PortHold hold = PortHold.acquire();
    Backend app = new Backend(VERTX, "flip", hold);
    try {
      for (int i = 0; i < 200; i++) {
        join(app.sync(true, 1));
        connect(hold.port());
        join(app.sync(false, 1));
        assertThatThrownBy(() -> connect(hold.port()))
            .as("refused after stop %d", i)
            .isInstanceOf(ConnectException.class);
      }
      join(app.sync(true, 1));
      connect(hold.port());
    } finally {
      join(app.close());
    }
    assertThatThrownBy(() -> connect(hold.port()))
        .as("refused after delete")
        .isInstanceOf(ConnectException.class);
  }
}
