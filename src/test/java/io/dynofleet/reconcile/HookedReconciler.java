package io.dynofleet.reconcile;

import io.dynofleet.api.HookTarget;
import io.dynofleet.config.ReconcileConfig;
import io.dynofleet.pool.model.PoolEvents;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.lang.reflect.Proxy;
import java.time.Clock;

/**
 * A second reconciler on the application's own beans with release webhooks on, which the test
 * profile keeps off (for tests in other packages; created only where injected).
 */
@Singleton
public class HookedReconciler {
  private final ReconcileStore store;
  private final PoolLocks locks;
  private final Platform platform;
  private final DataPlane dataPlane;
  private final PoolEvents events;
  private final ReconcileConfig config;
  private final Clock clock;
  private final MeterRegistry registry;
  private final HookTarget target;
  private final Reconciler reconciler;

  HookedReconciler(
      ReconcileStore store,
      PoolLocks locks,
      Platform platform,
      DataPlane dataPlane,
      PoolEvents events,
      ReconcileConfig config,
      Clock clock,
      MeterRegistry registry,
      HookTarget target) {
    this.store = store;
    this.locks = locks;
    this.platform = platform;
    this.dataPlane = dataPlane;
    this.events = events;
    this.config = config;
    this.clock = clock;
    this.registry = registry;
    this.target = target;
    this.reconciler = process();
  }

  /**
   * Another reconciler like it, of its own (what a restart makes: nothing remembered in memory);
   * the caller stops it.
   */
  Reconciler process() {
    return new Reconciler(
        store, locks, platform, dataPlane, events, webhooksOn(config), clock, registry, target);
  }

  /** {@code config} with {@code webhooks()} true. */
  static ReconcileConfig webhooksOn(ReconcileConfig config) {
    return (ReconcileConfig)
        Proxy.newProxyInstance(
            ReconcileConfig.class.getClassLoader(),
            new Class<?>[] {ReconcileConfig.class},
            (proxy, method, args) ->
                method.getName().equals("webhooks") ? Boolean.TRUE : method.invoke(config, args));
  }

  public ReconcileResult reconcile(String pool) {
    return reconciler.reconcile(new PoolKey(pool));
  }

  @PreDestroy
  void stop() {
    reconciler.stop();
  }
}
