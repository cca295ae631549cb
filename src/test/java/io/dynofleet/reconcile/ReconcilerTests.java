package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dynofleet.api.ApiException;
import io.dynofleet.api.EventDocument;
import io.dynofleet.api.PoolService;
import io.dynofleet.api.PoolService.Precondition;
import io.dynofleet.config.ReconcileConfig;
import io.dynofleet.pool.model.PoolEvents;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.reconcile.FakePlatform.Action;
import io.dynofleet.reconcile.Platform.PlatformException;
import io.dynofleet.reconcile.Platform.PlatformException.Kind;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reconciler driven pass by pass, as the ReplicaSet controller's tests do: set up the world,
 * call reconcile, assert what exists. Real PostgreSQL, an in-memory Heroku, a hand-moved clock.
 */
@QuarkusTest
@TestProfile(FakePlatformProfile.class)
class ReconcilerTests {
  private static final AtomicInteger SEQ = new AtomicInteger();

  @Inject Reconciler reconciler;
  @Inject ReconcileLoop loop;
  @Inject FakePlatform heroku;
  @Inject FakeDataPlane dataPlane;
  @Inject TestClock clock;
  @Inject PoolService pools;
  @Inject ReconcileStore store;
  @Inject PoolLocks locks;
  @Inject PoolEvents events;
  @Inject ReconcileConfig config;
  @Inject MeterRegistry registry;
  @Inject io.dynofleet.api.HookTarget hookTarget;
  @Inject io.agroal.api.AgroalDataSource dataSource;

  private String name;
  private String source;

  @BeforeEach
  void world() {
    heroku.reset();
    dataPlane.reset();
    reconciler.forgetCaches();
    heroku.clock = clock;
    int n = SEQ.incrementAndGet();
    name = "pool-" + n;
    source = "src-" + n;
    heroku.sourceApp(source, Map.of("GREETING", "hello", "SHARED_SECRET", "s3"));
    heroku.addPipeline("pipe-" + n);
  }

  private void createPool(int replicas, String extraSpec) {
    pools.create(
        """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "pipe-%s", "replicas": %d,
                  "template": {"sourceApp": "%s", "dynoSize": "hobby", "configVars": {"ROLE": "backend"}}
                  %s}}
        """
            .formatted(name, name.substring(5), replicas, source, extraSpec));
  }

  private void scale(int n) {
    pools.scale(name, "{\"replicas\": " + n + "}", new Precondition(null));
  }

  /**
   * {@code n} passes, the clock 6 s on after each (as the loop would requeue an in-flight pool).
   */
  private void passes(int n) {
    for (int i = 0; i < n; i++) {
      pass();
      clock.advance(Duration.ofSeconds(6));
    }
  }

  private ReconcileResult pass() {
    return reconciler.reconcile(new PoolKey(name));
  }

  /** Passes until the reconciler has nothing in flight, moving the clock past drains. */
  private int converge() {
    for (int i = 1; i <= 40; i++) {
      ReconcileResult r = pass();
      clock.advance(Duration.ofSeconds(6));
      if (r.outcome() == ReconcileResult.Outcome.DONE) {
        return i;
      }
    }
    throw new AssertionError("did not converge in 40 passes: " + status());
  }

  private PoolStatus status() {
    return pools.get(name).status();
  }

  private UUID uid() {
    return pools.get(name).metadata().uid();
  }

  private List<String> owned() {
    return heroku.appsOwnedBy(uid());
  }

  /** Apps other than the source app, whoever owns them: a twin or an orphan shows here. */
  private List<String> allBackendApps() {
    return heroku.apps.keySet().stream().filter(a -> !a.equals(source)).toList();
  }

  /** The targets the pool's backends were made for or rolled to. */
  private java.util.Set<String> targets() {
    return store.backends(uid()).stream()
        .map(b -> b.target)
        .collect(java.util.stream.Collectors.toSet());
  }

  private long count(String op) {
    return heroku.actions.stream().filter(a -> a.op().equals(op)).count();
  }

  /** Every backend fails its health checks for {@code minutes}, a pass a minute; returns them. */
  private List<String> everyBackendFailsFor(int minutes) {
    List<String> apps = owned();
    dataPlane.unhealthy.addAll(apps);
    for (int i = 0; i < minutes; i++) {
      pass();
      clock.advance(Duration.ofSeconds(60));
    }
    return apps;
  }

  private String condition(String type) {
    return status().conditions().stream()
        .filter(c -> c.type().equals(type))
        .map(c -> c.status() + "/" + c.reason())
        .findFirst()
        .orElse("none");
  }

  @Test
  void scalesZeroToThreeToOneToZero() {
    createPool(0, "");
    converge();
    assertThat(allBackendApps()).isEmpty();
    assertThat(condition("Ready")).isEqualTo("True/AllReplicasReady");

    scale(3);
    converge();
    assertThat(owned()).hasSize(3);
    assertThat(allBackendApps()).hasSize(3);
    for (String app : owned()) {
      Map<String, String> vars = heroku.config.get(app);
      assertThat(vars)
          .containsEntry("GREETING", "hello")
          .containsEntry("ROLE", "backend")
          .containsEntry(Reconciler.OWNER_VAR, uid().toString());
      assertThat(heroku.web.get(app)).isEqualTo(1);
      assertThat(heroku.releases.get(app)).isNotEmpty();
      assertThat(app).startsWith(name + "-").hasSizeLessThanOrEqualTo(30);
    }
    assertThat(heroku.couplings).hasSize(3);
    PoolStatus s = status();
    assertThat(s.readyReplicas()).isEqualTo(3);
    assertThat(s.replicas()).isEqualTo(3);
    assertThat(s.updatedReplicas()).isEqualTo(3);
    assertThat(s.observedGeneration()).isEqualTo(pools.get(name).metadata().generation());
    assertThat(s.targetRelease()).isEqualTo("v1");
    assertThat(s.estimatedMonthlyCost()).isEqualTo(21.0); // 3 basic dynos at $7
    assertThat(s.equivalentDynoCost()).isEqualTo(75.0); // 3 standard-1x in one app
    assertThat(condition("Ready")).isEqualTo("True/AllReplicasReady");
    assertThat(condition("Progressing")).isEqualTo("False/Stable");

    scale(1);
    converge();
    assertThat(owned()).hasSize(1);
    assertThat(allBackendApps()).hasSize(1);
    assertThat(status().backends()).hasSize(1);

    scale(0);
    converge();
    assertThat(allBackendApps()).isEmpty();
    assertThat(count("createApp")).isEqualTo(3);
    assertThat(count("deleteApp")).isEqualTo(3);
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .contains("AppCreated", "BackendReady", "Draining", "AppDeleted");
  }

  /**
   * Audit 20 H2: every backend app of a pool gets the pool's proxy secret as DYNOFLEET_PROXY_SECRET
   * (the same for all; another pool has its own), which the API never shows and the drift check
   * leaves alone. A pool made before the secret existed gets it with its next backend, not through
   * a rollout: the backends it has keep running as they are.
   */
  @Test
  void everyBackendGetsThePoolsProxySecretWithoutARollout() throws Exception {
    createPool(2, "");
    converge();
    List<String> apps = owned();
    assertThat(apps).hasSize(2);
    String secret = heroku.config.get(apps.get(0)).get(Reconciler.PROXY_SECRET_VAR);
    assertThat(secret).matches("[0-9a-f]{64}");
    assertThat(heroku.config.get(apps.get(1))).containsEntry(Reconciler.PROXY_SECRET_VAR, secret);
    assertThat(store.existingProxySecret(uid())).isEqualTo(secret);
    clock.advance(config.driftCheckInterval().plusMinutes(1));
    converge();
    assertThat(messages("ConfigDrift")).isEmpty();
    assertThat(pools.get(name).toString()).doesNotContain(secret);
    assertThat(pools.events(name, 200))
        .allSatisfy(e -> assertThat(e.message()).doesNotContain(secret));

    // as a pool of the release before: no secret yet, and backends configured without it
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement("delete from pool_secrets where pool_id = ?")) {
      st.setObject(1, uid());
      assertThat(st.executeUpdate()).isEqualTo(1);
    }
    apps.forEach(a -> heroku.config.get(a).remove(Reconciler.PROXY_SECRET_VAR));
    long creates = count("createApp");
    clock.advance(config.driftCheckInterval().plusMinutes(1));
    converge();
    assertThat(count("createApp")).as("no rollout").isEqualTo(creates);
    assertThat(owned()).containsExactlyInAnyOrderElementsOf(apps);
    assertThat(messages("ConfigDrift")).isEmpty();
    assertThat(store.existingProxySecret(uid())).as("not made before it is used").isNull();
    scale(3);
    converge();
    List<String> added = new ArrayList<>(owned());
    added.removeAll(apps);
    assertThat(added).hasSize(1);
    String made = heroku.config.get(added.get(0)).get(Reconciler.PROXY_SECRET_VAR);
    assertThat(made).matches("[0-9a-f]{64}").isNotEqualTo(secret);
    assertThat(store.existingProxySecret(uid())).isEqualTo(made);
    apps.forEach(
        a -> assertThat(heroku.config.get(a)).doesNotContainKey(Reconciler.PROXY_SECRET_VAR));

    // another pool has a secret of its own
    String first = name;
    name = name + "-b";
    heroku.addPipeline("pipe-" + name.substring(5));
    createPool(1, "");
    converge();
    String other = heroku.config.get(owned().get(0)).get(Reconciler.PROXY_SECRET_VAR);
    assertThat(other).matches("[0-9a-f]{64}").isNotEqualTo(made);
    name = first;
  }

  /**
   * A backend's failed release phase is quoted in the pool's events and status, which the read-only
   * token and every log drain read: the proxy secret the backend holds is masked there as its other
   * config vars are.
   */
  @Test
  void theProxySecretIsMaskedInAFailedReleasesOutput() {
    heroku.releasesFail = true;
    heroku.releaseOutput = "placeholder";
    String[] printed = new String[1];
    heroku.onNext(
        "releaseOutput",
        () -> {
          printed[0] = heroku.config.get(owned().get(0)).get(Reconciler.PROXY_SECRET_VAR);
          heroku.releaseOutput = "env\nsecret is " + printed[0] + " here";
        });
    createPool(1, "");
    passes(6);
    assertThat(condition("Degraded")).isEqualTo("True/CreateFailed");
    assertThat(printed[0]).matches("[0-9a-f]{64}");
    assertThat(pools.events(name, 200))
        .anySatisfy(e -> assertThat(e.message()).contains("secret is *** here"))
        .allSatisfy(e -> assertThat(e.message()).doesNotContain(printed[0]));
    assertThat(status().toString()).doesNotContain(printed[0]);
  }

  /**
   * Operations audit (low): scaling back up while healthy backends drained made new apps beside
   * their twins being deleted (12 creates for 2→6→1→5→0→4). A backend still draining at the current
   * release, having left in good health, serves again instead.
   */
  @Test
  void scalingBackUpWhileBackendsDrainTakesThemBack() {
    createPool(3, "");
    converge();
    scale(1);
    pass();
    assertThat(status().backends()).filteredOn(b -> b.phase().equals("Draining")).hasSize(2);
    scale(3);
    pass();
    assertThat(count("createApp")).as("no new app").isEqualTo(3);
    // back in the data plane, through health checks first (audit: one may break while it drains)
    assertThat(status().backends())
        .extracting(b -> b.phase())
        .containsExactlyInAnyOrder("Ready", "Releasing", "Releasing");
    assertThat(dataPlane.health(name, null)).hasSize(3);
    converge();
    assertThat(count("createApp")).isEqualTo(3);
    assertThat(count("deleteApp")).isZero();
    assertThat(owned()).hasSize(3);
    assertThat(status().readyReplicas()).isEqualTo(3);
    assertThat(pools.events(name, 50))
        .extracting(e -> e.reason())
        .filteredOn("Reclaimed"::equals)
        .hasSize(2);
  }

  /** The messages of the pool's events of {@code reason}. */
  private List<String> messages(String reason) {
    return pools.events(name, 200).stream()
        .filter(e -> e.reason().equals(reason))
        .map(e -> e.message())
        .toList();
  }

  /**
   * Audit 18 #2: every Draining event said "app X leaves the data plane", for a scale-down, a
   * replacement, a rollout or a deletion alike; it now says why, and AppCreated what the app is
   * for. The draining messages failed before.
   */
  @Test
  void drainingEventsSayWhyTheAppLeaves() {
    createPool(1, "");
    converge();
    scale(3);
    converge();
    assertThat(messages("AppCreated"))
        .hasSize(3)
        .filteredOn(m -> m.endsWith(" created for release v1 (to reach 3 replicas)"))
        .hasSize(2);
    scale(1);
    pass();
    assertThat(messages("Draining"))
        .hasSize(2)
        .allSatisfy(
            m ->
                assertThat(m)
                    .matches("app " + name + "-\\S+ leaves the data plane: scale-down to 1"));
    converge();
    String last = owned().get(0);
    pools.delete(name, new Precondition(null));
    pass();
    assertThat(messages("Draining"))
        .hasSize(3)
        .contains("app " + last + " leaves the data plane: pool deleted");
  }

  /**
   * Audit 19 #3: a backend configured for a target the source has left was re-targeted in place,
   * and its config set again by a merge PATCH that never drops a var: it kept what the new target
   * lacks. Reached when planReplicas returns before its old-backend loop: here a scale-down leaves
   * more backends at the (again) current target than replicas. The source sets FEATURE_Y (a new
   * target); of the two new apps one is releasing, the other configured and waiting; the var is
   * unset again (the old target once more) in a pass that scales 3 to 2, then back to 3. The
   * configured one kept FEATURE_Y and got ready with it (a ConfigDrift "set by hand"); now it is
   * drained and the pool converges without the var. Fails on the old code.
   */
  @Test
  void aConfiguredBackendAtATargetTheSourceLeftIsMadeAgainNotReTargetedInPlace() {
    createPool(3, ", \"rollout\": {\"maxSurge\": 2}");
    converge();
    heroku.releasesPending = true;
    heroku.setVar(source, "FEATURE_Y", "on");
    for (int i = 0; i < 6 && count("createRelease") == 3; i++) {
      pass();
    }
    pass();
    assertThat(count("createRelease")).as("one release at a time").isEqualTo(4);
    assertThat(store.backends(uid()))
        .extracting(b -> b.step)
        .contains(io.dynofleet.pool.model.Backend.Step.RELEASING)
        .contains(io.dynofleet.pool.model.Backend.Step.CONFIGURED);
    List<String> withVar =
        owned().stream().filter(a -> heroku.config.get(a).containsKey("FEATURE_Y")).toList();
    assertThat(withVar).hasSize(2);
    heroku.unsetVar(source, "FEATURE_Y");
    scale(2);
    pass();
    scale(3);
    heroku.releasesPending = false;
    heroku.completeReleases();
    converge();
    assertThat(status().readyReplicas()).isEqualTo(3);
    assertThat(owned())
        .hasSize(3)
        .allSatisfy(a -> assertThat(heroku.config.get(a)).doesNotContainKey("FEATURE_Y"));
    assertThat(messages("ConfigDrift")).isEmpty();
  }

  /**
   * Audit 19 #4: a coupled backend a proxy already routes (healthy in the data plane, not yet
   * promoted to ready) was drained with no drain time by a scale-down in that pass and deleted at
   * once, its requests in flight cut. It now gets the drain time, as a ready one does. Fails on the
   * old code.
   */
  @Test
  void aCoupledBackendHealthyInTheDataPlaneGetsTheDrainTimeOnAScaleDown() {
    String coupled = aThirdBackendCoupledAndHealthy();
    scale(2);
    pass();
    assertThat(messages("Draining"))
        .containsExactly("app " + coupled + " leaves the data plane: scale-down to 2");
    assertThat(count("deleteApp")).as("not before the drain time").isZero();
    assertThat(heroku.apps).containsKey(coupled);
    clock.advance(config.drainTime().orElseThrow().plusSeconds(1));
    converge();
    assertThat(count("deleteApp")).isEqualTo(1);
    assertThat(heroku.apps).doesNotContainKey(coupled);
    assertThat(owned()).hasSize(2);
  }

  /**
   * Audit 19 #4: a backend drained while its release phase ran (a scale-down, a rollout, a
   * deletion) was deleted in the same pass, its release command (a migration, perhaps) cut. Its app
   * is now deleted once the release ends. Fails on the old code.
   */
  @Test
  void aReleasingBackendScaledAwayIsDeletedOnceItsReleaseEnds() {
    heroku.releasesPending = true;
    createPool(1, "");
    passUntilOneReleaseIsOut();
    String releasing = owned().get(0);
    scale(0);
    ReconcileResult r = pass();
    assertThat(count("deleteApp")).as("not while its release is pending").isZero();
    assertThat(messages("Draining"))
        .containsExactly(
            "app "
                + releasing
                + " leaves the data plane: scale-down to 0; its app is deleted once its release"
                + " phase ends");
    assertThat(r.requeueAfter()).as("polled as a pending release").isEqualTo(config.releasePoll());
    passes(10); // a minute
    assertThat(count("deleteApp")).as("not while its release is pending").isZero();
    assertThat(heroku.apps).containsKey(releasing);
    assertThat(status().replicas()).isZero();
    assertThat(status().backends()).extracting(b -> b.phase()).containsExactly("Draining");

    heroku.completeReleases();
    pass();
    assertThat(heroku.apps).as("deleted once it ended").doesNotContainKey(releasing);
    converge();
    assertThat(count("deleteApp")).isEqualTo(1);
    assertThat(count("createApp")).isEqualTo(1);
    assertThat(status().backends()).isEmpty();
  }

  /**
   * Audit 19 #4: a backend drained while its release runs is no replica (a scale-down makes no app
   * for it), and its app waits for the release no longer than a pending release is waited for.
   */
  @Test
  void aReleasingBackendScaledAwayCountsForNothingAndWaitsNoLongerThanTheBound() {
    createPool(1, "");
    converge();
    heroku.releasesPending = true;
    scale(2);
    for (int i = 0; i < 6 && count("createRelease") == 1; i++) {
      pass();
    }
    String releasing = owned().stream().filter(a -> heroku.web.get(a) == null).findFirst().get();
    scale(1);
    pass();
    assertThat(messages("Draining")).singleElement().asString().contains(releasing);
    passes(5);
    assertThat(count("createApp")).as("no app made for the one draining").isEqualTo(2);
    assertThat(status().readyReplicas()).isEqualTo(1);
    assertThat(heroku.apps).containsKey(releasing);

    clock.advance(Reconciler.RELEASE_PENDING_LIMIT); // its release never ends
    pass();
    assertThat(heroku.apps).doesNotContainKey(releasing);
    converge();
    assertThat(owned()).hasSize(1);
    assertThat(count("createApp")).isEqualTo(2);
  }

  /**
   * Audit 19 #4: a deleted pool's releasing backend keeps the row until its release ends, and the
   * pass looks at the release as at a pending one, not at the hour-long bound.
   */
  @Test
  void aDeletedPoolsReleasingBackendIsDeletedOnceItsReleaseEnds() {
    heroku.releasesPending = true;
    createPool(1, "");
    passUntilOneReleaseIsOut();
    String releasing = owned().get(0);
    pools.delete(name, new Precondition(null));
    ReconcileResult r = pass();
    assertThat(heroku.apps).as("not while its release is pending").containsKey(releasing);
    assertThat(r.requeueAfter()).isLessThanOrEqualTo(config.releasePoll().plusMillis(50));
    passes(3);
    assertThat(heroku.apps).containsKey(releasing);

    heroku.completeReleases();
    pass();
    assertThat(heroku.apps).doesNotContainKey(releasing);
    pass();
    assertThat(store.pool(name)).isEmpty();
  }

  /**
   * Audit 19 #4: the release phase of a backend drained while it runs still runs against the
   * add-ons the backends share: the pool's next release, and another pool's from the same source,
   * wait for it (one release phase at a time).
   */
  @Test
  void aDrainedBackendsReleasePhaseStillHoldsTheTurn() {
    heroku.releasesPending = true;
    String first = name;
    createPool(1, "");
    passUntilOneReleaseIsOut();
    scale(0);
    pass();
    scale(1);
    passes(3);
    assertThat(count("createApp")).as("a new app made").isEqualTo(2);
    assertThat(count("createRelease")).as("its release waits").isEqualTo(1);
    name = secondPool(first, source);
    passes(3);
    assertThat(count("createRelease")).as("the other pool's waits too").isEqualTo(1);

    heroku.completeReleases();
    heroku.releasesPending = false;
    name = first;
    converge();
    name = first + "-b";
    converge();
    assertThat(count("createRelease")).isEqualTo(3);
    assertThat(count("deleteApp")).isEqualTo(1);
  }

  /**
   * A pool of 2 ready backends scaled to 3, passed until the third is coupled (published, healthy
   * in the data plane) but not yet promoted to ready: its app name.
   */
  private String aThirdBackendCoupledAndHealthy() {
    createPool(2, "");
    converge();
    scale(3);
    for (int i = 0;
        i < 10
            && store.backends(uid()).stream()
                .noneMatch(b -> b.step == io.dynofleet.pool.model.Backend.Step.COUPLED);
        i++) {
      pass();
    }
    String coupled =
        store.backends(uid()).stream()
            .filter(b -> b.step == io.dynofleet.pool.model.Backend.Step.COUPLED)
            .findFirst()
            .orElseThrow()
            .appName;
    assertThat(dataPlane.health(name, null).get(coupled).healthy()).isTrue();
    return coupled;
  }

  /** Review 23: the finalizer read no health verdicts, so a deletion cut such a backend at once. */
  @Test
  void aCoupledBackendHealthyInTheDataPlaneGetsTheDrainTimeOnADeletion() {
    String coupled = aThirdBackendCoupledAndHealthy();
    pools.delete(name, new Precondition(null));
    pass();
    assertThat(heroku.apps).as("not before the drain time").containsKey(coupled);
    clock.advance(config.drainTime().orElseThrow().plusSeconds(1));
    converge();
    assertThat(heroku.apps).doesNotContainKey(coupled);
  }

  @Test
  void anUnhealthyOrFullyDrainedBackendIsNotTakenBack() {
    createPool(2, "");
    converge();
    String sick = owned().get(0);
    dataPlane.unhealthy.add(sick);
    pass();
    scale(1);
    pass(); // the unhealthy one goes first
    scale(2);
    pass();
    assertThat(count("createApp")).as("a new app, not the sick one").isEqualTo(3);
    converge();
    assertThat(owned()).hasSize(2).doesNotContain(sick);

    scale(1);
    pass();
    clock.advance(Duration.ofSeconds(6)); // past the drain: its app may be gone already (review)
    scale(2);
    pass();
    assertThat(count("createApp")).as("past its drain, a backend is not taken back").isEqualTo(4);
    converge();
    assertThat(count("createApp")).isEqualTo(4);
    assertThat(pools.events(name, 100)).extracting(e -> e.reason()).doesNotContain("Reclaimed");
  }

  /**
   * Grows the pool one app at a time, a minute apart, so no two share a creation time; returns them
   * oldest first.
   */
  private List<String> oneByOne(int n) {
    List<String> made = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      scale(i);
      converge();
      List<String> now = new ArrayList<>(owned());
      now.removeAll(made);
      assertThat(now).as("the app made for replica %d", i).hasSize(1);
      made.add(now.get(0));
      clock.advance(Duration.ofSeconds(60));
    }
    return made;
  }

  /**
   * The pool's backends not on their way out (draining, or deleted at once when they never served).
   */
  private List<String> staying() {
    return status().backends().stream()
        .filter(b -> !List.of("Draining", "Deleting").contains(b.phase()))
        .map(b -> b.app())
        .toList();
  }

  /**
   * Review 12: the scale-down tests checked how many apps remained, never which. Among healthy,
   * ready backends the newest go: the longest-proven ones stay (not the ones still in slow start).
   */
  @Test
  void scalingDownDrainsTheNewestHealthyBackendsFirst() {
    createPool(0, "");
    converge();
    List<String> apps = oneByOne(4);
    scale(2);
    pass();
    assertThat(staying())
        .as("staying, of %s (oldest first)", apps)
        .containsExactlyInAnyOrder(apps.get(0), apps.get(1));
    converge();
    assertThat(owned()).containsExactlyInAnyOrder(apps.get(0), apps.get(1));
  }

  /**
   * Review 12: the test above this one said "the unhealthy one goes first", but its two backends
   * shared a creation time and the sick one came first in list order anyway. Here the unhealthy one
   * is the oldest, and another is not ready yet (its create in flight): those two go, before any
   * newer healthy ready one.
   */
  @Test
  void scalingDownDrainsTheUnhealthyThenTheNotReadyBeforeTheNewest() {
    createPool(0, "");
    converge();
    List<String> apps = oneByOne(3);
    String oldest = apps.get(0);
    dataPlane.unhealthy.add(oldest);
    pass();
    scale(4);
    pass(); // a fourth app is made; not ready in this pass
    List<String> fourth = new ArrayList<>(owned());
    fourth.removeAll(apps);
    assertThat(fourth).hasSize(1);
    assertThat(status().backends())
        .filteredOn(b -> b.app().equals(fourth.get(0)))
        .extracting(b -> b.phase())
        .doesNotContain("Ready");
    scale(2);
    pass();
    assertThat(staying())
        .as("staying, of %s (oldest first, the oldest unhealthy) and %s (not ready)", apps, fourth)
        .containsExactlyInAnyOrder(apps.get(1), apps.get(2));
    converge();
    assertThat(owned()).containsExactlyInAnyOrder(apps.get(1), apps.get(2));
  }

  /**
   * Review: a pass cut short by SIGTERM recorded its sweep time, so the next process skipped the
   * pool for most of an interval. It records nothing: no failure, no event, no sweep time.
   */
  @Test
  void aPassStoppedBySigtermRecordsNothingAndTheNextProcessTakesThePoolAtOnce() {
    createPool(2, "");
    reconciler.stopTakingSteps(true);
    try {
      ReconcileResult r = pass();
      assertThat(r.error()).isEqualTo(Reconciler.STOPPED);
      assertThat(count("createApp")).as("no step taken").isZero();
      assertThat(reconciler.poolNamesDue(Duration.ofMinutes(1), true))
          .as("due for the next process")
          .contains(name);
      // what the pass observed before its first step may be said (the fake's source is in no
      // pipeline: stage "source" gives production and says so); nothing of its end
      assertThat(pools.events(name, 50))
          .extracting(e -> e.reason())
          .filteredOn(reason -> !reason.equals("SourceNotInPipeline"))
          .containsOnly("Created");
    } finally {
      reconciler.stopTakingSteps(false);
    }
    converge();
    assertThat(owned()).hasSize(2);
  }

  /**
   * Audit 19 #5: a stall at a release no app got ready on lived only in the status the pass writes
   * at its end; a pass stopped after the failure (SIGTERM here, at its next step: a drained app's
   * deletion; a lost lock or a kill alike) forgot it, and the next process made another app at the
   * failing release, its release phase run once more against the shared database. The stall is
   * written at once. Fails on the old code.
   */
  @Test
  void aStallOutlivesAPassStoppedRightAfterTheFailure() {
    createPool(2, "");
    converge();
    scale(1);
    pass(); // one ready app drains (its drain time is not over in the next pass)
    heroku.releasesFail = true;
    heroku.push(source);
    // the SIGTERM comes during the release read that finds the new app's release failed
    heroku.onNext(
        "createRelease", () -> heroku.onNext("release", () -> reconciler.stopTakingSteps(true)));
    ReconcileResult r;
    try {
      r = pass();
    } finally {
      reconciler.stopTakingSteps(false);
    }
    assertThat(r.error()).as("the pass stopped after the failure").isEqualTo(Reconciler.STOPPED);
    assertThat(count("createApp")).isEqualTo(3);
    assertThat(messages("RolloutStalled")).hasSize(1);
    reconciler.forgetCaches(); // the next process
    passes(3);
    assertThat(count("createApp")).as("no second app at the failing release").isEqualTo(3);
    assertThat(condition("Degraded")).isEqualTo("True/RolloutStalled");
  }

  @Test
  void steadyStateCostsAtMostTwoCallsPerPass() {
    createPool(3, "");
    converge();
    clock.advance(Duration.ofMinutes(11)); // let the drift check run once
    pass();
    for (int i = 0; i < 5; i++) {
      ReconcileResult r = pass();
      assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.DONE);
      assertThat(r.platformCalls()).isLessThanOrEqualTo(2);
    }
  }

  @Test
  void deletingThePoolDeletesItsAppsThenTheRow() {
    createPool(2, "");
    converge();
    assertThat(owned()).hasSize(2);
    UUID id = uid();
    pools.delete(name, new Precondition(null));
    converge();
    assertThat(allBackendApps()).isEmpty();
    assertThatThrownBy(() -> pools.get(name)).isInstanceOf(ApiException.class);
    // the last pass records its time after the row is gone: nothing to record, no foreign-key error
    // (Hibernate logged one as a WARN for every deletion)
    assertThatCode(() -> store.swept(id, null, null, null, 0)).doesNotThrowAnyException();
  }

  /**
   * Audit defect 2: the finalizer deleted serving apps in the pass that drained them, cutting their
   * in-flight requests. Now a ready backend gets the drain time (5 s in this profile) first, and a
   * pass after a restart keeps the deadline it stored rather than starting a new drain.
   */
  /**
   * Review 3 #20, review 15: a pool deleted by another dyno's last pass stayed in this process's
   * caches (its source, template, drift time, webhook state) for good. The sweep drops them.
   */
  @Test
  void aPoolDeletedOnAnotherDynoIsForgottenHere() {
    createPool(1, "");
    converge();
    UUID id = uid();
    assertThat(reconciler.rememberedPools()).as("this process remembers the pool").contains(id);
    Reconciler other =
        new Reconciler(
            store, locks, heroku, dataPlane, events, config, clock, registry, hookTarget);
    pools.delete(name, new Precondition(null));
    for (int i = 0; i < 10; i++) {
      other.reconcile(new PoolKey(name)); // the finalizer runs on the other dyno
      clock.advance(Duration.ofSeconds(6));
    }
    assertThatThrownBy(() -> pools.get(name)).isInstanceOf(ApiException.class);
    assertThat(reconciler.rememberedPools()).contains(id);
    reconciler.forgetGonePools();
    assertThat(reconciler.rememberedPools()).doesNotContain(id);
  }

  @Test
  void deletingThePoolDrainsServingBackendsBeforeDeletingTheirApps() {
    createPool(2, "");
    converge();
    assertThat(owned()).hasSize(2);
    pools.delete(name, new Precondition(null));

    ReconcileResult first = pass();
    assertThat(first.outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    assertThat(first.requeueAfter()).isBetween(Duration.ofSeconds(5), Duration.ofMillis(5100));
    assertThat(count("deleteApp")).isZero();
    assertThat(owned()).hasSize(2);
    assertThat(dataPlane.health(name, null)).isEmpty(); // out of the data plane at once
    assertThat(pools.events(name, 50)).extracting(e -> e.reason()).contains("Draining");
    // the status says so meanwhile (it showed the pool's last live state, all ready)
    assertThat(condition("Ready")).isEqualTo("False/Deleting");
    assertThat(condition("Progressing")).isEqualTo("True/Deleting");
    assertThat(status().backends()).extracting(b -> b.phase()).containsOnly("Draining");
    assertThat(status().readyReplicas()).isZero();
    assertThat(status().estimatedMonthlyCost())
        .as("its two apps bill until deleted")
        .isEqualTo(14.0);

    clock.advance(Duration.ofSeconds(3));
    reconciler.forgetCaches(); // as a restarted process
    ReconcileResult again = pass();
    assertThat(again.outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    assertThat(again.requeueAfter()).isBetween(Duration.ofSeconds(2), Duration.ofMillis(2100));
    assertThat(count("deleteApp")).isZero();

    clock.advance(Duration.ofSeconds(2));
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.DONE);
    assertThat(count("deleteApp")).isEqualTo(2);
    assertThat(allBackendApps()).isEmpty();
    assertThatThrownBy(() -> pools.get(name)).isInstanceOf(ApiException.class);
  }

  /**
   * Audit (2026-11-24, second round): every dyno swept every pool, so the steady-state Platform API
   * cost grew with the number of dynos. A pool any dyno passed lately is not due for a sweep.
   */
  @Test
  void aPoolPassedLatelyIsNotDueForTheSweep() {
    createPool(0, "");
    assertThat(reconciler.poolNamesDue(Duration.ofMinutes(1), true)).contains(name); // never passed
    pass();
    assertThat(reconciler.poolNamesDue(Duration.ofMinutes(1), true)).doesNotContain(name);
    // idle (no backends asked for): not before its turn (audit 21 H1), even with no quiet window
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).doesNotContain(name);
    assertThat(ReconcileLoop.sweepQuiet("30s")).isEqualTo(Duration.ofSeconds(24));
    // a new process's first sweep takes every pool: the requeues of the one it replaces are gone
    assertThat(loop.quietFor(false)).isZero();
    assertThat(loop.quietFor(true)).isEqualTo(ReconcileLoop.sweepQuiet(config.interval()));
    assertThat(ReconcileLoop.sweepQuiet("off")).isZero();
  }

  /**
   * Review 31 R31-10: the sweeps pass over a pool whose lock a pass holds, so a pass hung with its
   * session alive (here the test holds the lock, as another dyno's hung pass would) showed nowhere.
   * Found held by sweeps with no pass of it ending for longer than the bound, it gets one WARN.
   */
  @Test
  void aLockHeldTooLongByAPassIsToldOnceBySweeps() throws Exception {
    createPool(0, "");
    pass();
    Duration bound = loop.heldTooLong(Duration.ofMillis(50));
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(ReconcileLoop.class);
        PoolLocks.Held held = locks.tryLock(uid())) {
      assertThat(held).isNotNull();
      for (int i = 0; i < 3; i++) {
        assertThat(loop.sweepEntries()).extracting(ReconcileLoop.Entry::pool).doesNotContain(name);
        Thread.sleep(200);
      }
      assertThat(capture.records())
          .filteredOn(r -> io.dynofleet.LogCapture.text(r).contains("pool " + name + ":"))
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.getLevel().getName()).isIn("WARN", "WARNING");
                assertThat(io.dynofleet.LogCapture.text(r)).contains("has held its lock");
              });
    } finally {
      loop.heldTooLong(bound);
    }
  }

  /**
   * The held-lock WARN (R31-10) took a pool's swept_at unchanged for one pass holding its lock all
   * along, but passes cut short (a SIGTERM, a lost lock) end with no write: a run of them, each
   * found holding the lock by a sweep, made a false alarm. Here the lock is taken anew before each
   * sweep, as by passes one after the other: no WARN, with the bound far below the time the lock is
   * seen held.
   */
  @Test
  void passesCutShortAreNoLockHeldTooLong() throws Exception {
    createPool(0, "");
    pass();
    Duration bound = loop.heldTooLong(Duration.ofMillis(50));
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(ReconcileLoop.class)) {
      for (int i = 0; i < 3; i++) {
        try (PoolLocks.Held held = locks.tryLock(uid())) {
          assertThat(held).isNotNull();
          assertThat(loop.sweepEntries())
              .extracting(ReconcileLoop.Entry::pool)
              .doesNotContain(name);
        }
        Thread.sleep(200);
      }
      assertThat(capture.records())
          .filteredOn(r -> io.dynofleet.LogCapture.text(r).contains("pool " + name + ":"))
          .isEmpty();
    } finally {
      loop.heldTooLong(bound);
    }
  }

  /**
   * See {@link #passesCutShortAreNoLockHeldTooLong}: one pass going on, checking its lock between
   * its steps, is no hung pass either, however long it holds the lock.
   */
  @Test
  void aPassGoingOnIsNoLockHeldTooLong() throws Exception {
    createPool(0, "");
    pass();
    Duration bound = loop.heldTooLong(Duration.ofMillis(50));
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(ReconcileLoop.class)) {
      try (PoolLocks.Held held = locks.tryLock(uid())) {
        assertThat(held).isNotNull();
        for (int i = 0; i < 3; i++) {
          assertThat(loop.sweepEntries())
              .extracting(ReconcileLoop.Entry::pool)
              .doesNotContain(name);
          Thread.sleep(1_100); // a lock is checked at most once a second
          assertThat(held.stillHeld()).isTrue();
        }
        assertThat(loop.sweepEntries()).extracting(ReconcileLoop.Entry::pool).doesNotContain(name);
      }
      assertThat(capture.records())
          .filteredOn(r -> io.dynofleet.LogCapture.text(r).contains("pool " + name + ":"))
          .isEmpty();
    } finally {
      loop.heldTooLong(bound);
    }
  }

  /**
   * Review 31 R31-1: a release starts on a database a later release wrote (rollback, {@code
   * *:future}), whose pools' spec and status may hold fields this release does not know, at the top
   * and nested. They are read (the jsonb columns' mapper, not the API's strict one), the pool is
   * passed and changed through the API as any other, and the unknown fields are kept until this
   * release writes the document again, then dropped: a status when a pass changes it, a spec at the
   * API's write.
   */
  @Test
  void aSpecAndStatusALaterReleaseStoredWithFieldsUnknownHereAreReadPassedAndChanged()
      throws Exception {
    createPool(1, "");
    converge();
    assertThat(owned()).hasSize(1);
    // as a later release stored them
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "update pools set"
                    + " spec = jsonb_set(spec || '{\"laterSpec\": {\"a\": [1]}}',"
                    + " '{template,laterTemplate}', '\"t\"'),"
                    + " status = jsonb_set(status || '{\"laterStatus\": 7}', '{conditions}',"
                    + " (select jsonb_agg(c || '{\"laterCondition\": true}')"
                    + " from jsonb_array_elements(status -> 'conditions') c))"
                    + " where name = ?")) {
      st.setString(1, name);
      assertThat(st.executeUpdate()).isEqualTo(1);
    }
    assertThat(storedJson("spec")).contains("laterSpec", "laterTemplate");
    assertThat(storedJson("status")).contains("laterStatus", "laterCondition");

    assertThat(pools.get(name).spec().replicas()).isEqualTo(1);
    assertThat(condition("Ready")).isEqualTo("True/AllReplicasReady");
    clock.advance(config.driftCheckInterval().plusMinutes(1));
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.DONE);
    assertThat(storedJson("spec")).as("a pass does not write the spec").contains("laterSpec");

    scale(2);
    converge();
    assertThat(owned()).hasSize(2);
    assertThat(condition("Ready")).isEqualTo("True/AllReplicasReady");
    assertThat(storedJson("spec")).doesNotContain("laterSpec", "laterTemplate");
    assertThat(storedJson("status")).doesNotContain("laterStatus", "laterCondition");
  }

  private String storedJson(String column) throws java.sql.SQLException {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement("select cast(" + column + " as text) from pools where name = ?")) {
      st.setString(1, name);
      try (java.sql.ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }

  /**
   * Review 25 #1: the pass a spec change, a deletion or a webhook asks for runs on the dyno that
   * took it; if that one stopped first (a deploy's SIGTERM), or the pass was cut short, the other
   * dynos and the next process waited for the pool's stored idle turn, minutes to hours away. A
   * change no pass has seen, a deletion, a pass cut short and a webhook's wake-up make the pool due
   * at once.
   */
  @Test
  void aStoredTurnHoldsBackNoChangeDeletionCutPassOrWebhook() {
    createPool(1, "");
    converge();
    pass(); // idle: its next look is stored, minutes away
    assertThat(nextLookSeconds()).isNotNull();
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).doesNotContain(name);
    scale(2); // its pass lost with the dyno that took the write
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).as("a change").contains(name);
    converge();
    pass();
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).doesNotContain(name);

    heroku.push(source); // a new release: the pass takes a step, and is stopped there
    reconciler.stopTakingSteps(true);
    try {
      assertThat(pass().error()).isEqualTo(Reconciler.STOPPED);
    } finally {
      reconciler.stopTakingSteps(false);
    }
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).as("a pass cut short").contains(name);
    converge();
    pass();
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).doesNotContain(name);

    loop.wake(name); // a webhook's: if this process stops before the pass, the others take it
    assertThat(sweepsColumn("s.next_look_at <= now()"))
        .as("its look made now: the sweep's and the takeover's")
        .isEqualTo(Boolean.TRUE);
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).as("a webhook").contains(name);
    converge();
    pass();
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).doesNotContain(name);

    pools.delete(name, new Precondition(null));
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).as("a deletion").contains(name);
  }

  /** The pool's shared backoff (pool_sweeps.not_before), null when there is none. */
  private Object notBefore() {
    return sweepsColumn("s.not_before");
  }

  /** {@code column} (an expression over pool_sweeps {@code s}) for this test's pool. */
  private Object sweepsColumn(String column) {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "select "
                    + column
                    + " from pool_sweeps s join pools p on p.id = s.pool_id where p.name = ?")) {
      st.setString(1, name);
      try (java.sql.ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getObject(1) : null;
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Seconds from the pool's last pass to the sweep's next look at it; null when there is none. */
  private Double nextLookSeconds() {
    Object s = sweepsColumn("extract(epoch from s.next_look_at - s.swept_at)");
    return s == null ? null : ((Number) s).doubleValue();
  }

  private long poolCount() {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st = c.prepareStatement("select count(*) from pools");
        java.sql.ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Audit 21 H2: the sweep took the pools due by name, so under a tight budget the first by name
   * got the refill and the last waited hours. Least recently passed first, never passed first of
   * all.
   */
  @Test
  void theSweepTakesTheLeastRecentlyPassedPoolsFirst() throws Exception {
    String zeta = "zeta-" + SEQ.incrementAndGet();
    String alpha = "alpha-" + SEQ.incrementAndGet();
    String fresh = "mid-" + SEQ.incrementAndGet();
    for (String n : List.of(zeta, alpha, fresh)) {
      pools.create(
          """
          {"metadata": {"name": "%s"}, "spec": {"pipeline": "pipe", "replicas": 0,
           "template": {"sourceApp": "%s"}}}
          """
              .formatted(n, source));
    }
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "insert into pool_sweeps (pool_id, swept_at) select id, now() - make_interval(secs"
                    + " => ?) from pools where name = ?")) {
      st.setInt(1, 600);
      st.setString(2, zeta);
      st.executeUpdate();
      st.setInt(1, 300);
      st.setString(2, alpha);
      st.executeUpdate();
    }
    assertThat(reconciler.poolNamesDue(Duration.ofSeconds(24), false))
        .filteredOn(n -> List.of(zeta, alpha, fresh).contains(n))
        .containsExactly(fresh, zeta, alpha);
  }

  /**
   * Audit 21 H1: idle pools were looked at every sweep, 30 pools wanting 2.7 times the account's
   * budget. An idle pool's next look is stored for every dyno's sweep, further off the more pools
   * there are ({@link IdleLooks}).
   */
  @Test
  void anIdlePoolsNextLookGrowsWithThePoolCount() {
    createPool(1, "");
    converge();
    pass(); // idle
    long n = poolCount();
    Duration every =
        IdleLooks.every(n, IdleLooks.sweep(config.interval()), config.sweepShare(), false);
    assertThat(nextLookSeconds())
        .isBetween(every.toMillis() / 1000.0 - 0.01, every.toMillis() * 1.25 / 1000.0 + 0.01);
    assertThat(reconciler.poolNamesDue(Duration.ZERO, false))
        .as("not even a new process's first sweep takes it before its turn")
        .doesNotContain(name);
    for (int i = 0; i < 40; i++) {
      pools.create(
          """
          {"metadata": {"name": "%s-more-%d"}, "spec": {"pipeline": "pipe", "replicas": 0,
           "template": {"sourceApp": "%s"}}}
          """
              .formatted(name, i, source));
    }
    pass();
    Duration more =
        IdleLooks.every(n + 40, IdleLooks.sweep(config.interval()), config.sweepShare(), false);
    assertThat(more).isGreaterThan(every);
    assertThat(nextLookSeconds())
        .isBetween(more.toMillis() / 1000.0 - 0.01, more.toMillis() * 1.25 / 1000.0 + 0.01);
    // a pool with work to do is due at the sweep's pace
    scale(2);
    pass();
    assertThat(nextLookSeconds()).isLessThan(every.toSeconds());
  }

  /**
   * Audit 26 F2: a pool waiting for a backend's restart or replacement ended its pass requeued at
   * the repair's due time, which replaced its idle turn: no look at its source for up to {@code
   * replaceAfterSeconds} (a rename seen 5.5 minutes late). Its next look is the earlier of the two,
   * and the look at its turn finds the rename.
   */
  @Test
  void aPoolWaitingForARepairIsLookedAtWithinItsIdleTurn() {
    Duration turn =
        IdleLooks.every(
            poolCount() + 1, IdleLooks.sweep(config.interval()), config.sweepShare(), false);
    // the repair due well after the turn (at least 600 s), however many pools the tests made
    long replaceAfter = Math.max(600, turn.toSeconds() * 4);
    createPool(2, ", \"healthCheck\": {\"replaceAfterSeconds\": " + replaceAfter + "}");
    converge();
    String sick = owned().get(0);
    dataPlane.unhealthy.add(sick);
    ReconcileResult r = pass();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    assertThat(pools.events(name, 50)).anyMatch(e -> e.reason().equals("BackendUnhealthy"));
    double bound = turn.toMillis() * 1.25 / 1000.0 + 0.06;
    assertThat(r.requeueAfter().toMillis() / 1000.0).as("this dyno's look").isLessThan(bound);
    Double stored = nextLookSeconds();
    assertThat(stored).as("every dyno's look, stored").isNotNull().isLessThan(bound);
    pass(); // a look before the repair is due only reads: nothing restarted
    assertThat(heroku.restarts).isZero();

    heroku.rename(source, source + "-old");
    storeClockOn(Duration.ofMillis((long) (nextLookSeconds() * 1000) + 10));
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).as("due at its turn").contains(name);
    pass();
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(conditionMessage("Degraded")).contains("now named '" + source + "-old'");
    assertThat(heroku.restarts).as("the repair still waits for its time").isZero();
  }

  /**
   * Audit 21 H1: every pass read the pipeline's couplings, half a look's cost, to find apps
   * decoupled or deleted by hand. They are read every drift interval, after a change, and while a
   * backend is not ready or fails its checks.
   */
  @Test
  void aSteadyPassDoesNotReadTheCouplings() {
    createPool(2, "");
    converge();
    long before = count("couplings");
    passes(3);
    assertThat(count("couplings")).as("steady passes").isEqualTo(before);
    dataPlane.unhealthy.add(owned().get(0));
    pass();
    assertThat(count("couplings")).as("a backend failing its checks").isEqualTo(before + 1);
    dataPlane.unhealthy.clear();
    pass();
    before = count("couplings");
    clock.advance(config.driftCheckInterval());
    pass();
    assertThat(count("couplings")).as("the drift interval").isEqualTo(before + 1);
  }

  /**
   * Audit 21 M2: a sweep's entry ran later without looking whether another dyno (or a requeue here)
   * had passed the pool since the sweep found it due: the same pass twice. A change's entry runs
   * whatever passed since.
   */
  @Test
  void aSweepsEntryIsSkippedWhenThePoolWasPassedSince() {
    createPool(1, "");
    converge();
    clock.advance(Duration.ofMinutes(1));
    ReconcileLoop.Entry entry = sweepEntry();
    pass(); // another dyno's pass, or this one's requeue
    long calls = heroku.actions.size();
    assertThat(loop.run(entry)).as("skipped").isNull();
    assertThat(heroku.actions).hasSize((int) calls);
    assertThat(loop.run(ReconcileLoop.Entry.of(name))).as("a change's entry runs").isNotNull();
    assertThat(heroku.actions.size()).isGreaterThan((int) calls);
  }

  /**
   * Audit 21 M2: a sweep's pass that found the pool locked by another dyno came back 2 s later for
   * a full pass of its own, after the holder's pass had looked at everything. It comes back and
   * finds the pool passed since: no Platform call.
   */
  @Test
  void aBusySweepPassIsNotRepeatedAfterTheHoldersPass() throws Exception {
    createPool(1, "");
    ReconcileLoop.Entry entry = sweepEntry();
    try (PoolLocks.Held held = locks.tryLock(uid())) {
      assertThat(held).isNotNull();
      ReconcileResult busy = loop.run(entry);
      assertThat(busy.outcome()).isEqualTo(ReconcileResult.Outcome.BUSY);
      assertThat(busy.requeueAfter()).isEqualTo(config.inFlightRequeue());
    }
    pass(); // the holder's pass
    long calls = heroku.actions.size();
    assertThat(loop.run(entry)).as("the requeued entry").isNull();
    assertThat(heroku.actions).as("no duplicate pass").hasSize((int) calls);
  }

  /**
   * Review 25 #5: a sweep's entry that found a pass of the pool under way here came back after it
   * as a change's entry, which is never skipped: a long pass (a rollout making apps) was followed
   * at once by a second full pass. It goes with the pass's own next look (here the idle turn, which
   * this dyno keeps since audit 23 L8): the pass that just ended was the look it asked for.
   */
  @Test
  void aSweepsEntryMetByAPassUnderWayIsSkippedAfterIt() throws Exception {
    createPool(1, "");
    converge();
    clock.advance(Duration.ofMinutes(1));
    ReconcileLoop.Entry sweep = sweepEntry();
    ManualScheduler queue = new ManualScheduler();
    try {
      ReconcileLoop local = new ReconcileLoop(reconciler, config, registry, clock, queue);
      ReconcileResult first =
          heldPass(
              local,
              ReconcileLoop.Entry.of(name),
              "recentReleases",
              () -> assertThat(local.run(sweep)).as("a pass is under way").isNull());
      assertThat(first.outcome()).isEqualTo(ReconcileResult.Outcome.DONE);
      // the sweep's entry goes with the pass's own next look (audit 23 L8): the idle turn
      assertThat(queue.pending())
          .as("no second pass queued, only the pool's next look")
          .singleElement()
          .satisfies(
              q ->
                  assertThat(q.delay().toMillis() / 1000.0)
                      .isCloseTo(nextLookSeconds(), org.assertj.core.data.Offset.offset(0.01)));
    } finally {
      queue.shutdownNow();
    }
  }

  /**
   * What came during a pass is merged as entries are: a change's entry (a webhook delivery, a
   * health change) stays one when a sweep's comes too, and gets its pass after the one under way,
   * though that pass ended after the sweep found the pool due: the change may have come after it
   * read the pool.
   */
  @Test
  void aChangeMetByAPassUnderWayRunsAfterItThoughThePoolWasPassed() throws Exception {
    createPool(1, "");
    converge();
    clock.advance(Duration.ofMinutes(1));
    ReconcileLoop.Entry sweep = sweepEntry();
    ManualScheduler queue = new ManualScheduler();
    try {
      ReconcileLoop local = new ReconcileLoop(reconciler, config, registry, clock, queue);
      heldPass(
          local,
          sweep,
          "recentReleases",
          () -> {
            assertThat(local.run(ReconcileLoop.Entry.of(name))).as("a change's").isNull();
            assertThat(local.run(sweep)).as("another sweep's").isNull();
          });
      assertThat(reconciler.sweptSince(name, sweep.sweptAsOf()))
          .as("passed since the sweep")
          .isTrue();
      assertThat(queue.pending()).singleElement().satisfies(q -> assertThat(q.delay()).isZero());
      int calls = heroku.actions.size();
      assertThat(local.run(name)).as("the change's pass").isNotNull();
      assertThat(heroku.actions.size()).isGreaterThan(calls);
    } finally {
      queue.shutdownNow();
    }
  }

  /**
   * A sweep's entry met by a pass that asks to look again soon (apps in the making) waits for that
   * requeue, which is a full pass: not a pass at once, then the requeue's.
   */
  @Test
  void aSweepsEntryMetByAPassThatRequeuesGoesWithTheRequeue() throws Exception {
    createPool(1, "");
    converge();
    clock.advance(Duration.ofMinutes(1));
    ReconcileLoop.Entry sweep = sweepEntry();
    scale(2);
    ManualScheduler queue = new ManualScheduler();
    try {
      ReconcileLoop local = new ReconcileLoop(reconciler, config, registry, clock, queue);
      ReconcileResult first =
          heldPass(
              local,
              ReconcileLoop.Entry.of(name),
              "createApp",
              () -> assertThat(local.run(sweep)).as("a pass is under way").isNull());
      assertThat(first.outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
      assertThat(queue.pending())
          .singleElement()
          .satisfies(q -> assertThat(q.delay()).isEqualTo(first.requeueAfter()));
    } finally {
      queue.shutdownNow();
    }
  }

  /**
   * Audit 21 M3: in a shared outage each backend crossing its threshold, on each dyno, changed the
   * pool's healthy set and was a pass at once: up to 10 per pool per dyno within a probe interval.
   * Ten changes heard on two dynos (two loops on one database) within the pool's interval are one
   * pass; the others are put off to the interval's end, not dropped, where a dyno that finds the
   * pool passed by the other puts its change off again, and two dynos whose turns come together
   * make one pass.
   */
  @Test
  void healthChangesPassAPoolAtMostOncePerProbeIntervalAcrossDynos() throws Exception {
    createPool(3, ", \"healthCheck\": {\"intervalSeconds\": 60}");
    converge();
    dataPlane.unhealthy.addAll(owned()); // the source's database is down
    passedAgo(Duration.ofMinutes(2));
    onTwoDynos(
        (a, qa, b, qb) -> {
          int passes = 0;
          for (int i = 0; i < 10; i++) {
            ManualScheduler q = i % 2 == 0 ? qa : qb;
            (i % 2 == 0 ? a : b).onHealth(new io.dynofleet.pool.model.HealthChanged(name));
            passes += runDue(q);
          }
          assertThat(passes).as("passes for 10 health changes within the interval").isEqualTo(1);
          assertThat(debounced(qa)).as("a's change, at the interval's end").isNotNull();
          assertThat(debounced(qb)).as("b's").isNotNull();

          passedAgo(Duration.ofMinutes(2)); // the interval is over
          passes = run(debounced(qb)) + runDue(qb);
          assertThat(passes).as("b's change, at the interval's end").isEqualTo(1);
          passes = run(debounced(qa)) + runDue(qa);
          assertThat(passes).as("a's: the pool was just passed by b").isZero();
          assertThat(debounced(qa)).as("put off again, not dropped").isNotNull();

          // both dynos' turns come at the interval's end: the second to pass found the pool locked,
          // and came back 2 s later for a pass of its own
          passedAgo(Duration.ofMinutes(2));
          b.onHealth(new io.dynofleet.pool.model.HealthChanged(name));
          assertThat(run(debounced(qa))).as("a's turn: its pass queued").isZero();
          assertThat(runDue(qb)).as("b's turn and pass").isEqualTo(1);
          assertThat(runDue(qa)).as("a's: passed by b since its turn found it due").isZero();
          assertThat(qa.pending())
              .as("a's requeue for the repairs' turn, put aside for the turn's entry, kept")
              .anySatisfy(e -> assertThat(e.delay()).isGreaterThan(Duration.ofSeconds(60)));
        });
  }

  /**
   * Review 27 #2: a health change's turn found the pool due while another dyno's pass was under
   * way, one that had read the verdicts before the change (the backend healthy on this dyno, so
   * healthy for the fleet). That pass ended after the turn, which made the turn's entry moot by its
   * end, and the dead backend waited for the pool's idle look. Only a pass that began after the
   * turn makes it moot: this dyno's pass comes, and marks the backend.
   */
  @Test
  void aHealthChangeIsNotMadeMootByAPassThatReadTheVerdictsBeforeIt() throws Exception {
    createPool(2, ", \"healthCheck\": {\"intervalSeconds\": 60}");
    converge();
    String x = owned().get(0);
    passedAgo(Duration.ofMinutes(2)); // no pass within the debounce
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      onTwoDynos(
          (a, qa, b, qb) -> {
            java.util.concurrent.CountDownLatch in = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            dataPlane.afterNextHealth.set(
                () -> {
                  in.countDown();
                  try {
                    go.await(30, java.util.concurrent.TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
            // a's pass read the fleet's verdicts (x healthy on b) and is held there
            Future<ReconcileResult> held = other.submit(() -> a.run(ReconcileLoop.Entry.of(name)));
            try {
              assertThat(in.await(30, java.util.concurrent.TimeUnit.SECONDS))
                  .as("a's pass read the verdicts")
                  .isTrue();
              dataPlane.unhealthy.add(x); // b's verdict on x: failing, and so the fleet's
              b.healthTurn(name);
              assertThat(runDue(qb)).as("b's entry: a holds the pool").isZero();
            } finally {
              go.countDown();
            }
            assertThat(held.get(30, java.util.concurrent.TimeUnit.SECONDS).outcome())
                .isEqualTo(ReconcileResult.Outcome.DONE);
            assertThat(status().backends())
                .as("a's pass judged by the verdicts before the change")
                .filteredOn(s -> s.app().equals(x))
                .extracting(s -> s.phase())
                .containsOnly("Ready");

            ManualScheduler.Queued again = qb.pending().stream().findFirst().orElseThrow();
            assertThat(run(again)).as("b's entry after a's pass: not moot").isEqualTo(1);
            assertThat(status().backends())
                .filteredOn(s -> s.app().equals(x))
                .extracting(s -> s.phase())
                .containsOnly("Unhealthy");
          });
    } finally {
      other.shutdownNow();
    }
  }

  /**
   * Audit 23 L8: idle looks came every 42-48 s with two dynos and about 60 s with one, not the
   * documented 30-37.5 s: the stored turn (the pass's end, plus the interval, plus up to a quarter)
   * always lands after the sweep tick one interval after the pass, so only a later tick took it.
   * The dyno that passed the pool keeps the look itself at the stored turn. Measured through the
   * store's clock: three looks in a row, each queued at its stored turn and due then by the sweep's
   * own rule; a pass by another dyno meanwhile makes the look kept here moot.
   */
  @Test
  void anIdlePoolIsLookedAtAtItsStoredTurnNotAtTheSweepsNextTick() {
    createPool(1, "");
    converge();
    ManualScheduler q = new ManualScheduler();
    try {
      ReconcileLoop local = new ReconcileLoop(reconciler, config, registry, clock, q);
      assertThat(local.run(ReconcileLoop.Entry.of(name)).outcome())
          .isEqualTo(ReconcileResult.Outcome.DONE);
      Duration every =
          IdleLooks.every(
              poolCount(), IdleLooks.sweep(config.interval()), config.sweepShare(), false);
      for (int look = 1; look <= 3; look++) {
        double stored = nextLookSeconds(); // by the database: next_look_at - swept_at
        assertThat(stored)
            .as("look %d's turn", look)
            .isBetween(every.toMillis() / 1000.0 - 0.01, every.toMillis() * 1.25 / 1000.0 + 0.01);
        ManualScheduler.Queued next = later(q);
        assertThat(next).as("look %d kept here", look).isNotNull();
        assertThat(next.delay().toMillis() / 1000.0)
            .as("look %d queued at its stored turn, not at a sweep's tick", look)
            .isCloseTo(stored, org.assertj.core.data.Offset.offset(0.01));
        assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).doesNotContain(name);
        storeClockOn(next.delay()); // the store's clock reaches the turn
        assertThat(reconciler.poolNamesDue(Duration.ZERO, true))
            .as("due then by the sweep's rule")
            .contains(name);
        assertThat(run(next)).as("look %d", look).isEqualTo(1);
      }
      ManualScheduler.Queued next = later(q);
      pass(); // another dyno's pass (a spec change's, a takeover's): it keeps its own look
      assertThat(run(next)).as("the look kept here, moot").isZero();
    } finally {
      q.shutdownNow();
    }
  }

  /**
   * Audit 23 L1: a rollout whose rolling dyno died (kill -9) or hung between two passes waited
   * 40-53 s for another dyno's sweep (its quiet window of 80 % of the interval, then its next
   * tick), while a step takes about 6 s. Two loops on one database: once the look the rolling dyno
   * stored is {@link ReconcileLoop#TAKEOVER_GRACE} past, the other takes the pool over; while the
   * owner's pass holds the lock (a dyno hung in a pass) it stays out; the owner's own look, if it
   * comes back after all (SIGCONT), is moot; the rollout ends with no app twice.
   */
  @Test
  void aRolloutWhoseDynoVanishedIsTakenOverOnceItsLookIsMissed() throws Exception {
    createPool(2, "");
    converge();
    long creates = count("createApp");
    heroku.push(source); // a rollout
    onTwoDynos(
        (a, qa, b, qb) -> {
          ReconcileResult step = rolloutStep(a);
          ManualScheduler.Queued aLook = later(qa);
          assertThat(aLook).as("a keeps its next look").isNotNull();
          // a is killed here: its look never runs
          b.takeOver();
          assertThat(runDue(qb)).as("a's look not yet missed").isZero();

          storeClockPastTheGrace(step);
          assertThat(reconciler.poolNamesDue(ReconcileLoop.sweepQuiet("30s"), true))
              .as("the sweep alone: within its quiet window")
              .doesNotContain(name);
          noOtherPoolOverdue();
          try (PoolLocks.Held hung = locks.tryLock(uid())) {
            assertThat(hung).as("a hung in a pass holds the lock").isNotNull();
            assertThat(b.takeOver()).as("b stays out while a's pass holds the pool").isZero();
          }
          assertThat(b.takeOver()).as("the lock free: overdue again").isPositive();
          assertThat(runDue(qb)).as("b takes the pool over once the lock is free").isEqualTo(1);
          assertThat(later(qb)).as("b keeps the next look now").isNotNull();
          assertThat(run(aLook)).as("a back after all: its look is moot").isZero();

          converge(); // b goes on with the rollout
          assertThat(status().updatedReplicas()).isEqualTo(2);
          assertThat(count("createApp"))
              .as("the rollout's two new apps, each once")
              .isEqualTo(creates + 2);
          assertThat(owned()).hasSize(2);
          assertThat(allBackendApps()).as("no twin, no orphan").hasSize(2);
        });
  }

  /**
   * Review 29 R29-3: the stored look is replaced only at a pass's end, so a pass longer than the
   * takeover's grace (a rollout step, a drain) was overdue for every other dyno while it ran: each
   * queued it, met the lock, requeued it 2 s later and met it again for the whole pass. A pool
   * whose lock a pass holds is not overdue; once the session holding it is gone (its dyno died
   * mid-pass) it is taken over at the next round.
   */
  @Test
  void aPassLongerThanTheGraceIsNotTakenOverWhileItRuns() throws Exception {
    createPool(2, "");
    converge();
    heroku.push(source); // a rollout
    onTwoDynos(
        (a, qa, b, qb) -> {
          ReconcileResult step = rolloutStep(a);
          try (PoolLocks.Held next = locks.tryLock(uid())) { // a's next step, under way
            assertThat(next).isNotNull();
            storeClockPastTheGrace(step);
            noOtherPoolOverdue();
            assertThat(reconciler.overdue(ReconcileLoop.TAKEOVER_GRACE).names())
                .as("a pass under way for longer than the grace: not overdue")
                .doesNotContain(name);
            assertThat(b.takeOver()).isZero();
            assertThat(qb.pending()).as("nothing queued to meet the lock").isEmpty();
          } // a dies mid-pass: its session, and the lock, are gone
          assertThat(b.takeOver()).as("taken over at the next round").isPositive();
          assertThat(runDue(qb)).isEqualTo(1);
        });
  }

  /**
   * R29-3's sweep side: a pool whose lock a pass holds was still listed by every other dyno's sweep
   * once its stored look had passed, so a long pass (a rollout step, a drain) met BUSY once per
   * sweep on each. The sweep leaves it out as the takeover does; once the lock is free (the pass
   * ended, or its dyno died) it is due again.
   */
  @Test
  void aPoolWhoseLockAPassHoldsIsLeftOutOfTheSweep() throws Exception {
    createPool(2, "");
    converge();
    heroku.push(source); // a rollout
    onTwoDynos(
        (a, qa, b, qb) -> {
          ReconcileResult step = a.run(ReconcileLoop.Entry.of(name));
          assertThat(step.outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
          try (PoolLocks.Held next = locks.tryLock(uid())) { // a's next step, under way
            assertThat(next).isNotNull();
            storeClockOn(step.requeueAfter().plus(Duration.ofHours(1)));
            assertThat(b.sweepEntries())
                .extracting(ReconcileLoop.Entry::pool)
                .as("a pass under way: left out of the sweep")
                .doesNotContain(name);
            assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).doesNotContain(name);
          } // a dies mid-pass: its session, and the lock, are gone
          assertThat(b.sweepEntries())
              .extracting(ReconcileLoop.Entry::pool)
              .as("the lock free: swept again")
              .contains(name);
        });
  }

  /**
   * Review 29 R29-1: a pass that failed outside a step (an unexpected exception between steps)
   * stored no backoff, and its stored look stayed in the past: every dyno's takeover passed the
   * pool again every 5 s.
   */
  @Test
  void aPassFailedOutsideAStepStoresItsBackoff() {
    createPool(2, "");
    converge();
    scale(3);
    heroku.crashAfter("createApp", 1);
    ReconcileResult r = pass();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(notBefore())
        .as("the failed pass's backoff, which every dyno's sweep and takeover wait out")
        .isNotNull();
    assertThat(reconciler.overdue(Duration.ZERO).names())
        .as("no takeover within the backoff")
        .doesNotContain(name);
  }

  /**
   * Found by the clean-clone run of 7d91431 (CrashedUnderTrafficTests: no pass after a crashed
   * backend's probes failed): a health change's turn due at once could run on a worker before the
   * loop had recorded it, remove nothing, and leave the record behind, a turn that never comes;
   * every later health change of the pool was then dropped as "the turn to come" until a restart.
   */
  @Test
  void aHealthTurnThatRunsBeforeItIsRecordedLeavesNoTurnBehind() throws Exception {
    createPool(1, "");
    converge();
    List<Thread> workers = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<java.util.concurrent.ScheduledFuture<?>> atOnce =
        new java.util.concurrent.CopyOnWriteArrayList<>();
    // a worker that takes a turn due at once at once, as a loaded box's may, before the caller
    // goes on
    java.util.concurrent.ScheduledThreadPoolExecutor eager =
        new java.util.concurrent.ScheduledThreadPoolExecutor(1) {
          @Override
          public java.util.concurrent.ScheduledFuture<?> schedule(
              Runnable task, long delay, java.util.concurrent.TimeUnit unit) {
            if (delay <= 0) {
              Thread t = new Thread(task);
              workers.add(t);
              t.start();
              try {
                t.join(500);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            java.util.concurrent.ScheduledFuture<?> f =
                super.schedule(() -> {}, 1, java.util.concurrent.TimeUnit.DAYS);
            if (delay <= 0) {
              atOnce.add(f);
            }
            return f;
          }
        };
    try {
      ReconcileLoop loop = new ReconcileLoop(reconciler, config, registry, clock, eager);
      loop.onHealth(new io.dynofleet.pool.model.HealthChanged(name));
      for (Thread t : workers) {
        t.join(10_000);
      }
      // a turn at its debounce's end may be recorded (this executor runs none later): not the
      // one that ran
      assertThat(atOnce).isNotEmpty();
      assertThat(loop.healthTurnPending(name) == atOnce.get(0))
          .as("no turn left that already ran")
          .isFalse();
    } finally {
      eager.shutdownNow();
    }
  }

  /**
   * Review 29 R29-13: a heard delivery cleared the pool's stored look, and a cleared look is never
   * overdue: had the dyno that heard it stopped before its pass, no takeover came, only a sweep.
   */
  @Test
  void aHeardDeliveryIsOverdueForTheTakeoverIfItsPassNeverComes() {
    createPool(1, "");
    converge();
    assertThat(reconciler.overdue(Duration.ZERO).names())
        .as("idle: its look ahead")
        .doesNotContain(name);
    reconciler.heard(name);
    awaitOverdue();
  }

  /**
   * Review 29 R29-12: a pass under way ended by storing its own next look (the idle turn) over the
   * one a webhook delivery heard meanwhile had stored: the pass began before the delivery and did
   * not look at its release, and had the dyno that heard it stopped before its pass after this one,
   * no takeover came, only the idle turn. The look the delivery asked for is kept at the pass's
   * end.
   */
  @Test
  void aDeliveryHeardDuringAPassKeepsItsLookAfterIt() throws Exception {
    createPool(1, "");
    converge();
    clock.advance(Duration.ofMinutes(1));
    ManualScheduler queue = new ManualScheduler();
    try {
      ReconcileLoop local = new ReconcileLoop(reconciler, config, registry, clock, queue);
      ReconcileResult r =
          heldPass(
              local, ReconcileLoop.Entry.of(name), "recentReleases", () -> reconciler.heard(name));
      assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.DONE);
    } finally {
      queue.shutdownNow();
    }
    awaitOverdue();
  }

  /**
   * Review 29 R29-2: the takeover passed overdue pools before the schema was migrated and before
   * the route sync had loaded (after a start without the database), and such a pass, with no
   * verdict of any backend, told every Unhealthy backend recovered.
   */
  @Test
  void noTakeoverBeforeTheSchemaIsMigratedAndTheRoutesLoaded() throws Exception {
    createPool(2, "");
    converge();
    heroku.push(source); // a rollout
    onTwoDynos(
        (a, qa, b, qb) -> {
          ReconcileResult step = rolloutStep(a);
          storeClockPastTheGrace(step);
          java.util.concurrent.atomic.AtomicBoolean ready =
              new java.util.concurrent.atomic.AtomicBoolean(false);
          b.schemaReady(ready::get);
          assertThat(b.takeOver()).as("not before the schema and the routes").isZero();
          assertThat(runDue(qb)).isZero();
          ready.set(true);
          assertThat(b.takeOver()).as("then the missed look is taken over").isPositive();
        });
  }

  /**
   * The closing note's open question: whether a health change brings a pass while the pool waits
   * out a failed pass's backoff. After an invalid spec (the source app deleted: 5 minutes) it does,
   * once its debounce is over, and the dead backend is marked (and restarted at its threshold): the
   * pass does what needs no source.
   */
  @Test
  void aHealthChangeIsPassedDuringTheBackoffOfAnInvalidSpec() {
    createPool(2, ", \"healthCheck\": {\"intervalSeconds\": 60}");
    converge();
    String sick = owned().get(0);
    heroku.apps.remove(source);
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    passedAgo(Duration.ofMinutes(2)); // the debounce is over, the 5-minute backoff not
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).as("backing off").doesNotContain(name);
    ManualScheduler q = new ManualScheduler();
    try {
      ReconcileLoop local = new ReconcileLoop(reconciler, config, registry, clock, q);
      dataPlane.unhealthy.add(sick);
      local.healthTurn(name);
      assertThat(runDue(q)).as("the health change's pass, in the backoff").isEqualTo(1);
      assertThat(status().backends())
          .filteredOn(s -> s.app().equals(sick))
          .extracting(s -> s.phase())
          .containsOnly("Unhealthy");
    } finally {
      q.shutdownNow();
    }
  }

  /**
   * After a pass Heroku refused for the rate limit, the backoff protects the budget (under the
   * reserve it is max-backoff): a health change's pass waits for its end, then comes, never
   * dropped.
   */
  @Test
  void aHealthChangeWaitsOutABackoffThatGuardsTheRateBudget() {
    createPool(2, ", \"healthCheck\": {\"intervalSeconds\": 60}");
    converge();
    String sick = owned().get(0);
    clock.advance(Duration.ofMinutes(10)); // its idle turn is over
    heroku.failNext("recentReleases", 1, Kind.RATE_LIMITED);
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/RateLimited");
    backoffLeft(Duration.ofMinutes(5)); // as under the reserve
    passedAgo(Duration.ofMinutes(2)); // the debounce is over
    ManualScheduler q = new ManualScheduler();
    try {
      ReconcileLoop local = new ReconcileLoop(reconciler, config, registry, clock, q);
      dataPlane.unhealthy.add(sick);
      local.healthTurn(name);
      assertThat(runDue(q)).as("no pass in the backoff").isZero();
      ManualScheduler.Queued turn = later(q);
      assertThat(turn).as("the turn, at the backoff's end").isNotNull();
      assertThat(turn.delay()).isBetween(Duration.ofMinutes(4), Duration.ofMinutes(5));

      backoffLeft(Duration.ZERO);
      assertThat(run(turn)).as("the turn reads again").isZero();
      assertThat(runDue(q)).as("and its pass comes").isEqualTo(1);
      assertThat(status().backends())
          .filteredOn(s -> s.app().equals(sick))
          .extracting(s -> s.phase())
          .containsOnly("Unhealthy");
    } finally {
      q.shutdownNow();
    }
  }

  /** A test on two dynos on one database: two loops, each with its own hand-run queue. */
  @FunctionalInterface
  private interface TwoDynos {
    void run(ReconcileLoop a, ManualScheduler qa, ReconcileLoop b, ManualScheduler qb)
        throws Exception;
  }

  /** Runs {@code test} on two new loops ({@link TwoDynos}), their queues stopped after it. */
  private void onTwoDynos(TwoDynos test) throws Exception {
    ManualScheduler qa = new ManualScheduler();
    ManualScheduler qb = new ManualScheduler();
    try {
      test.run(
          new ReconcileLoop(reconciler, config, registry, clock, qa),
          qa,
          new ReconcileLoop(reconciler, config, registry, clock, qb),
          qb);
    } finally {
      qa.shutdownNow();
      qb.shutdownNow();
    }
  }

  /** The one task queued on {@code q} for later (a kept look, a turn); null when none. */
  private static ManualScheduler.Queued later(ManualScheduler q) {
    List<ManualScheduler.Queued> later =
        q.pending().stream().filter(e -> !e.delay().isZero()).toList();
    assertThat(later).hasSizeLessThanOrEqualTo(1);
    return later.isEmpty() ? null : later.get(0);
  }

  /** Dyno {@code a}'s first step of a rollout: it asks to come back. */
  private ReconcileResult rolloutStep(ReconcileLoop a) {
    ReconcileResult step = a.run(ReconcileLoop.Entry.of(name));
    assertThat(step.outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    return step;
  }

  /** The store's clock moves past the look {@code step} asked for and the takeover's grace. */
  private void storeClockPastTheGrace(ReconcileResult step) {
    storeClockOn(step.requeueAfter().plus(ReconcileLoop.TAKEOVER_GRACE).plusSeconds(1));
  }

  /** This test's pool comes to be overdue for the takeover. */
  private void awaitOverdue() {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> reconciler.overdue(Duration.ZERO).names().contains(name));
  }

  /**
   * The store's clock moves {@code d} on for this test's pool: its recorded times (the last pass,
   * its next look, its backoff) move back by {@code d}.
   */
  private void storeClockOn(Duration d) {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "update pool_sweeps set swept_at = swept_at - make_interval(secs => ?),"
                    + " next_look_at = next_look_at - make_interval(secs => ?),"
                    + " pass_started_at = pass_started_at - make_interval(secs => ?),"
                    + " not_before = not_before - make_interval(secs => ?)"
                    + " where pool_id = (select id from pools where name = ?)")) {
      for (int i = 1; i <= 4; i++) {
        st.setDouble(i, d.toMillis() / 1000.0);
      }
      st.setString(5, name);
      assertThat(st.executeUpdate()).isEqualTo(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    clock.advance(d);
  }

  /**
   * The earlier tests' pools (one database) are not overdue: a takeover's count is this test's
   * pool's.
   */
  private void noOtherPoolOverdue() {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "update pool_sweeps set next_look_at = null"
                    + " where pool_id <> (select id from pools where name = ?)")) {
      st.setString(1, name);
      st.executeUpdate();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The pool's backoff ends {@code left} from now, by the database's clock. */
  private void backoffLeft(Duration left) {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "update pool_sweeps set not_before = now() + make_interval(secs => ?)"
                    + " where pool_id = (select id from pools where name = ?)")) {
      st.setDouble(1, left.toMillis() / 1000.0);
      st.setString(2, name);
      assertThat(st.executeUpdate()).isEqualTo(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The one task queued on {@code q} for later within a minute (a debounced health change). */
  private ManualScheduler.Queued debounced(ManualScheduler q) {
    List<ManualScheduler.Queued> later =
        q.pending().stream()
            .filter(e -> !e.delay().isZero() && e.delay().compareTo(Duration.ofSeconds(60)) <= 0)
            .toList();
    assertThat(later).hasSizeLessThanOrEqualTo(1);
    return later.isEmpty() ? null : later.get(0);
  }

  /** Runs every task queued on {@code q} for now, as its timer would: the passes they made. */
  private int runDue(ManualScheduler q) {
    int passes = 0;
    for (ManualScheduler.Queued e = due(q); e != null; e = due(q)) {
      passes += run(e);
    }
    return passes;
  }

  private static ManualScheduler.Queued due(ManualScheduler q) {
    return q.pending().stream().filter(e -> e.delay().isZero()).findFirst().orElse(null);
  }

  /** Runs one queued task, as its timer would: 1 when it made a pass of the pool. */
  private int run(ManualScheduler.Queued e) {
    e.future().cancel(false); // taken: the test is its timer
    Object before = sweptAt();
    e.task().run();
    return java.util.Objects.equals(before, sweptAt()) ? 0 : 1;
  }

  private Object sweptAt() {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "select swept_at from pool_sweeps where pool_id = (select id from pools where name = ?)")) {
      st.setString(1, name);
      try (java.sql.ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getObject(1) : null;
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The pool's last pass (by any dyno) ended {@code ago}, by the database's clock. */
  private void passedAgo(Duration ago) {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "update pool_sweeps set swept_at = now() - make_interval(secs => ?)"
                    + " where pool_id = (select id from pools where name = ?)")) {
      st.setDouble(1, ago.toSeconds());
      st.setString(2, name);
      assertThat(st.executeUpdate()).isEqualTo(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Runs {@code first} on {@code loop} in another thread, held in its pass at its next {@code op}
   * call while {@code meanwhile} runs here (which must not call the fake platform, whose lock the
   * held pass has): that pass's result.
   */
  private ReconcileResult heldPass(
      ReconcileLoop loop, ReconcileLoop.Entry first, String op, Runnable meanwhile)
      throws Exception {
    java.util.concurrent.CountDownLatch in = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    heroku.onNext(
        op,
        () -> {
          in.countDown();
          try {
            go.await(30, java.util.concurrent.TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      Future<ReconcileResult> held = other.submit(() -> loop.run(first));
      assertThat(in.await(30, java.util.concurrent.TimeUnit.SECONDS))
          .as("the pass reached " + op)
          .isTrue();
      try {
        meanwhile.run();
      } finally {
        go.countDown();
      }
      return held.get(30, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      other.shutdownNow();
    }
  }

  /**
   * The sweep's entry for this test's pool (a new process's sweep, at the pool's turn: due whatever
   * passed lately).
   */
  private ReconcileLoop.Entry sweepEntry() {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "update pool_sweeps set next_look_at = null"
                    + " where pool_id = (select id from pools where name = ?)")) {
      st.setString(1, name);
      st.executeUpdate(); // its turn has come
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    ReconcileStore.Due due = reconciler.sweepDue(Duration.ZERO, false);
    assertThat(due.names()).contains(name);
    return new ReconcileLoop.Entry(name, due.asOfMicros());
  }

  /**
   * Audit (2026-11-24, second round): with two dynos, a backend one of them had just made ready was
   * "failing its health checks" on the other, whose proxy had not probed it yet: a Warning,
   * readyReplicas down, the replacement clock started. No verdict is no failure.
   */
  @Test
  void aReadyBackendNotYetProbedHereIsNoFailure() {
    createPool(2, "");
    converge();
    String app = owned().get(0);
    dataPlane.unprobed.add(app);
    pass();
    assertThat(status().readyReplicas()).isEqualTo(2);
    assertThat(pools.events(name, 50))
        .extracting(e -> e.reason())
        .doesNotContain("BackendUnhealthy");
    assertThat(status().backends()).extracting(b -> b.phase()).containsOnly("Ready");
    // once probed and failing, it is unhealthy as before
    dataPlane.unprobed.clear();
    dataPlane.unhealthy.add(app);
    pass();
    assertThat(pools.events(name, 50)).extracting(e -> e.reason()).contains("BackendUnhealthy");
  }

  /**
   * Review 15: a backend the fleet found failing, not yet probed by a proxy that has just started,
   * kept its Unhealthy phase but was counted ready (Ready True "2/2") and available to a rollout.
   */
  @Test
  void anUnhealthyBackendNotYetProbedAgainIsNotCountedReady() {
    createPool(2, "");
    converge();
    String app = owned().get(0);
    dataPlane.unhealthy.add(app);
    pass();
    assertThat(status().readyReplicas()).isEqualTo(1);
    dataPlane.unhealthy.clear();
    dataPlane.unprobed.add(app); // as after a restart: no verdict here yet
    pass();
    assertThat(status().backends())
        .filteredOn(b -> b.app().equals(app))
        .singleElement()
        .satisfies(b -> assertThat(b.phase()).isEqualTo("Unhealthy"));
    assertThat(status().readyReplicas()).isEqualTo(1);
    assertThat(condition("Ready")).isEqualTo("False/ReplicasNotReady");
    assertThat(pools.events(name, 50))
        .extracting(e -> e.reason())
        .doesNotContain("BackendRecovered");
    dataPlane.unprobed.clear();
    pass();
    assertThat(status().readyReplicas()).isEqualTo(2);
  }

  /**
   * Audit (2026-11-24, second round): a pool waiting for rate budget was looked at every 2 s, two
   * calls a pass, most of Heroku's refill; the budget never came back and it never scaled. It now
   * waits until the refill alone restores the reserve (300 calls: 240 s at 800 ms a call).
   */
  @Test
  void aPoolWaitingForRateBudgetWaitsForTheRefill() {
    createPool(2, ", \"healthCheck\": {\"replaceAfterSeconds\": 30}");
    heroku.rateRemaining = 10;
    ReconcileResult r = pass();
    assertThat(count("createApp")).isZero();
    assertThat(condition("Degraded")).isEqualTo("True/RateLimited");
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    // (300 - the few left after this pass's reads + its
    // reads again) x 800 ms: about four minutes, not 2 s
    assertThat(r.requeueAfter()).isBetween(Duration.ofSeconds(232), Duration.ofSeconds(250));
    heroku.rateRemaining = 4500;
    converge();
    assertThat(count("createApp")).isEqualTo(2);
    // what the pass knows to be due sooner still comes first (review): an unhealthy backend's
    // restart, due after replaceAfterSeconds (30 s), while a scale-up waits for the budget
    dataPlane.unhealthy.add(owned().get(0));
    pass();
    pools.scale(name, "{\"replicas\": 3}", new Precondition(null));
    heroku.rateRemaining = 10;
    ReconcileResult waiting = pass();
    assertThat(count("createApp")).isEqualTo(2);
    assertThat(waiting.requeueAfter()).isBetween(Duration.ofSeconds(29), Duration.ofMillis(30_100));
  }

  /**
   * Security review 2: any client could eject a backend (a route that answers 500, five times in a
   * row, again each time it came back), and the reconciler took the ejection for a failure: the
   * backend was restarted after replaceAfterSeconds, then deleted and made again. With a health
   * check, only its probes count: an ejected backend whose probes pass is routed around, shown
   * Ejected, and left alone; one whose probes fail is restarted as before.
   */
  @Test
  void aBackendEjectedWhileItsProbesPassIsNeitherRestartedNorReplaced() {
    createPool(2, ", \"healthCheck\": {\"replaceAfterSeconds\": 30}");
    converge();
    List<String> before = owned();
    dataPlane.ejected.add(before.get(0));
    for (int i = 0; i < 30; i++) {
      pass();
      clock.advance(Duration.ofSeconds(10));
    }
    assertThat(count("restart")).isZero();
    assertThat(owned()).containsExactlyElementsOf(before);
    assertThat(status().backends())
        .filteredOn(b -> b.app().equals(before.get(0)))
        .singleElement()
        .satisfies(b -> assertThat(b.phase()).isEqualTo("Ejected"));
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .doesNotContain("BackendUnhealthy");
    // said, once per replace window (30 s): five minutes of it, ten events at most, not one a pass
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("BackendEjected"))
        .hasSizeBetween(1, 11)
        .allSatisfy(e -> assertThat(e.message()).contains(before.get(0), "health check (/)"));

    dataPlane.unhealthy.add(before.get(1)); // its probes fail: restarted after 30 s
    for (int i = 0; i < 5; i++) {
      pass();
      clock.advance(Duration.ofSeconds(10));
    }
    assertThat(count("restart")).isEqualTo(1);
  }

  /**
   * Audit 22 M1: a crashed backend is ejected by its first failed requests, before its probes fail;
   * the pass that saw the ejection told at once that its health check passed (and to point it
   * elsewhere), seconds before the probes found it dead. It is told only once a probe after the
   * ejection was seen passed, and the pass comes back a probe interval later to look.
   */
  @Test
  void anEjectionIsToldOnlyOnceAProbeAfterItPassed() {
    createPool(2, ", \"healthCheck\": {\"replaceAfterSeconds\": 30, \"intervalSeconds\": 5}");
    converge();
    String app = owned().get(0);
    dataPlane.ejected.add(app);
    ReconcileResult r = pass();
    assertThat(pools.events(name, 200)).noneMatch(e -> e.reason().equals("BackendEjected"));
    assertThat(r.requeueAfter()).isLessThanOrEqualTo(Duration.ofMillis(5_100));
    clock.advance(Duration.ofSeconds(5));
    pass();
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("BackendEjected"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains(app, "health check (/) passes"));
  }

  /**
   * Review 28 #1: an ejected backend's probe that ran after the ejection was taken for one that
   * passed. One whose last probe failed (below the threshold: not failing, so not restarted) is not
   * told "its health check passes"; it is once a probe passes.
   */
  @Test
  void anEjectionWhoseLastProbeFailedIsNotToldUntilAProbePasses() {
    createPool(2, ", \"healthCheck\": {\"replaceAfterSeconds\": 30, \"intervalSeconds\": 5}");
    converge();
    String app = owned().get(0);
    dataPlane.ejected.add(app);
    dataPlane.probeFailing.add(app);
    for (int i = 0; i < 3; i++) {
      ReconcileResult r = pass();
      assertThat(r.requeueAfter()).isLessThanOrEqualTo(Duration.ofMillis(5_100));
      clock.advance(Duration.ofSeconds(5));
    }
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .doesNotContain("BackendEjected", "BackendUnhealthy");
    assertThat(status().backends())
        .filteredOn(b -> b.app().equals(app))
        .singleElement()
        .satisfies(b -> assertThat(b.phase()).isEqualTo("Ejected"));
    dataPlane.probeFailing.clear();
    pass();
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("BackendEjected"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains(app, "health check (/) passes"));
    assertThat(count("restart")).isZero();
  }

  /**
   * Review 28 #2: a backend ejected and readmitted again and again had its seen mark reset at each
   * readmit; with spells shorter than the pass's look a probe interval later, no probe after the
   * mark was ever seen and it was never told. Spells within a replace window are one ejection: a
   * probe that passed after one began tells the next. Readmitted longer than that window, a new
   * ejection waits for its own probe again.
   */
  @Test
  void aBackendEjectedAgainAndAgainIsToldAndAnEjectionAfterTheWindowWaitsAgain() {
    createPool(2, ", \"healthCheck\": {\"replaceAfterSeconds\": 60, \"intervalSeconds\": 10}");
    converge();
    String app = owned().get(0);
    for (int spell = 0; spell < 3; spell++) { // within one window of the event (60 s)
      // out for a moment: the pass that sees it looks again a probe interval later, when it is
      // back in; its last probe was just before this spell
      dataPlane.ejected.add(app);
      dataPlane.probedAt.put(app, clock.instant().minusSeconds(1));
      pass();
      clock.advance(Duration.ofSeconds(10));
      dataPlane.ejected.remove(app);
      dataPlane.probedAt.put(app, clock.instant().minusSeconds(1)); // passed, after the spell
      pass();
      clock.advance(Duration.ofSeconds(10));
    }
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("BackendEjected"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains(app, "passes"))
        .satisfies(e -> assertThat(e.count()).isEqualTo(1));

    // back in for longer than the replace window (and the once-per-window of the event)
    for (int i = 0; i < 8; i++) {
      dataPlane.probedAt.put(app, clock.instant().minusSeconds(1));
      pass();
      clock.advance(Duration.ofSeconds(10));
    }
    dataPlane.ejected.add(app);
    dataPlane.probedAt.put(app, clock.instant().minusSeconds(1));
    pass();
    assertThat(ejectedTold()).as("a new ejection: told once a probe after it passes").isEqualTo(1);
    clock.advance(Duration.ofSeconds(10));
    dataPlane.probedAt.put(app, clock.instant().minusSeconds(1));
    pass();
    assertThat(ejectedTold()).isEqualTo(2);
  }

  /**
   * Review 29 R29-4: a probe that passed after an earlier, client-caused spell told a crash's
   * ejection within the window "its health check passes" before any probe after the crash ran.
   */
  @Test
  void aCrashSoonAfterAShortEjectionIsNotToldAsPassing() {
    createPool(2, ", \"healthCheck\": {\"replaceAfterSeconds\": 300, \"intervalSeconds\": 10}");
    converge();
    String app = owned().get(0);
    // a client's burst ejects it for a moment; the pass back in sees a probe after it passed
    dataPlane.ejected.add(app);
    dataPlane.probedAt.put(app, clock.instant().minusSeconds(1));
    pass();
    clock.advance(Duration.ofSeconds(20));
    dataPlane.ejected.remove(app);
    dataPlane.probedAt.put(app, clock.instant().minusSeconds(5));
    pass();
    // it crashes at t=100: its first failed requests eject it, the pass comes before its next
    // probe, and the last (before the crash) passed
    clock.advance(Duration.ofSeconds(81));
    dataPlane.ejected.add(app);
    dataPlane.probedAt.put(app, clock.instant().minusSeconds(6));
    pass();
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("BackendEjected"))
        .as("no probe since the crash: not told that its health check passes while out")
        .noneSatisfy(e -> assertThat(e.message()).contains("the proxies route around it"));
  }

  /**
   * Review 29 R29-5: the once-per-replace-window of {@code BackendEjected} was kept per dyno, while
   * a pool's passes move between dynos (health turns, sweeps, takeovers): an ejection another dyno
   * had told was told again by the next dyno its passes came to. The time told is the backend
   * row's, for the fleet: told again only once the window is over.
   */
  @Test
  void anEjectionIsToldOncePerWindowForTheFleet() {
    createPool(2, ", \"healthCheck\": {\"replaceAfterSeconds\": 60, \"intervalSeconds\": 5}");
    converge();
    String app = owned().get(0);
    dataPlane.ejected.add(app);
    pass();
    clock.advance(Duration.ofSeconds(5));
    pass();
    assertThat(ejectedTold()).as("told by this dyno").isEqualTo(1);
    Reconciler other =
        new Reconciler(
            store, locks, heroku, dataPlane, events, config, clock, registry, hookTarget);
    try {
      for (int i = 0; i < 4; i++) { // the next passes come to another dyno, within the window
        clock.advance(Duration.ofSeconds(5));
        other.reconcile(new PoolKey(name));
      }
      assertThat(ejectedTold()).as("not again by another dyno within the window").isEqualTo(1);
      clock.advance(Duration.ofSeconds(45));
      other.reconcile(new PoolKey(name));
      assertThat(ejectedTold()).as("again once the window is over").isEqualTo(2);
    } finally {
      other.stop();
    }
  }

  /** How many times BackendEjected was told (the same message is one event with a count). */
  private int ejectedTold() {
    return pools.events(name, 200).stream()
        .filter(e -> e.reason().equals("BackendEjected"))
        .mapToInt(EventDocument::count)
        .sum();
  }

  /**
   * Audit 9: five pools waiting for the budget at once, each waiting only for its own deficit,
   * spent the whole refill between them: the budget stayed at the reserve minus two per pool and
   * nothing was made, for as long as it was watched. Played with Heroku's refill (one call per 800
   * ms) and each pool passed when its requeue says.
   */
  @Test
  void manyPoolsWaitingForTheBudgetShareTheRefill() {
    List<String> names = budgetPools(5);
    Map<String, Reconciler> dynos = new java.util.HashMap<>();
    names.forEach(n -> dynos.put(n, reconciler));
    playTheRefill(dynos, Duration.ofMinutes(15));
    for (String n : names) {
      assertThat(heroku.appsOwnedBy(pools.get(n).metadata().uid()))
          .as(n + " got its app")
          .hasSize(1);
    }
  }

  /**
   * Review 8: a pool's wait counted only the pools waiting on its own dyno, so pools waiting on
   * another dyno, and the sweeps of idle pools, still held the budget just under the reserve. A
   * pool whose wait did not bring the budget up waits twice as long the next time.
   */
  @Test
  void poolsWaitingForTheBudgetOnTwoDynosStillGetTheirApps() {
    List<String> names = budgetPools(2);
    Reconciler other =
        new Reconciler(
            store, locks, heroku, dataPlane, events, config, clock, registry, hookTarget);
    Map<String, Reconciler> dynos =
        new java.util.HashMap<>(Map.of(names.get(0), reconciler, names.get(1), other));
    for (int i = 0; i < 8; i++) { // idle pools, swept every 30 s: two reads each
      String idle = name + "-idle" + i;
      pools.create(
          """
          {"metadata": {"name": "%s"},
           "spec": {"pipeline": "pipe-%s", "replicas": 0, "template": {"sourceApp": "%s"}}}
          """
              .formatted(idle, name.substring(5), source));
      dynos.put(idle, i % 2 == 0 ? reconciler : other);
    }
    heroku.rateRemaining = 290;
    try {
      playTheRefill(dynos, Duration.ofMinutes(15));
    } finally {
      other.stop();
    }
    for (String n : names) {
      assertThat(heroku.appsOwnedBy(pools.get(n).metadata().uid()))
          .as(n + " got its app")
          .hasSize(1);
    }
  }

  /**
   * 2026-11-24: each idle pool's sweep (every 30 s, two reads) costs four calls a minute; twenty of
   * them outspent Heroku's refill (75 a minute) by themselves, and a pool waiting for the budget
   * never got its app. Under the reserve an idle pool looks again only now and then.
   */
  @Test
  void idleSweepsUnderTheReserveLeaveTheRefillToPoolsWaitingForIt() {
    List<String> names = budgetPools(1);
    Map<String, Reconciler> dynos = new java.util.HashMap<>();
    names.forEach(n -> dynos.put(n, reconciler));
    for (int i = 0; i < 20; i++) {
      String idle = name + "-idle" + i;
      pools.create(
          """
          {"metadata": {"name": "%s"},
           "spec": {"pipeline": "pipe-%s", "replicas": 0, "template": {"sourceApp": "%s"}}}
          """
              .formatted(idle, name.substring(5), source));
      dynos.put(idle, reconciler);
    }
    heroku.rateRemaining = 290;
    long calls0 = heroku.calls();
    playTheRefill(dynos, Duration.ofMinutes(15));
    for (String n : names) {
      assertThat(heroku.appsOwnedBy(pools.get(n).metadata().uid()))
          .as(n + " got its app")
          .hasSize(1);
    }
    // and the idle pools still looked now and then (a new release, an app deleted by hand)
    assertThat(heroku.calls() - calls0).isGreaterThan(20 * 2 * 3);
  }

  /**
   * Review 10: the idle skip under the reserve was tested with empty pools only. A pool with
   * backends is skipped while nothing changes, and gets a full pass at once when a backend fails
   * its checks or its spec changes.
   */
  @Test
  void anIdlePoolUnderTheReserveStillActsOnAFailingBackendOrASpecChange() {
    createPool(1, "");
    converge();
    pass(); // nothing to do: the pool is idle now
    heroku.rateRemaining = config.rateLimitReserve() - 10;
    long calls = heroku.calls();
    pass();
    assertThat(heroku.calls()).as("idle and under the reserve: not looked at").isEqualTo(calls);
    // and its stored turn kept: stored as none, every dyno's sweep took it every 30 s just while
    // the budget was low (review 25 #4)
    assertThat(nextLookSeconds()).as("its turn, still stored").isNotNull().isPositive();
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true)).doesNotContain(name);

    dataPlane.unhealthy.addAll(owned());
    pass();
    assertThat(heroku.calls()).as("a backend failing its checks: a full pass").isGreaterThan(calls);
    dataPlane.unhealthy.clear();
    heroku.rateRemaining = 4500;
    converge();
    pass();
    heroku.rateRemaining = config.rateLimitReserve() - 10;
    calls = heroku.calls();
    pass();
    assertThat(heroku.calls()).isEqualTo(calls);
    scale(2);
    pass();
    assertThat(heroku.calls()).as("a new generation: a full pass").isGreaterThan(calls);
  }

  /**
   * Audit 9: a pool whose only work was new backends waiting for the proxy's health verdict was
   * passed every 2 s, two Platform API calls a time (60 a minute) for nothing the API could tell.
   * It looks again after a probe interval.
   */
  @Test
  void waitingOnlyForHealthLooksAgainAfterAProbeInterval() {
    createPool(1, "");
    ReconcileResult r = null;
    for (int i = 0;
        i < 10
            && !store.backends(uid()).stream()
                .allMatch(b -> b.step == io.dynofleet.pool.model.Backend.Step.COUPLED);
        i++) {
      dataPlane.unprobed.addAll(owned());
      r = pass();
      clock.advance(Duration.ofSeconds(1));
    }
    dataPlane.unprobed.addAll(owned());
    r = pass();
    assertThat(store.backends(uid()))
        .singleElement()
        .satisfies(b -> assertThat(b.step).isEqualTo(io.dynofleet.pool.model.Backend.Step.COUPLED));
    assertThat(r.requeueAfter()).isEqualTo(Duration.ofSeconds(10)); // the default probe interval
    dataPlane.unprobed.clear();
    converge();
    assertThat(status().readyReplicas()).isEqualTo(1);
  }

  /**
   * Review 15: under the reserve only a pool waiting to create slowed down; a backend's release
   * phase (or a source release) was polled every 2 s at any budget, 2-3 calls a look, more than
   * Heroku's refill. Any work in flight now waits for the refill there.
   */
  @Test
  void underTheReserveWorkInFlightIsPolledNoFasterThanTheRefill() {
    heroku.releasesPending = true;
    createPool(1, "");
    passUntilOneReleaseIsOut();
    ReconcileResult r = pass();
    assertThat(r.requeueAfter())
        .as("plenty of budget: looked at again soon")
        .isLessThanOrEqualTo(Duration.ofSeconds(5));
    heroku.rateRemaining = 290;
    r = pass();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    // at least the deficit (10 calls) and its own reads again, at 800 ms a call
    assertThat(r.requeueAfter()).isGreaterThanOrEqualTo(Duration.ofSeconds(8));
    heroku.completeReleases();
    heroku.rateRemaining = 4500;
    converge();
    assertThat(status().readyReplicas()).isEqualTo(1);
  }

  /**
   * Review 15: an app renamed by hand while it was being made (its release still pending) was
   * called by its old name at the next step: a 404, and the pass failed there for ever. Made apps
   * are called by id.
   */
  @Test
  void anAppRenamedWhileBeingMadeIsStillCalledAndFinished() {
    heroku.releasesPending = true;
    createPool(1, "");
    passUntilOneReleaseIsOut();
    String made = owned().get(0);
    heroku.rename(made, made + "-x");
    heroku.completeReleases();
    heroku.releasesPending = false;
    converge();
    assertThat(status().readyReplicas()).isEqualTo(1);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
    assertThat(heroku.web).containsEntry(made + "-x", 1);
    assertThat(owned()).containsExactly(made + "-x");
  }

  /**
   * Audit 19 #8: an app Heroku made with {@code web_url} null (its schema allows it) was coupled
   * but never published, so never probed; at the progress deadline it was failed, or called renamed
   * once the URL was there. Its app is read again at each pass and the URL taken, no rename. Fails
   * on the old code.
   */
  @Test
  void anAppMadeWithoutAWebUrlTakesItFromALaterReadNotARename() {
    heroku.noWebUrls = true;
    createPool(1, "");
    passes(3);
    String made = owned().get(0);
    assertThat(store.backends(uid()))
        .singleElement()
        .satisfies(
            b -> {
              assertThat(b.step).isEqualTo(io.dynofleet.pool.model.Backend.Step.COUPLED);
              assertThat(b.webUrl).isNull();
              assertThat(b.message).isEqualTo("no web URL yet");
            });
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Progressing"))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.reason()).isEqualTo("NoWebUrl");
              assertThat(c.message()).contains(made).contains("no web URL yet");
            });

    heroku.giveWebUrls(); // a later read has it
    pass();
    pass();
    assertThat(status().readyReplicas()).as("ready within two passes").isEqualTo(1);
    assertThat(status().backends())
        .singleElement()
        .satisfies(b -> assertThat(b.webUrl()).isEqualTo(heroku.apps.get(made).webUrl()));
    assertThat(messages("BackendRenamed")).isEmpty();
    assertThat(messages("BackendFailed")).isEmpty();
  }

  /**
   * Audit 24 M3: a health check within its limits (300 s apart, 4 passes in a row) needs 15 min or
   * more to pass, and a healthy app was failed at the fixed 10-min progress deadline. The deadline
   * now stretches to what the check needs ((4 + 1) × 300 + 5 s); past it the app fails as before.
   */
  @Test
  void aSlowHealthCheckHasTheTimeItNeedsToPass() {
    createPool(
        1,
        ", \"healthCheck\": {\"intervalSeconds\": 300, \"timeoutSeconds\": 5, \"healthyThreshold\": 4}");
    for (int i = 0; i < 10 && owned().isEmpty(); i++) {
      pass();
    }
    String app = owned().get(0);
    dataPlane.unprobed.add(app); // its passes in a row are still being counted
    passes(6);
    for (int minute = 0; minute < 18; minute++) {
      clock.advance(Duration.ofMinutes(1));
      pass();
    }
    assertThat(messages("BackendFailed")).as("18 min in: within 300 s × 4").isEmpty();
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
    dataPlane.unprobed.remove(app);
    passes(2);
    assertThat(status().readyReplicas()).isEqualTo(1);

    scale(2);
    for (int i = 0; i < 10 && owned().size() < 2; i++) {
      pass();
    }
    String second = owned().stream().filter(a -> !a.equals(app)).findFirst().orElseThrow();
    dataPlane.unprobed.add(second);
    passes(6);
    clock.advance(Duration.ofSeconds((4 + 1) * 300 + 5));
    passes(2);
    assertThat(messages("BackendFailed"))
        .as("past what the check needs: failed as before")
        .singleElement()
        .satisfies(m -> assertThat(m).contains(second).contains("(1505 s of health checks on /"));
  }

  /** Audit 19 #8: one Heroku never gives a URL fails at the progress deadline, saying so. */
  @Test
  void anAppThatNeverGetsAWebUrlFailsSayingSoNotForItsHealthChecks() {
    createPool(1, "");
    converge();
    heroku.noWebUrls = true;
    scale(2);
    passes(3);
    clock.advance(config.progressDeadline().plusSeconds(1));
    passes(2);
    assertThat(messages("BackendFailed"))
        .singleElement()
        .satisfies(m -> assertThat(m).contains("no web URL").doesNotContain("health"));
    assertThat(messages("BackendRenamed")).isEmpty();
  }

  /**
   * Review 16: a release phase that runs long (a slow migration, or one hung until Heroku ends it
   * after an hour) held the pool's other new apps, one release at a time, and the status showed
   * only a backend Releasing. Past the progress deadline Progressing names it, once warned.
   */
  @Test
  void aReleasePhaseRunningPastTheProgressDeadlineIsNamed() {
    heroku.releasesPending = true;
    createPool(2, "");
    passUntilOneReleaseIsOut(); // of two: one release at a time
    pass();
    assertThat(condition("Progressing")).isNotEqualTo("True/ReleasePhaseSlow");

    clock.advance(config.progressDeadline().plusMinutes(1));
    passes(3);
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Progressing"))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.status() + "/" + c.reason()).isEqualTo("True/ReleasePhaseSlow");
              assertThat(c.message())
                  .contains("v1 on " + name + "-")
                  .contains("has run since")
                  .contains("other new apps wait for it");
            });
    String said =
        status().conditions().stream()
            .filter(c -> c.type().equals("Progressing"))
            .findFirst()
            .orElseThrow()
            .message();
    passes(2);
    assertThat(status().conditions())
        .as("the same words on every pass: no status write a minute")
        .anySatisfy(c -> assertThat(c.message()).isEqualTo(said));
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .filteredOn("ReleasePhaseSlow"::equals)
        .hasSize(1);
    assertThat(count("createRelease")).as("the other still waits").isEqualTo(1);

    heroku.completeReleases();
    heroku.releasesPending = false;
    converge();
    assertThat(status().readyReplicas()).isEqualTo(2);
    assertThat(condition("Progressing")).isEqualTo("False/Stable");
  }

  /**
   * Audit 19 #7: a backend's release that Heroku left pending past its hour kept the backend
   * Releasing for good, and the pool's other new apps waiting for their turn. Past the hour and a
   * margin it is failed, and the next app releases. Fails on the old code.
   */
  @Test
  void aReleaseStillPendingPastHerokusHourIsFailedAndTheNextProceeds() {
    heroku.releaseOutput = "Running migrations"; // a release phase: one release at a time
    createPool(1, "");
    converge(); // a release a backend got ready on: a failure of one app stalls nothing
    heroku.releasesPending = true;
    scale(3);
    for (int i = 0; i < 6 && count("createRelease") == 1; i++) {
      pass();
    }
    assertThat(count("createRelease")).as("one release out, one app waits").isEqualTo(2);
    heroku.releasesPending = false; // only the release out stays pending
    String stuck =
        store.backends(uid()).stream()
            .filter(b -> b.step == io.dynofleet.pool.model.Backend.Step.RELEASING)
            .findFirst()
            .orElseThrow()
            .appName;

    clock.advance(Reconciler.RELEASE_PHASE_LIMIT);
    pass();
    assertThat(messages("BackendFailed")).as("within Heroku's hour: waited for").isEmpty();
    assertThat(count("createRelease")).isEqualTo(2);

    clock.advance(Duration.ofMinutes(10)); // 70 minutes pending
    pass();
    assertThat(messages("BackendFailed"))
        .singleElement()
        .satisfies(
            m ->
                assertThat(m)
                    .contains(stuck)
                    .contains("still pending after Heroku's one-hour limit"));
    assertThat(store.backends(uid()))
        .filteredOn(b -> b.appName.equals(stuck))
        .singleElement()
        .satisfies(
            b -> assertThat(b.phase).isEqualTo(io.dynofleet.pool.model.Backend.Phase.Failed));

    clock.advance(config.failedAppRetry());
    converge();
    assertThat(status().readyReplicas()).isEqualTo(3);
    assertThat(heroku.apps).doesNotContainKey(stuck);
    assertThat(count("createRelease"))
        .as("the waiting app and a replacement released")
        .isEqualTo(4);
  }

  /**
   * Review 16 #4: a release from a source app waits for another pool's release phase from the same
   * app, and no longer than Heroku lets a release phase run (an hour): a pool paused mid-release,
   * or a dyno gone, leaves a row in Releasing that must not hold the other pool for ever.
   */
  @Test
  void aReleaseWaitsForAnotherPoolsReleasePhaseFromTheSameSourceUpToAnHour() {
    heroku.releasesPending = true;
    createPool(1, "");
    passUntilOneReleaseIsOut();
    String first = name;
    name = secondPool(first, source);
    passes(3);
    assertThat(count("createRelease")).as("the second pool waits").isEqualTo(1);
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("ReleaseWaits"))
        .singleElement()
        .satisfies(
            e -> assertThat(e.message()).contains("(pool " + first + ")").contains(first + "-"));

    clock.advance(Reconciler.RELEASE_PHASE_LIMIT);
    passes(1);
    assertThat(count("createRelease"))
        .as("a release phase past Heroku's hour holds no one")
        .isEqualTo(2);
  }

  /**
   * Audit 24 H1: a pool paused while a backend of it was Releasing held every other pool of the
   * same source app off its release turn for 65 min, after that release had ended (the paused
   * pool's pass does not move the row on), and the waiting pool said WaitingForHealth. Its release
   * is now read: while it runs the other pool waits and says why in Progressing; once it ended, the
   * other pool releases, and the paused pool's row is left as it was.
   */
  @Test
  void aPausedPoolsEndedReleaseHoldsNoOtherPoolsTurn() {
    heroku.releasesPending = true;
    createPool(1, "");
    passUntilOneReleaseIsOut();
    String first = name;
    pools.patch(first, "{\"spec\": {\"paused\": true}}", new Precondition(null));
    passes(1);
    name = secondPool(first, source);
    passes(3);
    assertThat(count("createRelease")).as("the paused pool's release still runs").isEqualTo(1);
    assertThat(
            status().conditions().stream().filter(c -> c.type().equals("Progressing")).findFirst())
        .get()
        .satisfies(
            c -> {
              assertThat(c.reason()).isEqualTo("ReleaseWaits");
              assertThat(c.message()).contains("(pool " + first + ")").contains(first + "-");
            });

    heroku.completeReleases();
    heroku.releasesPending = false;
    clock.advance(Reconciler.RELEASE_LOOK_INTERVAL);
    passes(3);
    assertThat(count("createRelease"))
        .as("the paused pool's release ended: it holds no one")
        .isEqualTo(2);
    assertThat(store.backends(store.pool(first).orElseThrow().id))
        .as("the paused pool's row is not moved on")
        .singleElement()
        .satisfies(
            b -> assertThat(b.step).isEqualTo(io.dynofleet.pool.model.Backend.Step.RELEASING));
    converge();
    assertThat(status().readyReplicas()).isEqualTo(1);
  }

  /**
   * Review 18 #10: a pool naming the source app by its id did not wait for the release phase of a
   * pool naming it by its name (the turn matched the pools' sourceApp text): both ran at once
   * against the add-ons they share.
   */
  @Test
  void aPoolNamingTheSourceByItsIdWaitsForOneNamingItByName() {
    heroku.releasesPending = true;
    createPool(1, "");
    passUntilOneReleaseIsOut();
    String first = name;
    name = secondPool(first, heroku.apps.get(source).id());
    passes(3);
    assertThat(count("createRelease")).as("the second pool waits").isEqualTo(1);
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("ReleaseWaits"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("(pool " + first + ")"));

    heroku.completeReleases();
    heroku.releasesPending = false;
    String second = name;
    name = first;
    passes(2);
    name = second;
    passes(3);
    assertThat(count("createRelease")).as("its turn once the first's release ended").isEqualTo(2);
  }

  /**
   * Review 19: a backend marked as sending its release (the process died before the POST) skipped
   * the turn when it came back; its mark, older than Heroku's hour, held no one meanwhile, and its
   * release ran beside the release phase another pool had started since.
   */
  @Test
  void aReleaseMarkedLongAgoButNeverSentWaitsForTheTurn() {
    String first = name;
    createPool(1, "");
    heroku.crashBefore("createRelease");
    for (int i = 0;
        i < 8
            && store.backends(store.pool(first).orElseThrow().id).stream()
                .noneMatch(b -> Reconciler.RELEASE_SENT.equals(b.releaseId));
        i++) {
      pass();
      clock.advance(Duration.ofSeconds(6));
    }
    assertThat(count("createRelease")).as("marked, never sent").isZero();

    clock.advance(Reconciler.RELEASE_PHASE_LIMIT); // the mark holds no one now
    heroku.releasesPending = true;
    name = secondPool(first, source);
    passUntilOneReleaseIsOut();

    name = first;
    passes(3);
    assertThat(count("createRelease"))
        .as("the first pool waits for the second's release phase")
        .isEqualTo(1);
  }

  /**
   * Two dynos claiming the turn of one source app in the same moment: each looked, found no one,
   * and both released (the look was not locked between processes). Two threads, each claiming for a
   * backend of its own pool, started together twenty times: exactly one wins each time.
   */
  @Test
  void twoClaimsOfOneSourcesReleaseTurnInTheSameMomentLetOneThrough() throws Exception {
    String first = name;
    createPool(0, "");
    name = first + "-b";
    createPool(0, "");
    List<io.dynofleet.pool.model.Backend> rows = new ArrayList<>();
    for (String pool : List.of(first, name)) {
      io.dynofleet.pool.model.Backend b = new io.dynofleet.pool.model.Backend();
      b.id = UUID.randomUUID();
      b.poolId = store.pool(pool).orElseThrow().id;
      b.appName = pool + "-claim";
      b.step = io.dynofleet.pool.model.Backend.Step.CONFIGURED;
      b.phase = io.dynofleet.pool.model.Backend.Phase.Creating;
      b.target = "t";
      b.createdAt = clock.instant();
      store.save(b);
      rows.add(b);
    }
    ExecutorService two = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 20; round++) {
        for (io.dynofleet.pool.model.Backend b : rows) {
          b.releaseId = null;
          store.save(b);
        }
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
        List<Future<Boolean>> won = new ArrayList<>();
        for (io.dynofleet.pool.model.Backend b : rows) {
          won.add(
              two.submit(
                  () -> {
                    together.await();
                    return store
                        .claimRelease(
                            b,
                            "app-id-" + source,
                            source,
                            clock.instant().minusSeconds(60),
                            List.of())
                        .isEmpty();
                  }));
        }
        int winners = 0;
        for (Future<Boolean> f : won) {
          winners += f.get() ? 1 : 0;
        }
        assertThat(winners).as("round %d", round).isEqualTo(1);
      }
    } finally {
      two.shutdownNow();
    }
  }

  /**
   * Review 18: a release found on the app after a lost answer is adopted only if it is of the slug
   * wanted now: one of an older slug (sent for a target that moved since) was adopted, and the
   * backend was Ready and counted updated on the old code.
   */
  @Test
  void aLostReleaseOfAnotherSlugIsNotAdopted() {
    createPool(1, "");
    heroku.crashAfter("createRelease", 1);
    for (int i = 0; i < 6 && count("createRelease") == 0; i++) {
      pass();
    }
    assertThat(count("createRelease")).as("sent, its answer lost").isEqualTo(1);
    String app = owned().get(0);
    List<Platform.Release> made = heroku.releases.get(app);
    Platform.Release sent = made.remove(made.size() - 1);
    made.add(
        new Platform.Release(
            sent.id(), sent.version(), "an-older-slug", sent.status(), sent.description()));
    converge();
    assertThat(heroku.releases.get(app).get(heroku.releases.get(app).size() - 1).slugId())
        .isNotEqualTo("an-older-slug");
    assertThat(count("createRelease")).as("released again, of the slug wanted").isEqualTo(2);
  }

  /**
   * Review 18: a release Heroku refused (4xx) was never made, and its mark held the other pools of
   * the source for as long as the refusal lasted: the mark goes with the refusal.
   */
  @Test
  void aRefusedReleaseLeavesNoMark() {
    createPool(1, "");
    heroku.failNext("createRelease", 1, Kind.INVALID);
    boolean refused = false;
    for (int i = 0; i < 6 && !refused; i++) {
      refused = pass().outcome() == ReconcileResult.Outcome.FAILED;
    }
    assertThat(refused).as("the release refused").isTrue();
    assertThat(store.backends(uid()))
        .singleElement()
        .satisfies(
            b -> {
              assertThat(b.step).isEqualTo(io.dynofleet.pool.model.Backend.Step.CONFIGURED);
              assertThat(b.releaseId).isNull();
            });
  }

  /**
   * Passes until a backend's release is out (pending while {@code releasesPending}); exactly one.
   */
  /**
   * A second pool, {@code first}-b, on {@code first}'s pipeline, copying {@code sourceRef} (a name
   * or id).
   */
  private String secondPool(String first, String sourceRef) {
    String second = first + "-b";
    pools.create(
        """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "pipe-%s", "replicas": 1, "template": {"sourceApp": "%s", "dynoSize": "basic"}}}
        """
            .formatted(second, first.substring(5), sourceRef));
    return second;
  }

  /**
   * Passes the pool each time its requeue asks (the sweep's 30 s when it is done) for {@code span}
   * of the test clock; returns the Platform API calls those passes made.
   */
  private long passWhenAskedFor(Duration span, List<Duration> waits) {
    java.time.Instant end = clock.instant().plus(span);
    long calls = 0;
    while (clock.instant().isBefore(end)) {
      ReconcileResult r = pass();
      calls += r.platformCalls();
      Duration after =
          r.outcome() == ReconcileResult.Outcome.DONE ? Duration.ofSeconds(30) : r.requeueAfter();
      waits.add(after);
      clock.advance(after.isZero() ? Duration.ofMillis(100) : after);
    }
    return calls;
  }

  /**
   * Audit 19 #1: a backend's release phase in progress was polled every 2 s, three calls a look: 90
   * a minute against Heroku's refill of 75, for as long as it ran (up to an hour), about 900 calls
   * in ten minutes. The wait now grows with how long the release has been pending.
   */
  @Test
  void aPendingReleasePhaseIsPolledLessOftenTheLongerItRuns() {
    heroku.releasesPending = true;
    createPool(1, "");
    passUntilOneReleaseIsOut();
    List<Duration> waits = new ArrayList<>();
    long calls = passWhenAskedFor(Duration.ofMinutes(10), waits);
    // 5 s for a minute, 15 s to five minutes, 30 s after: 38 looks of three calls, not 300
    assertThat(calls).as("Platform API calls in ten minutes of a release phase").isLessThan(120);
    assertThat(waits.get(0)).isEqualTo(Duration.ofSeconds(5));
    assertThat(waits.get(waits.size() - 1)).isEqualTo(Duration.ofSeconds(30));
    assertThat(count("createRelease")).isEqualTo(1);
    heroku.completeReleases();
    converge();
    assertThat(status().readyReplicas()).isEqualTo(1);
  }

  /** Audit 19 #1: the same for a release of the source app that stays pending. */
  @Test
  void aPendingSourceReleaseIsPolledLessOftenTheLongerItRuns() {
    createPool(1, "");
    converge();
    List<Platform.Release> list = heroku.releases.get(source);
    Platform.Release last = list.get(list.size() - 1);
    list.add(
        new Platform.Release(
            UUID.randomUUID().toString(), last.version() + 1, last.slugId(), "pending", "Deploy"));
    List<Duration> waits = new ArrayList<>();
    long calls = passWhenAskedFor(Duration.ofMinutes(10), waits);
    // 38 looks of two calls (the source's releases, the couplings), not 300
    assertThat(calls).as("Platform API calls in ten minutes of a source release").isLessThan(80);
    assertThat(waits.get(0)).isEqualTo(Duration.ofSeconds(5));
    assertThat(waits.get(waits.size() - 1)).isEqualTo(Duration.ofSeconds(30));
    assertThat(status().readyReplicas()).isEqualTo(1);
  }

  private void passUntilOneReleaseIsOut() {
    for (int i = 0; i < 6 && count("createRelease") == 0; i++) {
      pass();
    }
    assertThat(count("createRelease")).as("one release out").isEqualTo(1);
  }

  private List<String> budgetPools(int n) {
    List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      String p = name + "-w" + i;
      names.add(p);
      pools.create(
          """
          {"metadata": {"name": "%s"},
           "spec": {"pipeline": "pipe-%s", "replicas": 1, "template": {"sourceApp": "%s"}}}
          """
              .formatted(p, name.substring(5), source));
    }
    heroku.rateRemaining = 290; // under the 300 reserve
    return names;
  }

  /**
   * Passes each pool on its dyno when its requeue says, with Heroku's refill (one call per 800 ms)
   * between, for {@code span} of the test clock.
   */
  private void playTheRefill(Map<String, Reconciler> dynos, Duration span) {
    Map<String, java.time.Instant> due = new java.util.HashMap<>();
    dynos.keySet().forEach(n -> due.put(n, clock.instant()));
    java.time.Instant end = clock.instant().plus(span);
    double refill = 0;
    while (clock.instant().isBefore(end)) {
      String next =
          due.keySet().stream().min(java.util.Comparator.comparing(due::get)).orElseThrow();
      Duration step = Duration.between(clock.instant(), due.get(next));
      if (!step.isNegative()) {
        clock.advance(step);
        refill += step.toMillis() / 800.0;
        int whole = (int) refill;
        refill -= whole;
        heroku.rateRemaining = Math.min(4500, heroku.rateRemaining + whole);
      }
      ReconcileResult r = dynos.get(next).reconcile(new PoolKey(next));
      Duration after =
          r.outcome() == ReconcileResult.Outcome.DONE ? Duration.ofSeconds(30) : r.requeueAfter();
      due.put(next, clock.instant().plus(after.isZero() ? Duration.ofMillis(100) : after));
    }
  }

  /**
   * Audit defect 4: a pass that had read the pool before it was deleted went on to create every app
   * (and the finalizer deleted them all). The pass re-reads the deletion mark before it makes apps,
   * and hands the pool to the finalizer at once.
   */
  @Test
  void aPoolDeletedWhileAPassRunsGetsNoNewApps() {
    createPool(0, "");
    converge();
    scale(3);
    // the user deletes the pool while the pass observes the source app (before it plans creates)
    heroku.onNext("recentReleases", () -> pools.delete(name, new Precondition(null)));
    ReconcileResult r = pass();
    assertThat(count("createApp")).isZero();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    assertThat(r.requeueAfter()).isEqualTo(Duration.ZERO);
    converge();
    assertThat(count("createApp")).isZero();
    assertThat(allBackendApps()).isEmpty();
    assertThatThrownBy(() -> pools.get(name)).isInstanceOf(ApiException.class);
  }

  /** The same for intents an earlier pass wrote (and died before making their apps). */
  @Test
  void aPoolDeletedAfterItsIntentsMakesNoApps() {
    createPool(0, "");
    converge();
    scale(1);
    heroku.crashBefore("createApp"); // the first pass writes its intent and dies before the create
    pass();
    reconciler.forgetCaches();
    // the next pass finds the intents to carry on with; the pool is deleted while it observes
    heroku.onNext("recentReleases", () -> pools.delete(name, new Precondition(null)));
    assertThat(pass().requeueAfter()).isEqualTo(Duration.ZERO);
    assertThat(count("createApp")).isZero();
    converge();
    assertThat(count("createApp")).isZero();
    assertThat(allBackendApps()).isEmpty();
    assertThatThrownBy(() -> pools.get(name)).isInstanceOf(ApiException.class);
  }

  @Test
  void aFailedDeleteLeavesThePoolTerminatingAndRetries() {
    createPool(2, "");
    converge();
    pools.delete(name, new Precondition(null));
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE); // draining
    clock.advance(Duration.ofSeconds(6));
    heroku.failNext("deleteApp", 1, Kind.TRANSIENT);
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(pools.get(name).metadata().deletionTimestamp()).isNotNull();
    converge();
    assertThat(allBackendApps()).isEmpty();
    assertThatThrownBy(() -> pools.get(name)).isInstanceOf(ApiException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"1/0", "0/1", "2/1"})
  void rollingUpdateStaysWithinSurgeAndUnavailable(String bounds) {
    int surge = Integer.parseInt(bounds.split("/")[0]);
    int unavailable = Integer.parseInt(bounds.split("/")[1]);
    createPool(
        3, ", \"rollout\": {\"maxSurge\": " + surge + ", \"maxUnavailable\": " + unavailable + "}");
    converge();
    List<String> before = owned();
    heroku.push(source);
    for (int i = 0; i < 60; i++) {
      ReconcileResult r = pass();
      PoolStatus s = status();
      assertThat(owned().size()).as("apps during rollout").isLessThanOrEqualTo(3 + surge);
      assertThat(s.readyReplicas())
          .as("available during rollout")
          .isGreaterThanOrEqualTo(3 - unavailable);
      clock.advance(Duration.ofSeconds(6));
      if (r.outcome() == ReconcileResult.Outcome.DONE) {
        break;
      }
    }
    PoolStatus s = status();
    assertThat(s.targetRelease()).isEqualTo("v2");
    assertThat(s.updatedReplicas()).isEqualTo(3);
    assertThat(s.readyReplicas()).isEqualTo(3);
    assertThat(owned()).hasSize(3).doesNotContainAnyElementsOf(before);
    assertThat(pools.events(name, 200)).extracting(e -> e.reason()).contains("RolloutStep");
  }

  /**
   * Audit 24 L1: Ready went False at every surge step of a healthy rollout ("4 backends ready, 3
   * wanted"), three flaps per 3-replica rollout. Ready now means enough ready backends; the extra
   * ones are named in its message.
   */
  @Test
  void readyStaysTrueThroughASurgeRollout() {
    createPool(3, ", \"rollout\": {\"maxSurge\": 1, \"maxUnavailable\": 0}");
    converge();
    heroku.push(source);
    boolean surged = false;
    for (int i = 0; i < 60; i++) {
      ReconcileResult r = pass();
      PoolStatus s = status();
      PoolStatus.Condition ready =
          s.conditions().stream().filter(c -> c.type().equals("Ready")).findFirst().orElseThrow();
      assertThat(s.readyReplicas()).as("maxUnavailable 0").isGreaterThanOrEqualTo(3);
      assertThat(ready.status() + "/" + ready.reason())
          .as("pass %d: %s", i, ready.message())
          .isEqualTo("True/AllReplicasReady");
      if (s.replicas() > 3) {
        surged = true;
        assertThat(ready.message())
            .isEqualTo(
                s.readyReplicas()
                    + " backends ready, 3 wanted (1 more than wanted until the rollout or"
                    + " scale-down drains it)");
      }
      clock.advance(Duration.ofSeconds(6));
      if (r.outcome() == ReconcileResult.Outcome.DONE) {
        break;
      }
    }
    assertThat(surged).as("a surge step was seen").isTrue();
    assertThat(status().updatedReplicas()).isEqualTo(3);
  }

  /**
   * Audit 24 L3: Progressing said ScalingUp or ScalingDown "3 backends, 3 desired" in the middle of
   * a rollout nobody scaled (its reasons were counted from the active backends only, so the last
   * old one draining read as a scale-down). It says RollingUpdate while a backend of the old
   * release is there, draining included.
   */
  @ParameterizedTest
  @ValueSource(strings = {"1/0", "0/1"})
  void progressingSaysRollingUpdateUntilTheLastOldBackendIsGone(String bounds) {
    createPool(
        3,
        ", \"rollout\": {\"maxSurge\": "
            + bounds.split("/")[0]
            + ", \"maxUnavailable\": "
            + bounds.split("/")[1]
            + "}");
    converge();
    List<String> before = owned();
    heroku.push(source);
    boolean drainingSeen = false;
    for (int i = 0; i < 60; i++) {
      ReconcileResult r = pass();
      boolean oldThere = owned().stream().anyMatch(before::contains);
      PoolStatus.Condition p =
          status().conditions().stream()
              .filter(c -> c.type().equals("Progressing"))
              .findFirst()
              .orElseThrow();
      if (oldThere) {
        assertThat(p.status() + "/" + p.reason())
            .as("pass %d: %s", i, p.message())
            .isEqualTo("True/RollingUpdate");
        int updated = status().updatedReplicas();
        if (updated == status().replicas()) {
          drainingSeen = true; // every active backend updated: the old one drains
          assertThat(p.message())
              .isEqualTo(updated + "/" + updated + " backends at release v2, 1 old draining");
        }
      }
      clock.advance(Duration.ofSeconds(6));
      if (r.outcome() == ReconcileResult.Outcome.DONE) {
        break;
      }
    }
    assertThat(drainingSeen).as("the last old backend's drain was seen").isTrue();
    assertThat(owned()).doesNotContainAnyElementsOf(before);
    assertThat(condition("Progressing")).isEqualTo("False/Stable");
  }

  /**
   * Review 15: a pass that failed before it read the source (a 503 from its releases) counted every
   * backend updated; with maxSurge 0 it could say Progressing False/Stable mid-rollout, which
   * `dynofleet rollout status` took for "successfully rolled out". The last release seen is the
   * target; in a process that has seen none, the last count stands.
   */
  @Test
  void aFailedPassMidRolloutDoesNotClaimTheRolloutDone() {
    createPool(3, ", \"rollout\": {\"maxSurge\": 0, \"maxUnavailable\": 1}");
    converge();
    heroku.push(source);
    for (int i = 0;
        i < 60 && !(status().updatedReplicas() >= 1 && status().updatedReplicas() < 3);
        i++) {
      pass();
      clock.advance(Duration.ofSeconds(6));
    }
    int updated = status().updatedReplicas();
    assertThat(updated).as("mid-rollout").isBetween(1, 2);

    heroku.failNext("recentReleases", 1, Kind.TRANSIENT);
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(status().updatedReplicas()).isEqualTo(updated);
    assertThat(condition("Progressing")).startsWith("True/");
    assertThat(condition("Degraded")).isEqualTo("True/HerokuUnavailable");

    reconciler.forgetCaches(); // a process that has not read the source yet
    heroku.failNext("recentReleases", 1, Kind.TRANSIENT);
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(status().updatedReplicas()).isEqualTo(updated);
    assertThat(condition("Progressing")).startsWith("True/");

    for (int i = 0; i < 60 && pass().outcome() != ReconcileResult.Outcome.DONE; i++) {
      clock.advance(Duration.ofSeconds(6));
    }
    assertThat(status().updatedReplicas()).isEqualTo(3);
    assertThat(condition("Progressing")).isEqualTo("False/Stable");
  }

  /**
   * Review 16 #3: a dyno whose last read of the source is releases behind (another dyno rolled the
   * pool since) counted, in a pass that failed before it read the source, every backend on the
   * newer release as not updated: the status went from 2 of 2 updated to 0.
   */
  @Test
  void aFailedPassOnADynoBehindTheSourceKeepsTheUpdatedCount() {
    createPool(2, "");
    converge();
    Source behind = reconciler.sourceCache().get(uid());
    heroku.push(source);
    converge();
    assertThat(status().targetRelease()).isNotEqualTo("v" + behind.version());
    assertThat(status().updatedReplicas()).isEqualTo(2);

    reconciler.sourceCache().put(uid(), behind); // the other dyno rolled; this one read v1 last
    heroku.failNext("recentReleases", 1, Kind.TRANSIENT);
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(status().updatedReplicas())
        .as("the newer release's backends stay counted")
        .isEqualTo(2);
    assertThat(condition("Progressing")).isEqualTo("False/Stable");

    converge(); // the next pass that reads the source catches up
    assertThat(status().updatedReplicas()).isEqualTo(2);
  }

  /**
   * Review 3: mid-rollout, old backends the proxy ejected for a moment (three 503s under load) were
   * drained with no drain time and deleted in the same pass, all of them, whatever maxUnavailable
   * said.
   */
  @Test
  void oldBackendsFailingMidRolloutLeaveOnlyWithinMaxUnavailable() {
    createPool(3, "");
    converge();
    List<String> before = owned();
    heroku.push(source);
    pass(); // the first new backend is on its way
    dataPlane.unhealthy.addAll(before); // every old one ejected for a moment
    pass();
    clock.advance(Duration.ofSeconds(6));
    pass();
    assertThat(owned()).as("old backends kept while the new one is not ready").containsAll(before);
    dataPlane.unhealthy.clear();
    converge();
    assertThat(status().updatedReplicas()).isEqualTo(3);
    assertThat(owned()).hasSize(3).doesNotContainAnyElementsOf(before);
  }

  @Test
  void configChangeOnTheSourceRollsLikeARelease() {
    createPool(2, "");
    converge();
    heroku.setVar(source, "GREETING", "bonjour");
    converge();
    assertThat(owned()).hasSize(2);
    for (String app : owned()) {
      assertThat(heroku.config.get(app)).containsEntry("GREETING", "bonjour");
    }
  }

  @Test
  void aReleaseThatNeverWorksStallsTheRolloutAndKeepsTheOldOnes() {
    createPool(3, "");
    converge();
    List<String> before = owned();
    heroku.push(source);
    heroku.releasesFail = true;
    passes(10);
    assertThat(owned()).containsAll(before);
    assertThat(status().readyReplicas()).isEqualTo(3);
    assertThat(condition("Degraded")).isEqualTo("True/RolloutStalled");
    assertThat(count("createApp")).isLessThanOrEqualTo(3 + 1); // one attempt, not a create loop
    // a fixed release moves again
    heroku.releasesFail = false;
    heroku.push(source);
    converge();
    assertThat(status().targetRelease()).isEqualTo("v3");
    assertThat(status().updatedReplicas()).isEqualTo(3);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /**
   * Review 16: releases run one at a time, but after the first failed and the pool stalled, the
   * apps waiting their turn still released one after another, each failing as the first did. A
   * stall holds them and drops them (made again once it clears).
   */
  @Test
  void aStalledCreateReleasesNoMoreOfItsBatch() {
    heroku.releasesFail = true;
    createPool(3, "");
    passes(12);
    assertThat(condition("Degraded")).isEqualTo("True/CreateFailed");
    assertThat(count("createRelease")).as("one release failed; no more of the batch").isEqualTo(1);
    assertThat(owned()).as("the batch's unreleased apps dropped").isEmpty();
    heroku.releasesFail = false;
    heroku.push(source);
    converge();
    assertThat(status().readyReplicas()).isEqualTo(3);
  }

  /**
   * Audit 14: a NUL in a failed release phase's last lines (binary output) could not be stored, and
   * every pass of the pool failed there, outside any step, with nothing in its status or events.
   * Control characters are replaced, terminal colours dropped.
   */
  @Test
  void aReleasePhasesOutputWithControlCharactersIsToldAndStored() {
    heroku.releasesFail = true;
    heroku.releaseOutput = "Running release command...\n\u001B[31mERROR\u001B[0m bad \u0000byte";
    createPool(1, "");
    passes(6);
    assertThat(condition("Degraded")).isEqualTo("True/CreateFailed");
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.message())
                    .contains("ERROR bad \uFFFDbyte")
                    .doesNotContain("\u0000", "\u001B"));
    assertThat(pools.events(name, 200))
        .anySatisfy(e -> assertThat(e.message()).contains("ERROR bad \uFFFDbyte"));
  }

  /**
   * Second reread of audit 14's fix: the other outside text in a failed backend's message, the
   * error met reading the release's output, went unfiltered into the backend's row; a NUL there
   * failed the save, and every pass of the pool with it.
   */
  @Test
  void anUnreadableReleaseOutputsErrorWithControlCharactersIsToldAndStored() {
    heroku.releasesFail = true;
    heroku.releaseOutput = "never read";
    heroku.onNext(
        "releaseOutput",
        () -> {
          throw new PlatformException(Kind.TRANSIENT, "stream \u0000gone \u001B[31mred\u001B[0m");
        });
    createPool(1, "");
    passes(6);
    assertThat(condition("Degraded")).isEqualTo("True/CreateFailed");
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.message())
                    .contains("could not be read: stream \uFFFDgone red")
                    .doesNotContain("\u0000", "\u001B"));
  }

  /**
   * Review 3: a stall was cleared only by a new release or config, not by a spec change as the docs
   * said: a user who fixed the health check path saw nothing happen, for ever.
   */
  @Test
  void aStalledCreateTriesAgainWhenTheSpecChanges() {
    heroku.releasesFail = true;
    createPool(1, "");
    passes(8);
    assertThat(condition("Degraded")).isEqualTo("True/CreateFailed");
    long creates = count("createApp");
    passes(5);
    assertThat(count("createApp")).as("stalled: no create loop").isEqualTo(creates);
    heroku.releasesFail = false; // whatever was wrong is fixed; the release stays the same
    pools.patch(name, "{\"spec\": {\"healthCheck\": {\"path\": \"/up\"}}}", new Precondition(null));
    converge();
    assertThat(status().readyReplicas()).isEqualTo(1);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /**
   * Audit 19 #2: only the source's newest ten releases were read. After ten failed releases in a
   * row (a broken release command: Heroku runs it for every config var set too) a restarted process
   * found no released slug, said SourceAppHasNoRelease, made nothing, and a dead backend was
   * restarted for ever, never replaced. Older pages are read now when none is remembered.
   */
  @Test
  void aRestartedProcessFindsTheLastGoodReleaseBehindTenFailedOnes() {
    createPool(2, "");
    converge();
    List<Platform.Release> list = heroku.releases.get(source);
    Platform.Release good = list.get(list.size() - 1);
    for (int i = 0; i < 10; i++) {
      list.add(
          new Platform.Release(
              UUID.randomUUID().toString(),
              good.version() + 1 + i,
              good.slugId(),
              "failed",
              "Set FEATURE_" + i));
    }
    reconciler.forgetCaches(); // a restarted process
    String sick = owned().get(0);
    dataPlane.unhealthy.add(sick);
    pass();
    assertThat(condition("Degraded")).isNotEqualTo("True/SourceAppHasNoRelease");
    assertThat(status().targetRelease()).isEqualTo("v" + good.version());
    clock.advance(Duration.ofSeconds(301));
    pass();
    assertThat(heroku.restarts).isEqualTo(1);
    clock.advance(Duration.ofSeconds(301));
    converge();
    assertThat(owned()).hasSize(2).doesNotContain(sick);
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .contains("BackendReplaced")
        .doesNotContain("SourceAppHasNoRelease");
    assertThat(status().targetRelease()).isEqualTo("v" + good.version());
  }

  @Test
  void anUnhealthyBackendIsRestartedThenReplaced() {
    createPool(2, "");
    converge();
    String sick = owned().get(0);
    dataPlane.unhealthy.add(sick);
    pass();
    assertThat(status().backends())
        .anyMatch(b -> b.app().equals(sick) && b.phase().equals("Unhealthy"));
    assertThat(status().readyReplicas()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(301));
    pass();
    assertThat(heroku.restarts).isEqualTo(1);
    pass();
    assertThat(heroku.restarts).isEqualTo(1); // once, not every pass
    clock.advance(Duration.ofSeconds(301));
    converge();
    assertThat(owned()).hasSize(2).doesNotContain(sick);
    assertThat(heroku.apps).doesNotContainKey(sick);
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .contains("BackendUnhealthy", "BackendRestarted", "BackendReplaced");
  }

  /**
   * Review 15: while a rollout is stalled nothing is made, at the new release or the old one, so an
   * old backend "replaced" after its restart was only deleted: the pool lost one app at a time for
   * as long as the stall lasted. It stays now, restarted again every replaceAfterSeconds, and is
   * replaced once the stall clears.
   */
  @Test
  void aDeadBackendIsNotReplacedByNothingWhileTheRolloutIsStalled() {
    createPool(5, ""); // two dead of five: not a shared cause (ManyUnhealthy)
    converge();
    List<String> before = owned();
    heroku.push(source);
    heroku.releasesFail = true;
    passes(10);
    assertThat(condition("Degraded")).isEqualTo("True/RolloutStalled");
    String sick = before.get(0);
    dataPlane.unhealthy.add(sick);
    pass();
    for (int round = 1; round <= 3; round++) {
      clock.advance(Duration.ofSeconds(301));
      pass();
      pass();
      assertThat(heroku.restarts).as("restarted once per replaceAfterSeconds").isEqualTo(round);
    }
    assertThat(owned()).as("the pool keeps its size").hasSize(5).contains(sick);
    assertThat(heroku.apps).containsKey(sick);
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .doesNotContain("BackendReplaced");
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("BackendRestarted"))
        .anySatisfy(
            e ->
                assertThat(e.message())
                    .contains("not replaced while the rollout of release v2 is stalled"));

    // a second one dies meanwhile: restarted too, though the first holds its restart (review 16)
    String second = before.get(1);
    dataPlane.unhealthy.add(second);
    pass();
    clock.advance(Duration.ofSeconds(301));
    pass();
    assertThat(heroku.restarts).as("both restarted").isEqualTo(5);

    heroku.releasesFail = false;
    heroku.push(source); // a fixed release: the rollout moves, and the dead one goes with it
    converge();
    assertThat(owned()).hasSize(5).doesNotContain(sick, second);
    assertThat(status().readyReplicas()).isEqualTo(5);
  }

  /**
   * Review 15: with the source app deleted every pass failed before anything else, so a scale to 0
   * (to stop the bills) did nothing, drained apps were never deleted and dead ones never restarted.
   * The pass still fails (a condition: a human must act), but does what needs no source.
   */
  @Test
  void withTheSourceAppGoneAScaleDownStillDeletesApps() {
    createPool(3, "");
    converge();
    String sick = owned().get(0);
    heroku.apps.remove(source);
    ReconcileResult r = pass();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");

    dataPlane.unhealthy.add(sick);
    pass();
    clock.advance(Duration.ofSeconds(301));
    pass();
    assertThat(heroku.restarts).as("a dead one is still restarted").isEqualTo(1);
    clock.advance(Duration.ofSeconds(301));
    pass();
    assertThat(owned()).as("but not replaced: nothing can be made").hasSize(3).contains(sick);
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("BackendRestarted"))
        .anySatisfy(
            e ->
                assertThat(e.message())
                    .contains("not replaced while the source app or the pipeline cannot be read"));

    scale(0);
    pass();
    clock.advance(Duration.ofSeconds(6)); // past the drain
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(owned()).isEmpty();
    assertThat(allBackendApps()).isEmpty();
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
  }

  /**
   * Review 15: a backend configured but not yet released when the process restarted, with no usable
   * release on the source by then, threw a NullPointerException on every pass. It waits; once the
   * source has a release again (a new config meanwhile) the pool converges on it.
   */
  @Test
  void aBackendConfiguredBeforeARestartWaitsForASourceRelease() {
    createPool(1, "");
    heroku.failNext("createRelease", 1, Kind.TRANSIENT);
    for (int i = 0;
        i < 5
            && pools.events(name, 50).stream()
                .noneMatch(e -> e.reason().equals("HerokuUnavailable"));
        i++) {
      pass();
    }
    assertThat(count("createRelease")).as("configured, its release refused").isZero();
    List<Platform.Release> kept = new ArrayList<>(heroku.releases.get(source));
    // no usable release on the source, as a restarted process sees it
    heroku.releases.get(source).clear();
    reconciler.forgetCaches();
    ReconcileResult r = pass();
    assertThat(r.outcome()).as(r.toString()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    // nothing moves before a deploy: not looked at every 2 s meanwhile (review 16)
    assertThat(r.requeueAfter()).isGreaterThanOrEqualTo(config.maxTransientBackoff());
    assertThat(condition("Degraded")).isEqualTo("True/SourceAppHasNoRelease");
    assertThat(count("createRelease")).isZero();

    heroku.releases.get(source).addAll(kept);
    heroku.setVar(source, "GREETING", "bonjour"); // a new target meanwhile
    converge();
    assertThat(owned()).hasSize(1);
    assertThat(heroku.config.get(owned().get(0))).containsEntry("GREETING", "bonjour");
    assertThat(status().readyReplicas()).isEqualTo(1);
    assertThat(status().updatedReplicas()).isEqualTo(1);
  }

  /**
   * Review 3: a shared dependency down for 20 minutes (every backend's health check fails) had
   * every backend restarted at 5 minutes and replaced at 10; the replacements could not pass
   * either, stalled, and the pool stayed at no app after the database came back.
   */
  @Test
  void whenMostOfThePoolFailsTogetherNothingIsRestartedOrReplaced() {
    createPool(3, "");
    converge();
    List<String> apps = everyBackendFailsFor(25); // the source's database is down
    assertThat(heroku.restarts).isZero();
    assertThat(owned()).containsExactlyInAnyOrderElementsOf(apps);
    assertThat(count("createApp")).isEqualTo(3);
    assertThat(condition("Degraded")).isEqualTo("True/ManyUnhealthy");
    dataPlane.unhealthy.clear(); // it is back
    converge();
    assertThat(owned()).containsExactlyInAnyOrderElementsOf(apps);
    assertThat(status().readyReplicas()).isEqualTo(3);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /**
   * Review 4: with one replica the guard above never applied: the only backend was restarted, then
   * replaced during a 25-minute outage, its replacement failed too and stalled the pool at no app.
   * It is restarted once and kept.
   */
  @Test
  void thePoolsOnlyReadyBackendIsRestartedButNeverReplaced() {
    createPool(1, "");
    converge();
    List<String> apps = everyBackendFailsFor(25);
    assertThat(heroku.restarts).isEqualTo(1);
    assertThat(owned()).isEqualTo(apps);
    assertThat(count("createApp")).isEqualTo(1);
    assertThat(condition("Degraded")).isEqualTo("True/ManyUnhealthy");
    dataPlane.unhealthy.clear();
    converge();
    assertThat(owned()).isEqualTo(apps);
    assertThat(status().readyReplicas()).isEqualTo(1);
  }

  /**
   * A pool of two, converged; one app fails until replaced, and its replacement never passes
   * either, past its progress deadline (a failed app at a release another app serves).
   */
  private void failAnAppAndItsReplacement() {
    createPool(2, "");
    converge();
    List<String> apps = owned();
    dataPlane.unhealthy.add(apps.get(0));
    pass();
    clock.advance(Duration.ofSeconds(301));
    pass(); // restarted
    clock.advance(Duration.ofSeconds(301));
    pass(); // replaced: a new app is on its way
    for (int i = 0; i < 5; i++) { // the replacement never passes either
      owned().stream().filter(a -> !apps.contains(a)).forEach(dataPlane.unhealthy::add);
      pass();
      clock.advance(Duration.ofSeconds(6));
    }
    clock.advance(Duration.ofMinutes(11)); // past its progress deadline
    pass();
    pass();
  }

  /**
   * Review 4: a replacement that never got healthy latched the stall although another app of the
   * same release served: the release works, so another app is made instead (event BackendFailed).
   */
  @Test
  void aFailedAppOfAReleaseThatWorksElsewhereStallsNothing() {
    failAnAppAndItsReplacement();
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .contains("BackendFailed")
        .doesNotContain("CreateFailed");
    // what its checks met, not only that they failed (audit 20 M1, audit 18 L5)
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("BackendFailed"))
        .extracting(e -> e.message())
        .anyMatch(m -> m.contains("s of health checks on /, the last: HTTP 503)"));
    assertThat(condition("Degraded")).isNotEqualTo("True/CreateFailed");
    dataPlane.unhealthy.clear();
    converge();
    assertThat(status().readyReplicas()).as("another app made after the failed one").isEqualTo(2);
    assertThat(owned()).hasSize(2);
  }

  /**
   * The wait after a failed app (1 min, then 2, then a stall) was the process's: with two dynos the
   * other made a replacement at once, and a restart forgot it. It is the pool's now, in the
   * database: every dyno, and a restarted one, waits the same turn.
   */
  @Test
  void theWaitAfterAFailedAppHoldsOnEveryDyno() {
    failAnAppAndItsReplacement();
    assertThat(condition("Degraded")).isEqualTo("True/BackendFailed");
    List<String> waiting = owned();
    Reconciler other =
        new Reconciler(
            store, locks, heroku, dataPlane, events, config, clock, registry, hookTarget);
    try {
      other.reconcile(new PoolKey(name));
      other.reconcile(new PoolKey(name));
    } finally {
      other.stop();
    }
    assertThat(owned()).as("the other dyno waits too").isEqualTo(waiting);
    reconciler.forgetCaches(); // and so does this one, restarted
    pass();
    assertThat(owned()).as("a restarted dyno waits too").isEqualTo(waiting);
    assertThat(condition("Degraded")).isEqualTo("True/BackendFailed");
    // its turn comes (config.failedAppRetry after the failure): another app is made and gets ready
    dataPlane.unhealthy.clear();
    clock.advance(config.failedAppRetry());
    converge();
    assertThat(status().readyReplicas()).isEqualTo(2);
  }

  /** One sick backend of four at a time (maxUnavailable 0 → 1): not all restarted together. */
  @Test
  void unhealthyBackendsAreRestartedAndReplacedOneAtATime() {
    createPool(4, "");
    converge();
    List<String> sick = owned().subList(0, 1);
    dataPlane.unhealthy.addAll(sick);
    pass();
    clock.advance(Duration.ofSeconds(200));
    String second = owned().get(1);
    dataPlane.unhealthy.add(second); // 2 of 4: not a majority
    pass();
    clock.advance(Duration.ofSeconds(120)); // the first is due for its restart, the second not yet
    pass();
    assertThat(heroku.restarts).isEqualTo(1);
    clock.advance(Duration.ofSeconds(200)); // the second is due too, the first still restarting
    pass();
    assertThat(heroku.restarts).as("one restarted and failing at a time").isEqualTo(1);
    clock.advance(Duration.ofSeconds(120)); // the first is replaced: the second's turn
    pass();
    assertThat(pools.events(name, 200)).extracting(e -> e.reason()).contains("BackendReplaced");
    pass();
    assertThat(heroku.restarts).isEqualTo(2);
  }

  @Test
  void anUnhealthyBackendThatRecoversIsKept() {
    createPool(1, "");
    converge();
    String app = owned().get(0);
    dataPlane.unhealthy.add(app);
    pass();
    dataPlane.unhealthy.remove(app);
    pass();
    clock.advance(Duration.ofSeconds(700));
    converge();
    assertThat(owned()).containsExactly(app);
    assertThat(heroku.restarts).isZero();
  }

  /**
   * Review 3: an app deleted by hand while it was being made got a 404 on every pass for ever
   * (Degraded/InvalidSpec), and the failing pass never deleted the pool's drained apps.
   */
  @Test
  void anAppDeletedWhileBeingMadeIsReplaced() {
    createPool(1, "");
    heroku.onNext("patchConfigVars", () -> heroku.apps.keySet().removeIf(a -> !a.equals(source)));
    converge();
    assertThat(owned()).hasSize(1);
    assertThat(status().readyReplicas()).isEqualTo(1);
    assertThat(pools.events(name, 200)).extracting(e -> e.reason()).contains("BackendVanished");
  }

  /**
   * Audit 14: an app deleted by hand whose coupling stays (the pipeline shows it until Heroku
   * cleans up; here: its health checks fail first) was looked at only at its restart, a replace
   * window after it failed, while the router answered its address with "No such app". It is read
   * when it first fails, and forgotten and replaced then.
   */
  @Test
  void anAppDeletedByHandIsFoundWhenItFirstFailsItsChecks() {
    createPool(2, "");
    converge();
    String victim = owned().get(0);
    heroku.apps.remove(victim);
    dataPlane.unhealthy.add(victim);
    pass();
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .contains("BackendVanished")
        .doesNotContain("BackendUnhealthy");
    assertThat(status().backends()).extracting(b -> b.app()).doesNotContain(victim);
    converge();
    assertThat(owned()).hasSize(2).doesNotContain(victim);
    assertThat(heroku.restarts).isZero();
  }

  /**
   * Audit 14: the pipeline's owner was read once per process: after `heroku pipelines:transfer` to
   * a team the next app was made under the old owner (Heroku then refuses its coupling). It is read
   * again every drift interval.
   */
  @Test
  void aPipelineMovedToATeamIsFollowedByTheNextApps() {
    createPool(1, "");
    converge();
    heroku.pipelineTeams.put("pipe-" + name.substring(5), "acme");
    clock.advance(config.driftCheckInterval().plusMinutes(1));
    scale(2);
    converge();
    List<String> apps = owned();
    assertThat(apps).hasSize(2);
    assertThat(apps.stream().filter(a -> "acme".equals(heroku.appTeams.get(a))))
        .as("made in the team")
        .hasSize(1);
  }

  /** The message of the pool's condition {@code type}. */
  private String conditionMessage(String type) {
    return status().conditions().stream()
        .filter(c -> c.type().equals(type))
        .map(c -> c.message())
        .findFirst()
        .orElse("none");
  }

  /**
   * Audit 20 L4: Heroku Teams have no eco dynos. A team pipeline's eco pool made an app, set its
   * config and released it (its release phase run on the shared database) before Heroku refused the
   * formation, and again every retry. Refused before any app is made now.
   */
  @Test
  void anEcoPoolOfATeamsPipelineMakesNoApp() {
    String pipeline = "pipe-" + name.substring(5);
    heroku.pipelineTeams.put(pipeline, "acme");
    pools.create(
        """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "%s", "replicas": 1,
                  "template": {"sourceApp": "%s", "dynoSize": "eco"}}}
        """
            .formatted(name, pipeline, source));
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(count("createApp")).isZero();
    assertThat(allBackendApps()).isEmpty();
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(conditionMessage("Degraded"))
        .contains(
            "eco dynos are not available to team apps (pipeline "
                + pipeline
                + " belongs to team acme): use basic");

    pools.patch(
        name, "{\"spec\": {\"template\": {\"dynoSize\": \"basic\"}}}", new Precondition(null));
    converge();
    assertThat(owned())
        .singleElement()
        .satisfies(a -> assertThat(heroku.appTeams.get(a)).isEqualTo("acme"));
  }

  /**
   * Audit 20 L6: many single-app Heroku users have no pipeline, and "pipeline 'shop' not found"
   * said neither whether the name was wrong nor how to make one.
   */
  @Test
  void aPipelineNotFoundSaysHowToMakeOne() {
    String pipeline = "pipe-" + name.substring(5);
    heroku.pipelines.remove(pipeline);
    createPool(1, "");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(allBackendApps()).isEmpty();
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(conditionMessage("Degraded"))
        .contains(
            "pipeline '"
                + pipeline
                + "' not found (create it with heroku pipelines:create, or check the name:"
                + " heroku pipelines)");
  }

  /**
   * Audit 14: a backend put in maintenance mode by hand (to look into it) fails its checks (the
   * router answers 503), and was restarted and then replaced, its app deleted with whatever was
   * being done on it, with no word of maintenance. It is kept out of traffic and left alone.
   */
  @Test
  void aBackendInMaintenanceModeIsNeitherRestartedNorReplaced() {
    createPool(2, "");
    converge();
    String app = owned().get(0);
    Platform.App a = heroku.apps.get(app);
    heroku.apps.put(
        app,
        new Platform.App(
            a.id(),
            a.name(),
            a.webUrl(),
            a.createdAt(),
            a.region(),
            a.stack(),
            a.generation(),
            true));
    dataPlane.unhealthy.add(app);
    for (int i = 0; i < 10; i++) {
      pass();
      clock.advance(Duration.ofSeconds(60));
    }
    assertThat(heroku.restarts).isZero();
    assertThat(owned()).contains(app).hasSize(2);
    assertThat(pools.events(name, 200))
        .extracting(e -> e.reason())
        .doesNotContain("BackendReplaced", "BackendRestarted")
        .filteredOn("BackendInMaintenance"::equals)
        .hasSize(1);

    heroku.apps.put(app, a); // maintenance:off
    dataPlane.unhealthy.remove(app);
    converge();
    assertThat(status().readyReplicas()).isEqualTo(2);
    assertThat(owned()).contains(app);
  }

  @Test
  void anAppDeletedBehindOurBackIsRecreated() {
    createPool(2, "");
    converge();
    String victim = owned().get(0);
    String id = heroku.apps.get(victim).id();
    heroku.apps.remove(victim);
    heroku.couplings.values().removeIf(c -> c.appId().equals(id));
    dataPlane.unhealthy.add(victim); // the proxies' probes find it gone: the couplings are read
    converge();
    assertThat(owned()).hasSize(2).doesNotContain(victim);
    assertThat(pools.events(name, 200)).extracting(e -> e.reason()).contains("BackendVanished");
  }

  /**
   * Review 3: a ready backend missing from the pipeline's couplings was set back to SCALED (out of
   * the data plane until its probes passed again); it is coupled again where it stands.
   */
  @Test
  void aReadyBackendDecoupledByHandIsCoupledAgainAndKeepsServing() {
    createPool(2, "");
    converge();
    String app = owned().get(0);
    String id = heroku.apps.get(app).id();
    heroku.couplings.values().removeIf(c -> c.appId().equals(id));
    int refreshes = dataPlane.refreshes.get();
    clock.advance(config.driftCheckInterval()); // the couplings' next read (audit 21 H1)
    pass();
    assertThat(heroku.couplings.values()).anyMatch(c -> c.appId().equals(id));
    assertThat(status().readyReplicas()).isEqualTo(2);
    assertThat(status().backends()).allMatch(b -> b.phase().equals("Ready"));
    assertThat(dataPlane.refreshes.get()).as("routes untouched").isEqualTo(refreshes);
  }

  /** Audit 7: each repeated DELETE of a pool being deleted added another Deleting event. */
  @Test
  void aRepeatedDeleteChangesNothing() {
    createPool(1, "");
    converge();
    for (int i = 0; i < 3; i++) {
      pools.delete(name, new Precondition(null));
    }
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("Deleting"))
        .singleElement()
        .satisfies(e -> assertThat(e.count()).isEqualTo(1));
  }

  /** Review 4: a backend Heroku refuses to couple again cost two calls on every pass, for ever. */
  @Test
  void aBackendThatCannotBeCoupledAgainIsTriedOnlyNowAndThen() {
    createPool(1, "");
    converge();
    String id = heroku.apps.get(owned().get(0)).id();
    heroku.couplings.values().removeIf(c -> c.appId().equals(id));
    heroku.failNext("couple", 1, Kind.INVALID);
    clock.advance(config.driftCheckInterval()); // the couplings' next read (audit 21 H1)
    pass();
    long calls = count("couple");
    passes(5);
    assertThat(count("couple")).as("not every pass").isEqualTo(calls);
    assertThat(pools.events(name, 50)).extracting(e -> e.reason()).contains("CouplingRefused");
    assertThat(status().readyReplicas()).isEqualTo(1);
    clock.advance(config.driftCheckInterval());
    pass();
    assertThat(heroku.couplings.values()).anyMatch(c -> c.appId().equals(id));
    assertThat(reconciler.remembersUncouplable(id)).as("forgotten once coupled").isFalse();
  }

  /** Review 5: an app Heroku refused to couple was remembered until a restart, coupled or gone. */
  @Test
  void aRefusedCouplingIsForgottenWhenTheAppIsCoupledByHandOrDeleted() {
    createPool(1, "");
    converge();
    String id = heroku.apps.get(owned().get(0)).id();
    Platform.Coupling coupling =
        heroku.couplings.values().stream()
            .filter(c -> c.appId().equals(id))
            .findFirst()
            .orElseThrow();
    heroku.couplings.values().remove(coupling);
    heroku.failNext("couple", 1, Kind.INVALID);
    clock.advance(config.driftCheckInterval()); // the couplings' next read (audit 21 H1)
    pass();
    assertThat(reconciler.remembersUncouplable(id)).isTrue();
    heroku.couplings.put(coupling.id(), coupling); // a human couples it
    pass();
    assertThat(reconciler.remembersUncouplable(id)).as("coupled by hand").isFalse();
    heroku.couplings.values().remove(coupling);
    heroku.failNext("couple", 1, Kind.INVALID);
    clock.advance(config.driftCheckInterval());
    pass();
    assertThat(reconciler.remembersUncouplable(id)).isTrue();
    scale(0);
    converge();
    assertThat(owned()).isEmpty();
    assertThat(reconciler.remembersUncouplable(id)).as("deleted").isFalse();
  }

  /**
   * Review 3: a changed spec.pipeline made every pass re-couple every backend, in vain (Heroku
   * couples an app to one pipeline), 2 calls per backend every 2 s, with no backend ready again.
   */
  @Test
  void thePipelineOfAManagedPoolCannotChange() {
    createPool(1, "");
    converge();
    heroku.addPipeline("other-pipe");
    long generation = pools.get(name).metadata().generation();
    assertThatThrownBy(
            () ->
                pools.patch(
                    name, "{\"spec\": {\"pipeline\": \"other-pipe\"}}", new Precondition(null)))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(422);
              assertThat(e.getMessage()).contains("spec.pipeline");
            });
    assertThat(pools.get(name).metadata().generation()).isEqualTo(generation);
  }

  /**
   * Review 3: the pool's advisory lock lives on one database session; when that session ended mid
   * pass (a failover, a cut connection) the pass went on acting while another dyno could take the
   * pool. It stops at the step it is in, and the next pass finishes the work without a twin.
   */
  @Test
  void aPassThatLosesItsLockStopsAtTheStepItIsIn() {
    createPool(1, "");
    UUID uid = uid();
    heroku.onNext(
        "createApp",
        () -> {
          endTheLockSession(uid);
          try {
            Thread.sleep(1100); // the lock is checked at most once a second
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    ReconcileResult r = pass();
    assertThat(r.error()).isEqualTo(Reconciler.LOCK_LOST);
    assertThat(count("createApp")).isEqualTo(1);
    assertThat(count("patchConfigVars")).as("no step after the loss").isZero();
    converge();
    assertThat(owned()).hasSize(1);
    assertThat(allBackendApps()).hasSize(1);
  }

  /**
   * Audit 19 #6, with a second try between: a create that timed out (it may land later), tried
   * again and refused with a 4xx (that one is over: a 5xx is not, review 24 #1), then drained. The
   * first may still land: the row stays and the name is looked for again until the first could no
   * longer land, then goes.
   */
  @Test
  void aDrainedIntentWaitsForAnUnansweredCreateEvenAfterAnAnsweredRetry() {
    createPool(1, "");
    heroku.failNext("createApp", 1, Kind.TRANSIENT);
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    clock.advance(Duration.ofSeconds(2));
    heroku.failNext("createApp", 1, Kind.INVALID);
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(count("createApp")).as("both refused before they were made").isZero();
    scale(0);
    clock.advance(Duration.ofSeconds(2));
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    assertThat(store.backends(uid()))
        .as("the first create may still land: the row stays")
        .singleElement()
        .satisfies(
            b -> assertThat(b.step).isEqualTo(io.dynofleet.pool.model.Backend.Step.DRAINING));
    clock.advance(heroku.sendWindow());
    converge();
    assertThat(store.backends(uid())).isEmpty();
    assertThat(allBackendApps()).isEmpty();
  }

  /**
   * Ends the database session that holds the pool's advisory lock (a failover, a cut connection):
   * PostgreSQL gives the lock to whoever asks next. Waits until the session is gone.
   */
  private void endTheLockSession(UUID uid) {
    long key = uid.getMostSignificantBits() ^ uid.getLeastSignificantBits();
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.Statement st = c.createStatement()) {
      // only the session holding this pool's lock (a bigint key: high and low 32 bits)
      st.execute(
          "select pg_terminate_backend(pid, 5000) from pg_locks where locktype = 'advisory' and granted"
              + " and objsubid = 1 and classid::bigint = "
              + ((key >>> 32) & 0xffffffffL)
              + " and objid::bigint = "
              + (key & 0xffffffffL)
              + " and pid <> pg_backend_pid()");
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Audit 19 #11: a pass that lost its lock (its database session ended) while its release POST was
   * on its way let the next holder, another dyno, find the mark, read the app's releases before the
   * POST had landed, find none, and send a second release: two release phases at once on one app
   * (the case audit 14 #2 fixed for lost answers). A mark younger than the send window is waited
   * for; the release that lands is the one the backend takes.
   */
  @Test
  void aReleaseOnItsWayWhenItsPassLosesTheLockIsNotSentAgainByTheNextHolder() {
    createPool(1, "");
    UUID uid = uid();
    Reconciler other =
        new Reconciler(
            store, locks, heroku, dataPlane, events, config, clock, registry, hookTarget);
    try {
      ReconcileResult[] meanwhile = new ReconcileResult[1];
      heroku.whileSending(
          "createRelease",
          () -> {
            endTheLockSession(uid);
            meanwhile[0] = other.reconcile(new PoolKey(name));
          });
      for (int i = 0; i < 6 && meanwhile[0] == null; i++) {
        pass();
        clock.advance(Duration.ofSeconds(2));
      }
      assertThat(meanwhile[0])
          .as("the other dyno's pass ran while the POST was on its way")
          .isNotNull();
      assertThat(meanwhile[0].outcome())
          .as("it had the lock: " + meanwhile[0])
          .isIn(ReconcileResult.Outcome.REQUEUE, ReconcileResult.Outcome.DONE);
      converge();
      assertThat(count("createRelease")).as("one release on the app").isEqualTo(1);
      assertThat(owned()).hasSize(1);
      assertThat(heroku.releases.get(owned().get(0))).hasSize(1);
      assertThat(status().readyReplicas()).isEqualTo(1);
    } finally {
      other.stop();
    }
  }

  /**
   * The other side of audit 19 #11: a mark whose POST never left (the process died between the mark
   * and the send) is waited for only while a POST could still land, then the release is sent.
   */
  @Test
  void aReleaseMarkedButNeverSentIsSentOnceItCouldNoLongerLand() {
    createPool(1, "");
    heroku.crashBefore("createRelease");
    for (int i = 0;
        i < 8
            && store.backends(uid()).stream()
                .noneMatch(b -> Reconciler.RELEASE_SENT.equals(b.releaseId));
        i++) {
      pass();
      clock.advance(Duration.ofSeconds(1));
    }
    reconciler.forgetCaches(); // a new process
    ReconcileResult waiting = pass();
    assertThat(count("createRelease")).as("marked moments ago: waited for").isZero();
    assertThat(waiting.requeueAfter()).isLessThanOrEqualTo(config.releasePoll());
    clock.advance(heroku.sendWindow());
    pass();
    assertThat(count("createRelease")).as("it can no longer land: sent").isEqualTo(1);
    converge();
    assertThat(count("createRelease")).isEqualTo(1);
    assertThat(status().readyReplicas()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "createApp:before",
        "createApp",
        "attachAddon",
        "patchConfigVars",
        "createRelease",
        "scaleWeb",
        "couple"
      })
  void aCrashAtAnyStepOfACreateConvergesWithoutTwins(String crashPoint) {
    heroku.attach(
        source, new Platform.Addon("addon-1", "postgresql-x", List.of("DATABASE_URL")), false);
    if (crashPoint.endsWith(":before")) {
      heroku.crashBefore(crashPoint.substring(0, crashPoint.indexOf(':')));
    } else {
      heroku.crashAfter(crashPoint, 1);
    }
    createPool(2, "");
    ReconcileResult crashed = pass();
    assertThat(crashed.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    reconciler.forgetCaches(); // the process restarts: only the database remembers
    converge();
    assertThat(owned()).hasSize(2);
    assertThat(allBackendApps()).as("no twin, no orphan").hasSize(2);
    for (String app : owned()) {
      assertThat(heroku.attachments.get(app)).containsExactly("addon-1");
      assertThat(heroku.config.get(app)).doesNotContainKey("DATABASE_URL").containsKey("GREETING");
    }
    assertThat(status().readyReplicas()).isEqualTo(2);
  }

  /** A reconciler of its own whose pools subscribe their source apps' release webhooks. */
  private Reconciler hooked() {
    return new Reconciler(
        store,
        locks,
        heroku,
        dataPlane,
        events,
        HookedReconciler.webhooksOn(config),
        clock,
        registry,
        hookTarget);
  }

  /**
   * Review 4: an add-on attached under two names (DATABASE and HEROKU_POSTGRESQL_RED), the process
   * gone after the first: the retried step found it attached and skipped the second for good.
   */
  @Test
  void aCrashBetweenTwoNamesOfOneAddOnAttachesBoth() {
    heroku.attach(
        source,
        new Platform.Addon(
            "addon-1",
            "postgresql-x",
            List.of("DATABASE_URL", "HEROKU_POSTGRESQL_RED_URL"),
            List.of("DATABASE", "HEROKU_POSTGRESQL_RED")),
        false);
    heroku.crashAfter("attachAddon", 1);
    createPool(1, "");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    reconciler.forgetCaches();
    converge();
    assertThat(owned()).hasSize(1);
    assertThat(heroku.attachments.get(owned().get(0)))
        .containsExactlyInAnyOrder("addon-1 as DATABASE", "addon-1 as HEROKU_POSTGRESQL_RED");
  }

  @Test
  void theSubscriptionIsRecordedBeforeThePassGoesOnSoACrashLaterInItLosesNothing() {
    Reconciler hooked = hooked();
    try {
      heroku.crashAfter("createApp", 1);
      createPool(2, "");
      assertThat(hooked.reconcile(new PoolKey(name)).outcome())
          .isEqualTo(ReconcileResult.Outcome.FAILED);
      assertThat(heroku.webhooks.get(source))
          .singleElement()
          .satisfies(
              w ->
                  assertThat(status().webhook())
                      .isEqualTo(
                          new PoolStatus.Webhook(
                              source, heroku.app(source).orElseThrow().id(), w.id(), w.url())));
      // the pool's own secret, never the master (security review 3 #4)
      assertThat(heroku.webhookSecrets)
          .containsValue(
              io.dynofleet.api.HookSignature.poolSecret(
                  io.dynofleet.api.HookSignature.TEST_SECRET, name))
          .doesNotContainValue(io.dynofleet.api.HookSignature.TEST_SECRET);
    } finally {
      hooked.stop();
    }
  }

  /**
   * Review 25 #3: an idle pool's turn was four times as long as soon as its release webhook was
   * subscribed, whether or not deliveries arrived; with deliveries failing (a wrong public URL,
   * admin hosts without the app's host, a CDN in front) a release waited up to four turns and
   * nothing said so. The longer turn now waits for a delivery heard (the signed hook, over HTTP); a
   * release found by a look while subscribed and unheard says WebhookSilent, once, until a delivery
   * is heard.
   */
  @Test
  void theLongerIdleTurnWaitsForADeliveryHeardAndASilentSubscriptionIsSaid() {
    Reconciler hooked = hooked();
    PoolKey key = new PoolKey(name);
    try {
      createPool(1, "");
      convergeWith(hooked);
      assertThat(status().webhook()).as("subscribed").isNotNull();
      hooked.reconcile(key); // idle
      long n = poolCount();
      Duration sweep = IdleLooks.sweep(config.interval());
      Duration plain = IdleLooks.every(n, sweep, config.sweepShare(), false);
      Duration longer = IdleLooks.every(n, sweep, config.sweepShare(), true);
      assertThat(nextLookSeconds())
          .as("subscribed, no delivery ever heard: the plain turn")
          .isLessThanOrEqualTo(plain.toMillis() * 1.25 / 1000.0 + 0.01);

      heroku.push(source); // its delivery never comes: found by a look
      convergeWith(hooked);
      clock.advance(Reconciler.HEARD_GRACE);
      hooked.reconcile(key);
      io.restassured.path.json.JsonPath pool = poolOverApi();
      assertThat(pool.getString("status.conditions.find { it.type == 'WebhookSilent' }.status"))
          .isEqualTo("True");
      assertThat(pool.getString("status.conditions.find { it.type == 'WebhookSilent' }.reason"))
          .isEqualTo("NoDeliveryHeard");
      assertThat(pool.getString("status.conditions.find { it.type == 'WebhookSilent' }.message"))
          .contains(
              "DYNOFLEET_PUBLIC_URL",
              "DYNOFLEET_ADMIN_HOSTS",
              "heroku webhooks:deliveries -a " + source,
              status().webhook().url());
      hooked.reconcile(key);
      assertThat(pools.events(name, 50))
          .as("said once")
          .filteredOn(e -> e.reason().equals("WebhookSilent"))
          .singleElement()
          .satisfies(e -> assertThat(e.type()).isEqualTo(PoolEvents.WARNING));
      assertThat(nextLookSeconds()).isLessThanOrEqualTo(plain.toMillis() * 1.25 / 1000.0 + 0.01);

      // a signed delivery to the pool's own subscription: heard, for every dyno
      String body =
          """
          {"id": "%s", "created_at": "%s", "resource": "release", "action": "update",
           "data": {"id": "r9", "version": 9, "status": "succeeded", "app": {"name": "%s"}}}
          """
              .formatted(UUID.randomUUID(), clock.instant(), source);
      io.restassured.RestAssured.given()
          .contentType("application/json")
          .header("Heroku-Webhook-Hmac-SHA256", io.dynofleet.api.HookSignature.signFor(name, body))
          .queryParam("pool", name)
          .body(body)
          .post("/_dynofleet/api/v1/hooks/heroku")
          .then()
          .statusCode(202)
          .body("reconciling", org.hamcrest.Matchers.contains(name));
      hooked.reconcile(key); // the pass it asked for
      assertThat(poolOverApi().getList("status.conditions.type")).doesNotContain("WebhookSilent");
      assertThat(pools.events(name, 50)).anyMatch(e -> e.reason().equals("WebhookHeard"));
      hooked.reconcile(key); // idle
      assertThat(nextLookSeconds())
          .as("a delivery heard: four times as long")
          .isBetween(longer.toMillis() / 1000.0 - 0.01, longer.toMillis() * 1.25 / 1000.0 + 0.01);
    } finally {
      hooked.stop();
    }
  }

  /**
   * Review 26: the condition asks to fix the public URL and subscribe again; a new subscription
   * ends the old one's silence at once, not at the next release delivered.
   */
  @Test
  void aNewSubscriptionEndsTheSilenceOfTheOneBefore() {
    Reconciler hooked = hooked();
    PoolKey key = new PoolKey(name);
    try {
      createPool(1, "");
      convergeWith(hooked);
      hooked.reconcile(key);
      heroku.push(source); // not delivered: found by a look
      convergeWith(hooked);
      clock.advance(Reconciler.HEARD_GRACE);
      hooked.reconcile(key);
      assertThat(poolOverApi().getList("status.conditions.type")).contains("WebhookSilent");

      // the operator removes the subscription to have it made again; the hourly check does so
      String old = status().webhook().id();
      heroku.unsubscribe(source, old);
      clock.advance(config.webhookCheckInterval().plusMinutes(1));
      convergeWith(hooked);
      assertThat(status().webhook().id()).as("subscribed anew").isNotEqualTo(old);
      assertThat(poolOverApi().getList("status.conditions.type")).doesNotContain("WebhookSilent");
      assertThat(pools.events(name, 50)).anyMatch(e -> e.reason().equals("WebhookResubscribed"));
    } finally {
      hooked.stop();
    }
  }

  /**
   * Review 25 #3: a move to another source app finds "another release" with no delivery heard for
   * it; that is no silence of the subscription, which moves with it.
   */
  @Test
  void aMoveToAnotherSourceIsNoSilence() {
    Reconciler hooked = hooked();
    try {
      createPool(1, "");
      convergeWith(hooked);
      String other = source + "-b";
      heroku.sourceApp(other, Map.of("GREETING", "hello"));
      pools.patch(
          name,
          "{\"spec\": {\"template\": {\"sourceApp\": \"" + other + "\"}}}",
          new Precondition(null));
      convergeWith(hooked);
      clock.advance(Reconciler.HEARD_GRACE);
      hooked.reconcile(new PoolKey(name));
      assertThat(status().webhook().app()).isEqualTo(other);
      assertThat(status().webhook().appId()).isEqualTo(heroku.app(other).orElseThrow().id());
      assertThat(status().conditions()).noneMatch(c -> c.type().equals("WebhookSilent"));
    } finally {
      hooked.stop();
    }
  }

  /** Passes of {@code r} until it has nothing in flight, moving the clock past drains. */
  private void convergeWith(Reconciler r) {
    for (int i = 1; i <= 40; i++) {
      ReconcileResult result = r.reconcile(new PoolKey(name));
      clock.advance(Duration.ofSeconds(6));
      if (result.outcome() == ReconcileResult.Outcome.DONE) {
        return;
      }
    }
    throw new AssertionError("did not converge in 40 passes: " + status());
  }

  /** The pool as {@code GET /pools/NAME} gives it. */
  private io.restassured.path.json.JsonPath poolOverApi() {
    return io.restassured.RestAssured.given()
        .header("Authorization", "Bearer test-token-0123456789")
        .get("/_dynofleet/api/v1/pools/" + name)
        .then()
        .statusCode(200)
        .extract()
        .jsonPath();
  }

  /**
   * Audit 19 #9: the finalizer removed the release webhook before it deleted any drained app, so a
   * webhook endpoint failing (5xx, or a 429 given up) kept every app running and billing. The apps
   * go first now; the failure holds only the pool's row.
   */
  @Test
  void aFailingWebhookRemovalHoldsOnlyThePoolRowNotTheAppDeletes() {
    Reconciler hooked = hooked();
    try {
      createPool(2, "");
      for (int i = 0;
          i < 40 && hooked.reconcile(new PoolKey(name)).outcome() != ReconcileResult.Outcome.DONE;
          i++) {
        clock.advance(Duration.ofSeconds(6));
      }
      assertThat(owned()).hasSize(2);
      assertThat(heroku.webhooks.get(source)).hasSize(1);
      pools.delete(name, new Precondition(null));
      heroku.failNext("unsubscribe", 5, Kind.TRANSIENT);
      hooked.reconcile(new PoolKey(name)); // drains
      clock.advance(Duration.ofSeconds(6));
      hooked.reconcile(new PoolKey(name)); // drains over
      assertThat(owned()).as("the drained apps are deleted though the webhook is not").isEmpty();
      assertThat(allBackendApps()).isEmpty();
      assertThat(heroku.webhooks.get(source)).hasSize(1);
      assertThat(pools.get(name)).as("the row waits for the webhook").isNotNull();
      for (int i = 0; i < 10 && store.poolNames().contains(name); i++) {
        clock.advance(Duration.ofSeconds(60));
        hooked.reconcile(new PoolKey(name));
      }
      assertThatThrownBy(() -> pools.get(name)).isInstanceOf(ApiException.class);
      assertThat(heroku.webhooks.get(source)).isEmpty();
    } finally {
      hooked.stop();
    }
  }

  @Test
  void aNameTakenBySomeoneElseIsNeverAdopted() {
    createPool(1, "");
    // an app that is not ours holds the name the next intent would use: simulate by taking it
    // as soon as the intent exists (before createApp runs)
    heroku.crashBefore("createApp");
    pass();
    String intended = store.backends(uid()).get(0).appName;
    heroku.clock =
        java.time.Clock.fixed(
            java.time.Instant.parse("2020-01-01T00:00:00Z"), java.time.ZoneOffset.UTC);
    heroku.apps.put(
        intended,
        new Platform.App(
            "foreign", intended, "http://x/", java.time.Instant.parse("2020-01-01T00:00:00Z")));
    heroku.config.put(intended, new java.util.HashMap<>(Map.of("OWNER", "someone")));
    heroku.clock = clock;
    converge();
    assertThat(heroku.apps).containsKey(intended); // untouched
    assertThat(heroku.config.get(intended)).doesNotContainKey(Reconciler.OWNER_VAR);
    assertThat(owned()).hasSize(1).doesNotContain(intended);
  }

  /**
   * Review 6: names are unique across Heroku, and another account's app answers 403, not 404. The
   * intent kept the name and every pass failed with HerokuForbidden, for ever.
   */
  @Test
  void aNameHeldByAnotherAccountIsLeftAndANewOneChosen() {
    createPool(1, "");
    heroku.crashBefore("createApp");
    pass();
    String intended = store.backends(uid()).get(0).appName;
    heroku.foreign.add(intended);
    converge();
    assertThat(owned()).hasSize(1).doesNotContain(intended);
    assertThat(pools.events(name, 50)).extracting(e -> e.reason()).contains("NameTaken");
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /**
   * Review 6: any 4xx from attaching an add-on was taken for "already attached", so an add-on
   * Heroku refused to attach was missing on the backend, silently. Only an attachment that is there
   * lets the create go on.
   */
  @Test
  void anAttachmentHerokuRefusesStopsTheCreateAndSaysSo() {
    heroku.attach(source, new Platform.Addon("addon-1", "mailer-x", List.of("MAILER_KEY")), false);
    heroku.unshareable.add("addon-1");
    createPool(1, "");
    ReconcileResult r = pass();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(status().conditions())
        .anySatisfy(c -> assertThat(c.message()).contains("refused to attach add-on mailer-x"));
    assertThat(count("patchConfigVars")).as("the create stops at the attachment").isZero();
    heroku.unshareable.clear(); // fixed on Heroku's side
    clock.advance(config.maxBackoff());
    converge();
    assertThat(owned()).hasSize(1);
  }

  /**
   * Review 6: a coupling Heroku refused (the app owned by another account or team than the
   * pipeline) was taken for "already coupled"; the backend waited for health uncoupled.
   */
  @Test
  void aCouplingHerokuRefusesIsNotTakenForDone() {
    heroku.refuseCoupling = true;
    createPool(1, "");
    ReconcileResult last = null;
    for (int i = 0; i < 10; i++) {
      last = pass();
      clock.advance(Duration.ofSeconds(6));
    }
    assertThat(last.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(status().conditions())
        .anySatisfy(c -> assertThat(c.message()).contains("refused to couple"));
    assertThat(store.backends(uid()))
        .singleElement()
        .satisfies(b -> assertThat(b.step).isEqualTo(io.dynofleet.pool.model.Backend.Step.SCALED));
    heroku.refuseCoupling = false;
    clock.advance(config.maxBackoff());
    converge();
    assertThat(heroku.couplings.values()).hasSize(1);
    assertThat(status().readyReplicas()).isEqualTo(1);
  }

  /** Review 6: a 402 (account not verified, no payment method) was "InvalidSpec". */
  @Test
  void aBillingRefusalSaysSo() {
    createPool(1, "");
    heroku.failNext("createApp", 1, Kind.BILLING);
    ReconcileResult r = pass();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(r.requeueAfter()).isEqualTo(config.maxBackoff());
    assertThat(condition("Degraded")).isEqualTo("True/HerokuBilling");
    assertThat(condition("Progressing")).isEqualTo("False/HerokuBilling");
  }

  /**
   * Audit 9: after a Heroku 5xx outage a pool came back only when its backoff ended (60 s after a
   * one-minute outage, up to 5 min after a longer one), Degraded and idle meanwhile. Transient
   * failures back off at most {@code maxTransientBackoff} (30 s); a bad key still waits maxBackoff.
   */
  @Test
  void afterAnOutageAPoolTriesAgainWithinHalfAMinute() {
    createPool(1, "");
    heroku.failNext("recentReleases", 20, Kind.TRANSIENT);
    ReconcileResult r = null;
    for (int i = 0; i < 20; i++) {
      r = pass();
      assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
      assertThat(r.requeueAfter()).isLessThanOrEqualTo(config.maxTransientBackoff());
      clock.advance(r.requeueAfter());
    }
    assertThat(r.requeueAfter()).isGreaterThanOrEqualTo(config.maxTransientBackoff().dividedBy(2));
    assertThat(condition("Degraded")).isEqualTo("True/HerokuUnavailable");
    converge();
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
    assertThat(owned()).hasSize(1);
  }

  /**
   * Review 10: the 30 s cap held under the rate reserve too, and twenty pools failing through a 5xx
   * outage spent twice Heroku's refill (5xx answers count) retrying every 15-30 s.
   */
  @Test
  void underTheRateReserveAFailingPoolBacksOffFully() {
    createPool(1, "");
    heroku.rateRemaining = config.rateLimitReserve() - 10;
    heroku.failNext("recentReleases", 20, Kind.TRANSIENT);
    ReconcileResult r = null;
    for (int i = 0; i < 12; i++) {
      r = pass();
      assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
      heroku.rateRemaining = config.rateLimitReserve() - 10;
      clock.advance(r.requeueAfter());
    }
    assertThat(r.requeueAfter()).isGreaterThan(config.maxTransientBackoff());
  }

  @Test
  void transientErrorsAndRateLimitsConvergeLater() {
    createPool(3, "");
    heroku.errorRate = 0.2;
    int failed = 0;
    for (int i = 0;
        i < 200
            && !(status().readyReplicas() == 3
                && owned().size() == 3
                && pass().outcome() == ReconcileResult.Outcome.DONE);
        i++) {
      ReconcileResult r = pass();
      if (r.outcome() == ReconcileResult.Outcome.FAILED) {
        failed++;
        assertThat(r.requeueAfter()).isPositive();
      }
      clock.advance(Duration.ofSeconds(6));
    }
    heroku.errorRate = 0;
    converge();
    assertThat(failed).isPositive();
    assertThat(owned()).hasSize(3);
    assertThat(allBackendApps()).hasSize(3);
  }

  @Test
  void aLowRateBudgetPausesCreationAndSaysSo() {
    createPool(2, "");
    heroku.rateRemaining = 100;
    ReconcileResult r = pass();
    assertThat(r.outcome()).as(r.toString()).isEqualTo(ReconcileResult.Outcome.REQUEUE);
    assertThat(count("createApp")).isZero();
    assertThat(condition("Degraded")).isEqualTo("True/RateLimited");
    heroku.rateRemaining = 0;
    ReconcileResult limited = pass();
    assertThat(limited.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(limited.requeueAfter()).isEqualTo(Duration.ofSeconds(1)); // waits the 429 out
    heroku.rateRemaining = 4500;
    converge();
    assertThat(owned()).hasSize(2);
  }

  @Test
  void anInvalidKeyIsAConditionNotACrashLoop() {
    createPool(1, "");
    heroku.failNext("pipelineId", 1, Kind.UNAUTHORIZED);
    ReconcileResult r = pass();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(r.requeueAfter()).isEqualTo(config.maxBackoff());
    assertThat(condition("Degraded")).isEqualTo("True/HerokuUnauthorized");
    // nothing can progress until a human acts: not "ScalingUp" (audit 2026-11-24, second round)
    assertThat(condition("Progressing")).isEqualTo("False/HerokuUnauthorized");
    assertThat(pools.events(name, 10)).extracting(e -> e.reason()).contains("HerokuUnauthorized");
    // review 3: every dyno's sweep passed it again about every 30 s, whatever its backoff said
    assertThat(reconciler.poolNamesDue(Duration.ZERO, true))
        .as("the sweep waits out the backoff")
        .doesNotContain(name);
    assertThat(reconciler.poolNamesDue(Duration.ZERO, false))
        .as("a new process's first sweep")
        .contains(name);
    // audit 14: a process with another key (the new one, beside preboot's old dynos) does not wait
    // out a refusal of this one's
    assertThat(store.poolNamesDue(Duration.ZERO, true, "0123456789ab"))
        .as("another key")
        .contains(name);
    assertThat(store.poolNamesDue(Duration.ZERO, true, heroku.keyFingerprint()))
        .as("the same key")
        .doesNotContain(name);
    heroku.failNext("pipelineId", 1, Kind.TRANSIENT);
    pass();
    assertThat(store.poolNamesDue(Duration.ZERO, true, "0123456789ab"))
        .as("any other failure: every key waits")
        .doesNotContain(name);
    converge();
    assertThat(notBefore()).as("a good pass clears it").isNull();
    assertThat(condition("Progressing")).isEqualTo("False/Stable");
    assertThat(owned()).hasSize(1);
  }

  @Test
  void aSourceWithoutAReleaseWaitsAndSaysSo() {
    heroku.releases.get(source).clear();
    createPool(2, "");
    pass();
    assertThat(allBackendApps()).isEmpty();
    assertThat(condition("Degraded")).isEqualTo("True/SourceAppHasNoRelease");
    heroku.push(source);
    converge();
    assertThat(owned()).hasSize(2);
  }

  /**
   * Review 3: a source created and configured but never deployed has only slug-less releases; it
   * was taken as mid-release and its pool passed every 2 s until the first deploy.
   */
  @Test
  void aSourceWithOnlySluglessReleasesIsNotInFlight() {
    List<Platform.Release> list = heroku.releases.get(source);
    list.clear();
    list.add(new Platform.Release("r1", 1, null, "succeeded", "Initial release"));
    list.add(new Platform.Release("r2", 2, null, "succeeded", "Set GREETING config vars"));
    createPool(2, "");
    ReconcileResult r = pass();
    assertThat(r.outcome())
        .as("waits for a deploy or the sweep, not 2 s")
        .isEqualTo(ReconcileResult.Outcome.DONE);
    assertThat(condition("Degraded")).isEqualTo("True/SourceAppHasNoRelease");
    heroku.push(source);
    converge();
    assertThat(owned()).hasSize(2);
  }

  /**
   * Review 3: with the source's newest release failed (its release phase) and no target remembered
   * (a restart), nothing was made or replaced and the status said "no released slug", while the
   * release before it ran on the source.
   */
  @Test
  void aFailedNewestSourceReleaseLeavesTheOneBeforeItAsTheTarget() {
    createPool(1, "");
    converge();
    String before = status().targetRelease();
    List<Platform.Release> list = heroku.releases.get(source);
    list.add(
        new Platform.Release(
            "bad", list.size() + 1, "slug-bad", "failed", "Deploy (release phase failed)"));
    reconciler.forgetCaches(); // a restart
    scale(2);
    converge();
    assertThat(owned()).hasSize(2);
    assertThat(status().targetRelease()).isEqualTo(before);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /**
   * Review 4: with a config change whose release failed, the target took the last good release's
   * slug with the app's new config: a dyno restarted since built another target than one that had
   * not, and rolled the pool onto config the source itself never ran. The release's own config.
   */
  @Test
  void aFailedConfigReleaseOnTheSourceRollsNothingAfterARestart() {
    createPool(2, "");
    converge();
    List<String> before = owned();
    heroku.config.get(source).put("GREETING", "never-released");
    List<Platform.Release> list = heroku.releases.get(source);
    list.add(
        new Platform.Release(
            "failed-config",
            list.size() + 1,
            list.get(list.size() - 1).slugId(),
            "failed",
            "Set GREETING config vars (release phase failed)"));
    reconciler.forgetCaches(); // a restart
    converge();
    assertThat(owned()).as("no rollout").containsExactlyInAnyOrderElementsOf(before);
    for (String app : owned()) {
      assertThat(heroku.config.get(app)).containsEntry("GREETING", "hello");
    }
  }

  /**
   * Review 5: the add-ons are the app's state now. One attached by a release that failed made a
   * dyno restarted since build another target (its var in the fingerprint) than one that had not,
   * and the pool flapped between them; the backends got an add-on the source never ran with.
   */
  @Test
  void anAddOnAttachedByAFailedReleaseRollsNothingAfterARestart() {
    heroku.attach(
        source, new Platform.Addon("addon-1", "postgresql-x", List.of("DATABASE_URL")), false);
    createPool(2, "");
    converge();
    List<String> before = owned();
    java.util.Set<String> targets = targets();
    heroku.attach(source, new Platform.Addon("addon-2", "redis-x", List.of("REDIS_URL")), true);
    reconciler.forgetCaches(); // a restart
    converge();
    assertThat(owned()).as("no rollout").containsExactlyInAnyOrderElementsOf(before);
    assertThat(targets()).isEqualTo(targets);
    for (String app : owned()) {
      assertThat(heroku.attachments.get(app)).containsExactly("addon-1");
    }
  }

  /**
   * Review 5: an add-on detached by a release that failed: a dyno that read the add-ons before and
   * one that reads them now disagree on whether its var (still in the running release) is the
   * add-on's or a plain var. Each dyno reads the add-ons again every drift interval, so they agree
   * within it: one rollout, not a flap.
   */
  @Test
  void anAddOnDetachedByAFailedReleaseIsSeenWithinTheDriftInterval() {
    heroku.attach(
        source, new Platform.Addon("addon-1", "postgresql-x", List.of("DATABASE_URL")), false);
    createPool(1, "");
    converge();
    java.util.Set<String> target = targets();
    heroku.detach(source, "addon-1", true);
    converge();
    assertThat(targets()).as("not read again yet").isEqualTo(target);
    clock.advance(config.driftCheckInterval());
    converge();
    java.util.Set<String> after = targets();
    assertThat(after).hasSize(1).isNotEqualTo(target);
    long addonReads = count("addons");
    converge();
    assertThat(targets()).isEqualTo(after);
    assertThat(count("addons")).as("not read on every pass").isEqualTo(addonReads);
  }

  @Test
  void aPausedPoolIsObservedButNotTouched() {
    createPool(2, ", \"paused\": true");
    converge();
    assertThat(allBackendApps()).isEmpty();
    assertThat(condition("Progressing")).isEqualTo("False/Paused");
    pools.patch(name, "{\"spec\": {\"paused\": false}}", new Precondition(null));
    converge();
    assertThat(owned()).hasSize(2);
  }

  /** Review 3: apps drained just before a pause were kept (and billed) until the pause ended. */
  @Test
  void aPausedPoolStillDeletesTheAppsItHadDrained() {
    createPool(2, "");
    converge();
    scale(1);
    pass(); // one backend drains
    pools.patch(name, "{\"spec\": {\"paused\": true}}", new Precondition(null));
    clock.advance(Duration.ofSeconds(60));
    pass();
    assertThat(owned()).hasSize(1);
    assertThat(condition("Progressing")).isEqualTo("False/Paused");
  }

  /**
   * Audit 14: a backend's dynos scaled or resized by hand (ps:scale web=4:performance-l during an
   * incident) were never looked at again: the bill was many times the status's estimate and the
   * pool said Stable. The drift check reports them (review 18: set back, all at once, it took an
   * incident's capacity away and restarted every resized app in one pass).
   */
  @Test
  void webDynosScaledByHandOnABackendAreReportedAsDrift() {
    createPool(2, "");
    converge();
    String app = owned().get(0);
    String other = owned().get(1);
    heroku.web.put(app, 4);
    heroku.sizes.put(app, "Performance-L");
    heroku.sizes.put(other, "Basic"); // Heroku's capitalised name of the spec's hobby: no drift
    clock.advance(config.driftCheckInterval().plusMinutes(1));
    pass();
    assertThat(status().drift())
        .singleElement()
        .isEqualTo(app + ": web 4 x Performance-L set by hand (made as 1 x basic)");
    assertThat(pools.events(name, 50))
        .filteredOn(e -> e.reason().equals("FormationDrift"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains(app, "web 4 x Performance-L"));
    assertThat(heroku.web).as("left as set").containsEntry(app, 4);
    assertThat(count("scaleWeb")).as("nothing scaled").isEqualTo(2);
    assertThat(count("web")).as("one look per ready backend").isEqualTo(2);
  }

  @Test
  void varsSetByHandOnABackendAreReportedAsDrift() {
    createPool(1, "");
    converge();
    String app = owned().get(0);
    heroku.config.get(app).put("DEBUG", "1");
    clock.advance(config.driftCheckInterval().plusMinutes(1));
    pass();
    assertThat(status().drift()).anyMatch(d -> d.contains(app) && d.contains("DEBUG"));
    assertThat(pools.events(name, 50)).extracting(e -> e.reason()).contains("ConfigDrift");
  }

  /**
   * Security review 6 S6-2: a config var's name set by hand on a backend went raw into {@code
   * status.drift} and the {@code ConfigDrift} event: its newline started a forged row of the CLI's
   * events table, its C1 and bidi characters reached the terminal.
   */
  @Test
  void aVarNameSetByHandIsQuotedWithItsLineBreaksAndControlsEscapedInTheDrift() {
    createPool(1, "");
    converge();
    String app = owned().get(0);
    heroku
        .config
        .get(app)
        .put("X\u009b2J\n7s  Normal  BackendReady  1  app x is healthy\u202e\"q", "v");
    clock.advance(config.driftCheckInterval().plusMinutes(1));
    pass();
    String expected =
        app
            + ": \"X\\u009b2J\\n7s  Normal  BackendReady  1  app x is healthy\\u202e\\\"q\" set by hand";
    assertThat(status().drift()).contains(expected);
    assertThat(pools.events(name, 50))
        .filteredOn(e -> e.reason().equals("ConfigDrift"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.message())
                    .contains(expected)
                    .doesNotContain("\n", "\u009b", "\u202e"));
  }

  @Test
  void twoReconcilersOnOneDatabaseNeverDuplicateAnAction() throws Exception {
    Reconciler other =
        new Reconciler(
            store, locks, heroku, dataPlane, events, config, clock, registry, hookTarget);
    createPool(4, "");
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0;
          round < 30 && !(owned().size() == 4 && status().readyReplicas() == 4);
          round++) {
        List<Future<ReconcileResult>> both = new ArrayList<>();
        both.add(threads.submit(() -> reconciler.reconcile(new PoolKey(name))));
        both.add(threads.submit(() -> other.reconcile(new PoolKey(name))));
        for (Future<ReconcileResult> f : both) {
          f.get();
        }
        clock.advance(Duration.ofSeconds(6));
      }
    } finally {
      threads.shutdownNow();
      other.stop();
    }
    assertThat(owned()).hasSize(4);
    assertThat(allBackendApps()).hasSize(4);
    assertThat(count("createApp")).isEqualTo(4);
    assertThat(
            heroku.actions.stream()
                .filter(a -> a.op().equals("couple"))
                .map(Action::app)
                .distinct()
                .count())
        .isEqualTo(count("couple"));
  }

  private double passCount(String outcome, String reason) {
    var c =
        registry
            .find("dynofleet.reconcile.passes")
            .tag("outcome", outcome)
            .tag("reason", reason)
            .counter();
    return c == null ? 0 : c.count();
  }

  private long passTimes(String outcome) {
    var t = registry.find("dynofleet.reconcile.pass").tag("outcome", outcome).timer();
    return t == null ? 0 : t.count();
  }

  private double lastSuccess() {
    return registry.get("dynofleet.reconcile.last.success.timestamp").gauge().value();
  }

  /**
   * Audit 18 #3: nothing said whether the reconciler worked. Each pass the loop runs is timed and
   * counted by a bounded outcome and reason, and an ok pass moves the last-success time; a failed
   * one (here before any status write could say so) does not.
   */
  @Test
  void theLoopsPassesAreTimedCountedAndTheLastSuccessIsKept() {
    createPool(1, "");
    double ok0 = passCount("ok", "none");
    long okTimed0 = passTimes("ok");
    clock.advance(Duration.ofSeconds(100));
    loop.run(name);
    assertThat(passCount("ok", "none")).isEqualTo(ok0 + 1);
    assertThat(passTimes("ok")).isEqualTo(okTimed0 + 1);
    double succeeded = lastSuccess();
    assertThat(succeeded).isEqualTo(clock.millis() / 1e3);

    double failed0 = passCount("failed", "HerokuUnavailable");
    long failedTimed0 = passTimes("failed");
    clock.advance(Duration.ofSeconds(100));
    heroku.failNext("recentReleases", 1, Kind.TRANSIENT);
    loop.run(name);
    assertThat(passCount("failed", "HerokuUnavailable")).isEqualTo(failed0 + 1);
    assertThat(passTimes("failed")).isEqualTo(failedTimed0 + 1);
    assertThat(lastSuccess()).as("a failed pass is no success").isEqualTo(succeeded);
    assertThat(
            registry.find("dynofleet.reconcile.passes").counters().stream()
                .map(c -> c.getId().getTag("reason")))
        .as("reasons are bounded: never a message or a pool")
        .allMatch(
            r ->
                PassMetrics.FAILURE_REASONS.contains(r)
                    || List.of("none", "database", "internal", "lock-lost", "shutdown")
                        .contains(r));
  }

  /**
   * Audit 18 #6: Heroku refusing an app create (the account's app limit: a 422) read as InvalidSpec
   * with Heroku's bare words, naming neither the step nor the app. It is CreateFailed now, names
   * the step, and says what to do; it is still retried only every max-backoff, as a refusal. The
   * app is not named there: the name of an app not made yet is withheld from the status and the
   * events, which the read-only token reads (security review 5 S5-1); the log has it.
   */
  @Test
  void aRefusedCreateIsCreateFailedNamingTheStepAndTheCause() {
    createPool(1, "");
    heroku.failMessage =
        "POST /apps → 422 invalid_params: You've reached the limit of 100 apps for this account.";
    heroku.failNext("createApp", 1, Kind.INVALID);
    ReconcileResult r = pass();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(r.requeueAfter()).isEqualTo(config.maxBackoff());
    assertThat(condition("Degraded")).isEqualTo("True/CreateFailed");
    String app = store.backends(uid()).get(0).appName;
    String message =
        status().conditions().stream()
            .filter(c -> c.type().equals("Degraded"))
            .findFirst()
            .orElseThrow()
            .message();
    assertThat(message)
        .startsWith("create a new app: POST /apps → 422 invalid_params: You've reached")
        .contains("ask Heroku for a higher limit")
        .doesNotContain(app);
    assertThat(pools.events(name, 50))
        .anySatisfy(
            e -> {
              assertThat(e.reason()).isEqualTo("CreateFailed");
              assertThat(e.message()).contains("create a new app: ").doesNotContain(app);
            });
    assertThat(PassMetrics.label(r)).isEqualTo(new PassMetrics.Label("failed", "CreateFailed"));
  }

  /**
   * Audit 18 #7: a pool failing the same way logged two WARN lines per pass (the event's and the
   * loop's) for the whole outage. Now one of each when it starts, one when the error changes, an
   * INFO when it recovers, and the bumps and repeats only at DEBUG.
   */
  @Test
  void aPoolFailingTheSameWayIsToldOnceThenOnAChangeAndOnRecovery() {
    try (io.dynofleet.LogCapture capture =
        io.dynofleet.LogCapture.of(ReconcileLoop.class, PoolEvents.class)) {
      List<java.util.logging.LogRecord> logged = capture.records();
      createPool(1, "");
      loop.run(name);
      heroku.failNext("recentReleases", 3, Kind.TRANSIENT);
      for (int i = 0; i < 3; i++) {
        clock.advance(Duration.ofSeconds(30));
        loop.run(name);
      }
      assertThat(warnings(logged, "failed error=")).hasSize(1);
      assertThat(warnings(logged, "reason=HerokuUnavailable")).hasSize(1);

      heroku.failNext("recentReleases", 1, Kind.FORBIDDEN);
      loop.run(name);
      assertThat(warnings(logged, "failed error=")).as("a new error is told").hasSize(2);

      loop.run(name);
      assertThat(logged)
          .extracting(this::text)
          .anyMatch(m -> m.equals("reconcile pool=" + name + " recovered after 4 failed passes"));

      // the same cause back after a quiet spell is told again, with its count (review 23: only
      // ever a DEBUG line once the event had been seen)
      clock.advance(Duration.ofMinutes(11));
      heroku.failNext("recentReleases", 1, Kind.TRANSIENT);
      loop.run(name);
      assertThat(warnings(logged, "reason=HerokuUnavailable")).hasSize(2);
      assertThat(warnings(logged, "reason=HerokuUnavailable").get(1)).contains("count=4");
    }
  }

  private String text(java.util.logging.LogRecord r) {
    return io.dynofleet.LogCapture.text(r);
  }

  private List<String> warnings(List<java.util.logging.LogRecord> logged, String containing) {
    return logged.stream()
        .filter(r -> r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
        .map(this::text)
        .filter(m -> m.contains("pool=" + name + " ") && m.contains(containing))
        .toList();
  }

  /**
   * Audit 18 L7: a pass that threw an Error went into a future nobody read: no line, no requeue.
   * The loop now logs it at ERROR naming the pool, counts it, and requeues it with a backoff that
   * doubles while it keeps throwing.
   */
  @Test
  void aPassThatThrowsAnErrorIsLoggedAndRequeuedWithBackoff() {
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(ReconcileLoop.class)) {
      List<java.util.logging.LogRecord> logged = capture.records();
      createPool(1, "");
      double internal0 = passCount("failed", "internal");
      heroku.onNext(
          "recentReleases",
          () -> {
            throw new StackOverflowError("a bug");
          });
      ReconcileResult first = loop.run(name);
      assertThat(first.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
      assertThat(first.requeueAfter()).isEqualTo(config.baseBackoff());
      heroku.onNext(
          "recentReleases",
          () -> {
            throw new NoClassDefFoundError("a bug");
          });
      assertThat(loop.run(name).requeueAfter()).isEqualTo(config.baseBackoff().multipliedBy(2));
      assertThat(passCount("failed", "internal")).isEqualTo(internal0 + 2);
      assertThat(logged)
          .filteredOn(r -> r.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue())
          .extracting(this::text)
          .hasSize(2)
          .allMatch(
              m -> m.startsWith("reconcile pool=" + name + " failed: the pass threw java.lang."));
      assertThat(loop.run(name).outcome())
          .as("the next pass runs as usual: the pool's lock went with the Error")
          .isIn(ReconcileResult.Outcome.DONE, ReconcileResult.Outcome.REQUEUE);
    }
  }

  /**
   * A pass that threw logged an ERROR and its stack at every backoff, for as long as the bug
   * lasted: now once per spell with its stack, the repeats at DEBUG (a one-line WARN every {@link
   * ReconcileLoop#FAILURE_LOG_EVERY}), as a failing pass is.
   */
  @Test
  void aPassThatKeepsThrowingTheSameIsLoggedWithItsStackOnce() {
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(ReconcileLoop.class)) {
      List<java.util.logging.LogRecord> logged = capture.records();
      createPool(1, "");
      for (int i = 0; i < 3; i++) {
        heroku.onNext(
            "recentReleases",
            () -> {
              throw new StackOverflowError("a bug");
            });
        assertThat(loop.run(name).outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
      }
      assertThat(logged)
          .filteredOn(r -> r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
          .filteredOn(r -> text(r).contains("pool=" + name + " failed"))
          .hasSize(1)
          .allSatisfy(r -> assertThat(r.getThrown()).isInstanceOf(StackOverflowError.class));
    }
  }

  /**
   * The loop's failed-pass line printed the error as it came: Heroku's text with a quote and a line
   * break in it forged fields and lines of Dynofleet's own. Escaped now as an event's message is.
   */
  @Test
  void aFailedPassLineEscapesTheErrorItQuotes() {
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(ReconcileLoop.class)) {
      List<java.util.logging.LogRecord> logged = capture.records();
      createPool(1, "");
      heroku.failMessage = "no \\ \" pool=other reason=forged\nreconcile pool=other recovered";
      heroku.failNext("recentReleases", 1, Kind.FORBIDDEN);
      assertThat(loop.run(name).outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
      heroku.failMessage = null;
      List<String> lines = warnings(logged, "failed error=");
      assertThat(lines).hasSize(1);
      assertThat(lines.get(0))
          .contains("no \\\\ \\\" pool=other reason=forged\\nreconcile pool=other")
          .doesNotContain("\n")
          .matches("[^\"]*error=\"([^\"\\\\]|\\\\.)*\" retry_in=.*");
    }
  }

  /**
   * A step that outlasted the pre-shutdown phase's budget and went on after its interrupt was said
   * outlasting the budget again at the ShutdownEvent: once now.
   */
  @Test
  void aStepOutlastingTheStopBudgetIsSaidOnce() throws Exception {
    java.util.concurrent.ScheduledThreadPoolExecutor exec =
        new java.util.concurrent.ScheduledThreadPoolExecutor(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    exec.execute(
        () -> {
          started.countDown();
          while (true) {
            try {
              if (release.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                return;
              }
            } catch (InterruptedException deaf) {
              // a step that does not heed it
            }
          }
        });
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(ReconcileLoop.class)) {
      assertThat(started.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      ReconcileLoop local = new ReconcileLoop(null, config, registry, clock, exec);
      local.beginStop();
      local.awaitPasses(Duration.ZERO);
      local.awaitPasses(Duration.ZERO);
      assertThat(capture.records())
          .extracting(io.dynofleet.LogCapture::text)
          .filteredOn(m -> m.contains("outlasted the budget"))
          .hasSize(1);
    } finally {
      release.countDown();
      exec.shutdownNow();
    }
  }

  /**
   * Review 29 R29-1's rest: a pass that threw an Error out of the reconciler stored no backoff, and
   * its stored look stayed in the past: every dyno's takeover passed the pool again (an ERROR and
   * its stack each time) every 5 s while the loop's line said a doubling retry_in.
   */
  @Test
  void aPassThatThrowsAnErrorStoresItsBackoff() {
    createPool(1, "");
    converge();
    storeClockOn(Duration.ofHours(1)); // its idle turn is long past: a look overdue
    heroku.onNext(
        "recentReleases",
        () -> {
          throw new StackOverflowError("a bug");
        });
    assertThat(loop.run(name).outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(notBefore())
        .as("the thrown pass's backoff, which every dyno's sweep and takeover wait out")
        .isNotNull();
    assertThat(reconciler.overdue(Duration.ZERO).names())
        .as("no takeover within the backoff")
        .doesNotContain(name);
  }

  /**
   * Review 23 #6: a pool gone from the store while it failed left its thrown-pass backoff (and log
   * spell) in the loop for good, and a pool made again under its name inherited them: its first
   * thrown pass waited twice the base backoff. The sweep now drops them.
   */
  @Test
  void aPoolGoneWhileFailingLeavesNoBackoffToAPoolMadeAgainUnderItsName() throws Exception {
    createPool(1, "");
    heroku.onNext(
        "recentReleases",
        () -> {
          throw new StackOverflowError("a bug");
        });
    assertThat(loop.run(name).requeueAfter()).isEqualTo(config.baseBackoff());
    // gone with no pass of it after (a restore, a row deleted by hand, another dyno's finalizer)
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st = c.prepareStatement("delete from pools where name = ?")) {
      st.setString(1, name);
      st.executeUpdate();
    }
    loop.enqueueAll();
    createPool(1, "");
    heroku.onNext(
        "recentReleases",
        () -> {
          throw new StackOverflowError("a bug");
        });
    assertThat(loop.run(name).requeueAfter())
        .as("the new pool's first thrown pass")
        .isEqualTo(config.baseBackoff());
  }

  /** A drain url as a logging service hands it out: its token is the secret. */
  private static final String DRAIN = "syslog+tls://logs.example.com:6514?token=tok-s3cr3t-777";

  /** The index in the recorded actions of the first {@code op} on {@code app}. */
  private int firstAction(String op, String app) {
    for (int i = 0; i < heroku.actions.size(); i++) {
      if (heroku.actions.get(i).op().equals(op) && app.equals(heroku.actions.get(i).app())) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Audit 20 M2: no drain of the source was copied, so after each rollout the backends' logs were
   * gone with their apps. The source's own drains are read once per target (not per backend) and
   * added to each new backend before its release; a logging add-on's drain is not (it goes with the
   * add-on).
   */
  @Test
  void theSourcesOwnLogDrainsReachEachNewBackendBeforeItsReleaseAndAddOnDrainsDoNot() {
    heroku.drains.put(
        source,
        new java.util.ArrayList<>(
            List.of(
                new Platform.LogDrain(DRAIN, false),
                new Platform.LogDrain("https://addon-drain.example/ingest/abc", true))));
    createPool(2, "");
    converge();
    assertThat(owned()).hasSize(2);
    for (String app : owned()) {
      assertThat(heroku.drains.get(app)).containsExactly(new Platform.LogDrain(DRAIN, false));
      assertThat(firstAction("addLogDrain", app))
          .as("the drain is there before the release, for the first boot's lines")
          .isNotNegative()
          .isLessThan(firstAction("createRelease", app));
    }
    assertThat(count("addLogDrain")).isEqualTo(2);
    assertThat(heroku.actions)
        .as("read once for the target, not per backend")
        .filteredOn(a -> a.op().equals("logDrains"))
        .containsExactly(new FakePlatform.Action("logDrains", source));
    assertThat(messages("LogDrainsCopied")).singleElement().asString().contains("1 log drain(s)");
  }

  /**
   * Audit 20 M2: a create step retried after the process died with the drain added finds it there
   * (Heroku answers 422 for the same url) and goes on: one drain, not two, and no failure.
   */
  @Test
  void aRetriedCreateStepFindsTheDrainThereAndAddsNoSecond() {
    heroku.drains.put(
        source, new java.util.ArrayList<>(List.of(new Platform.LogDrain(DRAIN, false))));
    heroku.crashAfter("addLogDrain", 1);
    createPool(1, "");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    reconciler.forgetCaches(); // the process restarts: only the database remembers
    converge();
    assertThat(owned()).singleElement();
    String app = owned().get(0);
    assertThat(count("addLogDrain")).as("sent again, and refused as already there").isEqualTo(2);
    assertThat(heroku.drains.get(app)).containsExactly(new Platform.LogDrain(DRAIN, false));
    assertThat(status().readyReplicas()).isEqualTo(1);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /**
   * Audit 20 M2: a drain url may hold its service's token. A drain Heroku refuses stops the create
   * (as a refused attachment does), and neither the status, the events nor the log say the url,
   * even when Heroku's message echoes it.
   */
  @Test
  void aRefusedDrainStopsTheCreateAndItsUrlIsNeverSaid() {
    heroku.drains.put(
        source, new java.util.ArrayList<>(List.of(new Platform.LogDrain(DRAIN, false))));
    try (io.dynofleet.LogCapture capture =
        io.dynofleet.LogCapture.of(
            Reconciler.class, ReconcileLoop.class, PoolEvents.class, HerokuPlatform.class)) {
      createPool(1, "");
      heroku.failMessage = "Url " + DRAIN + " is invalid";
      heroku.failNext("addLogDrain", 1, Kind.INVALID);
      ReconcileResult r = loop.run(name);
      assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
      assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
      assertThat(status().conditions())
          .anySatisfy(c -> assertThat(c.message()).contains("refused log drain 1 of 1"));
      assertThat(count("patchConfigVars")).as("the create stops at the drain").isZero();
      heroku.failMessage = null;
      clock.advance(config.maxBackoff());
      converge();
      assertThat(owned()).singleElement();
      String said =
          pools.get(name).toString()
              + pools.events(name, 200)
              + capture.records().stream()
                  .map(
                      rec ->
                          io.dynofleet.LogCapture.text(rec)
                              + (rec.getThrown() == null ? "" : causes(rec.getThrown())))
                  .toList();
      assertThat(said).contains("refused log drain").doesNotContain("tok-s3cr3t-777");
    }
  }

  private static String causes(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      sb.append(' ').append(c);
    }
    return sb.toString();
  }

  /**
   * Audit 20 M5: a source with {@code runtime-dyno-metadata} enabled had backends without it, so an
   * app that reads HEROKU_APP_NAME or HEROKU_SLUG_COMMIT at boot failed there. Each new backend
   * gets it before its release (Heroku sets the vars from the next release on); the source's
   * features are read once for the target, not per backend.
   */
  @Test
  void runtimeDynoMetadataIsEnabledOnEachNewBackendBeforeItsRelease() {
    heroku.features.put(source, new java.util.HashSet<>(java.util.Set.of("runtime-dyno-metadata")));
    createPool(2, "");
    converge();
    assertThat(owned()).hasSize(2);
    for (String app : owned()) {
      assertThat(heroku.features.get(app)).containsExactly("runtime-dyno-metadata");
      assertThat(firstAction("enableFeature", app))
          .as("enabled before the release, so its vars are there at the first boot")
          .isNotNegative()
          .isLessThan(firstAction("createRelease", app));
    }
    assertThat(heroku.actions)
        .as("read once for the target, not per backend")
        .filteredOn(a -> a.op().equals("features"))
        .containsExactly(new FakePlatform.Action("features", source));
    assertThat(messages("SessionAffinityIgnored")).isEmpty();
  }

  /**
   * Audit 20 M5: {@code http-session-affinity} on the source was silently not honoured (the proxy
   * has no affinity). It is said once, as a Warning: not again after a restart or at a new release
   * while it stays enabled; nor is it enabled on the backends (one dyno each: it would change
   * nothing).
   */
  @Test
  void sessionAffinityOnTheSourceIsWarnedAboutOnce() {
    heroku.features.put(source, new java.util.HashSet<>(java.util.Set.of("http-session-affinity")));
    createPool(2, "");
    converge();
    reconciler.forgetCaches(); // a restart
    converge();
    heroku.push(source); // a new target
    converge();
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("SessionAffinityIgnored"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.type()).isEqualTo(PoolEvents.WARNING);
              assertThat(e.count()).isEqualTo(1);
              assertThat(e.message()).contains("requests of one client go to different backends");
            });
    assertThat(count("enableFeature")).isZero();
  }
}
