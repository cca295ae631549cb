package io.dynofleet.proxy;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.time.Clock;
import java.time.Duration;
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

  /** {@code connectTimeout}: the client's TCP connect timeout, named in a failure it ends. */
  HealthProber(
      RoutingTable table, HttpClient client, Duration connectTimeout, Clock clock, Vertx vertx) {
    this.table = table;
    this.client = client;
    this.connectTimeout = connectTimeout;
    this.clock = clock;
    this.vertx = vertx;
  }

  void tick() {
    long now = System.nanoTime();
    for (Pool pool : table.pools().values()) {
      HealthCheckSpec hc = pool.route().healthCheck();
      if (hc == null || hc.path() == null) {
        // a health check removed: what its last probe said is no longer news (panic mode reads it),
        // and one added again spreads its first probes anew
        for (Backend b : pool.backends()) {
          b.probePassing = false;
          b.probeScheduled = false;
        }
        continue;
      }
      for (Backend b : pool.backends()) {
        if (!due(b, hc.interval().toNanos(), now, random)) continue;
        b.probing = true;
        probe(b, hc, pool.route().name());
      }
    }
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
    if (t instanceof java.net.ConnectException) return "connection refused";
    if (timeout != null && t instanceof TimeoutException && !(t instanceof BodyDeadline)) {
      // Vert.x's "The timeout period of 1000ms has been exceeded while executing GET /health for
      // server 127.0.0.1:30078" named no knob (audit 22 L6)
      return new TimedOut("timed out", timeout, "healthCheck.timeoutSeconds").toString();
    }
    String m = t == null ? null : t.getMessage();
    return m == null || m.isBlank() ? (t == null ? "failed" : t.getClass().getSimpleName()) : m;
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
  private void probe(Backend b, HealthCheckSpec hc, String pool) {
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
    client
        .request(ro)
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
    done.future()
        .onComplete(
            ar -> {
              b.probing = false;
              b.lastProbe = clock.instant();
              boolean ok = ar.succeeded() && ar.result() < 400;
              b.lastProbeResult =
                  ar.succeeded()
                      ? "HTTP " + ar.result()
                      : failure(ar.cause(), hc.timeout(), connectTimeout);
              boolean passedBefore = b.probePassing;
              b.probePassing = ok;
              if (ok) {
                b.probeFailures = 0;
                if (!b.healthy && ++b.probeSuccesses >= hc.healthyThreshold()) {
                  if (b.judged) {
                    LOG.infof(
                        "backend %s of pool %s passes its health checks again",
                        b.target.id(), pool);
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
                    LOG.warnf(
                        "backend %s of pool %s fails its health checks from this process (%s on %s, %d in a row):"
                            + " it gets no traffic from here",
                        b.target.id(), pool, b.lastProbeResult, hc.path(), b.probeFailures);
                  }
                  b.healthy = false;
                  b.judged = true;
                }
              }
            });
  }
}
