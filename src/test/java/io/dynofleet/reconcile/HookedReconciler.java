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
    this.reconciler =
        new Reconciler(
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
