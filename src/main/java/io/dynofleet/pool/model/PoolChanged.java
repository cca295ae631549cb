package io.dynofleet.pool.model;

import java.util.UUID;

/**
 * Fired (after commit) when a pool's desired state changed through the API, so the reconciler can
 * run a pass at once instead of waiting for its schedule.
 */
public record PoolChanged(UUID uid, String name) {}
