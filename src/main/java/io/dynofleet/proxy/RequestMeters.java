package io.dynofleet.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Each attempt at a backend, in two meters: its latency in {@code dynofleet.proxy.requests} (a
 * histogram, per {@code pool,backend,status} or per {@code pool,status}), and its count in {@code
 * dynofleet.proxy.backend.requests{pool,backend,status}} (always per backend).
 *
 * <p>A histogram per backend is 21 series per status class: 300 backends made some 25,000 series on
 * every dyno, 24,000 of them new at each rollout, where the documented alerts aggregate by pool
 * anyway (audit 21 M5). Above {@link ProxyConfig.Metrics#backendHistogramsLimit()} backends, under
 * {@code auto}, the histograms are per pool and each backend keeps only its counts.
 *
 * <p>Prometheus wants one set of tag keys per name, so the two shapes never live side by side: a
 * switch (decided at a routing table swap) removes every histogram of the old shape before one of
 * the new is made, and nothing is counted in both. An attempt being recorded across the switch may
 * miss the histograms; the counters miss nothing.
 */
final class RequestMeters {
  private static final Logger LOG = Logger.getLogger(RequestMeters.class);
  static final String HISTOGRAM = "dynofleet.proxy.requests";
  static final String COUNTER = "dynofleet.proxy.backend.requests";
  private static final String[] STATUS_CLASS = {"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"};

  private final MeterRegistry registry;
  private final ProxyConfig.BackendHistograms mode;
  private final int limit;

  /** Taken to make a histogram and to switch shapes: neither runs often. */
  private final Object lock = new Object();

  /** The histograms' shape now. */
  private volatile boolean perBackend;

  /** Bumped at each switch: a backend's cached histograms of an older one are dropped. */
  private volatile int generation;

  /** Per pool histograms by status class, while they are per pool. */
  private final Map<String, Timer[]> byPool = new ConcurrentHashMap<>();

  RequestMeters(MeterRegistry registry, ProxyConfig.Metrics config) {
    if (config.backendHistogramsLimit() < 1) {
      throw new IllegalStateException(
          "dynofleet.proxy.metrics.backend-histograms-limit must be at least 1, not "
              + config.backendHistogramsLimit());
    }
    this.registry = registry;
    this.mode = config.backendHistograms();
    this.limit = config.backendHistogramsLimit();
    this.perBackend = perBackend(mode, limit, 0, true);
  }

  /**
   * Whether the histograms should be per backend, with {@code backends} in the routing table and
   * per backend now or not: {@code auto} goes per pool above the limit and comes back at half of
   * it.
   */
  static boolean perBackend(
      ProxyConfig.BackendHistograms mode, int limit, int backends, boolean now) {
    return switch (mode) {
      case ON -> true;
      case OFF -> false;
      case AUTO -> backends <= (now ? limit : limit / 2);
    };
  }

  boolean perBackend() {
    return perBackend;
  }

  /** The routing table was swapped and now holds {@code backends}. */
  void tableSwapped(int backends) {
    synchronized (lock) {
      boolean next = perBackend(mode, limit, backends, perBackend);
      if (next == perBackend) return;
      perBackend = next;
      generation++;
      // every histogram of the old shape: Prometheus exports no second set of tag keys
      registry.find(HISTOGRAM).meters().forEach(registry::remove);
      byPool.clear();
      LOG.infof(
          "latency histograms (dynofleet_proxy_requests_seconds) now per %s: %d backends in the"
              + " routing table, dynofleet.proxy.metrics.backend-histograms-limit %d; request"
              + " counts per backend stay in dynofleet_proxy_backend_requests_total",
          next ? "backend" : "pool", backends, limit);
    }
  }

  /**
   * One attempt at {@code b} (whose meters exist), answered with {@code status}. A meter the
   * registry refuses (Prometheus allows one set of tag keys per name) is said once and the attempt
   * goes uncounted: a metric never fails a proxied request (it became the library's bare 502).
   */
  void record(Backend b, int status, long nanos) {
    try {
      count(b, status, nanos);
    } catch (RuntimeException e) {
      if (!refusedTold) {
        refusedTold = true;
        LOG.warnf(
            "a proxy request meter could not be recorded (%s): requests are served, and go"
                + " uncounted where it fails",
            e.toString());
      }
    }
  }

  private volatile boolean refusedTold;

  private void count(Backend b, int status, long nanos) {
    Backend.Meters m = b.meters;
    int cls = status / 100;
    if (cls < 1 || cls > 5) cls = 5;
    counter(b, m, cls).increment();
    histogram(b, m, cls).record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * A backend in the routing table (whose meters exist): its {@code 5xx} count and histogram at 0,
   * in the histograms' shape now. A series born at its first count shows Prometheus' {@code rate()}
   * and {@code increase()} nothing, so the documented 5xx alerts missed every backend's first burst
   * of failures, and all of a crash that an ejection ended within a scrape (audit 27 F3). Only the
   * class the alerts watch: the others are born at their first count as before.
   */
  void born(Backend b) {
    Backend.Meters m = b.meters;
    try {
      counter(b, m, 5);
      histogram(b, m, 5);
    } catch (RuntimeException e) {
      if (!refusedTold) {
        refusedTold = true;
        LOG.warnf(
            "a proxy request meter could not be registered (%s): requests are served, and go"
                + " uncounted where it fails",
            e.toString());
      }
    }
  }

  private Counter counter(Backend b, Backend.Meters m, int cls) {
    Counter c = m.counts[cls];
    if (c == null) {
      c =
          Counter.builder(COUNTER)
              .description("Attempts at the backend by status class")
              .tags("pool", m.pool, "backend", b.target.id(), "status", STATUS_CLASS[cls])
              .register(registry);
      m.counts[cls] = c;
    }
    return c;
  }

  private Timer histogram(Backend b, Backend.Meters m, int cls) {
    if (perBackend) {
      Timer[] ts = m.timers;
      if (m.generation == generation && ts[cls] != null) return ts[cls];
    } else {
      Timer[] ts = byPool.get(m.pool);
      if (ts != null && ts[cls] != null) return ts[cls];
    }
    synchronized (lock) {
      Timer[] ts;
      if (perBackend) {
        if (m.generation != generation) {
          m.timers = new Timer[6];
          m.generation = generation;
        }
        ts = m.timers;
      } else {
        ts = byPool.computeIfAbsent(m.pool, k -> new Timer[6]);
      }
      if (ts[cls] == null) {
        Timer.Builder t =
            Timer.builder(HISTOGRAM)
                .description("Proxied requests by backend (or pool) and status class")
                .serviceLevelObjectives(ReverseProxy.BUCKETS);
        if (perBackend) {
          t.tags("pool", m.pool, "backend", b.target.id(), "status", STATUS_CLASS[cls]);
        } else {
          t.tags("pool", m.pool, "status", STATUS_CLASS[cls]);
        }
        ts[cls] = t.register(registry);
      }
      return ts[cls];
    }
  }

  /**
   * A removed pool's per pool histograms go (its backends' series go as each drains); a pool of the
   * name added later gets new ones.
   */
  void poolRemoved(String pool) {
    synchronized (lock) {
      byPool.remove(pool);
      List<Meter> mine =
          registry.find(HISTOGRAM).tag("pool", pool).meters().stream()
              .filter(x -> x.getId().getTag("backend") == null)
              .toList();
      mine.forEach(registry::remove);
    }
  }
}
