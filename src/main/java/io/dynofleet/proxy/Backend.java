package io.dynofleet.proxy;

import io.dynofleet.pool.model.PoolEvents;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/** Mutable live state of one backend; identity is id + url. Thread-safe. */
final class Backend {
  private static final Logger LOG = Logger.getLogger(Backend.class);

  final BackendTarget target;
  final String host;
  final int port;
  final boolean ssl;

  /**
   * A static URL naming its host by name (not an IP literal): resolved and checked before each
   * connect, requests' and probes' ({@link #connectOptions}).
   */
  final boolean resolveFirst;

  /** Whether this spell of the name resolving to a link-local address was told (a WARN). */
  private final AtomicBoolean linkLocalTold = new AtomicBoolean();

  /**
   * The key the proxy's HTTP clients pool this backend's connections under (Vert.x's: scheme, host
   * as written, port), shared by every backend of one address, in any pool.
   */
  final Address address;

  /** A backend address as a client's connection pool knows it. */
  record Address(String host, int port, boolean ssl) {}

  final AtomicLong inFlight = new AtomicLong();

  /**
   * Requests sent and still waiting for their response head (a subset of {@link #inFlight}, which
   * also holds bodies being streamed: a long download is an answer, not silence).
   */
  final AtomicLong awaiting = new AtomicLong();

  /**
   * Since when the backend has said nothing while requests wait on it: its last response head, or
   * the moment a request started waiting on an idle backend, whichever is later. Never older than
   * the oldest request still waiting for its head, so {@code now - quietSinceNanos} is a latency
   * the backend is already known to have.
   */
  private volatile long quietSinceNanos;

  /** Open WebSocket tunnels (outside {@link #inFlight}: they do not hold a request slot). */
  final AtomicLong tunnels = new AtomicLong();

  final AtomicLong requests = new AtomicLong();

  /**
   * Failed attempts: 5xx answers of the backend, and the failures the proxy answers (or retries)
   * for it: timeouts, connect failures, resets, bad answers, bodies that stalled. Not the client's
   * own failures (gone, too slow, too large).
   */
  final AtomicLong errors5xx = new AtomicLong();

  final long createdNanos = System.nanoTime();
  volatile boolean healthy;

  /**
   * Whether this process has a verdict on it: assumed healthy, or probed to healthy or unhealthy. A
   * backend published not-yet-ready that this proxy has not probed past a threshold has none.
   */
  volatile boolean judged;

  /** Published as ready (assumed healthy), now or when it was made. */
  volatile boolean assumed;

  volatile long healthySinceNanos;
  volatile long ejectedUntilNanos;
  volatile int ejections;

  /**
   * Failures in a row of live traffic; counted up with {@link #FAILURES} (every event loop counts).
   */
  volatile int consecutiveFailures;

  static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<Backend> FAILURES =
      java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(
          Backend.class, "consecutiveFailures");

  /**
   * The failures in a row that ejected it, shown while it is out ({@link #consecutiveFailures}
   * starts again from 0 at the ejection): an ejected backend showed 0 failures (audit 10).
   */
  volatile int failuresAtEjection;

  /**
   * What the last failed request of live traffic met, as {@code ReverseProxy} had it (an answer's
   * status, an exception, a {@link ProxyError} or a short text); formatted only when shown.
   */
  volatile Object lastFailure;

  volatile int probeSuccesses;
  volatile int probeFailures;
  volatile Instant lastProbe;
  volatile String lastProbeResult;
  volatile boolean draining;
  volatile long nextProbeNanos = System.nanoTime();

  /**
   * Its first probe is scheduled ({@link HealthProber#due}): at once, or, for one in service, at a
   * random point of the interval.
   */
  volatile boolean probeScheduled;

  /** Its last active probe passed (false until one has, and in pools without probes). */
  volatile boolean probePassing;

  /** A probe of it is out (set and cleared by {@link HealthProber}, which skips it meanwhile). */
  volatile boolean probing;

  /** Meters, created on first use by the proxy (it knows the pool); null until then. */
  volatile Meters meters;

  /**
   * Removed and drained: its series are gone from the registry, and what its last requests still
   * count (a late failure, a retry, an ejection) must not register them again (review 16).
   */
  volatile boolean seriesRemoved;

  /**
   * Decay time of the peak-EWMA latency: 1 s, so a one-off peak (a GC pause, a burst) fades within
   * seconds instead of steering traffic away for tens of seconds.
   */
  static final double DECAY_NANOS = 1e9;

  /** Peak-EWMA latency in nanos. */
  private double ewmaNanos;

  private long ewmaStamp = System.nanoTime();
  private final long[] latencyRing = new long[256];

  /** Samples ever taken: a long (an int went negative after 2^31 and stats() threw for good). */
  private long ringPos;

  /**
   * The request count once a second (by the proxy's periodic timer), for a rate over the last
   * minute: 64 slots, newest at {@code ratePos}. Seeded with the count (0) at creation.
   */
  private final long[] rateStamps = new long[64];

  private final long[] rateCounts = new long[64];

  /** The error count at the same instants, for an error rate over the same minute. */
  private final long[] rateErrors = new long[64];

  private int ratePos;
  static final long RATE_WINDOW_NANOS = 60_000_000_000L;

  Backend(BackendTarget target) {
    this.target = target;
    URI u = target.url();
    this.ssl = "https".equalsIgnoreCase(u.getScheme());
    this.host = u.getHost();
    this.port = u.getPort() > 0 ? u.getPort() : (ssl ? 443 : 80);
    this.address = new Address(host, port, ssl);
    this.resolveFirst = target.staticUrl() && host != null && PublicAddress.literal(host).isEmpty();
    this.healthy = target.assumeHealthy();
    this.judged = target.assumeHealthy();
    this.assumed = target.assumeHealthy();
    // slow start from now for every new backend: one assumed healthy (a static URL, an app
    // published ready) added to a busy pool took a full share in its first second (audit 10).
    // Backends made together (a process's start) ramp together: their shares do not change
    this.healthySinceNanos = System.nanoTime();
    this.rateStamps[0] = createdNanos;
  }

  /** Notes the request count, at most once a second (off the request path: a periodic timer). */
  synchronized void sampleRate(long now) {
    if (now - rateStamps[ratePos & 63] < 1_000_000_000L) return;
    ratePos++;
    rateStamps[ratePos & 63] = now;
    rateCounts[ratePos & 63] = requests.get();
    rateErrors[ratePos & 63] = errors5xx.get();
  }

  /**
   * Requests per second over about the last minute: from the oldest count noted within it (or, if
   * none is, the newest before it). It was the mean since the backend object was made: an hour at
   * 100/s and a minute at 0 still showed 98 (review 7).
   */
  synchronized double requestsPerSecond(long now) {
    int base = windowStart(now);
    double seconds = Math.max(1, (now - rateStamps[base & 63]) / 1e9);
    return (requests.get() - rateCounts[base & 63]) / seconds;
  }

  /**
   * The share of requests that failed over the same minute (0 without requests in it). It was the
   * share since the backend was added, shown next to the last minute's rate: a backend failing
   * every request for a minute showed 10 %, and one fixed and idle still showed 98 % (audit 10).
   */
  synchronized double errorRate(long now) {
    int base = windowStart(now);
    long sent = requests.get() - rateCounts[base & 63];
    return sent <= 0 ? 0 : Math.min(1, (double) (errors5xx.get() - rateErrors[base & 63]) / sent);
  }

  /** The slot the last minute starts from: the oldest noted within it, or the newest before it. */
  private int windowStart(long now) {
    int n = Math.min(ratePos + 1, 64);
    int base = ratePos;
    for (int i = 1; i < n; i++) {
      int j = ratePos - i;
      if (now - rateStamps[j & 63] > RATE_WINDOW_NANOS) break;
      base = j;
    }
    if (base == ratePos && n > 1 && now - rateStamps[ratePos & 63] < 1_000_000_000L)
      base = ratePos - 1;
    return base;
  }

  /**
   * The backend is now published ready (a dyno's reconciler saw it healthy), having been published
   * not-yet-ready here before: assumed healthy from now on, as a backend first seen ready is, and
   * what its probes said while it was starting is forgotten. Without this, a dyno whose proxy had
   * not yet seen it healthy kept it out and its reconciler called it failing.
   */
  void publishedReady() {
    if (assumed) return;
    assumed = true;
    probeFailures = 0;
    judged = true;
    if (!healthy) {
      healthySinceNanos = System.nanoTime(); // slow start from now
      forgetLatency(healthySinceNanos);
      healthy = true;
    }
  }

  /**
   * Takes a request slot if fewer than {@code limit} are in flight ({@code limit <= 0}: no limit).
   */
  boolean tryAcquire(int limit) {
    if (limit <= 0) {
      inFlight.incrementAndGet();
      return true;
    }
    for (long n = inFlight.get(); n < limit; n = inFlight.get()) {
      if (inFlight.compareAndSet(n, n + 1)) return true;
    }
    return false;
  }

  void release() {
    inFlight.decrementAndGet();
  }

  /** A request was sent: it waits for its head from {@code now}. */
  void sent(long now) {
    if (awaiting.getAndIncrement() == 0) quietSinceNanos = now;
  }

  /** A request no longer waits: its head came ({@code head}, the backend spoke), or it failed. */
  void answered(long now, boolean head) {
    awaiting.decrementAndGet();
    if (head) quietSinceNanos = now;
  }

  /**
   * How long requests have waited on the backend without a word from it, or 0 when none waits. A
   * lower bound of the oldest waiting request's age, kept without a per-request record.
   */
  long silentNanos(long now) {
    if (awaiting.get() <= 0) return 0;
    return Math.max(0, now - quietSinceNanos);
  }

  /** Per-backend meters, cached so the request path does no registry look-ups. */
  static final class Meters {
    final String pool;

    /** Attempt counters by status class (index 1..5); created on first use. */
    final io.micrometer.core.instrument.Counter[] counts =
        new io.micrometer.core.instrument.Counter[6];

    /**
     * Its latency histograms by status class while they are per backend (see {@link
     * RequestMeters}), made in the shape's {@link #generation}; created on first use.
     */
    volatile io.micrometer.core.instrument.Timer[] timers =
        new io.micrometer.core.instrument.Timer[6];

    volatile int generation;

    Meters(String pool) {
      this.pool = pool;
    }
  }

  String key() {
    return target.id() + "|" + target.url();
  }

  String authority() {
    URI u = target.url();
    return u.getPort() > 0 ? host + ":" + u.getPort() : host;
  }

  boolean ejected(long now) {
    return ejectedUntilNanos - now > 0;
  }

  synchronized void observeLatency(long nanos, long now) {
    latencyRing[(int) (ringPos++ & 255)] = nanos;
    // the late answers (timeouts, mostly) of requests sent before an ejection would give the
    // backend a figure that has decayed to almost nothing when it returns: it returns without one
    if (ejected(now)) return;
    double decay = Math.exp(-(now - ewmaStamp) / DECAY_NANOS);
    ewmaStamp = now;
    ewmaNanos = nanos > ewmaNanos ? nanos : ewmaNanos * decay + nanos * (1 - decay);
  }

  /**
   * A failed answer (a 5xx, a reset, a connect failure, a timeout) counts in the estimate as {@code
   * penaltyNanos} (the pool's timeout), a peak that decays as any other. Its own latency would
   * reward it: a backend that answers 503 in a millisecond looked ten times faster than one doing
   * the work, and drew nearly every request once the ejection cap kept it in (audit 10). Not in the
   * latency ring: the percentiles stay the answers' own.
   */
  synchronized void observeFailure(long penaltyNanos, long now) {
    if (ejected(now)) return;
    double decayed = ewmaNanos * Math.exp(-Math.max(0, now - ewmaStamp) / DECAY_NANOS);
    ewmaStamp = now;
    ewmaNanos = Math.max(decayed, penaltyNanos);
  }

  /**
   * An answer that says nothing of the backend's speed (a client error): the estimate goes back to
   * what the last real answer left, neither lowered by this one nor decayed since (a backend that
   * answers only such errors keeps its last real estimate). A backend without an estimate yet takes
   * the answer as a sample, as before: held at none, it would count as idle and fastest for good
   * (review 18).
   */
  synchronized void holdLatency(long nanos, long now) {
    if (ewmaNanos == 0) {
      observeLatency(nanos, now);
      return;
    }
    ewmaStamp = now;
  }

  /**
   * Forgets the latency estimate: the backend is back from an ejection or from failed probes, and
   * what it answered before says nothing of it now (a decayed figure made it look fastest of all).
   * Until its next answer {@link Balancer} gives it a prior.
   */
  synchronized void forgetLatency(long now) {
    ewmaNanos = 0;
    ewmaStamp = now;
  }

  /**
   * The latency estimate as of {@code now}: it decays between samples too (Finagle's peak EWMA), so
   * a backend that once answered slowly and then got no traffic is tried again, and a new sample
   * corrects the estimate, instead of being starved forever by a stale figure.
   */
  synchronized double ewmaNanos(long now) {
    return ewmaNanos * Math.exp(-Math.max(0, now - ewmaStamp) / DECAY_NANOS);
  }

  synchronized double percentileMillis(double q) {
    int n = (int) Math.min(ringPos, 256);
    if (n == 0) return 0;
    long[] copy = java.util.Arrays.copyOf(latencyRing, n);
    java.util.Arrays.sort(copy);
    return copy[(int) Math.min(n - 1, Math.floor(q * n))] / 1e6;
  }

  /**
   * Load score for P2C: latency weighted by outstanding requests, divided by the slow-start weight.
   * The latency is the peak-EWMA estimate, but never less than how long requests have already
   * waited on the backend without an answer ({@link #silentNanos}): the estimate decays between
   * samples (so an idle backend is tried again), and a backend that stopped answering gets no
   * samples, so on the estimate alone it looked faster every second and drew every request (review
   * 7). The in-flight factor is a square root: measured latency already contains the backend's own
   * queueing, so a linear factor counts it twice and sends a share of traffic to a backend ten
   * times slower whenever the fast ones are busy (the bench's slow scenario).
   *
   * <p>{@code estimateNanos} is {@link #ewmaNanos(long)}, or, for a backend without an estimate
   * (never answered, or back from an ejection or from failed probes), the prior {@link Balancer}
   * gives it.
   */
  double score(long now, long slowStartNanos, double estimateNanos) {
    double latency = Math.max(estimateNanos, silentNanos(now));
    double cost = Math.sqrt(inFlight.get() + 1) * Math.max(latency, 1);
    return cost / weight(now, slowStartNanos);
  }

  double weight(long now, long slowStartNanos) {
    if (slowStartNanos <= 0 || healthySinceNanos == 0) return 1;
    double w = (double) (now - healthySinceNanos) / slowStartNanos;
    return w >= 1 ? 1 : Math.max(0.05, w);
  }

  /** {@link #lastFailure} in words ("HTTP 503", "connection refused"), or null before any. */
  String lastFailure() {
    Object f = lastFailure;
    return f == null ? null : describeFailure(f);
  }

  /**
   * The options a request or probe to this backend connects with. For a static URL naming its host
   * by name ({@link #resolveFirst}), the name is resolved first (Vert.x's resolver, as the client
   * would) and a link-local address ({@link PublicAddress#isLinkLocal}: {@code 169.254/16}, where a
   * cloud's metadata service answers, {@code fe80::/10}, IPv4-mapped forms) is not connected to:
   * the request fails as a connect that failed ({@link LinkLocal}: 502 {@code connect-failed}, the
   * probe's failure). Any other address is connected to as resolved, the name kept for SNI, the
   * certificate and {@code Host}, so a name that resolves again to another address (DNS rebinding)
   * cannot change the target after the check. The API refuses link-local literals and the route
   * sync skips one stored before; a name that resolves to one was accepted and proxied to
   * (closing-prev leftover of security review 5 S5-8). Told once per spell by a WARN, and by an
   * INFO when the name resolves elsewhere again. Any other backend: {@code ro} as it is. The
   * look-up is {@link #address}'s: one per {@link #LOOKUP_TTL}, off the event loop.
   */
  Future<RequestOptions> connectOptions(Vertx vertx, RequestOptions ro) {
    if (!resolveFirst) return Future.succeededFuture(ro);
    return address(vertx)
        .compose(
            a -> {
              if (PublicAddress.isLinkLocal(a)) {
                if (linkLocalTold.compareAndSet(false, true)) {
                  LOG.warnf(
                      "static backend not connected: backend=\"%s\" host=\"%s\" address=%s"
                          + " reason=\"its host resolves to a link-local address\": requests to it"
                          + " get 502 connect-failed and its probes fail until it resolves"
                          + " elsewhere; remove it from the pool's staticBackends",
                      PoolEvents.logged(target.id()), PoolEvents.logged(host), a.getHostAddress());
                }
                return Future.failedFuture(new LinkLocal(a));
              }
              if (linkLocalTold.compareAndSet(true, false)) {
                LOG.infof(
                    "static backend resolves to a connectable address again: backend=\"%s\""
                        + " host=\"%s\" address=%s",
                    PoolEvents.logged(target.id()), PoolEvents.logged(host), a.getHostAddress());
              }
              return Future.succeededFuture(
                  ro.setServer(SocketAddress.inetSocketAddress(new InetSocketAddress(a, port))));
            });
  }

  /** How long a look-up of a static backend's name is used before the next is made. */
  static final long LOOKUP_TTL = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);

  /** How soon a look-up that failed (and had no address before it) is made again. */
  static final long FAILED_LOOKUP_TTL = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

  /** One look-up of the name: under way or done, when it started, and the address before it. */
  private record Lookup(Future<InetAddress> future, long started, InetAddress previous) {}

  private final java.util.concurrent.atomic.AtomicReference<Lookup> lookup =
      new java.util.concurrent.atomic.AtomicReference<>();

  /** Look-ups of the name started (for tests: one per {@link #LOOKUP_TTL}, not per request). */
  final AtomicLong lookupsStarted = new AtomicLong();

  /**
   * The address of a static backend's name, for {@link #connectOptions}: looked up once per {@link
   * #LOOKUP_TTL} on a worker thread, never on the event loop (Vert.x's default resolver is the
   * JDK's, which blocks the thread that calls it: a look-up per request stalled every request of
   * the loop for the resolver's timeout whenever DNS was slow, at each expiry of the JDK's cache;
   * review 32 R32-5). While the next look-up runs, and when it fails, the last address found is
   * used: a DNS outage does not take a backend that answers out of service (the name is checked
   * again on every look-up, link-local or not). The first look-up is waited for; one that failed
   * with no address before it is made again after {@link #FAILED_LOOKUP_TTL}.
   */
  private Future<InetAddress> address(Vertx vertx) {
    long now = System.nanoTime();
    Lookup l = lookup.get();
    if (l != null) {
      Future<InetAddress> f = l.future();
      if (!f.isComplete()) {
        return l.previous() != null ? Future.succeededFuture(l.previous()) : f;
      }
      long ttl = f.succeeded() || l.previous() != null ? LOOKUP_TTL : FAILED_LOOKUP_TTL;
      if (now - l.started() < ttl) {
        return f.succeeded() ? f : l.previous() != null ? Future.succeededFuture(l.previous()) : f;
      }
    }
    InetAddress before =
        l == null ? null : l.future().succeeded() ? l.future().result() : l.previous();
    Promise<InetAddress> next = Promise.promise();
    Lookup started = new Lookup(next.future(), now, before);
    if (!lookup.compareAndSet(l, started)) {
      return address(vertx); // another request started it: use that one
    }
    lookupsStarted.incrementAndGet();
    vertx
        .<InetAddress>executeBlocking(
            () ->
                PublicAddress.resolve(vertx, host)
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(60, java.util.concurrent.TimeUnit.SECONDS),
            false)
        .onComplete(
            r -> {
              if (r.succeeded()) {
                next.complete(r.result());
              } else {
                Throwable t = r.cause();
                next.fail(t instanceof java.util.concurrent.ExecutionException ? t.getCause() : t);
              }
            });
    return before != null ? Future.succeededFuture(before) : next.future();
  }

  /**
   * A request to this backend on {@code client} with {@code ro}, through {@link #connectOptions}
   * for a static URL naming its host by name; any other backend's (managed ones, IP literals: the
   * hot path) straight to the client, as before.
   */
  Future<HttpClientRequest> request(Vertx vertx, HttpClient client, RequestOptions ro) {
    return resolveFirst ? connectOptions(vertx, ro).compose(client::request) : client.request(ro);
  }

  /**
   * A static backend's name resolved to a link-local address, so it was not connected to: a connect
   * that failed, for the 502 and the backend's failure count ({@link ReverseProxy#isConnect}).
   */
  static final class LinkLocal extends java.net.ConnectException {
    LinkLocal(InetAddress a) {
      super("resolves to link-local address " + a.getHostAddress() + ": not connected");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this; // an outcome, not a bug: no stack taken per request
    }
  }

  static String describeFailure(Object cause) {
    if (cause instanceof Integer status) return "HTTP " + status;
    if (cause instanceof ProxyError e) return e.code();
    if (cause instanceof Throwable t) return HealthProber.failure(t);
    return String.valueOf(cause);
  }

  BackendStats stats() {
    long now = System.nanoTime();
    boolean out = ejected(now);
    // failures in a row, of the probes or of live traffic (those that ejected it while it is out),
    // whichever is more telling
    int failures =
        Math.max(Math.max(consecutiveFailures, probeFailures), out ? failuresAtEjection : 0);
    return new BackendStats(
        target.id(),
        target.url(),
        healthy,
        out,
        failures,
        lastFailure(),
        lastProbe,
        lastProbeResult,
        inFlight.get(),
        requests.get(),
        errors5xx.get(),
        requestsPerSecond(now),
        errorRate(now),
        percentileMillis(0.5),
        percentileMillis(0.99),
        judged,
        probePassing);
  }
}
