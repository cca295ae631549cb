package io.dynofleet.proxy;

import java.time.Duration;
import java.util.List;

/**
 * What the control plane publishes to the data plane for one pool.
 *
 * @param httpsRedirect on a Heroku dyno, a request that reached the router over plain http is
 *     redirected to https rather than proxied ({@code spec.routing.httpsRedirect})
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
    boolean httpsRedirect) {
  public PoolRoute {
    hosts = hosts == null ? List.of() : List.copyOf(hosts);
    backends = backends == null ? List.of() : List.copyOf(backends);
    algorithm = algorithm == null ? Algorithm.LEAST_REQUEST : algorithm;
  }

  /**
   * A route as before {@code httpsRedirect}: plain http proxied as it comes (the pool of {@code
   * DYNOFLEET_STATIC_BACKENDS}, which has no spec to say otherwise).
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
        false);
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
        httpsRedirect);
  }
}
