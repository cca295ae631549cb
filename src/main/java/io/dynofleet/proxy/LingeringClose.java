package io.dynofleet.proxy;

import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Ends a client connection once its answer is out, as nginx's lingering close: the answer is
 * followed by a FIN, and the socket stays open (what the client still sends is read and dropped)
 * until the client closes or {@link #LINGER_MS} pass. Closed at once, a socket with unread upload
 * in its buffer is reset, and the reset can destroy the answer before the client reads it (a 413 to
 * a large upload became "connection reset"). Vert.x itself keeps a connection the client asked to
 * keep, whatever the answer says.
 */
public final class LingeringClose {
  static final long LINGER_MS = 5000;

  private LingeringClose() {}

  /** Call once the answer is written (or ended). */
  public static void after(Vertx vertx, HttpServerRequest sreq) {
    // an HTTP/2 connection carries other streams: the answer's end is the stream's own end
    if (sreq.version() == HttpVersion.HTTP_2) return;
    HttpConnection conn = sreq.connection();
    if (conn instanceof ConnectionBase cb && cb.channel() instanceof DuplexChannel ch) {
      if (!ch.isActive() || ch.isOutputShutdown()) return; // closed, or already lingering
      try {
        sreq.handler(null);
        sreq.resume();
      } catch (IllegalStateException alreadyEnded) {
        // the request was read whole
      }
      ch.shutdownOutput()
          .addListener(
              f -> {
                long timer = vertx.setTimer(LINGER_MS, id -> conn.close());
                ch.closeFuture().addListener(c -> vertx.cancelTimer(timer));
              });
    } else {
      conn.close();
    }
  }
}
