package io.dynofleet.proxy;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.PoolOptions;
import org.jboss.logging.Logger;

/**
 * Dynofleet's own Vert.x HTTP clients (the proxy's and probes' to backends, the maintenance pages',
 * the sandbox's webhook deliveries): each connection gets an exception handler of Dynofleet's.
 * Without one, Vert.x logged every failure of a connection at ERROR ({@code ConnectionBase}), with
 * the peer's bytes quoted unescaped (a status line Netty cannot parse: {@code invalid version
 * format: <its first token>}, C1 controls included) and nothing of Dynofleet's named: one line per
 * request, probe or fetch for as long as the other end answered so (security review 6 S6-3). The
 * request on the connection gets the same failure and reports it its own way (a 502, a probe's
 * escaped failure, a page's failed fetch), so here it is only a DEBUG line, escaped.
 */
public final class ClientConnections {
  private ClientConnections() {}

  /** A client of {@code options} and {@code pool} whose connections {@link #quiet} handles. */
  public static HttpClient client(
      Vertx vertx, HttpClientOptions options, PoolOptions pool, Logger log, String peer) {
    return vertx
        .httpClientBuilder()
        .with(options)
        .with(pool)
        .withConnectHandler(quiet(log, peer))
        .build();
  }

  /**
   * Gives a connection an exception handler that logs its failure at DEBUG on {@code log}: {@code
   * connection to <peer> <address> failed: <escaped message>}.
   */
  public static Handler<HttpConnection> quiet(Logger log, String peer) {
    return c ->
        c.exceptionHandler(
            t -> {
              if (log.isDebugEnabled())
                log.debugf(
                    "connection to %s %s failed: %s",
                    peer, c.remoteAddress(), HealthProber.failure(t));
            });
  }
}
