package io.dynofleet.reconcile;

import java.time.Instant;
import java.util.Map;

/**
 * The reconciler's view of the data plane of this process: backend health as the proxy's active
 * and passive checks see it, and a way to re-publish pools after a change.
 */
public interface DataPlane {

  /**
   * One backend's health as the local proxy sees it; {@code known} is false until the proxy has a
   * verdict of its own (a backend another dyno made ready is not yet probed here). {@code ejected}:
   * passive ejection alone keeps it out (its requests failed in a row; its health checks pass, or
   * it has none), so it is not {@code healthy} either; shown as phase {@code Ejected}, not {@code
   * Unhealthy}, which said its checks failed (review 16).
   */
  record Health(boolean healthy, int consecutiveFailures, Instant lastProbe, boolean known, boolean ejected) {
    public Health(boolean healthy, int consecutiveFailures, Instant lastProbe, boolean known) {
      this(healthy, consecutiveFailures, lastProbe, known, false);
    }
  }

  /** Backend health of a pool by app name; apps the proxy does not know are absent. */
  Map<String, Health> health(String pool);

  /** Loads pools and backends from the store into the local proxy now. */
  void refresh();
}
