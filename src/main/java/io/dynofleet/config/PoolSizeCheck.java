package io.dynofleet.config;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import org.eclipse.microprofile.config.Config;

/**
 * Each reconcile pass holds a database connection for its pool's lock for the whole pass, and its
 * steps, the API and the proxy's pool reloads need others: with no more connections than
 * reconcile workers, every store call waited out the acquisition timeout and failed (review 3). A
 * pool too small for the workers stops the start, saying so.
 */
@ApplicationScoped
class PoolSizeCheck {
  /** Connections beyond the workers' locks: a pass's own writes, and the API or the proxy. */
  static final int SPARE = 2;

  void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent e, ReconcileConfig reconcile,
      Config raw) {
    int max = raw.getOptionalValue("quarkus.datasource.jdbc.max-size", Integer.class).orElse(20);
    int workers = reconcile.workers();
    if (workers > 0 && max < workers + SPARE) {
      throw new IllegalStateException("DYNOFLEET_DB_POOL_SIZE is " + max + " but " + workers
          + " reconcile workers need at least " + (workers + SPARE) + " database connections (each pass holds"
          + " one for its pool's lock): raise DYNOFLEET_DB_POOL_SIZE or lower DYNOFLEET_RECONCILE_WORKERS");
    }
  }
}
