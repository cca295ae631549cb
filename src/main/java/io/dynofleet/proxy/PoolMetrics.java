package io.dynofleet.proxy;

import io.dynofleet.pool.model.PoolStatus;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The pools' state as gauges, for alerting from Prometheus without polling the API (audit 14: no
 * meter said whether a pool was ready, degraded or stalled, nor whether this process's routing
 * table was stale, and the API is down exactly when the database is):
 *
 * <ul>
 *   <li>{@code dynofleet_pool_replicas{pool,kind}}: {@code desired}, {@code ready}, {@code
 *       updated};
 *   <li>{@code dynofleet_pool_condition{pool,type,status,reason}}: 1 for each condition the pool
 *       has now (its rows change with the condition);
 *   <li>{@code dynofleet_route_sync_age_seconds}: since the store was last read, successfully (with
 *       or without a change); it grows while the database is away and the proxy serves the last
 *       known pools.
 * </ul>
 *
 * Set from what {@link RouteSync} last read, so they keep answering while the database is away (as
 * of that read). A pool's status as its reconciler last wrote it (from any dyno).
 */
@ApplicationScoped
public class PoolMetrics {
  private final MultiGauge replicas;
  private final MultiGauge conditions;
  private final Clock clock;
  private volatile long lastReadMillis;

  public PoolMetrics(MeterRegistry registry, Clock clock) {
    this.clock = clock;
    this.lastReadMillis = clock.millis();
    replicas =
        MultiGauge.builder("dynofleet.pool.replicas")
            .description("Backends of a pool: desired (spec), ready and updated (status)")
            .register(registry);
    conditions =
        MultiGauge.builder("dynofleet.pool.condition")
            .description("1 for each condition a pool has now, by type, status and reason")
            .register(registry);
    Gauge.builder(
            "dynofleet.route.sync.age", this, m -> (m.clock.millis() - m.lastReadMillis) / 1000.0)
        .baseUnit("seconds")
        .description("Since the routing table was last read from the store")
        .register(registry);
  }

  /** The store was read (the tables unchanged or not). */
  void read() {
    lastReadMillis = clock.millis();
  }

  /** The pools as just loaded: name to (desired replicas, status); the status may be null. */
  void loaded(Map<String, Desired> pools) {
    List<MultiGauge.Row<?>> r = new ArrayList<>();
    List<MultiGauge.Row<?>> c = new ArrayList<>();
    pools.forEach(
        (name, d) -> {
          PoolStatus s = d.status();
          r.add(MultiGauge.Row.of(Tags.of("pool", name, "kind", "desired"), d.replicas()));
          r.add(
              MultiGauge.Row.of(
                  Tags.of("pool", name, "kind", "ready"), s == null ? 0 : s.readyReplicas()));
          r.add(
              MultiGauge.Row.of(
                  Tags.of("pool", name, "kind", "updated"), s == null ? 0 : s.updatedReplicas()));
          if (s != null && s.conditions() != null) {
            for (PoolStatus.Condition k : s.conditions()) {
              c.add(
                  MultiGauge.Row.of(
                      Tags.of(
                          "pool",
                          name,
                          "type",
                          k.type(),
                          "status",
                          k.status(),
                          "reason",
                          k.reason() == null ? "" : k.reason()),
                      1));
            }
          }
        });
    replicas.register(r, true);
    conditions.register(c, true);
  }

  /** What a pool should have, and what it last said it has. */
  record Desired(int replicas, PoolStatus status) {}
}
