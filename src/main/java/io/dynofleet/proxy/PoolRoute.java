package io.dynofleet.proxy;

import java.time.Duration;
import java.util.List;

/** What the control plane publishes to the data plane for one pool. */
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
    List<BackendTarget> backends) {
  public PoolRoute {
    hosts = hosts == null ? List.of() : List.copyOf(hosts);
    backends = backends == null ? List.of() : List.copyOf(backends);
    algorithm = algorithm == null ? Algorithm.LEAST_REQUEST : algorithm;
  }
}
