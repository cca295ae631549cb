package io.dynofleet.reconcile;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The reconciler's view of the data plane: backend health as the proxies' active and passive checks
 * see it (this process's, merged with the other Dynofleet dynos'), and a way to re-publish pools
 * after a change.
 */
public interface DataPlane {

  /**
   * One backend's health as the fleet's proxies see it; {@code known} is false until one of them
   * has a verdict (a backend another dyno made ready and no proxy has probed). {@code ejected}:
   * passive ejection alone keeps it out (its requests failed in a row; its health checks pass, or
   * it has none), so it is not {@code healthy} either; shown as phase {@code Ejected}, not {@code
   * Unhealthy}, which said its checks failed (review 16). Failing probes win: an ejected backend
   * whose probes fail to the threshold is not {@code ejected} but failing (audit 22 M1); below it,
   * as for any backend, it is still {@code ejected}, and {@code probePassed} says whether its last
   * probe passed (review 28 #1: one failed probe counted as failing). {@code failingOn}: the dynos
   * whose proxies find a backend the fleet calls healthy failing (they route around it), sorted;
   * null when none. {@code lastFailure}: what a backend that is not healthy met, the last probe's
   * result ({@code HTTP 503}, {@code connection refused}, a timeout's words) or, ejected, the last
   * failed request's; null for a healthy one or when no proxy said (audit 18 L5). {@code
   * probePassed}: whether the last probe passed, false when any proxy's last probe of it failed;
   * null when none says (not probed, no health check, or only rows of the release before, which do
   * not write it).
   */
  record Health(
      boolean healthy,
      int consecutiveFailures,
      Instant lastProbe,
      boolean known,
      boolean ejected,
      List<String> failingOn,
      String lastFailure,
      Boolean probePassed) {
    public Health(
        boolean healthy,
        int consecutiveFailures,
        Instant lastProbe,
        boolean known,
        boolean ejected,
        List<String> failingOn,
        String lastFailure) {
      this(healthy, consecutiveFailures, lastProbe, known, ejected, failingOn, lastFailure, null);
    }

    public Health(
        boolean healthy,
        int consecutiveFailures,
        Instant lastProbe,
        boolean known,
        boolean ejected,
        List<String> failingOn) {
      this(healthy, consecutiveFailures, lastProbe, known, ejected, failingOn, null);
    }

    public Health(
        boolean healthy,
        int consecutiveFailures,
        Instant lastProbe,
        boolean known,
        boolean ejected) {
      this(healthy, consecutiveFailures, lastProbe, known, ejected, null);
    }

    public Health(boolean healthy, int consecutiveFailures, Instant lastProbe, boolean known) {
      this(healthy, consecutiveFailures, lastProbe, known, false);
    }
  }

  /**
   * Backend health of a pool by app name (static backends: by id); backends this process's proxy
   * does not route are absent. Throws when the other dynos' verdicts cannot be read: the pass then
   * fails and is retried rather than act on one dyno's view.
   */
  Map<String, Health> health(String pool, UUID uid);

  /** Loads pools and backends from the store into the local proxy now. */
  void refresh();

  /**
   * Whether this process's routing table has been loaded from the store once since the start: until
   * then {@link #health} knows no backend, and a pass would take every ready backend for healthy.
   */
  default boolean loaded() {
    return true;
  }

  /**
   * The Dynofleet dynos seen recently, this one included: those whose proxies wrote fresh verdicts
   * on backends. A value kept up to date in the background (cheap to read); 1 when not known.
   */
  default int dynosSeen() {
    return 1;
  }
}
