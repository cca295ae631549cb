package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.VertxException;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Which failures of a request are a connect to its backend that failed (502 {@code connect-failed},
 * never reached the backend): by type, not by a class name containing "Connect".
 */
class ConnectFailureTest {

  /** A class whose name says "Connect" but that is no connect failure. */
  static final class ConnectionFlavouredException extends RuntimeException {}

  @Test
  void theRealConnectFailuresAreConnectFailures() {
    assertThat(ReverseProxy.isConnect(new ConnectException("Connection refused"))).isTrue();
    assertThat(ReverseProxy.isConnect(new ConnectTimeoutException("connection timed out")))
        .isTrue();
    assertThat(ReverseProxy.isConnect(new NoRouteToHostException("No route to host"))).isTrue();
    assertThat(ReverseProxy.isConnect(new VertxException(new ConnectException("refused"))))
        .as("a wrapped one")
        .isTrue();
  }

  @Test
  void aNameContainingConnectIsNoConnectFailure() {
    assertThat(ReverseProxy.isConnect(new ConnectionPoolTooBusyException("too busy"))).isFalse();
    assertThat(ReverseProxy.isConnect(new ConnectionFlavouredException())).isFalse();
    assertThat(ReverseProxy.isConnect(new TimeoutException("pool"))).isFalse();
  }
}
