package io.dynofleet.proxy;

import java.time.Duration;

/** Active probe settings of a pool: GET {@code path}; 2xx/3xx is a success. */
public record HealthCheckSpec(
    String path,
    Duration interval,
    Duration timeout,
    int healthyThreshold,
    int unhealthyThreshold) {}
