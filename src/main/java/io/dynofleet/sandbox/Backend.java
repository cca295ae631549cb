package io.dynofleet.sandbox;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * The web process of one simulated app: a real HTTP server on the loopback port reserved when the
 * app was created (so {@code web_url} never changes). It echoes what arrived so proxy tests can
 * see the headers a real Heroku dyno would, and it can be made to fail in the ways dynos do.
 */
final class Backend {

  /** Injected backend behaviour. */
  enum Fault {
    NONE,
    /** Every path answers 503 (an H10-like crash page). */
    CRASHED,
    /** The server is closed: connection refused. */
    DEAD,
    /** Connections are accepted and never answered. */
    HUNG,
    /** Answers after {@link #slowBy}. */
    SLOW
  }

  private final Vertx vertx;
  private final String app;
  private final int port;
  private volatile int release;
  private volatile Fault fault = Fault.NONE;
  private volatile Duration slowBy = Duration.ZERO;
  private volatile boolean restarting;
  private HttpServer server;

  Backend(Vertx vertx, String app, int port) {
    this.vertx = vertx;
    this.app = app;
    this.port = port;
  }

  int port() {
    return port;
  }

  Fault fault() {
    return fault;
  }

  synchronized boolean running() {
    return server != null;
  }

  boolean restarting() {
    return restarting;
  }

  void fault(Fault fault, Duration slowBy) {
    this.fault = fault;
    this.slowBy = slowBy == null ? Duration.ZERO : slowBy;
  }

  /**
   * Brings the server to the wanted state: serving release {@code release} when {@code serve} (and
   * not dead or restarting), closed otherwise.
   */
  synchronized Future<Void> sync(boolean serve, int release) {
    this.release = release;
    boolean want = serve && fault != Fault.DEAD && !restarting;
    if (want && server == null) {
      server = vertx.createHttpServer().requestHandler(this::handle);
      return server.listen(port, "127.0.0.1").mapEmpty();
    }
    if (!want && server != null) {
      HttpServer s = server;
      server = null;
      return s.close();
    }
    return Future.succeededFuture();
  }

  /** Takes the server down for {@code downtime}, then {@code after} brings it back. */
  Future<Void> restart(Duration downtime, Runnable after) {
    restarting = true;
    Future<Void> down = sync(false, release);
    vertx.setTimer(
        Math.max(1, downtime.toMillis()),
        id -> {
          restarting = false;
          after.run();
        });
    return down;
  }

  private void handle(HttpServerRequest req) {
    switch (fault) {
      case HUNG -> {
        // accept and never answer: the proxy's timeout must fire
      }
      case CRASHED -> req.response()
          .setStatusCode(503)
          .putHeader("Content-Type", "text/html")
          .end("<html><body>Application error</body></html>");
      case SLOW -> vertx.setTimer(Math.max(1, slowBy.toMillis()), id -> answer(req));
      default -> answer(req);
    }
  }

  private void answer(HttpServerRequest req) {
    req.response().putHeader("X-Sandbox-App", app);
    if ("/health".equals(req.path())) {
      req.response().putHeader("Content-Type", "text/plain").end("ok");
      return;
    }
    if ("/echo-body".equals(req.path()) && "POST".equals(req.method().name())) {
      String type = req.getHeader("Content-Type");
      req.response().putHeader("Content-Type", type == null ? "application/octet-stream" : type);
      String length = req.getHeader("Content-Length");
      if (length != null) {
        req.response().putHeader("Content-Length", length);
      } else {
        req.response().setChunked(true);
      }
      req.pipeTo(req.response());
      return;
    }
    JsonObject headers = new JsonObject();
    req.headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
    JsonObject echo =
        new JsonObject()
            .put("app", app)
            .put("release", release)
            .put("dyno", "web.1")
            .put("method", req.method().name())
            .put("path", req.path())
            .put("query", req.query())
            .put("host", req.getHeader("Host"))
            .put("headers", headers);
    req.response().putHeader("Content-Type", "application/json").end(echo.encode());
  }
}
