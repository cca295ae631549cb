package io.dynofleet.proxy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the control plane publishes to the data plane for one pool.
 *
 * @param httpsRedirect on a Heroku dyno, a request that reached the router over plain http is
 *     redirected to https rather than proxied ({@code spec.routing.httpsRedirect})
 * @param proxySecret the pool's secret, sent as {@code X-Dynofleet-Proxy-Secret} to every backend
 *     without one of its own in {@code backendSecrets} (its apps have it as {@code
 *     DYNOFLEET_PROXY_SECRET}); null for none (a static pool, or a managed one none of whose
 *     backends was configured since secrets exist)
 * @param backendSecrets by backend id, the secret a backend's app was configured with where it is
 *     known: after a rotation the old apps hold the previous one until they are replaced
 * @param maintenance every request of the pool is answered with 503 and a maintenance page, none is
 *     proxied ({@code spec.routing.maintenance})
 * @param maintenancePageUrl the page to serve then, fetched and cached by the proxy ({@link
 *     MaintenancePages}); null for the built-in one
 */
public record PoolRoute(
    String name,
    List<String> hosts,
    boolean defaultPool,
    Algorithm algorithm,
    Duration timeout,
    int retries,
    int maxInFlightPerBackend,
    int maxQueue,
    Duration maxQueueWait,
    HealthCheckSpec healthCheck,
    List<BackendTarget> backends,
    boolean httpsRedirect,
    String proxySecret,
    Map<String, String> backendSecrets,
    boolean maintenance,
    String maintenancePageUrl) {
  public PoolRoute {
    backendSecrets = backendSecrets == null ? Map.of() : Map.copyOf(backendSecrets);
    hosts = hosts == null ? List.of() : List.copyOf(hosts);
    backends = backends == null ? List.of() : List.copyOf(backends);
    algorithm = algorithm == null ? Algorithm.LEAST_REQUEST : algorithm;
  }

  /** A route whose backends all get the pool's secret (none of them known to hold another). */
  public PoolRoute(
      String name,
      List<String> hosts,
      boolean defaultPool,
      Algorithm algorithm,
      Duration timeout,
      int retries,
      int maxInFlightPerBackend,
      int maxQueue,
      Duration maxQueueWait,
      HealthCheckSpec healthCheck,
      List<BackendTarget> backends,
      boolean httpsRedirect,
      String proxySecret) {
    this(
        name,
        hosts,
        defaultPool,
        algorithm,
        timeout,
        retries,
        maxInFlightPerBackend,
        maxQueue,
        maxQueueWait,
        healthCheck,
        backends,
        httpsRedirect,
        proxySecret,
        Map.of(),
        false,
        null);
  }

  /**
   * The secret to send the backend {@code id}: the one its app was configured with, else the
   * pool's; null for none.
   */
  String secretFor(String id) {
    return backendSecrets.getOrDefault(id, proxySecret);
  }

  /**
   * A route as before {@code httpsRedirect} and the secret: plain http proxied as it comes (the
   * pool of {@code DYNOFLEET_STATIC_BACKENDS}, which has no spec to say otherwise, and no apps).
   */
  public PoolRoute(
      String name,
      List<String> hosts,
      boolean defaultPool,
      Algorithm algorithm,
      Duration timeout,
      int retries,
      int maxInFlightPerBackend,
      int maxQueue,
      Duration maxQueueWait,
      HealthCheckSpec healthCheck,
      List<BackendTarget> backends) {
    this(
        name,
        hosts,
        defaultPool,
        algorithm,
        timeout,
        retries,
        maxInFlightPerBackend,
        maxQueue,
        maxQueueWait,
        healthCheck,
        backends,
        false,
        null,
        Map.of(),
        false,
        null);
  }

  /** A route without a proxy secret (a static pool's: no app of its has the var). */
  public PoolRoute(
      String name,
      List<String> hosts,
      boolean defaultPool,
      Algorithm algorithm,
      Duration timeout,
      int retries,
      int maxInFlightPerBackend,
      int maxQueue,
      Duration maxQueueWait,
      HealthCheckSpec healthCheck,
      List<BackendTarget> backends,
      boolean httpsRedirect) {
    this(
        name,
        hosts,
        defaultPool,
        algorithm,
        timeout,
        retries,
        maxInFlightPerBackend,
        maxQueue,
        maxQueueWait,
        healthCheck,
        backends,
        httpsRedirect,
        null,
        Map.of(),
        false,
        null);
  }

  /** The same route, the default pool or not. */
  PoolRoute withDefaultPool(boolean d) {
    return new PoolRoute(
        name,
        hosts,
        d,
        algorithm,
        timeout,
        retries,
        maxInFlightPerBackend,
        maxQueue,
        maxQueueWait,
        healthCheck,
        backends,
        httpsRedirect,
        proxySecret,
        backendSecrets,
        maintenance,
        maintenancePageUrl);
  }

  /** The same route in maintenance or not, with that page (null: the built-in one). */
  PoolRoute withMaintenance(boolean on, String pageUrl) {
    return new PoolRoute(
        name,
        hosts,
        defaultPool,
        algorithm,
        timeout,
        retries,
        maxInFlightPerBackend,
        maxQueue,
        maxQueueWait,
        healthCheck,
        backends,
        httpsRedirect,
        proxySecret,
        backendSecrets,
        on,
        pageUrl);
  }

  /** Never the secret itself: a route may end up in a log line or an assertion's message. */
  @Override
  public String toString() {
    return "PoolRoute[name="
        + name
        + ", hosts="
        + hosts
        + ", defaultPool="
        + defaultPool
        + ", algorithm="
        + algorithm
        + ", timeout="
        + timeout
        + ", retries="
        + retries
        + ", maxInFlightPerBackend="
        + maxInFlightPerBackend
        + ", maxQueue="
        + maxQueue
        + ", maxQueueWait="
        + maxQueueWait
        + ", healthCheck="
        + healthCheck
        + ", backends="
        + backends
        + ", httpsRedirect="
        + httpsRedirect
        + ", proxySecret="
        + (proxySecret == null ? "none" : "(hidden)")
        + ", backendSecrets="
        + backendSecrets.size()
        + " (hidden)"
        + ", maintenance="
        + maintenance
        + (maintenancePageUrl == null ? "" : ", maintenancePageUrl=(set)")
        + "]";
  }
}
