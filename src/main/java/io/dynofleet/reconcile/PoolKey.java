package io.dynofleet.reconcile;

/** What the work queue holds: a pool's name (like a namespace/name key in client-go). */
public record PoolKey(String name) {}
