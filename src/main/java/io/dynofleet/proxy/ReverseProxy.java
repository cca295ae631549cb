package io.dynofleet.proxy;

import io.dynofleet.config.DynofleetConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
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
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/** Mounts the reverse proxy on the Quarkus router for every path outside the reserved prefix. */
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
  private HttpClient client;

  ReverseProxy(
      RoutingTable table,
      ProxyConfig config,
      DynofleetConfig dynofleet,
      MeterRegistry registry,
      Clock clock,
      Vertx vertx) {
    this.table = table;
    this.config = config;
    this.dynofleet = dynofleet;
    this.registry = registry;
    this.clock = clock;
    this.vertx = vertx;
  }

  /** Per-request state. */
  static final class Exchange {
    Pool pool;
    Backend backend;
    String requestId;
    long start;
    final Set<Backend> tried = new HashSet<>();
    AtomicBoolean done;
  }

  void onStart(@Observes StartupEvent ev) {
    vertx.setPeriodic(250, id -> new HealthProber(table, client(), clock).tick());
  }

  void mount(@Observes Router router) {
    HttpProxy proxy = HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(true), client());
    proxy.origin(this::origin);
    proxy.addInterceptor(this);
    String prefix = Pattern.quote(dynofleet.prefix());
    router.routeWithRegex("^(?!" + prefix + "(?:/|$)).*").handler(rc -> proxy.handle(rc.request()));
  }

  synchronized HttpClient client() {
    if (client == null) {
      HttpClientOptions o = new HttpClientOptions()
          .setKeepAlive(true)
          .setConnectTimeout((int) config.connectTimeout().toMillis())
          .setForceSni(true)
          .setTrustAll(config.trustAll())
          .setVerifyHost(!config.trustAll())
          .setTcpNoDelay(true)
          .setDecompressionSupported(false);
      client = vertx.createHttpClient(o,
          new PoolOptions().setHttp1MaxSize(config.poolSizePerBackend()));
    }
    return client;
  }

  private Future<HttpClientRequest> origin(ProxyContext ctx) {
    Exchange ex = ctx.get(CTX, Exchange.class);
    Backend b;
    Duration timeout;
    if (ex == null) { // WebSocket upgrades bypass interceptors
      HttpServerRequest req = ctx.request().proxiedRequest();
      Pool pool = table.select(req.getHeader("Host"));
      if (pool == null) return Future.failedFuture("no pool");
      b = choose(pool, Set.of());
      if (b == null) return Future.failedFuture("no backend");
      ctx.request().setAuthority(HostAndPort.create(b.host, b.target.url().getPort()));
      timeout = Duration.ZERO;
    } else {
      b = ex.backend;
      timeout = timeout(ex.pool);
    }
    RequestOptions ro = new RequestOptions().setHost(b.host).setPort(b.port).setSsl(b.ssl);
    if (!timeout.isZero()) ro.setIdleTimeout(timeout.toMillis());
    return client.request(ro);
  }

  private Duration timeout(Pool pool) {
    Duration t = pool.route().timeout();
    return t == null || t.isZero() ? config.defaultTimeout() : t;
  }

  Backend choose(Pool pool, Set<Backend> exclude) {
    long now = System.nanoTime();
    List<Backend> c = Balancer.candidates(pool.backends(), exclude, now);
    return Balancer.pick(pool.route().algorithm(), c, pool.cursor().getAndIncrement(),
        ThreadLocalRandom.current(), now, config.slowStart().toNanos());
  }

  @Override
  public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
    ProxyRequest preq = ctx.request();
    HttpServerRequest sreq = preq.proxiedRequest();
    Exchange ex = new Exchange();
    ex.start = System.nanoTime();
    ctx.set(CTX, ex);
    String rid = sreq.getHeader("X-Request-Id");
    ex.requestId = rid == null || rid.isBlank() ? UUID.randomUUID().toString() : rid;
    String cl = sreq.getHeader("Content-Length");
    if (cl != null && parseLong(cl) > config.maxBodySize()) return error(ctx, ProxyError.TOO_LARGE);
    ex.pool = table.select(sreq.getHeader("Host"));
    if (ex.pool == null) return error(ctx, ProxyError.NO_POOL);
    var h = preq.headers();
    h.set("X-Request-Id", ex.requestId);
    String ip = sreq.remoteAddress() == null ? null : sreq.remoteAddress().hostAddress();
    String xff = h.get("X-Forwarded-For");
    if (ip != null) h.set("X-Forwarded-For", xff == null || xff.isBlank() ? ip : xff + ", " + ip);
    if (!h.contains("X-Forwarded-Proto")) h.set("X-Forwarded-Proto", sreq.isSSL() ? "https" : "http");
    if (!h.contains("X-Forwarded-Port") && sreq.localAddress() != null)
      h.set("X-Forwarded-Port", Integer.toString(sreq.localAddress().port()));
    if (!h.contains("X-Forwarded-Host") && sreq.getHeader("Host") != null)
      h.set("X-Forwarded-Host", sreq.getHeader("Host"));
    h.add("Via", "1.1 dynofleet");
    return attempt(ctx, ex, 0);
  }

  private Future<ProxyResponse> attempt(ProxyContext ctx, Exchange ex, int retry) {
    Backend b = choose(ex.pool, ex.tried);
    if (b == null) return error(ctx, ProxyError.NO_BACKEND);
    ex.backend = b;
    ex.tried.add(b);
    ctx.request().setAuthority(HostAndPort.create(b.host, b.target.url().getPort()));
    b.inFlight.incrementAndGet();
    b.requests.incrementAndGet();
    AtomicBoolean done = new AtomicBoolean();
    ex.done = done;
    return ctx.sendRequest().recover(err -> {
      if (done.compareAndSet(false, true)) b.inFlight.decrementAndGet();
      boolean timeout = err instanceof TimeoutException
          || (err.getMessage() != null && err.getMessage().contains("timeout"));
      boolean connect = err instanceof ConnectException || isConnect(err);
      failure(ex.pool, b);
      HttpMethod m = ctx.request().getMethod();
      boolean safe = m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS;
      if (connect && safe && retry < ex.pool.route().retries()) {
        counter("dynofleet.proxy.retries", ex.pool, b).increment();
        return attempt(ctx, ex, retry + 1);
      }
      LOG.debugf("backend %s failed: %s", b.target.id(), err.toString());
      return error(ctx, timeout && !connect ? ProxyError.TIMEOUT : ProxyError.BACKEND);
    });
  }

  private static boolean isConnect(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause())
      if (t instanceof ConnectException || t.getClass().getSimpleName().contains("Connect")) return true;
    return false;
  }

  @Override
  public Future<Void> handleProxyResponse(ProxyContext ctx) {
    Exchange ex = ctx.get(CTX, Exchange.class);
    ProxyResponse resp = ctx.response();
    if (ex == null) return ctx.sendResponse();
    resp.headers().set("X-Request-Id", ex.requestId);
    Backend b = ex.backend;
    if (b == null || ex.done == null || ex.done.get()) return ctx.sendResponse();
    int status = resp.getStatusCode();
    if (status >= 500) {
      b.errors5xx.incrementAndGet();
      failure(ex.pool, b);
    } else {
      b.consecutiveFailures = 0;
    }
    long nanos = System.nanoTime() - ex.start;
    b.observeLatency(nanos, System.nanoTime());
    Timer.builder("dynofleet.proxy.requests").tag("pool", ex.pool.route().name())
        .tag("backend", b.target.id()).tag("status", (status / 100) + "xx")
        .publishPercentileHistogram().register(registry).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    AtomicBoolean done = ex.done;
    return ctx.sendResponse().andThen(ar -> {
      if (done.compareAndSet(false, true)) b.inFlight.decrementAndGet();
    });
  }

  private void failure(Pool pool, Backend b) {
    int n = ++b.consecutiveFailures;
    if (n < config.ejectionConsecutiveFailures()) return;
    long now = System.nanoTime();
    if (b.ejected(now)) return;
    long ejected = pool.backends().stream().filter(x -> x.ejected(now)).count();
    if ((ejected + 1) * 100 > (long) config.ejectionMaxPercent() * pool.backends().size()) return;
    long base = config.ejectionBaseTime().toNanos();
    long t = Math.min(config.ejectionMaxTime().toNanos(), base << Math.min(20, b.ejections));
    b.ejections++;
    b.ejectedUntilNanos = now + t;
    b.consecutiveFailures = 0;
    b.healthySinceNanos = now + t; // slow start after recovery
    counter("dynofleet.proxy.ejections", pool, b).increment();
    LOG.infof("ejected backend %s of pool %s for %d ms", b.target.id(), pool.route().name(), t / 1_000_000);
  }

  private Counter counter(String name, Pool pool, Backend b) {
    return registry.counter(name, "pool", pool.route().name(), "backend", b.target.id());
  }

  private static Future<ProxyResponse> error(ProxyContext ctx, ProxyError e) {
    Exchange ex = ctx.get(CTX, Exchange.class);
    ProxyResponse r = ctx.request().response().setStatusCode(e.status());
    r.headers().set("X-Dynofleet-Error", e.code()).set("Content-Type", "text/plain; charset=utf-8");
    if (ex != null) r.headers().set("X-Request-Id", ex.requestId);
    r.setBody(Body.body(Buffer.buffer(e.message())));
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
