package io.dynofleet.proxy;

import io.dynofleet.reconcile.DataPlane.Health;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One verdict per backend for the control plane, from every Dynofleet dyno's proxy. Each dyno
 * routes on its own probes; but events, the {@code Unhealthy} phase, restarts, replacements,
 * promotion, ready counts and {@code Degraded} need one answer, or passes on dynos that disagree
 * undo each other (review 13). Only verdicts with evidence count ({@link RouteSync}): a failure
 * judged by the probes or an ejection, or health the last probe confirmed; not health a proxy only
 * assumed (a backend published ready, a static URL, until its first probe). A backend is healthy
 * when any of them finds it healthy: one that only some dynos cannot use is a problem of their path
 * to it, which a restart or a new app does not mend, and those dynos route around it anyway. It is
 * unhealthy when every one says so, and shown as ejected (its checks pass, its requests failed)
 * only when every one is an ejection. Without any, the local proxy's view stands. A healthy backend
 * that some dynos find failing names them ({@code failingOn}).
 */
final class FleetHealth {

  private FleetHealth() {}

  /**
   * A dyno's verdict on one backend, with evidence, fresh; {@code lastFailure} says what a failing
   * one met (see {@link Health}), null for a healthy one. {@code probePassed}: whether that dyno's
   * last active probe of it passed; null when it has not probed it (no health check, no probe yet)
   * or the verdict is a row of the release before, which does not write it (V26).
   */
  record Verdict(
      String backend,
      String dyno,
      boolean healthy,
      boolean ejected,
      int consecutiveFailures,
      Instant lastProbe,
      String lastFailure,
      Boolean probePassed) {
    /** A verdict that does not say whether the last probe passed. */
    Verdict(
        String backend,
        String dyno,
        boolean healthy,
        boolean ejected,
        int consecutiveFailures,
        Instant lastProbe,
        String lastFailure) {
      this(backend, dyno, healthy, ejected, consecutiveFailures, lastProbe, lastFailure, null);
    }
  }

  /**
   * The fleet's view of the backends this dyno's proxy knows ({@code local}'s keys), from the
   * {@code verdicts} of every dyno, this one's included. A backend without any keeps the local
   * proxy's view.
   */
  static Map<String, Health> merge(Map<String, Health> local, List<Verdict> verdicts) {
    Map<String, List<Verdict>> byBackend = new HashMap<>();
    for (Verdict v : verdicts) {
      byBackend.computeIfAbsent(v.backend(), k -> new ArrayList<>()).add(v);
    }
    Map<String, Health> out = new HashMap<>(local);
    for (String backend : local.keySet()) {
      List<Verdict> all = byBackend.get(backend);
      if (all == null) {
        continue;
      }
      boolean healthy = all.stream().anyMatch(Verdict::healthy);
      boolean ejected = !healthy && all.stream().allMatch(Verdict::ejected);
      // the failures shown are those of the verdicts that decided: the fewest of the healthy ones,
      // the most of the failing ones
      int failures =
          healthy
              ? all.stream()
                  .filter(Verdict::healthy)
                  .mapToInt(Verdict::consecutiveFailures)
                  .min()
                  .orElse(0)
              : all.stream().mapToInt(Verdict::consecutiveFailures).max().orElse(0);
      // and what they met: that of the failing verdict with the most failures that says
      String lastFailure =
          healthy
              ? null
              : all.stream()
                  .filter(v -> v.lastFailure() != null)
                  .max(java.util.Comparator.comparingInt(Verdict::consecutiveFailures))
                  .map(Verdict::lastFailure)
                  .orElse(null);
      Instant last =
          all.stream()
              .map(Verdict::lastProbe)
              .filter(t -> t != null)
              .max(Instant::compareTo)
              .orElse(null);
      // whether the last probes passed: false when any dyno's last probe failed, null when none
      // says (rows of the release before, V26, count as a probe that ran, as that release judged)
      Boolean probePassed =
          all.stream().anyMatch(v -> Boolean.FALSE.equals(v.probePassed()))
              ? Boolean.FALSE
              : all.stream().anyMatch(v -> Boolean.TRUE.equals(v.probePassed()))
                  ? Boolean.TRUE
                  : null;
      // healthy for the fleet, failing from some dynos: only their logs said so (review 14)
      List<String> failingOn =
          healthy
              ? all.stream()
                  .filter(v -> !v.healthy())
                  .map(Verdict::dyno)
                  .distinct()
                  .sorted()
                  .toList()
              : List.of();
      out.put(
          backend,
          new Health(
              healthy,
              failures,
              last,
              true,
              ejected,
              failingOn.isEmpty() ? null : failingOn,
              lastFailure,
              probePassed));
    }
    return out;
  }
}
