package io.dynofleet.proxy;

import io.dynofleet.config.DynofleetConfig;
import io.dynofleet.config.StartRefused;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.http.runtime.filters.QuarkusRequestWrapper;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.Router;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyOptions;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.ConnectException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Mounts the reverse proxy on the Quarkus router for every path outside the reserved prefix.
 *
 * <p>Per request: pool by Host, a backend slot (at once, or after waiting in the pool's bounded
 * queue when routing.maxInFlightPerBackend is set), forward with rewritten headers, stream both
 * ways, map failures to short 4xx/5xx answers carrying {@code X-Dynofleet-Error}.
 */
@ApplicationScoped
class ReverseProxy implements ProxyInterceptor {
  private static final Logger LOG = Logger.getLogger(ReverseProxy.class);
  private static final String CTX = "dynofleet";

  private final RoutingTable table;
  private final ProxyConfig config;
  private final DynofleetConfig dynofleet;
  private final MeterRegistry registry;
  private final Clock clock;
  private final Vertx vertx;

  /** For health probes and requests made off an event loop. */
  private HttpClient client;

  /** One client per event loop: a request's backend connection lives on the loop serving it. */
  private final Map<EventLoop, HttpClient> loopClients = new ConcurrentHashMap<>();

  /**
   * Per event loop, how many of its client's connections to each backend address are open (counted
   * from the first request each carried to its close; read and written on that loop only), and the
   * loop's share of {@code pool-size-per-backend}: a wait for a connection that ran out while fewer
   * were open was the wait for a connect (Vert.x opens one for a waiter while there is room), not
   * for a busy one. Counted per address as the client pools them, not per backend: two pools naming
   * one static URL share one client pool, and a wait of the second pool's backend behind
   * connections all counted to the first's was taken for a connect (502 where a 504 was due).
   */
  private final Map<EventLoop, Map<Backend.Address, int[]>> loopOpen = new ConcurrentHashMap<>();

  private volatile int loopShare = Integer.MAX_VALUE;

  /** Marks a backend connection counted in {@link #loopOpen}. */
  private static final io.netty.util.AttributeKey<Boolean> COUNTED =
      io.netty.util.AttributeKey.valueOf("dynofleet.counted");

  private final Map<String, AtomicReference<Backend>> gauges = new ConcurrentHashMap<>();

  /** Each attempt's latency histogram (per backend or per pool) and count (per backend). */
  private final RequestMeters requests;

  /** Pools whose {@code dynofleet.proxy.backends} and {@code .panic} gauges are registered. */
  private final Set<String> poolGauges = ConcurrentHashMap.newKeySet();

  /** The client channels of open WebSocket tunnels, closed at SIGTERM. */
  private final Set<io.netty.channel.Channel> tunnels = ConcurrentHashMap.newKeySet();

  /** Marks a client connection whose request could not be framed: nothing more is served on it. */
  private static final io.netty.util.AttributeKey<Boolean> DESYNCED =
      io.netty.util.AttributeKey.valueOf("dynofleet.desynced");

  /** SIGTERM was heard: no new tunnel. */
  private volatile boolean stopping;

  ReverseProxy(
      RoutingTable table,
      ProxyConfig config,
      DynofleetConfig dynofleet,
      MeterRegistry registry,
      Clock clock,
      Vertx vertx,
      io.dynofleet.config.AdminHosts adminHosts,
      io.dynofleet.api.ApiAuth auth) {
    this.adminHosts = adminHosts;
    this.auth = auth;
    this.table = table;
    this.config = config;
    this.dynofleet = dynofleet;
    this.registry = registry;
    this.clock = clock;
    this.vertx = vertx;
    this.requests = new RequestMeters(registry, config.metrics());
    this.pages = new MaintenancePages(vertx, config.maintenance().allowPrivatePages());
  }

  /** The pages of pools in maintenance that name their own ({@code maintenancePageUrl}). */
  private final MaintenancePages pages;

  MaintenancePages maintenancePages() {
    return pages;
  }

  private final io.dynofleet.api.ApiAuth auth;

  /** When a request carrying Dynofleet's own token was last logged (at most once a minute). */
  private volatile long ownTokenToldNanos = System.nanoTime() - 120_000_000_000L;

  /** Where the reserved prefix is served; admin hosts are never proxied. */
  private final io.dynofleet.config.AdminHosts adminHosts;

  /**
   * Dynofleet proxies a request has passed already ({@code Via: 1.1 dynofleet} each) past which it
   * is a loop: a static backend pointing back at Dynofleet turned one request into hundreds.
   */
  static final int MAX_DYNOFLEET_HOPS = 5;

  /** Per-request state. */
  static final class Exchange {
    Pool pool;
    Backend backend;
    String requestId;
    long start;

    /**
     * When the attempt under way was sent to its backend: its latency runs from here, not from
     * {@link #start} (the queue wait and an earlier attempt on another backend are not its doing).
     */
    long sent;

    /** Heroku's X-Request-Start (epoch millis), or -1. */
    long requestStartMillis = -1;

    boolean queueRecorded;
    volatile boolean tooLarge;

    /** The client waits for a 100 (Continue) before its body; sent once a backend is connected. */
    boolean expectContinue;

    boolean continued;

    /**
     * The client's Connection header asked for close among other tokens (Vert.x hears only
     * "close").
     */
    boolean closeAfter;

    /** The attempt under way failed waiting for a pooled connection to its backend. */
    boolean poolWait;

    /** The attempt under way found the backend's connection wait queue full. */
    boolean poolBusy;

    /**
     * The attempt under way waited for a connect to its backend that got no answer within the
     * pool's timeout (see {@link ReverseProxy#connecting}).
     */
    boolean connectWait;

    /** The request to the backend being tried. */
    HttpClientRequest creq;

    /** The client's body, when it has one. */
    UploadBody upload;

    /** When the backend request's timeout was last pushed back for an upload chunk. */
    long rearmed;

    final Set<Backend> tried = new HashSet<>(2);
    AtomicBoolean done;
  }

  void onStart(@Observes StartupEvent ev) {
    checkDefaultTimeout(config.defaultTimeout());
    try {
      Runtime.getRuntime().addShutdownHook(new Thread(this::closeTunnels, "dynofleet-proxy-stop"));
    } catch (IllegalStateException alreadyStopping) {
      stopping = true;
    }
    table.onRemoved(this::drain);
    table.onPoolRemoved(this::poolRemoved);
    table.onSwap(
        () -> {
          dispatchAll();
          poolGauges();
          histogramShape();
          atZero();
          wantPages();
        });
    poolGauges();
    atZero();
    // at 0 from the start too: a loop is answered before any pool is chosen
    registry.counter(
        "dynofleet.proxy.errors", "pool", "-", "code", ProxyError.LOOP.code(), "backend", "-");
    wantPages();
    // a page edited during a maintenance shows within a minute; none wanted, nothing is fetched
    vertx.setPeriodic(MaintenancePages.REFRESH.toMillis(), id -> pages.refresh());
    HealthProber prober =
        new HealthProber(
            table, client(), config.connectTimeout(), clock, vertx, config.probeMaxPerSecond());
    // how many times its interval each probe's turn comes: above 1 while the pools ask for more
    // than probe-max-per-second
    io.micrometer.core.instrument.Gauge.builder(
            "dynofleet.proxy.probe.interval.stretch", prober, HealthProber::stretch)
        .description("How many times its set interval each health check probe now comes")
        .register(registry);
    vertx.setPeriodic(
        250,
        id -> {
          prober.tick();
          dispatchAll(); // safety net: a slot freed while a waiter was being queued
          long now = System.nanoTime();
          // once a second each
          for (Pool p : table.pools().values()) for (Backend b : p.backends()) b.sampleRate(now);
        });
  }

  void mount(@Observes Router router) {
    HttpProxy proxy =
        HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(true), client());
    proxy.origin(this::origin);
    proxy.addInterceptor(this);
    String prefix = dynofleet.prefix();
    // a CONNECT in the form every client sends (authority form, "CONNECT host:443") never reaches a
    // handler: vertx-web fails a target that does not start with '/' with a 404 before routing,
    // answered bare on a connection kept open (audit 8). The same refusal as the origin form's
    router
        .route()
        .order(Integer.MIN_VALUE + 1)
        .failureHandler(
            rc -> {
              if (rc.request().method() == HttpMethod.CONNECT && !rc.response().headWritten()) {
                refuseConnect(rc);
              } else {
                rc.next();
              }
            });
    // every path but the reserved prefix (a prefix test, not a regex route: no matcher and no
    // path-parameter map per request); the prefix goes on to Dynofleet's own routes
    // (the request's framing and head were checked by the first handler below, for every path)
    io.vertx.core.Handler<io.vertx.ext.web.RoutingContext> route =
        rc -> {
          MultiMap headers = rc.request().headers();
          String path = rc.request().path();
          if (path != null && ReservedPath.under(path, prefix, false)) {
            rc.next();
            return;
          }
          if (ReservedPath.matches(path, prefix)) {
            // an encoded or dot-segment spelling of the reserved prefix: never sent to a backend
            answer(rc, ProxyError.RESERVED, null);
            return;
          }
          String uri = rc.request().uri();
          if (!uri.isEmpty() && uri.charAt(0) != '/' && originForm(rc, headers, uri, path)) return;
          if (adminHosts.restricted()) {
            if (adminHosts.admin(headers.get(HttpHeaders.HOST))) {
              // Dynofleet's own host: no backend shares the dashboard's origin (security review 1)
              adminHostOnly(rc, path);
              return;
            }
          } else if (headers.contains(HeaderNames.SERVICE_WORKER) && scopeCoversPrefix(path)) {
            // a backend's service worker on the dashboard's origin would see the token of every API
            // call the dashboard makes, for as long as it stays registered (security review 1)
            answer(rc, ProxyError.SERVICE_WORKER, null);
            return;
          }
          if (headers.contains(HeaderNames.VIA) && dynofleetHops(headers) >= MAX_DYNOFLEET_HOPS) {
            answer(rc, ProxyError.LOOP, null);
            return;
          }
          // the library stamps every answer's Date in RFC 1123's form, whose
          // day has one digit on the 1st to the 9th: HTTP's IMF-fixdate has
          // two (RFC 9110 5.6.7), and strict parsers refuse one
          io.netty.util.Attribute<Boolean> awaiting = awaitingHead(rc.request());
          rc.addHeadersEndHandler(
              v -> {
                if (awaiting != null) awaiting.set(Boolean.FALSE);
                lastHeaders(rc.request(), rc.response());
              });
          if (rc.request().headers().contains(HttpHeaders.UPGRADE)) {
            // the library answers an upgrade it cannot place
            // with a bare 502: say why, as for requests
            Pool pool = table.select(rc.request().getHeader(HttpHeaders.HOST));
            String https =
                pool == null || !pool.route().httpsRedirect() ? null : httpsRedirect(rc.request());
            if (https != null) {
              // as any request of the pool: never tunnelled to a backend over plain http
              rc.response()
                  .setStatusCode(308)
                  .putHeader(HttpHeaders.LOCATION, https)
                  .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                  .putHeader(HeaderNames.X_REQUEST_ID, requestIdOf(rc.request()))
                  .end();
              countRedirect(pool);
              return;
            }
            if (pool != null && pool.route().maintenance()) {
              // as any request of the pool: no tunnel to a backend under maintenance (an ACME
              // challenge is never an upgrade)
              HttpServerResponse r = rc.response().setStatusCode(503);
              Buffer page = maintenanceAnswer(r.headers(), pool);
              r.putHeader(HeaderNames.X_REQUEST_ID, requestIdOf(rc.request())).end(page);
              return;
            }
            ProxyError e =
                unplaceable(
                    pool,
                    "websocket".equalsIgnoreCase(rc.request().getHeader(HttpHeaders.UPGRADE)));
            if (e != null) {
              answer(rc, e, pool);
              return;
            }
            // the library answers every failed upgrade with 502 (set as it writes the head):
            // one its backend did not answer in time is a 504, and one that found the
            // backend's connection queue full a 503, as a request's (see webSocketOrigin)
            rc.addHeadersEndHandler(
                v -> {
                  HttpServerResponse r = rc.response();
                  String code = r.headers().get(HeaderNames.X_DYNOFLEET_ERROR);
                  if (r.getStatusCode() == 502 && ProxyError.TIMEOUT.code().equals(code)) {
                    r.setStatusCode(ProxyError.TIMEOUT.status());
                  } else if (r.getStatusCode() == 502
                      && ProxyError.CONNECTION_QUEUE_FULL.code().equals(code)) {
                    r.setStatusCode(ProxyError.CONNECTION_QUEUE_FULL.status());
                  }
                });
          }
          proxy.handle(rc.request());
        };
    // Requests for a backend are taken ahead of Dynofleet's own filters (request ids, auth, HSTS,
    // dashboard caching) and RESTEasy's matcher, which only act on the reserved prefix and on the
    // admin hosts: passing them cost some 3 % of the proxy's CPU per request. The prefix in any
    // spelling, a path that starts like it, and the admin hosts go on through them as before, to
    // the same handler after them.
    router
        .route()
        .order(Integer.MIN_VALUE + 2)
        .handler(
            rc -> {
              if (refusedHead(rc)) {
                return;
              }
              String path = rc.request().path();
              if (path == null
                  || path.regionMatches(true, 0, prefix, 0, prefix.length())
                  || adminHosts.restricted()
                      && adminHosts.admin(rc.request().headers().get(HttpHeaders.HOST))) {
                rc.next();
              } else if (ReservedPath.matches(path, prefix)) {
                if (ReservedPath.malformed(path)) {
                  // an escape that does not decode: a 400 problem (RequestIds), as before
                  rc.next();
                } else {
                  // the prefix by another spelling (a double slash from
                  // $DYNOFLEET_URL/ + /api, an escape): said at once, with or without
                  // a token; the API's authentication, on the normalised path,
                  // answered 401 first without one, then 404 with it (audit 12)
                  answer(rc, ProxyError.RESERVED, null);
                }
              } else {
                route.handle(rc);
              }
            });
    router.route().handler(route);
  }

  /**
   * Refuses a request whose framing or head cannot be trusted, before anything serves it, for every
   * path: Dynofleet's own endpoints too (its health, metrics and OpenAPI routes answered ahead of
   * these checks, and a body a coding kept unframed was served as the next request: security review
   * 2). True when answered (or, behind a refused request, deliberately not).
   */
  private boolean refusedHead(io.vertx.ext.web.RoutingContext rc) {
    if (rc.request().connection() instanceof ConnectionBase cb && cb.channel().hasAttr(DESYNCED)) {
      // read behind a request whose body could not be framed: perhaps no request at all. Never
      // served, nor answered: the refusal's lingering close ends the connection (touched here,
      // as Vert.x hands this over while the refusal is still being written, it lost the refusal)
      return true;
    }
    MultiMap headers = rc.request().headers();
    if (headers.getAll(HttpHeaders.HOST).size() > 1) {
      // the pool is chosen by Host: two of them (cache poisoning, filter bypass) are refused
      answer(rc, ProxyError.TWO_HOSTS, null);
      return true;
    }
    if (headers.contains("")) {
      // RFC 9110 5.1: a field name is a token; nginx and Envoy refuse an empty one
      answer(rc, ProxyError.BAD_HEADER, null);
      return true;
    }
    if (rc.request().method() == HttpMethod.CONNECT) {
      // a reverse proxy opens no tunnels (nginx and Envoy refuse it too): proxied, the client got
      // a 200 announcing a body it never sent, and what it sends next is tunnel bytes
      refuseConnect(rc);
      return true;
    }
    if (rc.request().method() == HttpMethod.TRACE || "TRACK".equals(rc.request().method().name())) {
      // an echo of the request as the backend got it: the pool's proxy secret with it (review 24)
      answer(rc, ProxyError.NO_TRACE, null);
      return true;
    }
    if (headers.contains(HttpHeaders.TRANSFER_ENCODING) && !chunkedOnly(headers)) {
      // Netty framed the body as chunked only if "chunked" was among the codings, else as
      // none: what follows may be read as another request (smuggling). The library answered 400
      // and the library kept the connection; RFC 9112 6.3: refuse and close, and serve nothing
      // Vert.x already read behind it (it hands over a pipelined request as this answer ends)
      refuseAndClose(rc, ProxyError.BAD_CODING);
      return true;
    }
    return false;
  }

  /**
   * The static pool's timeout bounds its requests, and with them how long a client's connection may
   * wait without Quarkus's idle timeout: 0 would leave both unbounded (review 13).
   */
  static void checkDefaultTimeout(Duration timeout) {
    if (timeout.isZero() || timeout.isNegative()) {
      throw new StartRefused(
          "DYNOFLEET_PROXY_DEFAULT_TIMEOUT (dynofleet.proxy.default-timeout) is "
              + timeout
              + ": it must be above 0 (default 30s), or requests to DYNOFLEET_STATIC_BACKENDS would wait without end");
    }
  }

  /**
   * The client's connection waits for this request's answer head: Quarkus's idle timeout ({@code
   * quarkus.http.idle-timeout}, 75 s) does not close it meanwhile. The client is silent while the
   * backend works, so a pool timeout above it (up to 300 s) was cut there, and the client got no
   * answer at all (review 16); the proxy's own timers (the pool's timeout, the queue wait) bound
   * this wait. Once the head is out the idle timeout applies again: a client that stops reading a
   * body is closed by it as before. HTTP/1.x only (an HTTP/2 connection carries many requests).
   * Returns the mark, for the head to clear (the attribute itself: a second lookup by key cost a
   * few percent of the proxy's CPU per request), or null.
   */
  private static io.netty.util.Attribute<Boolean> awaitingHead(HttpServerRequest req) {
    if (req.version() == HttpVersion.HTTP_2 || !(req.connection() instanceof ConnectionBase cb))
      return null;
    Channel ch = cb.channel();
    io.netty.util.Attribute<Boolean> mark = ch.attr(AWAITING_HEAD);
    if (mark.get() == null) { // the connection's first request: no handler yet
      // no idle timeout (or not Vert.x's pipeline)
      if (ch.pipeline().get("idle") == null) return null;
      ch.pipeline().addAfter("idle", "dynofleet-idle", IdleWhileAwaiting.INSTANCE);
    }
    mark.set(Boolean.TRUE);
    return mark;
  }

  /**
   * On a client channel: TRUE while a request on it waits for its answer head, FALSE after (the
   * idle handler is in its pipeline), unset before its first request.
   */
  private static final io.netty.util.AttributeKey<Boolean> AWAITING_HEAD =
      io.netty.util.AttributeKey.valueOf("dynofleet.awaitingHead");

  /**
   * Drops the idle events of Vert.x's idle handler (which close the connection) while the channel
   * waits for an answer head; the next one after it closes the connection as before.
   */
  @io.netty.channel.ChannelHandler.Sharable
  static final class IdleWhileAwaiting extends io.netty.channel.ChannelInboundHandlerAdapter {
    static final IdleWhileAwaiting INSTANCE = new IdleWhileAwaiting();

    @Override
    public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt)
        throws Exception {
      if (evt instanceof io.netty.handler.timeout.IdleStateEvent
          && ctx.channel().attr(AWAITING_HEAD).get() == Boolean.TRUE) {
        return;
      }
      super.userEventTriggered(ctx, evt);
    }
  }

  /**
   * On an admin host outside the prefix: {@code GET /} goes to the dashboard, the rest is not found
   * (nothing is proxied there).
   */
  private void adminHostOnly(io.vertx.ext.web.RoutingContext rc, String path) {
    HttpMethod m = rc.request().method();
    if ((path == null || path.equals("/")) && (m == HttpMethod.GET || m == HttpMethod.HEAD)) {
      rc.response()
          .setStatusCode(302)
          .putHeader(HttpHeaders.LOCATION, dynofleet.prefix() + "/")
          .end();
      return;
    }
    answer(rc, ProxyError.ADMIN_HOST, null);
  }

  /**
   * Whether a service worker script at this path could control the reserved prefix: its default
   * scope is the script's directory ({@code /sw.js}: all of the origin).
   */
  boolean scopeCoversPrefix(String path) {
    if (path == null) return false;
    String dir = path.substring(0, path.lastIndexOf('/') + 1);
    return (dynofleet.prefix() + "/").startsWith(dir);
  }

  /**
   * How many {@code Via} entries were received by Dynofleet: their received-by is the pseudonym
   * {@code dynofleet}, in any case (RFC 9110 7.6.3: {@code received-protocol RWS received-by [RWS
   * comment]}, entries separated by commas outside comments). Any {@code dynofleet} in a line
   * counted (and only in lower case): a proxy named {@code mydynofleetcache}, or a comment that
   * said it, spent a request's hops.
   */
  static int dynofleetHops(MultiMap headers) {
    int n = 0;
    for (String line : headers.getAll(HeaderNames.VIA)) {
      int depth = 0, start = 0, hops = 0;
      for (int i = 0; i <= line.length(); i++) {
        char c = i < line.length() ? line.charAt(i) : (depth > 0 ? '\0' : ',');
        if (c == '\\' && depth > 0) {
          i++; // a quoted-pair in a comment
        } else if (c == '(') {
          depth++;
        } else if (c == ')' && depth > 0) {
          depth--;
        } else if (c == ',' && depth == 0) {
          if (receivedByDynofleet(line, start, i)) hops++;
          start = i + 1;
        }
      }
      if (depth > 0) {
        // a comment never closed (a client's "Via: 1.0 x (" before the lines a merging front end
        // appends) hid every entry after it, and the loop check with them (review 13): such a
        // line is split at every comma instead
        hops = 0;
        start = 0;
        for (int i = 0; i <= line.length(); i++) {
          if (i == line.length() || line.charAt(i) == ',') {
            if (receivedByDynofleet(line, start, i)) hops++;
            start = i + 1;
          }
        }
      }
      n += hops;
    }
    return n;
  }

  /** Whether the Via entry {@code line[from, to)} has the received-by {@code dynofleet}. */
  private static boolean receivedByDynofleet(String line, int from, int to) {
    int i = skipSpace(line, from, to);
    while (i < to && !space(line.charAt(i))) i++; // received-protocol
    int by = skipSpace(line, i, to);
    if (by == i) return false; // no RWS: no received-by
    int end = by;
    while (end < to && !space(line.charAt(end)) && line.charAt(end) != '(') end++;
    return end - by == 9 && line.regionMatches(true, by, "dynofleet", 0, 9);
  }

  private static int skipSpace(String s, int i, int to) {
    while (i < to && space(s.charAt(i))) i++;
    return i;
  }

  private static boolean space(char c) {
    return c == ' ' || c == '\t';
  }

  /**
   * The answer's head as Vert.x is about to write it. The Date gets its two-digit day; and an
   * HTTP/1.0 answer with a body but no length, delimited by closing the connection, says {@code
   * close} (Vert.x has just written {@code keep-alive} there for a client that asked for it).
   */
  private static void lastHeaders(HttpServerRequest req, HttpServerResponse resp) {
    MultiMap h = resp.headers();
    String date = h.get(HeaderNames.BACKEND_DATE);
    if (date != null) {
      h.remove(HeaderNames.BACKEND_DATE);
      h.set(HttpHeaders.DATE, date);
    } else {
      imfFixdate(h);
    }
    if (req.version() == HttpVersion.HTTP_1_0
        && req.method() != HttpMethod.HEAD
        && !h.contains(HttpHeaders.CONTENT_LENGTH)
        && resp.getStatusCode() >= 200
        && resp.getStatusCode() != 204
        && resp.getStatusCode() != 304) {
      h.set(HttpHeaders.CONNECTION, "close");
    }
  }

  /**
   * Carries a backend's Date past the library, which parses every Date to write it again: java.time
   * parsing took some 5 % of the proxy's CPU samples, to write the same text. A well-formed
   * IMF-fixdate (the form every HTTP server sends) goes on as the backend wrote it, as HAProxy,
   * Envoy and Heroku's router pass it; any other form, or one with a Warning (whose date the
   * library checks against it), still takes the library's way. The header is set back as the head
   * is written ({@link #lastHeaders}); a backend's own X-Dynofleet- headers never get this far
   * ({@link #sanitize}).
   */
  static void keepBackendDate(MultiMap h) {
    String date = h.get(HttpHeaders.DATE);
    if (date != null && wellFormedImfFixdate(date) && !h.contains(HeaderNames.WARNING)) {
      h.remove(HttpHeaders.DATE);
      h.set(HeaderNames.BACKEND_DATE, date);
    }
  }

  /**
   * {@code Sun, 06 Nov 1994 08:49:37 GMT}: RFC 9110 5.6.7's IMF-fixdate, field by field (day and
   * month names, day 01-31, hour 00-23, minute 00-59, second 00-60). Not checked against the
   * calendar: a wrong weekday or a 31 Feb goes on as written, as HAProxy and Envoy pass any Date.
   */
  static boolean wellFormedImfFixdate(String d) {
    if (d.length() != 29
        || d.charAt(3) != ','
        || d.charAt(4) != ' '
        || d.charAt(7) != ' '
        || d.charAt(11) != ' '
        || d.charAt(16) != ' '
        || d.charAt(19) != ':'
        || d.charAt(22) != ':'
        || !d.endsWith(" GMT")) {
      return false;
    }
    for (int i : IMF_DIGITS) {
      if (d.charAt(i) < '0' || d.charAt(i) > '9') return false;
    }
    return name(DAY_NAMES, d, 0)
        && name(MONTH_NAMES, d, 8)
        && within(d, 5, 1, 31)
        && within(d, 17, 0, 23)
        && within(d, 20, 0, 59)
        && within(d, 23, 0, 60);
  }

  private static final int[] IMF_DIGITS = {5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24};
  private static final String DAY_NAMES = "MonTueWedThuFriSatSun";
  private static final String MONTH_NAMES = "JanFebMarAprMayJunJulAugSepOctNovDec";

  /** The three letters at {@code at} are one of {@code names}' (case-sensitive, as the grammar). */
  private static boolean name(String names, String d, int at) {
    for (int i = 0; i < names.length(); i += 3) {
      if (d.regionMatches(at, names, i, 3)) return true;
    }
    return false;
  }

  /** The two digits at {@code at} are a number from {@code min} to {@code max}. */
  private static boolean within(String d, int at, int min, int max) {
    int n = (d.charAt(at) - '0') * 10 + d.charAt(at + 1) - '0';
    return n >= min && n <= max;
  }

  /** A Date of RFC 1123's form with a one-digit day ({@code Tue, 3 Mar 2026 ...}) gets its zero. */
  static void imfFixdate(MultiMap h) {
    String d = h.get(HttpHeaders.DATE);
    if (d != null
        && d.length() > 6
        && d.charAt(6) == ' '
        && Character.isDigit(d.charAt(5))
        && d.charAt(4) == ' ') {
      h.set(HttpHeaders.DATE, d.substring(0, 5) + '0' + d.substring(5));
    }
  }

  /**
   * At SIGTERM. Quarkus's drain waits for every open request, and a tunnel is one until its client
   * leaves: one open WebSocket held the exit 25 s, then was cut anyway. The tunnels close at the
   * signal instead, so their clients reconnect at once, through Heroku's router to a dyno that
   * stays (a proxy that does not parse the frames it relays cannot put a close frame between them);
   * new upgrades get a 503. Plain requests drain as before.
   */
  void closeTunnels() {
    stopping = true;
    int n = tunnels.size();
    if (n > 0)
      LOG.infof("stopping: closing %d WebSocket tunnel(s); their clients reconnect elsewhere", n);
    for (io.netty.channel.Channel ch : tunnels) ch.close();
  }

  /**
   * Quarkus's graceful shutdown counts a request open until its response ends or its connection
   * closes, as Vert.x tells it; for an upgraded connection Vert.x tells neither (the channel now
   * belongs to a NetSocket), so every tunnel ever opened held the exit for the whole shutdown
   * timeout. Quarkus offers no public way to say a request is over: its package-private {@code
   * done()} (idempotent) is called when the tunnel's channel closes. Without it (another Quarkus)
   * the exit waits, as before.
   */
  private static final java.lang.invoke.MethodHandle REQUEST_DONE = requestDoneHandle();

  private static java.lang.invoke.MethodHandle requestDoneHandle() {
    try {
      java.lang.reflect.Method m = QuarkusRequestWrapper.class.getDeclaredMethod("done");
      m.setAccessible(true);
      return java.lang.invoke.MethodHandles.lookup().unreflect(m);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warnf("WebSocket tunnels will hold the shutdown for its whole timeout: %s", e);
      return null;
    }
  }

  private static void requestDone(QuarkusRequestWrapper request) {
    if (REQUEST_DONE == null || request == null) return;
    try {
      REQUEST_DONE.invoke(request);
    } catch (Throwable e) {
      LOG.debugf("request done: %s", e);
    }
  }

  /**
   * Whether the message's only transfer coding is chunked, in any case ("Chunked" is the same
   * coding, RFC 9110 10.1.4; the library compares case-sensitively), which is then spelled as the
   * library expects. Any other coding, alone or before chunked, is one Dynofleet does not decode.
   */
  static boolean chunkedOnly(MultiMap h) {
    List<String> all = h.getAll(HttpHeaders.TRANSFER_ENCODING);
    if (all.size() != 1 || !all.get(0).trim().equalsIgnoreCase("chunked")) return false;
    if (!all.get(0).equals("chunked")) h.set(HttpHeaders.TRANSFER_ENCODING, "chunked");
    return true;
  }

  /**
   * Why an upgrade to {@code pool} has nowhere to go (stopping, no pool, no routable backend), or
   * null.
   */
  private ProxyError unplaceable(Pool pool, boolean webSocket) {
    // an Upgrade: h2c is served over HTTP/1.1 as ever
    if (stopping && webSocket) return ProxyError.STOPPING;
    if (pool == null) return noPool();
    return Balancer.candidates(pool.backends(), Set.of(), System.nanoTime()).isEmpty()
        ? ProxyError.NO_BACKEND
        : null;
  }

  /** One of the proxy's own answers, by pool ({@code -} before one is chosen) and code. */
  private void countError(Pool pool, ProxyError e) {
    countError(pool, null, e);
  }

  /**
   * A request redirected to https ({@code dynofleet_proxy_redirects_total{pool}}): an answer of the
   * proxy's own, but no error, so not among {@code dynofleet_proxy_errors_total}'s.
   */
  private void countRedirect(Pool pool) {
    registry.counter("dynofleet.proxy.redirects", "pool", pool.route().name()).increment();
  }

  /**
   * One of the proxy's own answers, by pool, code and the backend it answers for ({@code -} for
   * none: only the 502 and 504 of an attempt are a backend's). It had no backend label, so which
   * backend timed out or failed was not to be seen.
   */
  private void countError(Pool pool, Backend b, ProxyError e) {
    // a drained backend's series are gone: its late failures count for the pool alone
    registry
        .counter(
            "dynofleet.proxy.errors",
            "pool",
            pool == null ? "-" : pool.route().name(),
            "code",
            e.code(),
            "backend",
            b == null || b.seriesRemoved ? "-" : b.target.id())
        .increment();
  }

  /**
   * Dynofleet's own answer on the route, before the proxy: status, code header, the request id,
   * short body; counted like the proxy's other answers ({@code pool} null before one is chosen).
   */
  private Future<Void> answer(io.vertx.ext.web.RoutingContext rc, ProxyError e, Pool pool) {
    countError(pool, e); // its path as the HTTP timer's URI tag: see UriTags
    // Netty knows no phrase for it
    if (e.status() == 508) rc.response().setStatusMessage("Loop Detected");
    rc.response()
        .setStatusCode(e.status())
        .putHeader(HeaderNames.X_DYNOFLEET_ERROR, e.code())
        .putHeader(HeaderNames.X_REQUEST_ID, requestIdOf(rc.request()));
    String path = rc.request().path();
    String prefix = dynofleet.prefix();
    if (path != null
        && (path.regionMatches(true, 0, prefix, 0, prefix.length())
            || ReservedPath.matches(path, prefix))) {
      // Dynofleet's own paths answer with problem documents, these refusals too: an API client
      // got text (audit 17)
      String text = e.message().strip();
      return rc.response()
          .putHeader("Content-Type", io.dynofleet.api.Problem.MEDIA_TYPE)
          .end(
              io.vertx.core.json.Json.encode(
                  io.dynofleet.api.Problem.of(e.status(), e.code(), text, text)));
    }
    return rc.response().putHeader("Content-Type", "text/plain; charset=utf-8").end(e.message());
  }

  /** A CONNECT, in either form: a reverse proxy opens no tunnels. */
  private void refuseConnect(io.vertx.ext.web.RoutingContext rc) {
    rc.response().putHeader(HttpHeaders.ALLOW, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    refuseAndClose(rc, ProxyError.NO_CONNECT);
  }

  /**
   * Refuses a request whose connection can carry nothing more (its body cannot be framed, or it
   * asked for a tunnel): said with {@code Connection: close}, then a lingering close (an immediate
   * one could reset the answer away under a body still arriving); whatever Vert.x already read
   * behind it is closed unserved ({@link #DESYNCED}).
   */
  private void refuseAndClose(io.vertx.ext.web.RoutingContext rc, ProxyError e) {
    if (rc.request().connection() instanceof ConnectionBase cb)
      cb.channel().attr(DESYNCED).set(Boolean.TRUE);
    rc.response().putHeader(HttpHeaders.CONNECTION, "close");
    answer(rc, e, null).onComplete(ar -> lingeringClose(rc.request()));
  }

  synchronized HttpClient client() {
    if (client == null)
      client = newClient(config.poolSizePerBackend(), config.connectionQueuePerBackend());
    return client;
  }

  /**
   * The client of the event loop this request runs on. Vert.x pools connections per client, not per
   * loop: with one client for all, a request served on one loop was often given a connection owned
   * by another, so its head was written by a task handed to that loop and the response handed back,
   * two thread hops and wake-ups per request. A client per loop keeps the whole exchange on one
   * thread, as nginx's workers do. {@code pool-size-per-backend} is shared out among the loops.
   */
  HttpClient loopClient() {
    ContextInternal ctx = ContextInternal.current();
    if (ctx == null || !ctx.isEventLoopContext()) return client();
    EventLoop loop = ctx.nettyEventLoop();
    HttpClient c = loopClients.get(loop);
    if (c != null) return c;
    return loopClients.computeIfAbsent(
        loop,
        l -> {
          int loops = 0;
          for (EventExecutor e : ((VertxInternal) vertx).getEventLoopGroup()) loops++;
          loopShare = share(config.poolSizePerBackend(), loops);
          loopOpen.put(l, new HashMap<>());
          return newClient(
              share(config.poolSizePerBackend(), loops),
              share(config.connectionQueuePerBackend(), loops));
        });
  }

  /**
   * Counts a loop client's connection to {@code b}'s address in {@link #loopOpen} the first time it
   * carries a request, until it closes (a channel attribute check per request, nothing allocated).
   */
  private void opened(HttpConnection c, Backend b) {
    if (!(c instanceof ConnectionBase cb) || cb.channel().hasAttr(COUNTED)) return;
    Channel ch = cb.channel();
    Map<Backend.Address, int[]> open = loopOpen.get(ch.eventLoop());
    if (open == null) return; // the shared client's: never a loop's
    ch.attr(COUNTED).set(Boolean.TRUE);
    Backend.Address a = b.address;
    open.computeIfAbsent(a, k -> new int[1])[0]++;
    ch.closeFuture()
        .addListener(
            f -> {
              int[] n = open.get(a);
              if (n != null && --n[0] <= 0) open.remove(a);
            });
  }

  /**
   * Whether a wait for one of this loop's connections to {@code b} that ran out was a connect's:
   * fewer than the loop's share of connections to its address (whichever backends, of whichever
   * pools, opened them: the client pools them per address) were open, so the pool was opening one
   * for the waiters, and the backend had not taken it when the pool's timeout (shorter than or
   * equal to {@code DYNOFLEET_PROXY_CONNECT_TIMEOUT}) ended the wait. That connect is the backend's
   * failure, as one its own timer ended would be.
   */
  private boolean connecting(Backend b) {
    ContextInternal ctx = ContextInternal.current();
    if (ctx == null || !ctx.isEventLoopContext()) return false;
    Map<Backend.Address, int[]> open = loopOpen.get(ctx.nettyEventLoop());
    if (open == null) return false;
    int[] n = open.get(b.address);
    return (n == null ? 0 : n[0]) < loopShare;
  }

  /** A loop's share of a per-backend number: ⌈n ÷ loops⌉, at least 1. */
  private static int share(int n, int loops) {
    return Math.max(1, (n + loops - 1) / Math.max(1, loops));
  }

  private HttpClient newClient(int poolSize, int waitQueue) {
    HttpClientOptions o =
        new HttpClientOptions()
            .setKeepAlive(true)
            .setKeepAliveTimeout((int) Math.max(1, config.keepAliveTimeout().toSeconds()))
            .setConnectTimeout((int) config.connectTimeout().toMillis())
            .setForceSni(true)
            .setTrustAll(config.trustAll())
            .setVerifyHost(!config.trustAll())
            .setTcpNoDelay(true)
            .setMaxHeaderSize(config.maxResponseHeaderSize())
            .setDecompressionSupported(false);
    // the wait for a pooled connection is bounded by the pool's timeout
    // (see origin) and, here, in size: Vert.x's default queue is
    // unbounded, and a burst on a stuck backend queued without limit
    return ClientConnections.client(
        vertx,
        o,
        new PoolOptions().setHttp1MaxSize(poolSize).setMaxWaitQueueSize(waitQueue),
        LOG,
        "backend");
  }

  private Future<HttpClientRequest> origin(ProxyContext ctx) {
    Exchange ex = ctx.get(CTX, Exchange.class);
    if (ex == null) return webSocketOrigin(ctx); // WebSocket upgrades bypass interceptors
    Backend b = ex.backend;
    Duration timeout = timeout(ex.pool);
    RequestOptions ro = new RequestOptions().setHost(b.host).setPort(b.port).setSsl(b.ssl);
    // the pool's timeout also bounds the wait for one of the loop's pooled connections to the
    // backend (Vert.x's own timer; its default is none): a request beyond the loop's share of
    // pool-size-per-backend waited without limit, holding its slot, while a stuck backend held them
    if (!timeout.isZero())
      ro.setIdleTimeout(timeout.toMillis()).setConnectTimeout(timeout.toMillis());
    HttpServerRequest in = ctx.request().proxiedRequest();
    Future<HttpClientRequest> req =
        b.request(vertx, loopClient(), ro)
            .transform(
                ar -> {
                  if (ar.failed()) {
                    // no connection in time: a TimeoutException before any
                    // request exists is Vert.x's pool timer (a TCP connect that
                    // fails or times out is a ConnectException of its own). It
                    // ended either a wait for a busy connection, or a connect the
                    // backend had not answered yet (a pool timeout at or below the
                    // connect timeout): that one is the backend's failure
                    boolean timedOut =
                        ar.cause() instanceof TimeoutException && !isConnect(ar.cause());
                    ex.connectWait = timedOut && connecting(b);
                    ex.poolWait = timedOut && !ex.connectWait;
                    ex.poolBusy =
                        ar.cause() instanceof io.vertx.core.http.ConnectionPoolTooBusyException;
                    return Future.failedFuture(ar.cause());
                  }
                  HttpClientRequest r = ar.result();
                  opened(r.connection(), b);
                  // a backend request is reset when its client's body fails (a malformed chunk)
                  // or the client left, here and by the library, and neither set a handler:
                  // Vert.x logged each reset at ERROR, with nothing to tell the request, for
                  // anyone to flood (security review 4 S4-2). The exchange's outcome (a 502, a
                  // client gone) is counted and told where it is decided
                  r.exceptionHandler(
                      e -> LOG.debugf("backend request %s ended: %s", ex.requestId, e.toString()));
                  if (clientGone(in)) {
                    // the client left while the request waited
                    // for a connection: nothing is sent for it
                    r.reset();
                    return Future.failedFuture(new ProxyError.Rejected(ProxyError.CLIENT_GONE));
                  }
                  return Future.succeededFuture(r);
                });
    req.onSuccess(
        r -> {
          ex.creq = r;
          // Host: the backend's web_url authority (Heroku routes by Host), set
          // on the backend request itself: set through the library, it would
          // also overwrite the X-Forwarded-Host kept above. A client without
          // Host (HTTP/1.0 allows it) keeps the request options' host and port.
          if (in.authority() != null)
            r.authority(HostAndPort.create(b.host, b.target.url().getPort()));
          if (ex.expectContinue) sendContinue(ctx, ex);
          r.earlyHintsHandler(h -> earlyHints(in, h));
          // Vert.x hears 100 and 103 as interim and any other 1xx (102, 104, an unasked 101)
          // as the final head, with the real answer still to come on the connection: were it
          // pooled again, the next request on it would read this one's answer. It never is:
          // it closes here, before anything else hears the head, and the client gets a 502.
          r.response()
              .onSuccess(
                  resp -> {
                    if (resp.statusCode() < 200) r.connection().close();
                  });
        });
    return req;
  }

  /**
   * A backend's 103 (Early Hints) goes on to the client, as a proxy must forward 1xx responses (RFC
   * 9110 15.2): the browser preloads what the Link headers name while the page is still being made.
   * Not to an HTTP/1.0 client, which knows no 1xx; not once the final head is out. Its headers pass
   * the same filters as a final response's.
   */
  private void earlyHints(HttpServerRequest in, MultiMap h) {
    HttpServerResponse r = in.response();
    if (in.version() == HttpVersion.HTTP_1_0 || r.headWritten() || r.closed()) return;
    sanitize(h);
    headWithoutBody(h);
    r.writeEarlyHints(h);
  }

  /** The client's 100 (Continue), once: a backend connection is ready for its body. */
  private static void sendContinue(ProxyContext ctx, Exchange ex) {
    if (ex.continued) return;
    ex.continued = true;
    HttpServerResponse r = ctx.request().proxiedRequest().response();
    if (!r.headWritten() && !r.closed()) r.writeContinue();
  }

  /**
   * A WebSocket upgrade: the backend with fewer open tunnels of two (a tunnel lasts as long as its
   * client connection, so request counts say nothing of it; round-robin and random pools keep their
   * algorithm), the forwarding headers of any request, and the tunnel counted from the backend's
   * 101 to the client connection's close.
   */
  private Future<HttpClientRequest> webSocketOrigin(ProxyContext ctx) {
    HttpServerRequest req = ctx.request().proxiedRequest();
    Pool pool = table.select(req.getHeader(HttpHeaders.HOST));
    if (pool == null) return Future.failedFuture("no pool");
    Backend b =
        pool.route().algorithm() == Algorithm.LEAST_REQUEST
            ? Balancer.fewestTunnels(
                Balancer.candidates(pool.backends(), Set.of(), System.nanoTime()),
                ThreadLocalRandom.current())
            : choose(pool, Set.of());
    if (b == null) return Future.failedFuture("no backend");
    meters(pool, b);
    // the library copies the client's headers (but Host and Connection) onto the upgrade:
    // forward them as any request's, keeping Upgrade, which Connection names here
    MultiMap h = req.headers();
    stripConnectionListed(h, true);
    String rid = requestIdOf(req);
    forwardingHeaders(h, req, rid, pool);
    proxySecret(h, pool, b);
    b.tunnels.incrementAndGet();
    AtomicBoolean counted = new AtomicBoolean(true);
    Runnable closed =
        () -> {
          if (counted.compareAndSet(true, false)) b.tunnels.decrementAndGet();
        };
    RequestOptions ro = new RequestOptions().setHost(b.host).setPort(b.port).setSsl(b.ssl);
    // the pool's timeout bounds the wait for a pooled connection and for the
    // backend's answer to the upgrade (Vert.x's timer ends with the response
    // head: a tunnel is never cut by it). A backend that never answered held
    // the connection, the tunnel count and the client for ever (review 7)
    Duration timeout = timeout(pool);
    if (!timeout.isZero())
      ro.setIdleTimeout(timeout.toMillis()).setConnectTimeout(timeout.toMillis());
    return b.request(vertx, loopClient(), ro)
        .onFailure(
            e -> {
              closed.run();
              // no pooled connection within the timeout: nothing reached
              // the backend, not its failure, unless the wait was for a
              // connect it never answered (see connecting)
              boolean timedOut = e instanceof TimeoutException && !isConnect(e);
              boolean connectWait = timedOut && connecting(b);
              if (timedOut && !connectWait) {
                if (!req.response().headWritten())
                  req.response()
                      .putHeader(HeaderNames.X_DYNOFLEET_ERROR, ProxyError.TIMEOUT.code());
                countError(pool, b, ProxyError.TIMEOUT);
              } else if (e instanceof io.vertx.core.http.ConnectionPoolTooBusyException) {
                // too many wait for a connection to it:
                // nothing reached it either (a 503, see mount)
                if (!req.response().headWritten()) {
                  req.response()
                      .putHeader(
                          HeaderNames.X_DYNOFLEET_ERROR, ProxyError.CONNECTION_QUEUE_FULL.code());
                }
                countError(pool, ProxyError.CONNECTION_QUEUE_FULL);
              } else {
                upgradeFailed(
                    req, pool, b, ProxyError.CONNECT, failureOf(pool, e, false, connectWait));
              }
            })
        .onSuccess(
            creq -> {
              // Host: the backend's web_url authority, as for any request (Heroku routes by Host)
              if (req.authority() != null)
                creq.authority(HostAndPort.create(b.host, b.target.url().getPort()));
              // a client that leaves before the backend answers frees the
              // backend connection at once (the library watches neither
              // side until then); after a 101 the tunnel's own close does
              AtomicBoolean headHeard = new AtomicBoolean();
              req.response()
                  .closeHandler(
                      v -> {
                        if (!headHeard.get()) creq.reset();
                      });
              if (clientGone(req)) creq.reset(); // gone while the connection was being found
              // the library's connect() answers with this same response future
              creq.response()
                  .onComplete(
                      ar -> {
                        headHeard.set(true);
                        // heard before the library copies the backend's head to the client: the
                        // same rules as for any response (no forged X-Dynofleet-*, no cookies
                        // for the reserved prefix), and the request id and Via as on any answer
                        if (ar.failed() && clientGone(req)) {
                          countError(
                              pool,
                              ProxyError.CLIENT_GONE); // its reset above, not the backend's doing
                        } else if (ar.failed()) {
                          Throwable err = ar.cause();
                          boolean timedOut =
                              !isConnect(err)
                                  && (err instanceof TimeoutException
                                      || (err.getMessage() != null
                                          && err.getMessage()
                                              .toLowerCase(Locale.ROOT)
                                              .contains("timeout")));
                          upgradeFailed(
                              req,
                              pool,
                              b,
                              timedOut ? ProxyError.TIMEOUT : ProxyError.BACKEND,
                              failureOf(pool, err, timedOut, false));
                        }
                        if (ar.succeeded()) {
                          sanitize(ar.result().headers());
                          ar.result()
                              .headers()
                              .set(HeaderNames.X_REQUEST_ID, rid)
                              .add(HeaderNames.VIA, HeaderNames.VIA_DYNOFLEET);
                        }
                        if (ar.succeeded() && ar.result().statusCode() != 101)
                          refused(req, creq, ar.result());
                        if (ar.failed()
                            || ar.result().statusCode() != 101
                            || !(req.connection() instanceof ConnectionBase conn)) {
                          closed.run();
                        } else {
                          // the channel's own close: after the upgrade Vert.x hands the channel
                          // to a NetSocket, and the HTTP connection object hears nothing more
                          io.netty.channel.Channel ch = conn.channel();
                          QuarkusRequestWrapper quarkusRequest = QuarkusRequestWrapper.get(req);
                          tunnels.add(ch);
                          ch.closeFuture()
                              .addListener(
                                  f -> {
                                    tunnels.remove(ch);
                                    closed.run();
                                    requestDone(quarkusRequest);
                                  });
                          if (stopping) ch.close(); // the signal came while the backend answered
                        }
                      });
            });
  }

  /**
   * An upgrade that never reached its backend or got no answer: the library answers a bare 502; the
   * code says which, and the failure counts toward the backend's passive ejection as a request's
   * would, kept as {@code cause} says it ({@link #failureOf}: {@code connection refused}, {@code
   * timed out after 2 s (routing.timeoutSeconds)}), as a request's failure is, not as the answer's
   * code.
   */
  private void upgradeFailed(
      HttpServerRequest req, Pool pool, Backend b, ProxyError e, Object cause) {
    if (!req.response().headWritten())
      req.response().putHeader(HeaderNames.X_DYNOFLEET_ERROR, e.code());
    countError(pool, b, e);
    failure(pool, b, cause);
  }

  /**
   * A backend refused the upgrade. The library answers the client with the status alone and leaves
   * the backend connection as it is: Vert.x never returns a connection used for an upgrade attempt
   * to its pool, so every refusal held a pooled connection until the pool was exhausted and plain
   * requests to that backend hung. The connection is closed here, and the backend's headers
   * (WWW-Authenticate, cookies; sanitized, without hop-by-hop ones) go on the client's response
   * before the library writes it. The body is dropped, as before.
   */
  private static void refused(
      HttpServerRequest req, HttpClientRequest creq, HttpClientResponse resp) {
    MultiMap from = resp.headers();
    headWithoutBody(from);
    HttpServerResponse to = req.response();
    if (!to.headWritten()) to.headers().addAll(from);
    creq.connection().close();
  }

  /**
   * What a failed answer weighs in the balancer's estimate: the pool's timeout, the slowest a good
   * answer can be (30 s without one), so a failing backend never looks faster than a working one.
   */
  private long failurePenalty(Pool pool) {
    Duration t = timeout(pool);
    return t.isZero() ? 30_000_000_000L : t.toNanos();
  }

  /** The setting {@link #timeout} comes from, as a failure names it. */
  private static String timeoutSetting(Pool pool) {
    Duration t = pool.route().timeout();
    return t == null || t.isZero() ? "DYNOFLEET_PROXY_DEFAULT_TIMEOUT" : "routing.timeoutSeconds";
  }

  private Duration timeout(Pool pool) {
    Duration t = pool.route().timeout();
    return t == null || t.isZero() ? config.defaultTimeout() : t;
  }

  /**
   * A request's failure as its backend keeps it: a timeout of the proxy's own timers said with the
   * setting that bounds it, as a probe's is ({@code timed out after 30 s
   * (routing.timeoutSeconds)}), not Vert.x's "The timeout period of 30000ms has been exceeded while
   * executing GET /x for server ..."; a connect that got no answer as such, not "connection
   * refused" (Netty's connect timeout is a ConnectException) (audit 22 L6). Anything else as it
   * came.
   */
  private Object failureOf(Pool pool, Throwable err, boolean timedOut, boolean connectWait) {
    if (connectWait) {
      // the pool's timer ended a connect still under way: said with that timeout
      return new HealthProber.TimedOut("connect timed out", timeout(pool), timeoutSetting(pool));
    }
    if (timedOut)
      return new HealthProber.TimedOut("timed out", timeout(pool), timeoutSetting(pool));
    if (HealthProber.connectTimedOut(err)) {
      return new HealthProber.TimedOut(
          "connect timed out", config.connectTimeout(), HealthProber.CONNECT_SETTING);
    }
    return err;
  }

  Backend choose(Pool pool, Set<Backend> exclude) {
    long now = System.nanoTime();
    return pick(pool, Balancer.candidates(pool.backends(), exclude, now), now);
  }

  private Backend pick(Pool pool, List<Backend> candidates, long now) {
    return Balancer.pick(
        pool.route().algorithm(),
        candidates,
        pool.cursor().getAndIncrement(),
        ThreadLocalRandom.current(),
        now,
        config.slowStart().toNanos());
  }

  @Override
  public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
    ProxyRequest preq = ctx.request();
    HttpServerRequest sreq = preq.proxiedRequest();
    Exchange ex = new Exchange();
    ex.start = System.nanoTime();
    ctx.set(CTX, ex);
    ex.requestId = requestIdOf(sreq);
    ex.requestStartMillis = requestStart(sreq.getHeader(HeaderNames.X_REQUEST_START));
    String cl = sreq.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (cl != null && parseLong(cl) > config.maxBodySize()) return error(ctx, ProxyError.TOO_LARGE);
    boolean chunked = cl == null && sreq.headers().contains(HttpHeaders.TRANSFER_ENCODING);
    if (chunked) {
      // chunked: count as it streams, and fail the exchange with 413 once past the limit
      ex.upload =
          new UploadBody(
              new LimitedStream(sreq, config.maxBodySize(), () -> ex.tooLarge = true),
              () -> uploaded(ex));
      preq.setBody(Body.body(ex.upload, -1));
    } else if (cl == null || parseLong(cl) == 0) {
      noBody(preq);
    } else {
      ex.upload = new UploadBody(sreq, () -> uploaded(ex));
      preq.setBody(Body.body(ex.upload, parseLong(cl)));
    }
    String expect = sreq.getHeader(HttpHeaders.EXPECT);
    if (expect != null && expect.trim().equalsIgnoreCase("100-continue")) {
      // answered here, as Envoy does: the backend gets no Expect (its 100 would end at our client,
      // unread) and the client its 100 once a backend is connected to take the body; before that,
      // a final status (no pool, no backend, queue full) spares it the upload
      preq.headers().remove(HttpHeaders.EXPECT);
      ex.expectContinue =
          sreq.version() != HttpVersion.HTTP_1_0 && (chunked || (cl != null && parseLong(cl) > 0));
    }
    var h = preq.headers();
    ex.pool = table.select(sreq.getHeader(HttpHeaders.HOST));
    if (ex.pool == null) return error(ctx, noPool());
    if (ex.pool.route().httpsRedirect()) {
      String https = httpsRedirect(sreq);
      if (https != null) return redirect(ctx, ex, https);
    }
    if (ex.pool.route().maintenance() && !acmeChallenge(sreq)) {
      return maintenance(ctx, ex);
    }
    boolean listedClose =
        stripConnectionListed(h, false)
            && !sreq.headers().contains(HttpHeaders.CONNECTION, "close", true);
    // after SIGTERM the answer ends its connection, so the client's next request goes through the
    // router to a dyno that stays (Quarkus's drain does so only once the passes have ended)
    ex.closeAfter = listedClose || (stopping && sreq.version() != HttpVersion.HTTP_2);
    // hop-by-hop in practice (RFC 9112 C.2.2), and not in the library's list
    h.remove(HeaderNames.PROXY_CONNECTION);
    forwardingHeaders(h, sreq, ex.requestId, ex.pool);
    return attempt(ctx, ex, 0);
  }

  /**
   * Removes a client's {@code X_Dynofleet_Client_Ip} and {@code X_Dynofleet_Proxy_Secret}: Rack and
   * CGI servers read an underscore as a dash, so the app would see them beside (or, by its merge
   * rule, instead of) the proxy's own (review 24). Names are only compared when they are as long as
   * those two and hold an underscore; no header is touched otherwise.
   */
  private static void stripUnderscoreSpellings(MultiMap h) {
    List<String> forged = null;
    for (Map.Entry<String, String> e : h) {
      String n = e.getKey();
      if ((n.length() == CLIENT_IP_LENGTH || n.length() == PROXY_SECRET_LENGTH)
          && n.indexOf('_') >= 0) {
        String dashed = n.replace('_', '-');
        if (dashed.equalsIgnoreCase(HeaderNames.X_DYNOFLEET_CLIENT_IP.toString())
            || dashed.equalsIgnoreCase(HeaderNames.X_DYNOFLEET_PROXY_SECRET.toString())) {
          if (forged == null) forged = new ArrayList<>(2);
          forged.add(n);
        }
      }
    }
    if (forged != null) forged.forEach(h::remove);
  }

  private static final int CLIENT_IP_LENGTH = HeaderNames.X_DYNOFLEET_CLIENT_IP.length();
  private static final int PROXY_SECRET_LENGTH = HeaderNames.X_DYNOFLEET_PROXY_SECRET.length();

  /**
   * ACME's http-01 challenge path: the prefix and one token, which RFC 8555 (8.3) makes base64url,
   * so it never holds a dot, a percent sign or a slash.
   */
  private static final java.util.regex.Pattern ACME_CHALLENGE =
      java.util.regex.Pattern.compile("/\\.well-known/acme-challenge/[A-Za-z0-9_-]{1,256}");

  /**
   * An ACME http-01 challenge, which passes the https redirect and maintenance: plain http by
   * design (Let's Encrypt asks it over port 80), and a renewal must not fail. Only GET or HEAD of
   * exactly one token: a prefix test let {@code POST
   * /.well-known/acme-challenge/%2e%2e/%2e%2e/orders} (and upgrades) through maintenance to a
   * backend that resolves dot segments (security review 3 #2).
   */
  private static boolean acmeChallenge(HttpServerRequest req) {
    HttpMethod m = req.method();
    String path = req.path();
    return (m == HttpMethod.GET || m == HttpMethod.HEAD)
        && path != null
        && ACME_CHALLENGE.matcher(path).matches()
        && !req.headers().contains(HttpHeaders.UPGRADE);
  }

  /**
   * {@code Retry-After} of a maintenance answer, in seconds: a minute, what a maintenance for a
   * migration lasts at the least. Search engines keep a page that answers 503 with it (a 503
   * without it, day after day, is read as gone), and a client that honours it comes back soon after
   * the maintenance ends.
   */
  static final String MAINTENANCE_RETRY_AFTER = "60";

  /**
   * A request of a pool in maintenance ({@code spec.routing.maintenance}, as Heroku's {@code
   * maintenance:on}): 503 and the maintenance page, no backend called (they keep running, and the
   * writes the maintenance is for stop here). ACME challenges pass, as for {@link #httpsRedirect}:
   * a certificate renewed during a maintenance must not fail. A body the client sends, or holds
   * back for a 100, is not read: the connection ends after the answer.
   */
  private Future<ProxyResponse> maintenance(ProxyContext ctx, Exchange ex) {
    ProxyResponse r = ctx.request().response().setStatusCode(503);
    Buffer page = maintenanceAnswer(r.headers(), ex.pool);
    if (ctx.request().proxiedRequest().version() != HttpVersion.HTTP_2
        && (ex.upload != null || ex.expectContinue)) {
      r.headers().set(HttpHeaders.CONNECTION, "close");
    }
    r.setBody(Body.body(page));
    return Future.succeededFuture(r);
  }

  /**
   * The headers of a maintenance answer, set on {@code h}, and its body: the pool's own page as
   * last fetched, else the built-in one. {@code no-store}: a page cached by a browser or a CDN
   * would outlive the maintenance. Counted in {@code dynofleet_proxy_maintenance_total{pool}}.
   */
  private Buffer maintenanceAnswer(MultiMap h, Pool pool) {
    MaintenancePages.Page page = pages.page(pool.route().maintenancePageUrl());
    h.set(HeaderNames.X_DYNOFLEET_ERROR, "maintenance")
        .set(HttpHeaders.RETRY_AFTER, MAINTENANCE_RETRY_AFTER)
        .set(HttpHeaders.CACHE_CONTROL, "no-store")
        .set(
            HttpHeaders.CONTENT_TYPE,
            page == null ? "text/html; charset=utf-8" : page.contentType());
    registry.counter("dynofleet.proxy.maintenance", "pool", pool.route().name()).increment();
    return page == null ? MaintenancePages.BUILT_IN : page.body();
  }

  /** The pages the pools in maintenance name now, for {@link MaintenancePages} to fetch. */
  private void wantPages() {
    Set<String> urls = new HashSet<>();
    for (Pool p : table.pools().values()) {
      if (p.route().maintenance() && p.route().maintenancePageUrl() != null) {
        urls.add(p.route().maintenancePageUrl());
      }
    }
    pages.want(urls);
  }

  /**
   * Where a request of a pool with {@code httpsRedirect} goes instead of to a backend: its https
   * address, when it reached Heroku's router over plain http ({@link
   * io.dynofleet.api.ApiAuth#reachedOverHttp}: on a dyno only); else null. The backends cannot
   * tell: the proxy reaches them at their https web_url, through a router of their own that sets
   * {@code X-Forwarded-Proto: https}, so an app's own redirect (Rails' force_ssl, Django's
   * SECURE_SSL_REDIRECT) never fired, and the page went out in clear (audit 20 H1). ACME challenges
   * pass, and so does a Host that is not a plain {@code host[:port]} (no redirect to a URL it would
   * change).
   */
  private String httpsRedirect(HttpServerRequest req) {
    if (!auth.reachedOverHttp(req)) return null;
    if (acmeChallenge(req)) return null;
    String host = req.getHeader(HttpHeaders.HOST);
    return host != null && plainAuthority(host)
        ? io.dynofleet.api.ApiAuth.httpsLocation(req)
        : null;
  }

  /**
   * The 308 to https, as the dashboard's ({@code no-store}: turning {@code httpsRedirect} off takes
   * effect at once; an app's HSTS header is what tells browsers for good). A body the client sends,
   * or holds back for a 100, is not read: the connection ends after the answer.
   */
  private Future<ProxyResponse> redirect(ProxyContext ctx, Exchange ex, String location) {
    ProxyResponse r = ctx.request().response().setStatusCode(308);
    r.headers().set(HttpHeaders.LOCATION, location).set(HttpHeaders.CACHE_CONTROL, "no-store");
    if (ctx.request().proxiedRequest().version() != HttpVersion.HTTP_2
        && (ex.upload != null || ex.expectContinue)) {
      r.headers().set(HttpHeaders.CONNECTION, "close");
    }
    r.setBody(Body.body(Buffer.buffer()));
    countRedirect(ex.pool);
    return Future.succeededFuture(r);
  }

  /**
   * Whether the client is gone: its response closed, or its connection's channel no longer open
   * (which Vert.x learns a moment later). A backend request reset by the proxy is no sign: the
   * library also resets it when a write to the backend fails.
   */
  private static boolean clientGone(HttpServerRequest sreq) {
    if (sreq.response().closed()) return true;
    return sreq.connection() instanceof ConnectionBase cb && !cb.channel().isActive();
  }

  /**
   * An absolute-form target ({@code GET http://host/path}) is routed again in origin form, its
   * authority made the Host (RFC 9112 3.2.2: it wins over the Host header, which a proxy replaces):
   * the pool is chosen by it, X-Forwarded-Host names it, and backends get the origin form, as from
   * Heroku's router, WebSocket upgrades included. False for a target that is not absolute ({@code
   * OPTIONS *}).
   */
  private static boolean originForm(
      io.vertx.ext.web.RoutingContext rc, MultiMap headers, String uri, String path) {
    String target = targetAuthority(uri);
    if (target == null) return false;
    if (!target.isEmpty()) headers.set(HttpHeaders.HOST, target);
    String query = rc.request().query();
    String p = path == null || path.isEmpty() ? "/" : path;
    rc.reroute(query == null ? p : p + "?" + query);
    return true;
  }

  /**
   * The authority of an absolute-form target ({@code http://host:port/path} → {@code host:port}),
   * or null.
   */
  static String targetAuthority(String uri) {
    int scheme = uri.indexOf("://");
    if (scheme < 0) return null;
    int start = scheme + 3;
    int end = start;
    while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) end++;
    String authority = uri.substring(start, end);
    int at = authority.lastIndexOf('@'); // userinfo is no part of the host
    return at >= 0 ? authority.substring(at + 1) : authority;
  }

  /**
   * A chunk of the client's body went to the backend: its timeout starts again (at most every 50
   * ms), so a steady upload longer than the timeout goes through, as with nginx's
   * proxy_send_timeout. Not once the answer's head is in: Vert.x's timer then stopped for good.
   */
  private void uploaded(Exchange ex) {
    long now = System.nanoTime();
    if (now - ex.rearmed < 50_000_000L) return;
    ex.rearmed = now;
    HttpClientRequest c = ex.creq;
    if (c == null || ex.pool == null || c.response().isComplete()) return;
    Duration t = timeout(ex.pool);
    if (!t.isZero()) c.idleTimeout(t.toMillis());
  }

  /**
   * The pool's secret, which its apps have as DYNOFLEET_PROXY_SECRET: they are reachable at their
   * herokuapp.com address by anyone, who may write X-Dynofleet-Client-Ip too; only a request with
   * the secret came through here. Per backend, set for each attempt: the one its app holds, which
   * after a rotation is the previous secret until the rollout replaces it (sent the new one, it
   * would distrust the header meanwhile).
   */
  private static void proxySecret(MultiMap h, Pool pool, Backend b) {
    String secret = pool.route().secretFor(b.target.id());
    if (secret != null) h.set(HeaderNames.X_DYNOFLEET_PROXY_SECRET, secret);
    else h.remove(HeaderNames.X_DYNOFLEET_PROXY_SECRET);
  }

  /**
   * Whether any of the request's {@code Authorization} lines is Dynofleet's own API token; if so,
   * it is removed and the others kept. Only the first was looked at: the token as a second line
   * reached the backend (security review 4 S4-4).
   */
  private boolean ownBearerAmong(MultiMap h) {
    List<String> all = h.getAll(HttpHeaders.AUTHORIZATION);
    boolean own = false;
    for (String a : all) {
      own |= auth.ownBearer(a);
    }
    if (own) {
      h.remove(HttpHeaders.AUTHORIZATION);
      for (String a : all) {
        if (!auth.ownBearer(a)) h.add(HttpHeaders.AUTHORIZATION, a);
      }
    }
    return own;
  }

  /**
   * X-Request-Id, X-Forwarded-For (appended), -Proto and -Port (kept if set: Heroku's router sets
   * them), -Host (the Host that chose the pool, unless {@code trust-forwarded-host}: Heroku's
   * router passes a client's own, and a backend, whose Host is now its own web_url, builds its
   * links from it), X-Dynofleet-Client-Ip and X-Dynofleet-Proxy-Secret, and Via.
   */
  private void forwardingHeaders(MultiMap h, HttpServerRequest sreq, String requestId, Pool pool) {
    h.set(HeaderNames.X_REQUEST_ID, requestId);
    // Dynofleet's own API token, sent to a path outside the prefix (a missing or mistyped prefix),
    // is not handed to a backend (audit 13: its echo showed the token)
    String authorization = h.get(HttpHeaders.AUTHORIZATION);
    if (authorization != null && ownBearerAmong(h)) {
      long now = System.nanoTime();
      if (now - ownTokenToldNanos > 60_000_000_000L) {
        ownTokenToldNanos = now;
        LOG.warnf(
            "a request to %s outside %s carried Dynofleet's API token: not passed on to the backend"
                + " (request id %s; said at most once a minute)",
            shortPath(sreq), dynofleet.prefix(), requestId);
      }
    }
    stripUnderscoreSpellings(h);
    String ip = sreq.remoteAddress() == null ? null : sreq.remoteAddress().hostAddress();
    String xff = h.get(HeaderNames.X_FORWARDED_FOR);
    if (xff != null) {
      // several lines are one comma-joined list
      List<String> lines = h.getAll(HeaderNames.X_FORWARDED_FOR);
      if (lines.size() > 1) xff = String.join(", ", lines);
    }
    // the client's address in a header of Dynofleet's own, which the backend's router leaves
    // alone: it appends the load balancer dyno's address to X-Forwarded-For, so every app took
    // that for every client (one per-IP throttle for the whole site; audit 20 H2). A client's
    // own copy is replaced. On a dyno the address the router appended, as ApiAuth's throttle
    // trusts it; elsewhere the connection's
    String client = auth.clientAddress(xff, ip);
    if (client != null) h.set(HeaderNames.X_DYNOFLEET_CLIENT_IP, client);
    else h.remove(HeaderNames.X_DYNOFLEET_CLIENT_IP);
    // a client's own copy of the proxy secret never passes: each attempt sets its backend's
    h.remove(HeaderNames.X_DYNOFLEET_PROXY_SECRET);
    if (ip != null)
      h.set(HeaderNames.X_FORWARDED_FOR, xff == null || xff.isBlank() ? ip : xff + ", " + ip);
    if (!h.contains(HeaderNames.X_FORWARDED_PROTO))
      h.set(HeaderNames.X_FORWARDED_PROTO, sreq.isSSL() ? "https" : "http");
    if (!h.contains(HeaderNames.X_FORWARDED_PORT) && sreq.localAddress() != null)
      h.set(HeaderNames.X_FORWARDED_PORT, Integer.toString(sreq.localAddress().port()));
    if (!config.trustForwardedHost() || !h.contains(HeaderNames.X_FORWARDED_HOST)) {
      String host = sreq.getHeader(HttpHeaders.HOST);
      if (host != null) h.set(HeaderNames.X_FORWARDED_HOST, host);
      else h.remove(HeaderNames.X_FORWARDED_HOST);
    }
    // RFC 7239's Forwarded says the same (host=, proto=, for=), and Spring, Undertow and Jetty read
    // it first: a client's own is as untrusted as its X-Forwarded-Host (audit 8)
    if (!config.trustForwardedHost()) h.remove(HeaderNames.FORWARDED);
    h.add(HeaderNames.VIA, HeaderNames.VIA_DYNOFLEET);
  }

  /** The request's path for a log line: no query (it may hold secrets), at most 100 characters. */
  private static String shortPath(HttpServerRequest sreq) {
    String p = sreq.path();
    return p == null ? "?" : p.length() > 100 ? p.substring(0, 100) + "..." : p;
  }

  /**
   * A request without a body is sent without piping the (empty) client stream into it. The HTTP
   * proxy's pipe, when it fails, resets whichever backend request the exchange holds by then: a
   * pooled connection closing under a GET failed the first try, the retry on another backend
   * started, and the first try's late pipe failure tore the retry down (a 502 for a safe GET). The
   * client request is resumed so its end is consumed as the pipe would have.
   */
  private static void noBody(ProxyRequest preq) {
    preq.setBody(null);
    preq.proxiedRequest().resume();
  }

  /**
   * The client's X-Request-Id if Heroku's router would keep it ({@link #herokuRequestId}), else a
   * new one, as the router replaces it: behind the router every id already has that form, and off
   * Heroku any printable one went to the backend and back to the client, into logfmt logs with the
   * keys it forged (security review 4 S4-9).
   */
  private static String requestIdOf(HttpServerRequest req) {
    String rid = req.getHeader(HeaderNames.X_REQUEST_ID);
    return rid != null && herokuRequestId(rid) ? rid : requestId();
  }

  /** Whether the proxy keeps a client's X-Request-Id: {@link RequestIdForm#kept}. */
  static boolean herokuRequestId(String id) {
    return RequestIdForm.kept(id);
  }

  /** A random (version 4) UUID without SecureRandom's lock on the request path. */
  static String requestId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(hi, lo).toString();
  }

  /**
   * Headers a front end sets for the backend, which a client may not strip by naming them in its
   * Connection header (security review 1: it hid its address and downgraded the protocol), as Envoy
   * keeps them.
   */
  private static boolean forwarding(String name) {
    return name.regionMatches(true, 0, "X-Forwarded-", 0, 12)
        || name.equalsIgnoreCase("Forwarded")
        || name.equalsIgnoreCase("Via")
        || name.equalsIgnoreCase("X-Request-Id")
        || name.equalsIgnoreCase("X-Request-Start")
        || name.equalsIgnoreCase("Host");
  }

  /**
   * Headers named in Connection are hop-by-hop too (RFC 9110 7.6.1); on a WebSocket upgrade {@code
   * keepUpgrade} keeps the Upgrade header it names. Whether it named {@code close}.
   */
  private static boolean stripConnectionListed(MultiMap h, boolean keepUpgrade) {
    List<String> conn = h.getAll("Connection");
    if (conn.isEmpty()) return false;
    boolean close = false;
    for (String v : conn) {
      for (String t : v.split(",")) {
        String name = t.trim();
        if (name.equalsIgnoreCase("close")) close = true;
        if (!name.isEmpty()
            && !name.equalsIgnoreCase("close")
            && !name.equalsIgnoreCase("keep-alive")
            && !(keepUpgrade && name.equalsIgnoreCase("upgrade"))
            && !forwarding(name)) {
          h.remove(name);
        }
      }
    }
    return close;
  }

  private Future<ProxyResponse> attempt(ProxyContext ctx, Exchange ex, int retry) {
    if (retry > 0) noBody(ctx.request()); // only bodiless requests are retried
    return acquire(ex, ctx.request().proxiedRequest().response())
        .transform(
            ar -> {
              // a sample for a slot granted or refused by the queue itself; not for the other
              // failures (no backend, a client gone, a pool removed), which the queue's alert
              // would have blamed on maxInFlightPerBackend (audit 18)
              if (ar.succeeded() || queueRefusal(ar.cause())) recordQueue(ex, ar.succeeded());
              if (ar.failed()) {
                ProxyError e =
                    ar.cause() instanceof ProxyError.Rejected r
                        ? r.error
                        : ar.cause() instanceof RoutingTable.NoPoolException
                            ? ProxyError.NO_POOL
                            : ProxyError.NO_BACKEND;
                return error(ctx, e);
              }
              return send(ctx, ex, ar.result(), retry);
            });
  }

  private Future<ProxyResponse> send(ProxyContext ctx, Exchange ex, Backend b, int retry) {
    proxySecret(ctx.request().headers(), ex.pool, b);
    ex.backend = b;
    ex.tried.add(b);
    ex.creq = null;
    ex.poolWait = false;
    ex.poolBusy = false;
    ex.connectWait = false;
    meters(ex.pool, b);
    b.requests.incrementAndGet();
    AtomicBoolean done = new AtomicBoolean();
    ex.done = done;
    ex.sent = System.nanoTime();
    b.sent(ex.sent);
    return ctx.sendRequest()
        .compose(
            resp -> {
              b.answered(System.nanoTime(), true);
              int st = resp.getStatusCode();
              if (resp.headers().contains(HttpHeaders.TRANSFER_ENCODING)
                  && !chunkedOnly(resp.headers())) {
                // a coding the proxy cannot relay: the library answered 501 on
                // its own and skipped the interceptors, so this backend's slot
                // was never given back (with a per-backend limit the backend was
                // full for good). A bad answer of the backend's, as nginx's 502
                LOG.debugf(
                    "backend %s of pool %s answered with Transfer-Encoding %s; request %s",
                    b.target.id(),
                    ex.pool.route().name(),
                    resp.headers()
                        .getAll(HttpHeaders.TRANSFER_ENCODING), // before release() clears them
                    ex.requestId);
                resp.release();
                if (ex.creq != null) ex.creq.connection().close();
                if (done.compareAndSet(false, true)) release(ex.pool, b);
                b.errors5xx.incrementAndGet();
                failure(ex.pool, b, "unrelayable Transfer-Encoding");
                timeFailure(ex, b, 502);
                return error(ctx, ProxyError.BACKEND);
              }
              if (st < 200) {
                // an interim head Vert.x took for the final
                // one (see origin): its connection is closed
                resp.release();
                if (done.compareAndSet(false, true)) release(ex.pool, b);
                b.errors5xx.incrementAndGet();
                timeFailure(ex, b, 502);
                LOG.debugf(
                    "backend %s of pool %s answered %d as if final: cannot be passed on; request %s",
                    b.target.id(), ex.pool.route().name(), st, ex.requestId);
                return error(ctx, ProxyError.INTERIM);
              }
              if ((st == 502 || st == 503 || st == 504) && retryable(ctx, ex, retry)) {
                // a crashed or overloaded backend: a safe,
                // bodiless request goes to another one instead
                resp.release();
                if (done.compareAndSet(false, true)) release(ex.pool, b);
                b.errors5xx.incrementAndGet();
                failure(ex.pool, b, st);
                timeFailure(ex, b, st);
                countRetry(ex.pool, b);
                retrying(ex, b, st);
                return attempt(ctx, ex, retry + 1);
              }
              return Future.succeededFuture(resp);
            },
            err -> {
              b.answered(System.nanoTime(), false);
              if (done.compareAndSet(false, true)) release(ex.pool, b);
              if (ex.tooLarge) return error(ctx, ProxyError.TOO_LARGE);
              HttpServerRequest sreq = ctx.request().proxiedRequest();
              if (clientGone(sreq)) {
                // the client went away (mid-upload, say) and the proxy reset the backend
                // request for it: the client's failure, as nginx's 499, never the backend's.
                // The wait still tells the balancer how slow the backend was at least.
                long now = System.nanoTime();
                b.observeLatency(now - ex.sent, now);
                return error(ctx, ProxyError.CLIENT_GONE);
              }
              if (ex.poolBusy || ex.poolWait) {
                // no pooled connection to the backend: too many already wait for one (a 503 at
                // once), or the loop's connections stayed busy for the whole timeout (a 504).
                // Nothing reached it, so no failure or latency sample of its own (the balancer
                // already saw the request wait on it); a safe request tries another backend
                LOG.debugf(
                    ex.poolBusy
                        ? "connection wait queue of backend %s of pool %s full; request %s"
                        : "no connection to backend %s of pool %s within the timeout; request %s",
                    b.target.id(),
                    ex.pool.route().name(),
                    ex.requestId);
                if (retryable(ctx, ex, retry)) {
                  countRetry(ex.pool, b);
                  return attempt(ctx, ex, retry + 1);
                }
                return error(
                    ctx, ex.poolBusy ? ProxyError.CONNECTION_QUEUE_FULL : ProxyError.TIMEOUT);
              }
              boolean connect = ex.connectWait || isConnect(err);
              boolean timeout =
                  !connect
                      && (err instanceof TimeoutException
                          || (err.getMessage() != null
                              && err.getMessage().toLowerCase(Locale.ROOT).contains("timeout")));
              if (timeout && !sreq.isEnded() && ex.upload != null && !ex.upload.heldBack()) {
                // no chunk of the client's body for the whole timeout (each one restarts
                // it), and the backend was taking them: the client stopped sending. 408,
                // as nginx's client_body_timeout; not the backend's timeout
                return error(ctx, ProxyError.CLIENT_TIMEOUT);
              }
              // the backend's failure (a timeout, a connect failure, a
              // reset): in its error count, which held only the 5xx it sent,
              // so one that timed out on every request showed 0 % errors
              b.errors5xx.incrementAndGet();
              Object cause = failureOf(ex.pool, err, timeout, ex.connectWait);
              failure(ex.pool, b, cause);
              timeFailure(ex, b, timeout ? 504 : 502);
              long now = System.nanoTime();
              b.observeLatency(
                  now - ex.sent, now); // a hung backend looks slow to the balancer at once
              b.observeFailure(failurePenalty(ex.pool), now); // and a failing one never looks fast
              // connect failures never reached the backend; timeouts and resets of a safe, bodiless
              // request are also retried once (nothing was sent to the client yet)
              if (retryable(ctx, ex, retry)) {
                countRetry(ex.pool, b);
                retrying(ex, b, cause);
                return attempt(ctx, ex, retry + 1);
              }
              LOG.debugf(
                  "backend %s of pool %s failed: %s; request %s",
                  b.target.id(),
                  ex.pool.route().name(),
                  Backend.describeFailure(cause),
                  ex.requestId);
              return error(
                  ctx,
                  timeout ? ProxyError.TIMEOUT : connect ? ProxyError.CONNECT : ProxyError.BACKEND);
            });
  }

  /**
   * A failed attempt in its backend's request timer, as the 5xx the proxy answers for it (or the
   * backend's own, retried): the timer saw only answers passed on, so a timeout retried on another
   * backend, or any the proxy answered itself, left no trace there but in the retry and error
   * counters (review 16). Its time runs from when the attempt was sent.
   */
  private void timeFailure(Exchange ex, Backend b, int status) {
    time(b, status, System.nanoTime() - ex.sent);
  }

  /** Safe method, no request body, retries left, and another backend to try. */
  private boolean retryable(ProxyContext ctx, Exchange ex, int retry) {
    HttpMethod m = ctx.request().getMethod();
    if (m != HttpMethod.GET && m != HttpMethod.HEAD && m != HttpMethod.OPTIONS) return false;
    if (retry >= ex.pool.route().retries()) return false;
    HttpServerRequest sreq = ctx.request().proxiedRequest();
    String cl = sreq.getHeader(HttpHeaders.CONTENT_LENGTH);
    if ((cl != null && !cl.trim().equals("0"))
        || sreq.headers().contains(HttpHeaders.TRANSFER_ENCODING)) return false;
    // the retry picks from the pool's current snapshot (one look-up, on the failure path only):
    // the one the request arrived on could not reach backends a reload added since, so a GET that
    // failed on a backend the reload removed found nothing to retry on (review 7). A pool removed
    // meanwhile keeps its last snapshot
    Pool current = table.pools().get(ex.pool.route().name());
    if (current != null) ex.pool = current;
    return !Balancer.candidates(ex.pool.backends(), ex.tried, System.nanoTime()).isEmpty();
  }

  // ---- slots and the wait queue

  /**
   * A backend with a slot taken for this request. Without a per-backend limit: at once. With one: a
   * free backend at once when nobody is waiting, else a place in the pool's FIFO queue (503 when
   * full), granted when a request on any backend of the pool ends (503 after the queue timeout).
   */
  private Future<Backend> acquire(Exchange ex, HttpServerResponse resp) {
    Pool pool = ex.pool;
    long now = System.nanoTime();
    List<Backend> c = Balancer.candidates(pool.backends(), ex.tried, now);
    if (c.isEmpty()) return Future.failedFuture(new ProxyError.Rejected(ProxyError.NO_BACKEND));
    int limit = pool.route().maxInFlightPerBackend();
    if (limit <= 0) {
      Backend b = pick(pool, c, now);
      b.tryAcquire(0);
      return Future.succeededFuture(b);
    }
    WaitQueue q = pool.queue();
    if (q.isEmpty()) {
      Backend b = take(pool, ex.tried, limit);
      if (b != null) return Future.succeededFuture(b);
    }
    WaitQueue.Waiter w = new WaitQueue.Waiter(vertx.getOrCreateContext(), ex.tried);
    if (!q.offer(w, pool.route().maxQueue())) {
      return Future.failedFuture(new ProxyError.Rejected(ProxyError.QUEUE_FULL));
    }
    Duration wait = pool.route().maxQueueWait();
    long ms = wait == null || wait.isZero() ? timeout(pool).toMillis() : wait.toMillis();
    w.timerId =
        vertx.setTimer(
            Math.max(1, ms),
            id -> {
              if (w.fail(new ProxyError.Rejected(ProxyError.QUEUE_TIMEOUT))) q.remove(w);
            });
    // a client that hangs up while waiting leaves the queue at once instead of holding a place
    // (and later a backend slot) until granted or timed out
    resp.closeHandler(
        v -> {
          if (w.fail(new ProxyError.Rejected(ProxyError.CLIENT_GONE))) q.remove(w);
        });
    dispatch(pool.route().name()); // a slot may have been freed while we queued
    return w.promise
        .future()
        .andThen(
            ar -> {
              vertx.cancelTimer(w.timerId);
              resp.closeHandler(null);
            });
  }

  /**
   * A slot on a backend with room, chosen by the pool's algorithm among those; null if all full.
   */
  private Backend take(Pool pool, Set<Backend> exclude, int limit) {
    for (int i = 0; i < 4; i++) {
      long now = System.nanoTime();
      List<Backend> c = Balancer.candidates(pool.backends(), exclude, now);
      c.removeIf(b -> b.inFlight.get() >= limit);
      Backend b = pick(pool, c, now);
      if (b == null) return null;
      if (b.tryAcquire(limit)) return b;
    }
    return null;
  }

  private void release(Pool pool, Backend b) {
    b.release();
    if (pool.route().maxInFlightPerBackend() > 0) dispatch(pool.route().name());
  }

  /** Grants free slots of the pool's current snapshot to its waiters. */
  private void dispatch(String name) {
    Pool p = table.pools().get(name);
    if (p == null || p.queue().isEmpty()) return;
    int limit = p.route().maxInFlightPerBackend();
    p.queue()
        .dispatch(
            new WaitQueue.SlotTaker() {
              @Override
              public Backend take(Set<Backend> exclude) {
                if (limit > 0) return ReverseProxy.this.take(p, exclude, limit);
                Backend b = choose(p, exclude);
                if (b != null) b.tryAcquire(0);
                return b;
              }

              @Override
              public void release(Backend b) {
                b.release();
              }

              @Override
              public boolean routable(Set<Backend> exclude) {
                return !Balancer.candidates(p.backends(), exclude, System.nanoTime()).isEmpty();
              }

              @Override
              public boolean anyFree() {
                if (limit <= 0) return true;
                for (Backend b : Balancer.candidates(p.backends(), Set.of(), System.nanoTime())) {
                  if (b.inFlight.get() < limit) return true;
                }
                return false;
              }
            });
  }

  private void dispatchAll() {
    for (Pool p : table.pools().values()) if (!p.queue().isEmpty()) dispatch(p.route().name());
  }

  private static boolean queueRefusal(Throwable cause) {
    return cause instanceof ProxyError.Rejected r
        && (r.error == ProxyError.QUEUE_FULL || r.error == ProxyError.QUEUE_TIMEOUT);
  }

  /**
   * Time from arrival (Heroku's X-Request-Start when given: it includes the router's own queue)
   * until a backend slot was granted or the request was turned away.
   */
  private void recordQueue(Exchange ex, boolean granted) {
    if (ex.queueRecorded) return;
    ex.queueRecorded = true;
    if (ex.requestStartMillis > 0
        && !plausibleRequestStart(clock.millis() - ex.requestStartMillis, ex.pool)) {
      ex.requestStartMillis = -1;
    }
    // without a per-backend limit nothing waits here: only Heroku's router queue is worth a sample
    if (ex.requestStartMillis <= 0 && ex.pool.route().maxInFlightPerBackend() <= 0) return;
    long nanos = System.nanoTime() - ex.start;
    if (ex.requestStartMillis > 0) {
      nanos = Math.max(nanos, (clock.millis() - ex.requestStartMillis) * 1_000_000L);
    }
    WaitQueue q = ex.pool.queue();
    Timer t = granted ? q.granted : q.rejected;
    if (t == null) {
      t =
          Timer.builder("dynofleet.proxy.queue")
              .description("Time a request waited for a backend slot")
              .tag("pool", ex.pool.route().name())
              .tag("outcome", granted ? "granted" : "rejected")
              .serviceLevelObjectives(BUCKETS)
              .register(registry);
      if (granted) q.granted = t;
      else q.rejected = t;
    }
    t.record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Whether a request that says it started {@code agoMillis} ago can have: not in the future, nor
   * longer ago than the router and this proxy would have held it (the pool's timeout and queue
   * wait, and a minute for the router). A client's own header, or one in seconds ({@code
   * 1700000000}), recorded some 54 years in the pool's queue timer, its sum and max ruined for good
   * (review 7).
   */
  private boolean plausibleRequestStart(long agoMillis, Pool pool) {
    Duration wait = pool.route().maxQueueWait();
    long bound =
        timeout(pool).toMillis()
            + (wait == null || wait.isZero() ? timeout(pool) : wait).toMillis()
            + 60_000;
    // a second ahead is the router's clock, not a lie: dropped, the fastest samples went
    // missing and the histogram leaned slow (review 8); the local measure stands for those
    return agoMillis >= -1000 && agoMillis <= bound;
  }

  /** Heroku sends X-Request-Start as epoch milliseconds (some routers as {@code t=<micros>}). */
  static long requestStart(String v) {
    if (v == null) return -1;
    String s = v.startsWith("t=") ? v.substring(2) : v;
    long n = parseLong(s);
    if (n <= 0) return -1;
    if (n > 100_000_000_000_000L) n /= 1000; // micros
    return n;
  }

  // ---- response

  @Override
  public Future<Void> handleProxyResponse(ProxyContext ctx) {
    Exchange ex = ctx.get(CTX, Exchange.class);
    ProxyResponse resp = ctx.response();
    if (ex == null) return ctx.sendResponse();
    Backend b = ex.backend;
    HttpServerRequest sreq = ctx.request().proxiedRequest();
    if (b == null || ex.done == null || ex.done.get()) { // our own error answer
      if (sreq.response().closed()) return Future.succeededFuture(); // nobody to tell (client-gone)
      resp.headers().set(HeaderNames.X_REQUEST_ID, ex.requestId);
      if (ex.closeAfter) resp.headers().set(HttpHeaders.CONNECTION, "close");
      if (!resp.headers().contains(HttpHeaders.CONNECTION, "close", true))
        return ctx.sendResponse();
      // Vert.x keeps the connection the client asked to keep, whatever the answer says: an answer
      // whose request body was left unread (or a client that asked for close among other tokens)
      // must end it, or the client waits for the idle timeout
      return ctx.sendResponse().andThen(ar -> lingeringClose(sreq));
    }
    sanitize(resp.headers());
    stripHopByHop(resp.headers());
    rewriteLocation(resp.headers(), b, sreq);
    keepBackendDate(resp.headers());
    resp.headers()
        .set(HeaderNames.X_REQUEST_ID, ex.requestId)
        .add(HeaderNames.VIA, HeaderNames.VIA_DYNOFLEET);
    if (ex.closeAfter) resp.headers().set(HttpHeaders.CONNECTION, "close");
    int status = resp.getStatusCode();
    if (status >= 500) {
      b.errors5xx.incrementAndGet();
      failure(ex.pool, b, status);
    } else if (b.consecutiveFailures != 0) { // read first: no write to a shared line per request
      b.consecutiveFailures = 0;
    }
    long now = System.nanoTime();
    long nanos = now - ex.sent; // this attempt's: the queue has a timer of its own
    // a client error is no measure of a backend's speed: a backend gone from Heroku's router
    // answers every request with a fast 404, and looked the fastest of the pool (audit 14). Its
    // estimate is held, not left to decay either (a decayed one wins every pair)
    if (status >= 400 && status < 500) b.holdLatency(nanos, now);
    else b.observeLatency(nanos, now);
    if (status >= 500) b.observeFailure(failurePenalty(ex.pool), now);
    time(b, status, nanos);
    AtomicBoolean done = ex.done;
    Pool pool = ex.pool;
    Body body = resp.getBody();
    Duration timeout = timeout(pool);
    if (body != null && !timeout.isZero()) {
      // the pool's timeout is an idle timeout for the body too (see IdleBody)
      body =
          Body.body(
              new IdleBody(
                  body.stream(), vertx, timeout.toNanos(), () -> stalled(ex, b, sreq, status)),
              body.length());
      resp.setBody(body);
    }
    Future<Void> sent =
        body != null
                && body.length() < 0
                && sreq.version() == HttpVersion.HTTP_1_0
                && sreq.method() != HttpMethod.HEAD
                && status != 204
                && status != 304
            ? closeDelimited(sreq, ex.creq, resp, body)
            : ctx.sendResponse();
    return sent.andThen(
            ar -> {
              if (done.compareAndSet(false, true)) release(pool, b);
              if (ex.closeAfter) lingeringClose(sreq);
            })
        .recover(
            e -> {
              // a body cut short (a stall, a reset, a client gone): the library has reset both
              // ends; its fallback would try a 502 on an answer whose head is out, and throw
              HttpServerResponse r = sreq.response();
              return r.headWritten() || r.closed()
                  ? Future.succeededFuture()
                  : Future.failedFuture(e);
            });
  }

  /**
   * A redirect to the backend's own address (built from the Host it got, which is its web_url's)
   * points at the client's Host instead, as nginx's {@code proxy_redirect default}: else clients
   * went straight to {@code <app>.herokuapp.com}, past the balancer (audit 6). The scheme is the
   * client's ({@code X-Forwarded-Proto} from Heroku's router). Other redirects are left as they
   * are.
   */
  void rewriteLocation(MultiMap h, Backend b, HttpServerRequest sreq) {
    String loc = h.get(HttpHeaders.LOCATION);
    if (loc == null) return;
    String host = sreq.getHeader(HttpHeaders.HOST);
    if (config.trustForwardedHost() && sreq.getHeader(HeaderNames.X_FORWARDED_HOST) != null) {
      String forwarded = sreq.getHeader(HeaderNames.X_FORWARDED_HOST).split(",", 2)[0].trim();
      host = plainAuthority(forwarded) ? forwarded : host; // trusted, but still a host[:port]
    }
    String proto = sreq.getHeader(HeaderNames.X_FORWARDED_PROTO);
    proto =
        proto == null
            ? (sreq.isSSL() ? "https" : "http")
            : proto.split(",", 2)[0].trim().toLowerCase(Locale.ROOT);
    String to = rewrittenLocation(loc, b.host, b.port, b.port == (b.ssl ? 443 : 80), host, proto);
    if (to != null) h.set(HttpHeaders.LOCATION, to);
  }

  /**
   * {@code loc} pointed at the client's {@code host} with its {@code proto}, when it names the
   * backend ({@code bHost}, on {@code bPort}, which its URL may leave to the scheme); else null.
   */
  static String rewrittenLocation(
      String loc, String bHost, int bPort, boolean bDefaultPort, String host, String proto) {
    if (host == null || !plainAuthority(host) || !(proto.equals("http") || proto.equals("https")))
      return null;
    int sep = loc.indexOf("://");
    if (sep <= 0) return null;
    String scheme = loc.substring(0, sep).toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) return null;
    int start = sep + 3;
    int end = start;
    while (end < loc.length() && "/?#".indexOf(loc.charAt(end)) < 0) end++;
    String authority = loc.substring(start, end);
    if (authority.indexOf('@') >= 0) return null;
    String name = RoutingTable.stripPort(authority);
    if (name.length() < authority.length()) {
      int port;
      try {
        port = Integer.parseInt(authority.substring(name.length() + 1));
      } catch (NumberFormatException e) {
        return null;
      }
      if (port != bPort) return null; // another service on that host
    } else if (!bDefaultPort) {
      return null; // the backend is on a port of its own: the default one is another service
    }
    // without a port, whatever the scheme: an https backend that does not trust X-Forwarded-Proto
    // redirects to http://<its own host>/... (review 4)
    if (!name.equalsIgnoreCase(bHost)) return null;
    return proto + "://" + host + loc.substring(end);
  }

  /** A {@code host[:port]} with nothing that would change a URL's meaning after it. */
  static boolean plainAuthority(String s) {
    if (s.isEmpty()) return false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c >= 0x7f || "/?#@\\\"<>".indexOf(c) >= 0) return false;
    }
    return true;
  }

  /** See {@link LingeringClose}. */
  private void lingeringClose(HttpServerRequest sreq) {
    LingeringClose.after(vertx, sreq);
  }

  /**
   * The backend stopped sending mid-body: a timeout, counted against it as before its head; unless
   * the client went away meanwhile, which is why nothing more was read.
   */
  private void stalled(Exchange ex, Backend b, HttpServerRequest sreq, int status) {
    if (sreq.response().closed()) return;
    LOG.debugf(
        "backend %s of pool %s stalled mid-body past the pool's timeout; request %s",
        b.target.id(), ex.pool.route().name(), ex.requestId);
    countError(ex.pool, b, ProxyError.TIMEOUT);
    // a 5xx was counted against it at its head: one failed request, not two (it was counted twice
    // in its errors and its failures in a row)
    if (status >= 500) return;
    b.errors5xx.incrementAndGet();
    failure(ex.pool, b, "stalled mid-body");
  }

  /**
   * A body of unknown length to an HTTP/1.0 client, which knows no chunks: streamed as it comes and
   * delimited by closing the connection (RFC 9112 6.3), as nginx does. The library would hold the
   * whole body in memory to count it first: a stream without end grew until the idle timeout, and a
   * large download took a dyno's memory. A body cut short (backend reset, stall) closes the
   * connection too: the client cannot tell, as with any HTTP/1.0 proxy.
   */
  private Future<Void> closeDelimited(
      HttpServerRequest sreq, HttpClientRequest creq, ProxyResponse resp, Body body) {
    HttpServerResponse out = sreq.response();
    out.setStatusCode(resp.getStatusCode());
    if (resp.getStatusMessage() != null) out.setStatusMessage(resp.getStatusMessage());
    for (Map.Entry<String, String> e : resp.headers()) {
      String n = e.getKey();
      if (!n.equalsIgnoreCase("transfer-encoding") && !n.equalsIgnoreCase("content-length")) {
        out.headers().add(n, e.getValue());
      }
    }
    out.headers().set(HttpHeaders.CONNECTION, "close");
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    io.vertx.core.streams.Pipe<Buffer> pipe = body.stream().pipe();
    pipe.endOnSuccess(true).endOnFailure(false);
    pipe.to(
        out,
        ar -> {
          if (ar.failed()) {
            // both ends, as the library does: the backend connection holds the rest of an answer
            if (creq != null) creq.reset();
            out.reset();
          } else {
            lingeringClose(sreq); // the FIN ends the body
          }
          done.complete(); // the answer is out (or cut): nothing for the library to send after it
        });
    return done.future();
  }

  /**
   * Hop-by-hop response headers (RFC 9110 7.6.1) the library copies through: they describe the
   * backend's connection to the proxy, not the proxy's to its client. A backend's {@code
   * Connection: close} made every client connection one-shot, and its {@code Keep-Alive} told
   * clients the backend's idle timeout as if it were ours.
   */
  private static final List<CharSequence> RESPONSE_HOP_BY_HOP =
      List.of(
          HttpHeaders.CONNECTION,
          HttpHeaders.KEEP_ALIVE,
          HttpHeaders.createOptimized("proxy-connection"),
          HttpHeaders.createOptimized("te"),
          HttpHeaders.createOptimized("trailer"),
          HttpHeaders.UPGRADE);

  /** A backend's response head as the client may see it: no hop-by-hop headers. */
  private static void stripHopByHop(MultiMap h) {
    stripConnectionListed(h, false);
    for (CharSequence n : RESPONSE_HOP_BY_HOP) h.remove(n);
  }

  /**
   * A backend's head passed on without its body (a 103, a refused upgrade): no hop-by-hop headers,
   * and no framing of a body the client will not get.
   */
  private static void headWithoutBody(MultiMap h) {
    stripHopByHop(h);
    h.remove(HttpHeaders.CONTENT_LENGTH);
    h.remove(HttpHeaders.TRANSFER_ENCODING);
  }

  /**
   * A backend shares the origin with Dynofleet's own endpoints: it may not forge Dynofleet's error
   * codes, set cookies for the reserved prefix, or wipe the dashboard's stored sign-in.
   */
  private void sanitize(MultiMap h) {
    List<String> forged = null;
    for (Map.Entry<String, String> e : h) { // not names(): that builds a sorted set per response
      String n = e.getKey();
      if (n.regionMatches(true, 0, "X-Dynofleet-", 0, 12)) {
        if (forged == null) forged = new ArrayList<>(2);
        forged.add(n);
      }
    }
    if (forged != null) forged.forEach(h::remove);
    h.remove(HeaderNames.CLEAR_SITE_DATA);
    if (!adminHosts.restricted()) {
      // it widens a worker's scope, perhaps over the dashboard's (security review 1); browsers
      // resolve it as a URL ("../../", "/_dyno", "//host/"), so none is let through (audit 11)
      h.remove(HeaderNames.SERVICE_WORKER_ALLOWED);
    }
    List<String> cookies = h.getAll(HeaderNames.SET_COOKIE);
    if (cookies.isEmpty()) return;
    String prefix = dynofleet.prefix().toLowerCase(Locale.ROOT);
    List<String> kept = new ArrayList<>(cookies.size());
    for (String c : cookies) {
      String lc = c.toLowerCase(Locale.ROOT).replace(" ", "");
      if (!lc.contains("path=" + prefix) && !lc.contains("path=/%5f")) kept.add(c);
    }
    if (kept.size() != cookies.size()) {
      h.remove(HeaderNames.SET_COOKIE);
      kept.forEach(c -> h.add(HeaderNames.SET_COOKIE, c));
    }
  }

  // ---- passive health

  /**
   * A failed request of live traffic against its backend's passive ejection. {@code cause} is what
   * failed (an answer's status, an exception, a {@link ProxyError} or a short text), kept as it is
   * and formatted only when shown ({@link Backend#lastFailure()}): the ejection line and /stats say
   * why a backend is out, which tells a crash (connection refused) from an overload (HTTP 503, a
   * timeout) (audit 18 L4).
   */
  private void failure(Pool pool, Backend b, Object cause) {
    b.lastFailure = cause;
    // the late failures of requests sent before an ejection are no news: counted, the backend came
    // back with its next ejection half earned (review 7)
    if (b.ejected(System.nanoTime())) return;
    int n = Backend.FAILURES.incrementAndGet(b);
    if (n < config.ejectionConsecutiveFailures()) return;
    long t =
        pool.ejector()
            .eject(
                pool.backends(),
                b,
                System.nanoTime(),
                config.ejectionMaxPercent(),
                config.ejectionBaseTime().toNanos(),
                config.ejectionMaxTime().toNanos());
    if (t == 0 || b.seriesRemoved) return;
    registry
        .counter("dynofleet.proxy.ejections", "pool", pool.route().name(), "backend", b.target.id())
        .increment();
    LOG.infof(
        "ejected backend %s of pool %s for %d ms after %d failed requests in a row, the last: %s",
        b.target.id(), pool.route().name(), t / 1_000_000, n, b.lastFailure());
  }

  /** A failed attempt about to be tried again on another backend: not logged otherwise. */
  private static void retrying(Exchange ex, Backend b, Object cause) {
    if (LOG.isDebugEnabled()) {
      LOG.debugf(
          "backend %s of pool %s failed (%s); retrying elsewhere; request %s",
          b.target.id(), ex.pool.route().name(), Backend.describeFailure(cause), ex.requestId);
    }
  }

  // ---- metrics

  /**
   * The backend's meters. A backend removed and added again is a new state object under the same
   * meter ids: the gauge reads whichever object currently holds the id, so it never sticks to a
   * drained one.
   */
  private Backend.Meters meters(Pool pool, Backend b) {
    Backend.Meters m = b.meters;
    if (m != null) return m;
    synchronized (b) {
      if (b.meters != null) return b.meters;
      String poolName = pool.route().name();
      AtomicReference<Backend> current =
          gauges.computeIfAbsent(
              poolName + "|" + b.target.id(),
              k -> {
                AtomicReference<Backend> ref = new AtomicReference<>(b);
                Gauge.builder("dynofleet.proxy.in.flight", ref, r -> r.get().inFlight.get())
                    .description("Requests in flight to the backend")
                    .tags("pool", poolName, "backend", b.target.id())
                    .register(registry);
                Gauge.builder("dynofleet.proxy.websockets", ref, r -> r.get().tunnels.get())
                    .description("Open WebSocket tunnels to the backend")
                    .tags("pool", poolName, "backend", b.target.id())
                    .register(registry);
                // at 0 from the start: a series born at 1 shows Prometheus no increase, so
                // every backend's first ejection escaped increase() alerts (audit 18)
                registry.counter(
                    "dynofleet.proxy.ejections", "pool", poolName, "backend", b.target.id());
                registry.counter(
                    "dynofleet.proxy.retries", "pool", poolName, "backend", b.target.id());
                return ref;
              });
      current.set(b);
      m = new Backend.Meters(poolName);
      b.meters = m;
      return m;
    }
  }

  /** An attempt in its backend's request meters, unless the backend's series are gone. */
  private void time(Backend b, int status, long nanos) {
    if (!b.seriesRemoved) requests.record(b, status, nanos);
  }

  /** Latency histograms per backend or per pool, by the number of backends now in the table. */
  private void histogramShape() {
    int n = 0;
    for (Pool p : table.pools().values()) n += p.backends().size();
    requests.tableSwapped(n);
  }

  private void countRetry(Pool pool, Backend b) {
    if (b.seriesRemoved) return; // a drained backend's request still running: its series are gone
    registry
        .counter("dynofleet.proxy.retries", "pool", pool.route().name(), "backend", b.target.id())
        .increment();
  }

  /**
   * How long a removed backend's series (and a removed pool's) stay after it drained: a minute, two
   * scrapes at the common 30-s interval (one at Prometheus' default of 1 min), so that a scrape
   * sees its final counts. They were dropped the instant its last request ended, and a draining
   * backend's last 502s were counted into series no scrape ever saw (audit 27 F6). Tests shorten
   * it.
   */
  static final Duration SERIES_KEPT = Duration.ofSeconds(60);

  private volatile Duration seriesKept = SERIES_KEPT;

  /** For tests: how long a drained backend's (or pool's) series stay, from its next drain's end. */
  void seriesKept(Duration d) {
    seriesKept = d;
  }

  /**
   * Per pool, its backends that left the routing table and still drain (until idle or the drain
   * timeout): the {@code draining} state of {@code dynofleet_proxy_backends}, which read the table
   * alone, where no backend drains (audit 27 F7).
   */
  private final Map<String, Set<Backend>> draining = new ConcurrentHashMap<>();

  /**
   * A backend left the table: its in-flight requests finish on their own connections (the clients
   * are not closed; idle connections expire after the keep-alive timeout); it counts as draining
   * until it is idle or the drain timeout passed, and its per-backend series go {@link
   * #SERIES_KEPT} after that.
   */
  private void drain(String pool, Backend b) {
    draining.computeIfAbsent(pool, k -> ConcurrentHashMap.newKeySet()).add(b);
    long deadline = System.nanoTime() + config.drainTimeout().toNanos();
    vertx.setPeriodic(
        500,
        id -> {
          if (b.inFlight.get() > 0 && System.nanoTime() - deadline < 0) return;
          vertx.cancelTimer(id);
          Set<Backend> mine = draining.get(pool);
          if (mine != null) mine.remove(b);
          // a deleted pool's key goes with its last backend drained, whichever of this and the
          // pool's own drain ends first (review 32 R32-4: the key stayed for good otherwise)
          draining.computeIfPresent(
              pool, (k, s) -> s.isEmpty() && !table.pools().containsKey(k) ? null : s);
          LOG.debugf("backend %s drained", b.target.id());
          vertx.setTimer(Math.max(1, seriesKept.toMillis()), t -> removeSeries(b));
        });
  }

  /** A drained backend's series, unless it was added again meanwhile. */
  private void removeSeries(Backend b) {
    Backend.Meters m = b.meters;
    if (m == null) return;
    String key = m.pool + "|" + b.target.id();
    AtomicReference<Backend> ref = gauges.get(key);
    // gone for good (not re-added meanwhile): drop its series. Marked first: a
    // request still running on it past the drain timeout that then fails (or is
    // retried, or ejects it) would register them again, for good (review 16)
    if (ref != null && ref.get() == b && gauges.remove(key, ref)) {
      b.seriesRemoved = true;
      // retries and ejections too: every rollout makes new backend ids, and their counters
      // stayed for the life of the process (review 7)
      for (String name : BACKEND_SERIES) {
        registry
            .find(name)
            .tags("pool", m.pool, "backend", b.target.id())
            .meters()
            .forEach(registry::remove);
      }
    }
  }

  /**
   * The proxy's own answers whose codes the documented alerts watch, registered at 0 for each pool
   * ({@code queue-full} and {@code queue-timeout} only for a pool with a per-backend limit, the
   * only one that queues): {@code increase()} over a series born at 1 reads 0 (audit 27 F3).
   */
  private static final List<ProxyError> ALERTED_ERRORS =
      List.of(
          ProxyError.NO_BACKEND,
          ProxyError.CONNECTION_QUEUE_FULL,
          ProxyError.STOPPING,
          ProxyError.QUEUE_FULL,
          ProxyError.QUEUE_TIMEOUT);

  /**
   * At each routing table swap: the series the documented alerts watch, at 0 as soon as their
   * labels are known (audit 27 F3): each pool's alerted error codes, and each backend's meters with
   * its {@code 5xx} request count and histogram. Registered already, each is a lookup.
   */
  private void atZero() {
    for (Pool p : table.pools().values()) {
      String name = p.route().name();
      boolean queues = p.route().maxInFlightPerBackend() > 0;
      for (ProxyError e : ALERTED_ERRORS) {
        if (!queues && (e == ProxyError.QUEUE_FULL || e == ProxyError.QUEUE_TIMEOUT)) continue;
        registry.counter("dynofleet.proxy.errors", "pool", name, "code", e.code(), "backend", "-");
      }
      for (Backend b : p.backends()) {
        if (b.seriesRemoved) continue;
        meters(p, b);
        requests.born(b);
      }
    }
  }

  /**
   * The latency histograms' buckets: 1 ms to the longest timeout and queue wait a pool may set (5
   * min). Micrometer's percentile set from 1 ms to 60 s made 71 buckets per series and stopped at
   * 57 s, so a wait past it read as 57 s (audit 18); these 17 cover the range with a step an alert
   * can use.
   */
  static final Duration[] BUCKETS =
      java.util.stream.Stream.of(
              "PT0.001S",
              "PT0.0025S",
              "PT0.005S",
              "PT0.01S",
              "PT0.025S",
              "PT0.05S",
              "PT0.1S",
              "PT0.25S",
              "PT0.5S",
              "PT1S",
              "PT2.5S",
              "PT5S",
              "PT10S",
              "PT30S",
              "PT60S",
              "PT120S",
              "PT300S")
          .map(Duration::parse)
          .toArray(Duration[]::new);

  /** Backend states as this process's proxy sees them, one each: the gauge's {@code state}. */
  static final List<String> STATES = List.of("healthy", "unhealthy", "ejected", "draining");

  /**
   * Per pool, how many backends this process finds in each state and whether it is in panic (no
   * routable backend: it tries them all): the pool's status is the fleet's verdict as last written,
   * this is the dyno's own, read at each scrape (audit 18: an "all unhealthy" incident could not
   * tell routing around from panic from nothing at all).
   */
  private void poolGauges() {
    for (String name : table.pools().keySet()) {
      if (!poolGauges.add(name)) continue;
      for (String state : STATES) {
        Gauge.builder("dynofleet.proxy.backends", () -> backendsIn(name, state))
            .description("Backends of the pool this process finds in each state")
            .tags("pool", name, "state", state)
            .register(registry);
      }
      Gauge.builder("dynofleet.proxy.panic", () -> panic(name))
          .description("1 while no backend of the pool is routable and the proxy tries them all")
          .tags("pool", name)
          .register(registry);
      if (auth.onDyno()) {
        // at 0 from the start, as the ejections: only a dyno redirects
        registry.counter("dynofleet.proxy.redirects", "pool", name);
      }
      // at 0 from the start too: any pool may be put in maintenance
      io.micrometer.core.instrument.Counter.builder("dynofleet.proxy.maintenance")
          .description("Requests answered 503 because the pool is in maintenance")
          .tags("pool", name)
          .register(registry);
    }
  }

  private double backendsIn(String pool, String state) {
    if (state.equals("draining")) {
      // not in the table: the ones of this pool that left it and still drain, also of a pool
      // deleted, which is no longer in the table either (review 32 R32-3: that read NaN)
      Set<Backend> mine = draining.get(pool);
      return mine == null ? 0 : mine.size();
    }
    Pool p = table.pools().get(pool);
    if (p == null) return Double.NaN;
    long now = System.nanoTime();
    return p.backends().stream().filter(b -> state(b, now).equals(state)).count();
  }

  static String state(Backend b, long now) {
    if (b.draining) return "draining";
    if (b.ejected(now)) return "ejected";
    return b.healthy ? "healthy" : "unhealthy";
  }

  private double panic(String pool) {
    Pool p = table.pools().get(pool);
    if (p == null) return Double.NaN;
    long now = System.nanoTime();
    boolean any = false;
    for (Backend b : p.backends()) {
      if (b.draining) continue;
      if (b.healthy && !b.ejected(now)) return 0;
      any = true;
    }
    return any ? 1 : 0;
  }

  /** The series of one backend (tags pool and backend), dropped once it has drained. */
  private static final List<String> BACKEND_SERIES =
      List.of(
          "dynofleet.proxy.in.flight",
          "dynofleet.proxy.websockets",
          "dynofleet.proxy.requests",
          "dynofleet.proxy.backend.requests",
          "dynofleet.proxy.retries",
          "dynofleet.proxy.ejections",
          "dynofleet.proxy.errors");

  /**
   * A pool left the table: once its backends have drained (or the drain timeout passed) its own
   * series go too, the queue timers and its error counts, unless a pool of that name is back by
   * then. They stayed for the life of the process (review 7).
   */
  private void poolRemoved(Pool p) {
    String name = p.route().name();
    long deadline = System.nanoTime() + config.drainTimeout().toNanos();
    vertx.setPeriodic(
        500,
        id -> {
          boolean busy = false;
          for (Backend b : p.backends()) busy |= b.inFlight.get() > 0;
          if (busy && System.nanoTime() - deadline < 0) return;
          vertx.cancelTimer(id);
          vertx.setTimer(Math.max(1, seriesKept.toMillis()), t -> removePoolSeries(name));
        });
  }

  /** A removed pool's series, {@link #SERIES_KEPT} after it drained, unless it is back. */
  private void removePoolSeries(String name) {
    if (table.pools().containsKey(name)) return;
    Set<Backend> left = draining.get(name);
    if (left != null && left.isEmpty()) draining.remove(name, left);
    poolGauges.remove(name);
    for (String series :
        List.of(
            "dynofleet.proxy.queue",
            "dynofleet.proxy.errors",
            "dynofleet.proxy.redirects",
            "dynofleet.proxy.maintenance",
            "dynofleet.proxy.backends",
            "dynofleet.proxy.panic")) {
      registry.find(series).tag("pool", name).meters().forEach(registry::remove);
    }
    requests.poolRemoved(name); // its latency histograms, when they are per pool
    poolGauges(); // back between the check and the removal: registered again
    atZero();
  }

  /**
   * Whether {@code err} (or a cause of it) is a connect to the backend that failed: Java's {@link
   * ConnectException} (refused; Netty's {@code ConnectTimeoutException}, its annotated and native
   * epoll forms are subclasses) or {@link java.net.NoRouteToHostException} (the host unreachable;
   * Netty's annotated form too). By type, not by a class name containing "Connect", which also took
   * Vert.x's {@code ConnectionPoolTooBusyException} (nothing was connected) and missed a host with
   * no route. Vert.x has no connect failure of its own: it passes Netty's on.
   */
  static boolean isConnect(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause())
      if (t instanceof ConnectException || t instanceof java.net.NoRouteToHostException)
        return true;
    return false;
  }

  /** No pool for the request's host: a 404, or a 503 while the stored pools were never loaded. */
  private ProxyError noPool() {
    return table.synced() ? ProxyError.NO_POOL : ProxyError.NOT_SYNCED;
  }

  private Future<ProxyResponse> error(ProxyContext ctx, ProxyError e) {
    Exchange ex = ctx.get(CTX, Exchange.class);
    ProxyResponse r = ctx.request().response().setStatusCode(e.status());
    r.headers()
        .set(HeaderNames.X_DYNOFLEET_ERROR, e.code())
        .set("Content-Type", "text/plain; charset=utf-8");
    if (ex != null) r.headers().set(HeaderNames.X_REQUEST_ID, ex.requestId);
    if (e == ProxyError.NOT_SYNCED) {
      r.headers()
          .set(HttpHeaders.RETRY_AFTER, ProxyError.NOT_SYNCED_RETRY_AFTER)
          .set(HttpHeaders.CACHE_CONTROL, "no-store");
    }
    // a body the client still sends (too large) or holds back for a 100 that never came: the
    // connection cannot carry another request after it
    // no Connection header there
    boolean h2 = ctx.request().proxiedRequest().version() == HttpVersion.HTTP_2;
    if (!h2
        && (e == ProxyError.TOO_LARGE
            || e == ProxyError.CLIENT_TIMEOUT
            || (ex != null && ex.expectContinue && !ex.continued))) {
      r.headers().set("Connection", "close");
    }
    r.setBody(Body.body(Buffer.buffer(e.message())));
    // a 502 or 504 answers for the backend of the attempt that failed; nothing else is a backend's
    boolean backends = ex != null && (e.status() == 502 || e.status() == 504);
    countError(ex == null ? null : ex.pool, backends ? ex.backend : null, e);
    return Future.succeededFuture(r);
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
