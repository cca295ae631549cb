package io.dynofleet.pool.model;

/**
 * A backend of the pool turned healthy or unhealthy in this process's data plane: the reconciler
 * looks at the pool now (mark it unhealthy, schedule its restart, mark a new backend ready) rather
 * than at the next sweep.
 */
public record HealthChanged(String pool) {}
