package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.proxy.FleetHealth.Verdict;
import io.dynofleet.reconcile.DataPlane.Health;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the verdicts of several dynos' proxies on one backend make the control plane's one. */
class FleetHealthTest {
  private static final Instant T = Instant.parse("2026-11-25T10:00:00Z");

  private static Health up() {
    return new Health(true, 0, T, true, false);
  }

  private static Health failing(int failures) {
    return new Health(false, failures, T, true, false);
  }

  private static Health unprobed() {
    return new Health(false, 0, null, false, false);
  }

  private static Verdict other(
      String backend, boolean healthy, boolean ejected, int failures, Instant last) {
    return new Verdict(backend, "web.2.abc", healthy, ejected, failures, last, null);
  }

  /** This dyno's verdict with evidence, as RouteSync adds it to the others'. */
  private static Verdict mine(String backend, Health h) {
    return new Verdict(
        backend,
        "web.1.def",
        h.healthy(),
        h.ejected(),
        h.consecutiveFailures(),
        h.lastProbe(),
        h.lastFailure());
  }

  @Test
  void withoutOtherVerdictsTheLocalOneStands() {
    Map<String, Health> local = Map.of("a", failing(3), "b", up(), "c", unprobed());
    assertThat(FleetHealth.merge(local, List.of())).isEqualTo(local);
  }

  @Test
  void oneDynoThatFindsItHealthyMakesItHealthy() {
    Health h =
        FleetHealth.merge(
                Map.of("a", failing(3)),
                List.of(mine("a", failing(3)), other("a", true, false, 0, T.plusSeconds(1))))
            .get("a");
    assertThat(h.healthy()).isTrue();
    assertThat(h.known()).isTrue();
    assertThat(h.ejected()).isFalse();
    assertThat(h.consecutiveFailures()).as("the failures of the verdict that decided").isZero();
    assertThat(h.lastProbe()).isEqualTo(T.plusSeconds(1));

    Health mineUp =
        FleetHealth.merge(
                Map.of("a", up()), List.of(mine("a", up()), other("a", false, false, 3, T)))
            .get("a");
    assertThat(mineUp.healthy()).isTrue();
  }

  /** Review 14: a backend only some dynos cannot reach showed nowhere but in their logs. */
  @Test
  void aHealthyBackendNamesTheDynosThatFindItFailing() {
    Verdict third = new Verdict("a", "web.3.fed", false, true, 5, T, null);
    Health h =
        FleetHealth.merge(
                Map.of("a", failing(3)),
                List.of(mine("a", failing(3)), third, other("a", true, false, 0, T)))
            .get("a");
    assertThat(h.healthy()).isTrue();
    assertThat(h.failingOn())
        .as("sorted, an ejection included")
        .containsExactly("web.1.def", "web.3.fed");

    assertThat(
            FleetHealth.merge(
                    Map.of("a", up()), List.of(mine("a", up()), other("a", true, false, 0, T)))
                .get("a")
                .failingOn())
        .as("healthy everywhere")
        .isNull();
    assertThat(
            FleetHealth.merge(
                    Map.of("a", failing(3)),
                    List.of(mine("a", failing(3)), other("a", false, false, 3, T)))
                .get("a")
                .failingOn())
        .as("failing everywhere: healthy false says it")
        .isNull();
    assertThat(FleetHealth.merge(Map.of("a", failing(3)), List.of()).get("a").failingOn())
        .as("one dyno")
        .isNull();
  }

  @Test
  void itIsUnhealthyOnlyWhenEveryVerdictSaysSo() {
    Health h =
        FleetHealth.merge(
                Map.of("a", failing(2)),
                List.of(
                    mine("a", failing(2)),
                    other("a", false, false, 3, T.minusSeconds(5)),
                    new Verdict("a", "web.3.def", false, true, 5, null, "timeout")))
            .get("a");
    assertThat(h.healthy()).isFalse();
    assertThat(h.known()).isTrue();
    assertThat(h.ejected()).as("two of the three failed their checks").isFalse();
    assertThat(h.consecutiveFailures()).isEqualTo(5);
    assertThat(h.lastProbe()).isEqualTo(T);
    assertThat(h.lastFailure())
        .as("what the verdict with the most failures met (audit 18 L5)")
        .isEqualTo("timeout");
  }

  @Test
  void ejectedOnlyWhenEveryFailingVerdictIsAnEjection() {
    Health ejected = new Health(false, 5, T, true, true);
    assertThat(
            FleetHealth.merge(
                    Map.of("a", ejected),
                    List.of(mine("a", ejected), other("a", false, true, 6, T)))
                .get("a")
                .ejected())
        .isTrue();
    assertThat(
            FleetHealth.merge(
                    Map.of("a", ejected),
                    List.of(mine("a", ejected), other("a", false, false, 3, T)))
                .get("a")
                .ejected())
        .isFalse();
  }

  /**
   * A healthy local view without evidence (only assumed) is not among the verdicts: others decide.
   */
  @Test
  void anAssumedHealthHereDoesNotOutvoteAnotherDynosFailure() {
    Health h =
        FleetHealth.merge(Map.of("a", up()), List.of(other("a", false, false, 3, T))).get("a");
    assertThat(h.healthy()).isFalse();
    assertThat(h.consecutiveFailures()).isEqualTo(3);
  }

  @Test
  void anotherDynosVerdictCountsForABackendNotProbedHereYet() {
    Health h =
        FleetHealth.merge(Map.of("a", unprobed()), List.of(other("a", false, false, 3, T)))
            .get("a");
    assertThat(h.known()).isTrue();
    assertThat(h.healthy()).isFalse();
    assertThat(
            FleetHealth.merge(Map.of("a", unprobed()), List.of(other("a", true, false, 0, T)))
                .get("a")
                .healthy())
        .isTrue();
  }

  @Test
  void verdictsOnBackendsThisProxyDoesNotKnowAreIgnored() {
    Map<String, Health> merged =
        FleetHealth.merge(Map.of("a", up()), List.of(other("gone", false, false, 3, T)));
    assertThat(merged).containsOnlyKeys("a");
    assertThat(merged.get("a")).isEqualTo(up());
  }

  private static BackendStats stats(
      boolean healthy, boolean ejected, boolean judged, Instant lastProbe, boolean probePassing) {
    return new BackendStats(
        "a",
        java.net.URI.create("http://a.example"),
        healthy,
        ejected,
        0,
        null,
        lastProbe,
        null,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        judged,
        probePassing);
  }

  /**
   * Review 14: a backend this proxy only assumes healthy (published ready, a static URL) is no
   * evidence; a probe that passed, probes failed to the threshold, or an ejection is.
   */
  @Test
  void onlyVerdictsWithEvidenceAreSharedWithTheFleet() {
    assertThat(RouteSync.evidence(stats(true, false, true, null, false), "d"))
        .as("assumed, not probed")
        .isNull();
    assertThat(RouteSync.evidence(stats(true, false, true, T, false), "d"))
        .as("assumed, a probe failed below the threshold")
        .isNull();
    assertThat(RouteSync.evidence(stats(false, false, false, T, false), "d"))
        .as("new, probes below either threshold")
        .isNull();
    assertThat(RouteSync.evidence(stats(true, false, true, T, true), "d"))
        .as("its last probe passed")
        .satisfies(v -> assertThat(v.healthy()).isTrue());
    assertThat(RouteSync.evidence(stats(false, false, true, T, false), "d"))
        .as("probes failed to the threshold")
        .satisfies(v -> assertThat(v.healthy()).isFalse());
    assertThat(RouteSync.evidence(stats(true, true, true, null, false), "d"))
        .as("ejected, no health check")
        .satisfies(
            v -> {
              assertThat(v.healthy()).isFalse();
              assertThat(v.ejected()).isTrue();
            });
  }

  /**
   * Audit 22 M1: failing probes win over an ejection, once they failed to the threshold, as for any
   * backend. Review 28 #1: one failed probe of an ejected backend made it failing (a probe timeout
   * of a backend a client keeps ejecting could start its repair clock); it is still ejected, and
   * the verdict says its last probe failed, so that no pass tells it "its health check passes". In
   * a pool without a health check (removed: its last probe's result is stale) nothing is said of
   * probes.
   */
  @Test
  void anEjectedBackendIsFailingOnlyOnceItsProbesFailedToTheThreshold() {
    assertThat(RouteSync.evidence(stats(true, true, true, T, false), "d", true))
        .as("its last probe failed, below the threshold")
        .satisfies(
            v -> {
              assertThat(v.healthy()).isFalse();
              assertThat(v.ejected()).isTrue();
              assertThat(v.probePassed()).isFalse();
            });
    assertThat(RouteSync.evidence(stats(false, true, true, T, false), "d", true))
        .as("its probes failed to the threshold")
        .satisfies(
            v -> {
              assertThat(v.healthy()).isFalse();
              assertThat(v.ejected()).isFalse();
            });
    assertThat(RouteSync.evidence(stats(true, true, true, T, true), "d", true))
        .as("its last probe passed")
        .satisfies(
            v -> {
              assertThat(v.ejected()).isTrue();
              assertThat(v.probePassed()).isTrue();
            });
    assertThat(RouteSync.evidence(stats(true, true, true, null, false), "d", true))
        .as("not probed yet")
        .satisfies(
            v -> {
              assertThat(v.ejected()).isTrue();
              assertThat(v.probePassed()).isNull();
            });
    assertThat(RouteSync.evidence(stats(true, true, true, T, false), "d", false))
        .as("no health check")
        .satisfies(
            v -> {
              assertThat(v.ejected()).isTrue();
              assertThat(v.probePassed()).isNull();
            });
  }

  /**
   * The fleet's "last probe passed" for an ejected backend: false when any dyno's last probe
   * failed, true when one passed and none failed, unknown when no verdict says (rows of the release
   * before, V26).
   */
  @Test
  void anyDynosFailedLastProbeMakesTheFleetsFailed() {
    Health ejected = new Health(false, 5, T, true, true);
    java.util.function.Function<Boolean, Verdict> on =
        passed -> new Verdict("a", "web.2.abc", false, true, 5, T, "HTTP 500", passed);
    java.util.function.Function<Boolean, Verdict> here =
        passed -> new Verdict("a", "web.1.def", false, true, 5, T, "HTTP 500", passed);
    assertThat(merged(ejected, here.apply(true), on.apply(false)).probePassed()).isFalse();
    assertThat(merged(ejected, here.apply(true), on.apply(null)).probePassed()).isTrue();
    assertThat(merged(ejected, here.apply(null), on.apply(null)).probePassed()).isNull();
    assertThat(merged(ejected, here.apply(true), on.apply(true)).ejected()).isTrue();
  }

  private static Health merged(Health local, Verdict... verdicts) {
    return FleetHealth.merge(Map.of("a", local), List.of(verdicts)).get("a");
  }
}
