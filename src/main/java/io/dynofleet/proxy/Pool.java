package io.dynofleet.proxy;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Immutable snapshot of a pool: its route and its backends' live state objects. The cursor (round
 * robin), the wait queue and the ejector are carried from snapshot to snapshot.
 */
record Pool(
    PoolRoute route,
    List<Backend> backends,
    AtomicInteger cursor,
    WaitQueue queue,
    Ejector ejector) {}
