package io.dynofleet.proxy;

import io.dynofleet.reconcile.DataPlane.Health;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One verdict per backend for the control plane, from every Dynofleet dyno's proxy. Each dyno
 * routes on its own probes; but events, the {@code Unhealthy} phase, restarts, replacements and
 * {@code Degraded} need one answer, or passes on dynos that disagree undo each other (review 13).
 * A backend is healthy when any dyno with a fresh verdict finds it healthy: one that only some
 * dynos cannot use is a problem of their path to it, which a restart or a new app does not mend,
 * and those dynos route around it anyway. It is unhealthy when every verdict says so, and shown as
 * ejected (its checks pass, its requests failed) only when every verdict is an ejection.
 */
final class FleetHealth {

  private FleetHealth() {
  }

  /** Another dyno's verdict on one backend, already known to be fresh. */
  record Verdict(String backend, String dyno, boolean healthy, boolean ejected, int consecutiveFailures,
      Instant lastProbe) {
  }

  /**
   * The fleet's view of the backends this dyno's proxy knows ({@code local}'s keys): its own
   * verdict where it has one, merged with {@code others}'. A backend no one has judged stays as
   * the local proxy has it (not known).
   */
  static Map<String, Health> merge(Map<String, Health> local, List<Verdict> others) {
    Map<String, List<Verdict>> byBackend = new HashMap<>();
    for (Verdict v : others) {
      byBackend.computeIfAbsent(v.backend(), k -> new ArrayList<>()).add(v);
    }
    Map<String, Health> out = new HashMap<>(local);
    for (Map.Entry<String, Health> e : local.entrySet()) {
      List<Verdict> theirs = byBackend.get(e.getKey());
      if (theirs == null) {
        continue;
      }
      List<Verdict> all = new ArrayList<>(theirs);
      Health mine = e.getValue();
      if (mine.known()) {
        all.add(new Verdict(e.getKey(), "", mine.healthy(), mine.ejected(), mine.consecutiveFailures(),
            mine.lastProbe()));
      }
      boolean healthy = all.stream().anyMatch(Verdict::healthy);
      boolean ejected = !healthy && all.stream().allMatch(Verdict::ejected);
      // the failures shown are those of the verdicts that decided: the fewest of the healthy ones,
      // the most of the failing ones
      int failures = healthy
          ? all.stream().filter(Verdict::healthy).mapToInt(Verdict::consecutiveFailures).min().orElse(0)
          : all.stream().mapToInt(Verdict::consecutiveFailures).max().orElse(0);
      Instant last = all.stream().map(Verdict::lastProbe).filter(t -> t != null).max(Instant::compareTo).orElse(null);
      out.put(e.getKey(), new Health(healthy, failures, last, true, ejected));
    }
    return out;
  }
}
