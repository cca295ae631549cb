package io.dynofleet.proxy;

import io.dynofleet.pool.model.PoolEvents;
import io.dynofleet.text.SafeText;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;

/**
 * Active probes, run on a Vert.x timer off the request path. A ready backend's verdict changing is
 * logged: each dyno's proxy judges for itself, and on Heroku the log line names the dyno, which the
 * pool's status (every dyno's verdict merged) does not.
 */
final class HealthProber {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(HealthProber.class);
  private final RoutingTable table;
  private final HttpClient client;
  private final Clock clock;
  private final Vertx vertx;
  private final Duration connectTimeout;

  /** Where in the interval a backend in service is probed first. */
  private final RandomGenerator random = new SplittableRandom();

  /** Most probes a second this process sends, all pools together; 0 or less: no cap. */
  private final int maxPerSecond;

  /** How many times its interval each probe's turn now comes (1: as the pools say). */
  private volatile double stretch = 1;

  /** Probes this tick may still send: refilled at {@link #maxPerSecond}, at most a second's. */
  private double allowance;

  private long allowanceStamp = System.nanoTime();

  /**
   * {@code connectTimeout}: the client's TCP connect timeout, named in a failure it ends; {@code
   * maxPerSecond}: the cap on probes a second ({@code probe-max-per-second}; 0 or less: none).
   */
  HealthProber(
      RoutingTable table,
      HttpClient client,
      Duration connectTimeout,
      Clock clock,
      Vertx vertx,
      int maxPerSecond) {
    this.table = table;
    this.client = client;
    this.connectTimeout = connectTimeout;
    this.clock = clock;
    this.vertx = vertx;
    this.maxPerSecond = maxPerSecond;
    this.allowance = maxPerSecond;
  }

  /** How many times its interval each probe's turn comes now, for the gauge. */
  double stretch() {
    return stretch;
  }

  /**
   * What one probe asks: a static URL named by several pools with the same path and timeout is
   * probed once per turn for all of them, its answer shared (security review 5 S5-8: five pools of
   * the same 100 URLs sent each one five probes an interval).
   */
  record Target(String url, String path, Duration timeout) {}

  /** One backend of one pool, with the health check that probes it. */
  record Member(Backend backend, HealthCheckSpec hc, String pool) {}

  /** The table's snapshot {@link #groups} was built from (swapped whole on every change). */
  private Map<String, Pool> groupedFrom;

  /** Each target's members, in table order, built once per table change (review 31 R31-4). */
  private List<List<Member>> groups = List.of();

  /** The probes a second the groups ask for, unstretched. */
  private double groupDemand;

  /** Where in {@link #groups} the next tick's walk starts. */
  private int cursor;

  /** The pools without a health check. */
  private List<Pool> unchecked = List.of();

  /**
   * Groups the backends of {@code pools} by target. Built each tick it was a map, a record and a
   * list for every backend every 250 ms on the event loop (500 pools of 100 static URLs: ~50,000
   * each tick, review 31 R31-4); now once per routing-table change.
   */
  private void group(Map<String, Pool> pools) {
    Map<Target, List<Member>> targets = new LinkedHashMap<>();
    List<Pool> none = new ArrayList<>();
    for (Pool pool : pools.values()) {
      HealthCheckSpec hc = pool.route().healthCheck();
      if (hc == null || hc.path() == null) {
        none.add(pool);
        continue;
      }
      for (Backend b : pool.backends()) {
        if (b.draining) continue;
        targets
            .computeIfAbsent(
                new Target(b.target.url().toString(), hc.path(), hc.timeout()),
                k -> new ArrayList<>(1))
            .add(new Member(b, hc, pool.route().name()));
      }
    }
    double demand = 0;
    List<List<Member>> g = new ArrayList<>(targets.size());
    for (List<Member> ms : targets.values()) {
      demand += 1e9 / shortestInterval(ms);
      g.add(List.copyOf(ms));
    }
    groups = g;
    groupDemand = demand;
    unchecked = none;
    groupedFrom = pools;
  }

  void tick() {
    long now = System.nanoTime();
    Map<String, Pool> pools = table.pools();
    if (pools != groupedFrom) group(pools);
    for (Pool pool : unchecked) {
      // a health check removed: what its last probe said is no longer news (panic mode reads it),
      // and one added again spreads its first probes anew
      for (Backend b : pool.backends()) {
        b.probePassing = false;
        b.probeScheduled = false;
      }
    }
    // the probes a second the pools ask for, each target once at its shortest interval: above the
    // cap every interval stretches alike, so each pool keeps its share (S5-8: 500 static pools of
    // 100 URLs at 1 s asked 50,000 a second of any host from the app's addresses)
    double demand = groupDemand;
    double s = maxPerSecond > 0 && demand > maxPerSecond ? demand / maxPerSecond : 1;
    if (s > 1 && stretch == 1) {
      LOG.warnf(
          "health checks of all pools ask for %.0f probes a second, more than %d"
              + " (DYNOFLEET_PROXY_PROBE_MAX_PER_SECOND): every probe interval is %.1f times as"
              + " long until they ask for fewer",
          demand, maxPerSecond, s);
    } else if (s == 1 && stretch > 1) {
      LOG.infof(
          "health checks of all pools ask for %.0f probes a second again: intervals as set",
          demand);
    }
    stretch = s;
    if (maxPerSecond > 0) {
      allowance = Math.min(maxPerSecond, allowance + (now - allowanceStamp) / 1e9 * maxPerSecond);
      allowanceStamp = now;
    }
    // the walk starts where the last one ran out of allowance: the targets it left go first, not
    // those first in table order, which took every probe due again while the rest (new backends
    // among them, taking no traffic until a probe passes) waited (review 31 R31-5)
    int n = groups.size();
    int start = n == 0 ? 0 : Math.floorMod(cursor, n);
    for (int k = 0; k < n; k++) {
      int at = (start + k) % n;
      List<Member> ms = groups.get(at);
      boolean out = false, turn = false;
      for (Member m : ms) out |= m.backend().probing;
      if (out) continue; // a probe ends before the next starts, for every pool that shares it
      // the first probes of a burst beyond a second's share (a start, pools added together) wait
      // for the next ticks: the cap holds at every moment, not only on average
      if (maxPerSecond > 0 && allowance < 1) {
        cursor = at;
        break;
      }
      for (Member m : ms)
        turn |= due(m.backend(), (long) (m.hc().interval().toNanos() * s), now, random);
      if (!turn) continue;
      for (Member m : ms) {
        Backend b = m.backend();
        b.probing = true;
        b.probeScheduled = true;
        b.nextProbeNanos = now + (long) (m.hc().interval().toNanos() * s);
      }
      if (maxPerSecond > 0) allowance -= 1;
      probe(ms);
    }
  }

  private static long shortestInterval(List<Member> ms) {
    long min = Long.MAX_VALUE;
    for (Member m : ms) min = Math.min(min, m.hc().interval().toNanos());
    return Math.max(1, min);
  }

  /**
   * Whether {@code b} is to be probed at {@code now}; if so, its next turn is one interval on.
   *
   * <p>A backend's first turn: at once if it takes no traffic until its probes pass (a new one, or
   * one the fleet last found failing), so it is routable within a tick of passing; else (assumed
   * healthy: published ready, a static URL) at a random point of the interval. Backends loaded
   * together (a process's start: all of them) were all probed in the same 250 ms tick and stayed in
   * step for good, a burst of every backend's probe once an interval (audit 21 M6); a backend in
   * service loses nothing by a later first probe, and passive ejection watches it meanwhile.
   *
   * <p>A turn is skipped while the backend's last probe is still out: a probe may take up to twice
   * its timeout (see probe) and the timeout may equal the interval, so probes overlapped and their
   * results landed in either order (review 7); a probe ends before the next starts, as the spec
   * says.
   */
  static boolean due(Backend b, long intervalNanos, long now, RandomGenerator random) {
    if (b.draining || b.probing) return false;
    if (!b.probeScheduled) {
      b.probeScheduled = true;
      b.nextProbeNanos =
          b.healthy && intervalNanos > 1 ? now + random.nextLong(intervalNanos) : now;
    }
    if (b.nextProbeNanos - now > 0) return false;
    b.nextProbeNanos = now + intervalNanos;
    return true;
  }

  /**
   * A failed probe in an operator's words, not a Java exception's (audit 13: the stats showed
   * {@code io.netty.channel.AbstractChannel$AnnotatedConnectException: finishConnect(..) failed
   * ...}).
   */
  static String failure(Throwable t) {
    return failure(t, null, null);
  }

  /**
   * A failed probe of a health check whose timeout is {@code timeout} (null: not a probe's), by a
   * client whose TCP connect timeout is {@code connectTimeout} (null: not known here).
   */
  static String failure(Throwable t, Duration timeout, Duration connectTimeout) {
    if (connectTimedOut(t)) {
      // Netty's ConnectTimeoutException is a ConnectException: a backend that never answered the
      // connect (a dyno's host gone, a full backlog) read "connection refused" (audit 22 L6)
      return connectTimeout == null
          ? "connect timed out"
          : new TimedOut("connect timed out", connectTimeout, CONNECT_SETTING).toString();
    }
    if (t instanceof Backend.LinkLocal) return t.getMessage(); // not connected at all
    if (t instanceof java.net.ConnectException) return "connection refused";
    if (timeout != null && t instanceof TimeoutException && !(t instanceof BodyDeadline)) {
      // Vert.x's "The timeout period of 1000ms has been exceeded while executing GET /health for
      // server 127.0.0.1:30078" named no knob (audit 22 L6)
      return new TimedOut("timed out", timeout, "healthCheck.timeoutSeconds").toString();
    }
    String m = t == null ? null : t.getMessage();
    // a message may quote the backend's bytes (Netty's "invalid version format: <its status
    // line's first token>"): C1 controls in it reached the WARN line, the event and lastFailure
    // (security review 6 S6-3), written here as visible escapes, on one line
    return m == null || m.isBlank()
        ? (t == null ? "failed" : t.getClass().getSimpleName())
        : SafeText.visible(m, true);
  }

  /** The setting of the TCP connect timeout to backends, probes' and requests' alike. */
  static final String CONNECT_SETTING = "DYNOFLEET_PROXY_CONNECT_TIMEOUT";

  /** Whether {@code err} (or a cause of it) is a TCP connect that got no answer in time. */
  static boolean connectTimedOut(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause())
      if (t instanceof io.netty.channel.ConnectTimeoutException) return true;
    return false;
  }

  /**
   * One of Dynofleet's timers ran out, in words that name the setting that bounds it: {@code timed
   * out after 3 s (healthCheck.timeoutSeconds)}, {@code connect timed out after 5 s
   * (DYNOFLEET_PROXY_CONNECT_TIMEOUT)}. Kept as a backend's last failure and formatted only when
   * shown.
   */
  record TimedOut(String what, Duration after, String setting) {
    @Override
    public String toString() {
      long ms = after.toMillis();
      return what
          + " after "
          + (ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms")
          + " ("
          + setting
          + ")";
    }
  }

  /** A probe whose answer's body did not end within twice the timeout (see {@link #probe}). */
  static final class BodyDeadline extends TimeoutException {
    BodyDeadline(String message) {
      super(message);
    }
  }

  /**
   * One probe. The request's timeout bounds the wait for a connection and for the answer's head;
   * Vert.x stops it there, so the body has a deadline of its own: the probe fails at twice its
   * timeout whatever the backend does. A backend that sent its head and then stalled, or kept
   * trickling bytes, held its probe out for ever, and was never probed again (review 11). The body
   * is read and dropped, not kept.
   */
  private void probe(List<Member> members) {
    Backend b = members.get(0).backend();
    HealthCheckSpec hc = members.get(0).hc();
    long timeout = hc.timeout().toMillis();
    RequestOptions ro =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setHost(b.host)
            .setPort(b.port)
            .setSsl(b.ssl)
            .setURI(hc.path())
            .setTimeout(timeout)
            .putHeader("Host", b.authority())
            .putHeader("User-Agent", "dynofleet-health");
    Promise<Integer> done = Promise.promise();
    AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
    long deadline =
        vertx.setTimer(
            2 * timeout,
            id -> {
              if (done.tryFail(new BodyDeadline("probe not done within " + 2 * timeout + " ms"))) {
                HttpClientRequest r = sent.get();
                if (r != null) r.reset();
              }
            });
    b.request(vertx, client, ro)
        .compose(
            r -> {
              sent.set(r);
              return r.send()
                  .compose(
                      resp -> {
                        resp.handler(chunk -> {});
                        return resp.end().map(x -> resp.statusCode());
                      });
            })
        .onComplete(
            ar -> {
              vertx.cancelTimer(deadline);
              if (ar.succeeded()) done.tryComplete(ar.result());
              else done.tryFail(ar.cause());
            });
    done.future().onComplete(ar -> members.forEach(m -> judge(m.backend(), m.hc(), m.pool(), ar)));
  }

  /** What one probe's answer {@code ar} says of {@code b}, a backend of {@code pool}. */
  private void judge(
      Backend b, HealthCheckSpec hc, String pool, io.vertx.core.AsyncResult<Integer> ar) {
    b.probing = false;
    b.lastProbe = clock.instant();
    boolean ok = ar.succeeded() && ar.result() < 400;
    b.lastProbeResult =
        ar.succeeded() ? "HTTP " + ar.result() : failure(ar.cause(), hc.timeout(), connectTimeout);
    boolean passedBefore = b.probePassing;
    b.probePassing = ok;
    if (ok) {
      b.probeFailures = 0;
      if (!b.healthy && ++b.probeSuccesses >= hc.healthyThreshold()) {
        if (b.judged) {
          LOG.infof(
              "backend passes its health checks again: pool=%s backend=\"%s\"",
              pool, PoolEvents.logged(b.target.id()));
        }
        long now = System.nanoTime();
        if (b.judged && b.ejected(now)) {
          // a passive ejection left over from the failures its probes then covered (a
          // crash): it ends with the spell, as the backend is back. Kept, it held a
          // recovered backend out, and its reconciler then told a BackendEjected that
          // blamed a client for the crash's failures (review 29 R29-19). Ended at now,
          // not 0: a repeat ejection's doubling is forgiven from here
          b.ejectedUntilNanos = now;
        }
        b.healthy = true;
        b.judged = true;
        b.healthySinceNanos = now;
        b.forgetLatency(b.healthySinceNanos); // slow start needs an estimate to scale
      }
    } else {
      b.probeSuccesses = 0;
      // counted up to the threshold only: the count shows in the pool's status,
      // and one that grew on every probe of a dead backend would rewrite the
      // status (and make every dyno reload its pools) on every pass
      if (b.probeFailures < hc.unhealthyThreshold()) b.probeFailures++;
      if (ar.succeeded() && ar.result() == 404 && b.healthy && passedBefore) {
        // the health path of a backend whose last probe passed answers "not found": what
        // Heroku's router says for an app deleted or renamed by hand ("No such app"). Its
        // fast 404s drew most of the pool's traffic for the whole threshold, ~30 s (audit
        // 14): out now. Not for one only assumed healthy (never probed here; review 18)
        b.probeFailures = hc.unhealthyThreshold();
      }
      if (b.probeFailures >= hc.unhealthyThreshold()) {
        if (b.healthy) {
          // logfmt, as the proxy's other lines: the probe's failure quotes the backend's bytes
          // (escaped by failure(), but a quote in them ended a free-text field) and the path is
          // the spec's, so each value is quoted and escaped (PoolEvents.logged)
          LOG.warnf(
              "backend fails its health checks from this process, it gets no traffic from here:"
                  + " pool=%s backend=\"%s\" path=\"%s\" failure=\"%s\" failures=%d",
              pool,
              PoolEvents.logged(b.target.id()),
              PoolEvents.logged(hc.path()),
              PoolEvents.logged(b.lastProbeResult),
              b.probeFailures);
        }
        b.healthy = false;
        b.judged = true;
      }
    }
  }
}
