package io.dynofleet.sandbox;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * The web process of one simulated app: a real HTTP server on the loopback port held for the app
 * from its creation to its deletion ({@link PortHold}: {@code web_url} never changes, and while no
 * dyno serves, connects are refused and no other socket can take the port). It echoes what arrived
 * so proxy tests can see the headers a real Heroku dyno would, and it can be made to fail in the
 * ways dynos do.
 */
final class Backend {
  private static final Logger LOG = Logger.getLogger(Backend.class);
  private static final int SETTLE_TRIES = 100;
  private static final long SETTLE_DELAY_MS = 10;

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
  private final PortHold hold;
  private final int port;
  private volatile int release;

  /** The release's DYNOFLEET_PROXY_SECRET, which the echo checks the proxy's header against. */
  private volatile String proxySecret;

  private volatile Fault fault = Fault.NONE;
  private volatile Duration slowBy = Duration.ZERO;
  private volatile boolean restarting;
  private HttpServer server;
  private volatile boolean closed;

  Backend(Vertx vertx, String app, PortHold hold) {
    this.vertx = vertx;
    this.app = app;
    this.hold = hold;
    this.port = hold.port();
  }

  int port() {
    return port;
  }

  Fault fault() {
    return fault;
  }

  Duration slowBy() {
    return slowBy;
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
    return sync(serve, release, proxySecret);
  }

  /** The same, the release running with {@code proxySecret} as its DYNOFLEET_PROXY_SECRET. */
  synchronized Future<Void> sync(boolean serve, int release, String proxySecret) {
    this.release = release;
    this.proxySecret = proxySecret;
    boolean want = serve && fault != Fault.DEAD && !restarting && !closed;
    if (want && server == null) {
      return listen(true);
    }
    if (!want && server != null) {
      HttpServer s = server;
      server = null;
      Future<Void> closing = s.close();
      return closing.transform(x -> settle(SETTLE_TRIES)).transform(x -> closing);
    }
    return Future.succeededFuture();
  }

  /**
   * Completes once the closed server's listening socket is gone and the port is held again, so a
   * connect right after is refused, as from a dyno that has stopped. Vert.x completes a close
   * before that: Java NIO closes a channel registered with a selector only when the selector next
   * deregisters it, and until then the kernel still accepts connects (which the close then resets)
   * and refuses binds. Where the server listened beside the hold, a throwaway bind beside it says
   * when the listener is gone; where it listened without the hold, taking the hold again says so (a
   * single try failed about 1 time in 100 in PortHoldTest). Both are tried on a short timer.
   */
  private Future<Void> settle(int triesLeft) {
    synchronized (this) {
      // under the monitor: close() gives the port up for good, a new listen wants it free
      if (closed || server != null || (hold.held() ? PortHold.unlistened(port) : hold.take())) {
        return Future.succeededFuture();
      }
    }
    return retry(triesLeft, () -> settle(triesLeft - 1));
  }

  /** Completes once nothing listens on the given-up port any more. */
  private Future<Void> gone(int triesLeft) {
    return PortHold.unlistened(port)
        ? Future.succeededFuture()
        : retry(triesLeft, () -> gone(triesLeft - 1));
  }

  private Future<Void> retry(int triesLeft, java.util.function.Supplier<Future<Void>> again) {
    if (triesLeft <= 1) {
      LOG.debugf("sandbox app %s: port %d still listened on after its server closed", app, port);
      return Future.succeededFuture();
    }
    return Future.<Long>future(p -> vertx.setTimer(SETTLE_DELAY_MS, p::complete))
        .compose(id -> again.get());
  }

  /** Starts a server on the app's port; {@code firstTry}: beside the hold, else without it. */
  private synchronized Future<Void> listen(boolean firstTry) {
    HttpServer s = vertx.createHttpServer().requestHandler(this::handle);
    server = s;
    return s.listen(port, "127.0.0.1")
        .<Void>mapEmpty()
        .recover(
            e -> {
              synchronized (this) {
                if (server != s) {
                  return Future.failedFuture(e); // closed or stopped meanwhile
                }
                // not running: running() says so, and the next
                // change of release or formation tries again
                server = null;
                if (firstTry && hold.held()) {
                  // a platform where the hold keeps a listener
                  // from binding beside it: listen without it
                  hold.release();
                  return listen(false);
                }
              }
              LOG.warnf("sandbox app %s cannot listen on its port %d: %s", app, port, e.toString());
              return Future.failedFuture(e);
            });
  }

  /**
   * The app is gone: its server closes and its port is given up. Idempotent; a later {@link #sync}
   * does nothing.
   */
  synchronized Future<Void> close() {
    closed = true;
    HttpServer s = server;
    server = null;
    if (s == null) {
      hold.close();
      return Future.succeededFuture();
    }
    Future<Void> closing = s.close();
    return closing
        .transform(
            x -> {
              hold.close();
              return gone(SETTLE_TRIES);
            })
        .transform(x -> closing);
  }

  /** Takes the server down for {@code downtime}, then {@code after} brings it back. */
  Future<Void> restart(Duration downtime, Runnable after) {
    restarting = true;
    Future<Void> down = sync(false, release);
    // the downtime counts from the moment connects are refused
    down.onComplete(
        x ->
            vertx.setTimer(
                Math.max(1, downtime.toMillis()),
                id -> {
                  restarting = false;
                  after.run();
                }));
    return down;
  }

  private void handle(HttpServerRequest req) {
    switch (fault) {
      case HUNG -> {
        // accept and never answer: the proxy's timeout must fire
      }
      case CRASHED ->
          req.response()
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
    req.headers().forEach(h -> headers.put(h.getKey(), shown(h.getKey(), h.getValue())));
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

  /** The proxy's header that carries the pool's secret. */
  static final String PROXY_SECRET_HEADER = "X-Dynofleet-Proxy-Secret";

  /** Header names whose values the echo does not show. */
  private static final java.util.regex.Pattern SECRET_NAME =
      java.util.regex.Pattern.compile("(?i).*(secret|token|password|passwd|api-?key|credential).*");

  /**
   * A header's value as the echo shows it: a secret's never (audit 24 I4: the echo handed {@code
   * X-Dynofleet-Proxy-Secret} to any client, and a newcomer copying the echo app learnt the secret
   * was public). The proxy's secret is checked against the release's {@code
   * DYNOFLEET_PROXY_SECRET}, as an app should check it, and the verdict shown.
   */
  String shown(String name, String value) {
    if (name.equalsIgnoreCase(PROXY_SECRET_HEADER)) {
      String expected = proxySecret;
      boolean matches =
          expected != null
              && java.security.MessageDigest.isEqual(
                  expected.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                  value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return matches ? SECRET_MATCHES : "(not shown; does not match DYNOFLEET_PROXY_SECRET)";
    }
    return SECRET_NAME.matcher(name).matches() ? "(not shown)" : value;
  }

  /** What the echo shows for a proxy secret equal to the release's DYNOFLEET_PROXY_SECRET. */
  static final String SECRET_MATCHES = "(not shown; matches DYNOFLEET_PROXY_SECRET)";
}
