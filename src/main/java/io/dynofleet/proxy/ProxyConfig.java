package io.dynofleet.proxy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Data plane settings. */
@ConfigMapping(prefix = "dynofleet.proxy")
public interface ProxyConfig {

  /** Comma-separated backend URLs forming a default pool named {@code static} at start. */
  Optional<List<String>> staticBackends();

  /**
   * How often RouteSync reloads the pools from the database ({@code off}: only on local changes).
   */
  @WithDefault("2s")
  String syncInterval();

  /** Request timeout when a pool gives none (504 after it). */
  @WithDefault("30S")
  Duration defaultTimeout();

  /** Connect timeout to a backend. */
  @WithDefault("5S")
  Duration connectTimeout();

  /**
   * Keep-alive connections per backend, shared out among the event loops (each has its own pool).
   */
  @WithDefault("64")
  int poolSizePerBackend();

  /**
   * Requests that may wait for one of a backend's pooled connections, shared out among the event
   * loops as {@link #poolSizePerBackend()} is (each loop ⌈n ÷ loops⌉). One more gets 503 {@code
   * connection-queue-full} at once (or another backend, if it may be retried). The wait itself is
   * bounded by the pool's timeout; its size was not: a burst on a stuck backend queued without
   * limit.
   */
  @WithDefault("1000")
  int connectionQueuePerBackend();

  /**
   * How long an idle keep-alive connection to a backend is kept. Vert.x resolves the backend's host
   * name for every new connection (honouring DNS TTLs), so an idle connection left to an address
   * the name no longer points to is gone after this; a connection in steady use is not bounded by
   * it and stays on its address until the backend (or Heroku's router) closes it.
   */
  @WithDefault("30S")
  Duration keepAliveTimeout();

  /** Consecutive connect failures or 5xx that eject a backend. */
  @WithDefault("5")
  int ejectionConsecutiveFailures();

  /** First ejection time; doubled on each repeat. */
  @WithDefault("10S")
  Duration ejectionBaseTime();

  /** Longest ejection time. */
  @WithDefault("5M")
  Duration ejectionMaxTime();

  /** Largest share (percent) of a pool that may be ejected at once. */
  @WithDefault("50")
  int ejectionMaxPercent();

  /** Weight ramp for new or recovered backends. */
  @WithDefault("30S")
  Duration slowStart();

  /**
   * How long the proxy waits for a removed backend's in-flight requests to end before it drops the
   * backend's metric series (and, once its backends are idle or this has passed, a removed pool's).
   * Nothing is closed: each request still ends by the pool's timeout, idle connections by {@link
   * #keepAliveTimeout()}.
   */
  @WithDefault("30S")
  Duration drainTimeout();

  /**
   * Largest request body in bytes (413 above it: at once by Content-Length, else when a chunked
   * body passes it).
   */
  @WithDefault("104857600")
  long maxBodySize();

  /**
   * Largest response head in bytes a backend may send (502 above it). Vert.x's client default is 8
   * KB, which a large Content-Security-Policy plus a few cookies pass; requests may carry 32 KB
   * ({@code quarkus.http.limits.max-header-size}), and so may responses.
   */
  @WithDefault("32768")
  int maxResponseHeaderSize();

  /**
   * Keep a client's {@code X-Forwarded-Host} instead of setting it to the {@code Host} that chose
   * the pool. Only behind a front end (a CDN) that sets it itself: Heroku's router passes a
   * client's own, so anyone could make a backend build its links for another host.
   */
  @WithDefault("false")
  boolean trustForwardedHost();

  /**
   * How long another dyno's stored verdict on a backend counts (see {@link FleetHealth}) after it
   * was written or its dyno's last heartbeat, whichever is later: a dyno writes its heartbeat every
   * third of this, so a dyno that died without deleting its own stops counting after at most this
   * long. At least 10 s (the start stops otherwise).
   */
  @WithDefault("60S")
  Duration verdictTtl();

  /**
   * Most health-check probes a second this process sends, all pools together (0 or less: no cap).
   * Above it every pool's interval stretches alike, and a static URL named by several pools with
   * the same path and timeout is probed once for all of them either way (security review 5 S5-8).
   */
  @WithDefault("200")
  int probeMaxPerSecond();

  /** The proxy's own meters. */
  Metrics metrics();

  /** The proxy's own meters. */
  interface Metrics {
    /**
     * Latency histograms ({@code dynofleet_proxy_requests_seconds}) per backend or per pool: {@code
     * on} (per {@code pool,backend,status}), {@code off} (per {@code pool,status}), or {@code
     * auto}: per backend while the routing table holds at most {@link #backendHistogramsLimit()}
     * backends, per pool once it holds more, and per backend again once it is back to half the
     * limit (a rollout's doubled backends do not flip it back and forth). Each backend's counts by
     * status class ({@code dynofleet_proxy_backend_requests_total}) are kept either way. A
     * histogram is 21 series (17 buckets, {@code +Inf}, count, sum, max) per status class: at 300
     * backends, per backend, about 25,000 series on each dyno (audit 21 M5).
     */
    @WithDefault("auto")
    BackendHistograms backendHistograms();

    /** The number of backends in the routing table above which {@code auto} records per pool. */
    @WithDefault("50")
    int backendHistogramsLimit();
  }

  /** See {@link Metrics#backendHistograms()}. */
  enum BackendHistograms {
    AUTO,
    ON,
    OFF
  }

  /** Maintenance pages ({@code spec.routing.maintenancePageUrl}). */
  Maintenance maintenance();

  /** Maintenance pages ({@code spec.routing.maintenancePageUrl}). */
  interface Maintenance {
    /**
     * Fetch a page whose host resolves to a loopback, private, link-local or shared address (tests
     * and sandbox only). Off, such a page is not fetched and the built-in page is served: fetched
     * inside the dyno's network and served publicly, it let an API token read what answers there
     * (review 25 #7). The page's certificate is verified either way.
     */
    @WithDefault("false")
    boolean allowPrivatePages();
  }

  /** Trust any backend certificate (tests only; never a maintenance page's). */
  @WithDefault("false")
  boolean trustAll();
}
