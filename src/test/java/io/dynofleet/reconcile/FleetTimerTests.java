package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.api.HookTarget;
import io.dynofleet.api.PoolService;
import io.dynofleet.config.ReconcileConfig;
import io.dynofleet.pool.model.PoolEvents;
import io.dynofleet.proxy.RouteSync;
import io.dynofleet.sandbox.SandboxApp;
import io.dynofleet.sandbox.SandboxCall;
import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 21 H1/H3: the drift check, the source's add-on re-read and the pipeline lookup are done
 * once per interval for the whole fleet of dynos, and a restart does not do them again. Two
 * reconcilers (two dynos' processes: their own memory, one database) on a hand-moved clock, the
 * real Heroku client over HTTP to the simulator, whose call log is counted.
 */
@QuarkusTest
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FleetTimerTests {
  @Inject Simulator sim;
  @Inject Reconciler reconciler;
  @Inject HerokuPlatform platform;
  @Inject RouteSync routes;
  @Inject ReconcileStore store;
  @Inject PoolLocks locks;
  @Inject PoolEvents events;
  @Inject PoolService pools;
  @Inject ReconcileConfig config;
  @Inject MeterRegistry registry;
  @Inject HookTarget hookTarget;
  @Inject io.agroal.api.AgroalDataSource db;

  private final TestClock clock = new TestClock();
  private final List<Reconciler> dynos = new ArrayList<>();
  private SimWorld w;

  @BeforeEach
  void world() {
    w = SimWorld.fresh(sim, reconciler, "ft");
    clock.advance(Duration.between(clock.instant(), Instant.now()));
  }

  @AfterEach
  void stop() {
    dynos.forEach(Reconciler::stop);
    sim.resetFaults();
  }

  /** A dyno's reconciler: its own memory, this test's clock, at most {@code perPass} checks. */
  private Reconciler dyno(int perPass) {
    return dyno(perPass, config.driftCheckInterval());
  }

  /**
   * A dyno's reconciler with the drift interval {@code drift}: a short one lets a test step past it
   * while the store's and the simulator's times (the real clock) stay within the progress deadline.
   */
  private Reconciler dyno(int perPass, Duration drift) {
    ReconcileConfig c =
        (ReconcileConfig)
            Proxy.newProxyInstance(
                ReconcileConfig.class.getClassLoader(),
                new Class<?>[] {ReconcileConfig.class},
                (proxy, method, args) ->
                    switch (method.getName()) {
                      case "driftChecksPerPass" -> perPass;
                      case "driftCheckInterval" -> drift;
                      default -> method.invoke(config, args);
                    });
    Reconciler r =
        new Reconciler(store, locks, platform, routes, events, c, clock, registry, hookTarget);
    dynos.add(r);
    return r;
  }

  /**
   * The pool made and served: {@code n} ready backends (passes of the application's reconciler).
   */
  private List<SandboxApp> ready(int n) {
    w.createPool(n, ", \"dynoSize\": \"basic\"", SimWorld.QUICK_HEALTH);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                reconciler.reconcile(new PoolKey(w.name())).outcome()
                        == ReconcileResult.Outcome.DONE
                    && pools.status(w.name()).readyReplicas() == n);
    String uid = uid().toString();
    return sim.apps().stream()
        .filter(a -> uid.equals(a.configVars().get(Reconciler.OWNER_VAR)))
        .toList();
  }

  private UUID uid() {
    return pools.get(w.name()).metadata().uid();
  }

  private ReconcileResult pass(Reconciler r) {
    return r.reconcile(new PoolKey(w.name()));
  }

  /** GETs of the path's end on any of the apps (by id or name). */
  private List<SandboxCall> gets(List<SandboxApp> apps, String end) {
    return sim.callLog().stream()
        .filter(c -> c.method().equals("GET"))
        .filter(
            c ->
                apps.stream()
                    .anyMatch(
                        a ->
                            c.path().equals("/apps/" + a.id() + end)
                                || c.path().equals("/apps/" + a.name() + end)))
        .toList();
  }

  /** The calls on the source app, but its releases (read at every pass). */
  private List<String> sourceReads() {
    // by name or by the id the pool pinned (the reads after the pinned read go by id), as by name
    String byId = "/apps/" + sim.app(w.source()).id();
    String byName = "/apps/" + w.source();
    return sim.callLog().stream()
        .filter(c -> c.path().startsWith(byName) || c.path().startsWith(byId))
        .map(c -> c.method() + " " + c.path().replace(byId, byName))
        .filter(c -> !c.endsWith(" " + byName + "/releases"))
        .toList();
  }

  /** The reads of a pipeline's couplings (any pipeline: only this test's pool is passed). */
  private List<SandboxCall> couplingReads() {
    return sim.callLog().stream()
        .filter(c -> c.method().equals("GET"))
        .filter(c -> c.path().startsWith("/pipelines/"))
        .filter(c -> c.path().endsWith("/pipeline-couplings"))
        .toList();
  }

  /** The pool's apps now, by name (the simulator's, whoever made them). */
  private java.util.Set<String> owned() {
    String uid = uid().toString();
    return sim.apps().stream()
        .filter(a -> uid.equals(a.configVars().get(Reconciler.OWNER_VAR)))
        .map(SandboxApp::name)
        .collect(java.util.stream.Collectors.toSet());
  }

  private long calls(String method, String path) {
    return sim.callLog().stream()
        .filter(c -> c.method().equals(method) && c.path().equals(path))
        .count();
  }

  private void setDriftCheckedAt(String appId, Instant at) throws Exception {
    try (var c = db.getConnection();
        var st = c.prepareStatement("update backends set drift_checked_at = ? where app_id = ?")) {
      st.setObject(1, java.sql.Timestamp.from(at));
      st.setString(2, appId);
      assertThat(st.executeUpdate()).isEqualTo(1);
    }
  }

  @Test
  void twoDynosAndARestartCheckEachBackendForDriftOncePerInterval() {
    List<SandboxApp> apps = ready(3);
    Reconciler a = dyno(10);
    Reconciler b = dyno(10);
    clock.advance(config.driftCheckInterval().plusMinutes(1));

    sim.clearCallLog();
    pass(a);
    assertThat(gets(apps, "/config-vars")).as("dyno a checks every backend").hasSize(3);
    assertThat(gets(apps, "/formation/web")).hasSize(3);
    assertThat(sim.callLog())
        .filteredOn(c -> c.path().equals("/pipelines/" + w.pipeline()))
        .as("a looks the pipeline up")
        .hasSize(1);

    sim.clearCallLog();
    clock.advance(Duration.ofMinutes(1));
    pass(b); // another dyno, its first pass
    a.forgetCaches(); // and dyno a restarts
    pass(a);
    assertThat(gets(apps, "/config-vars")).as("done within the interval: not again").isEmpty();
    assertThat(gets(apps, "/formation/web")).isEmpty();
    assertThat(sim.callLog())
        .filteredOn(c -> c.path().equals("/pipelines/" + w.pipeline()))
        .as("the pipeline a looked up serves b, and a after its restart")
        .isEmpty();

    clock.advance(config.driftCheckInterval());
    sim.clearCallLog();
    pass(b);
    pass(a);
    assertThat(gets(apps, "/config-vars")).as("once per interval, for the fleet").hasSize(3);
  }

  @Test
  void aPassChecksAtMostNBackendsForDriftThoseCheckedLongestAgoFirst() throws Exception {
    List<SandboxApp> apps = ready(3);
    Reconciler a = dyno(2);
    Instant now = clock.instant();
    setDriftCheckedAt(apps.get(0).id(), now.minus(Duration.ofHours(3)));
    setDriftCheckedAt(apps.get(1).id(), now.minus(Duration.ofHours(2)).plusSeconds(1));
    setDriftCheckedAt(apps.get(2).id(), now.minus(Duration.ofHours(4)));

    sim.clearCallLog();
    pass(a);
    assertThat(gets(apps, "/config-vars"))
        .extracting(SandboxCall::path)
        .containsExactlyInAnyOrder(
            "/apps/" + apps.get(2).id() + "/config-vars",
            "/apps/" + apps.get(0).id() + "/config-vars");

    sim.clearCallLog();
    clock.advance(Duration.ofSeconds(30));
    pass(a);
    assertThat(gets(apps, "/config-vars"))
        .extracting(SandboxCall::path)
        .containsExactly("/apps/" + apps.get(1).id() + "/config-vars");

    sim.clearCallLog();
    clock.advance(Duration.ofSeconds(30));
    pass(a);
    assertThat(gets(apps, "/config-vars")).as("all checked within the interval").isEmpty();
  }

  @Test
  void thePeriodicSourceReReadReadsTheAddOnsOnlyAndOnceForTheFleet() {
    sim.createAddon(w.source(), "heroku-postgresql");
    ready(1);
    Reconciler a = dyno(5);
    Reconciler b = dyno(5);
    pass(a);
    pass(b); // both dynos have read the source in full
    clock.advance(config.driftCheckInterval().plusMinutes(1));

    sim.clearCallLog();
    pass(a);
    assertThat(sourceReads())
        .as("the add-ons and their attachments, not the release's config, app, drains, features")
        .containsExactlyInAnyOrder(
            "GET /apps/" + w.source() + "/addon-attachments",
            "GET /apps/" + w.source() + "/addons");

    sim.clearCallLog();
    clock.advance(Duration.ofMinutes(1));
    pass(b);
    pass(a);
    assertThat(sourceReads()).as("read by one dyno for the fleet").isEmpty();
  }

  /**
   * Review 25 #2: the source's stage (the backends' with {@code stage: source}) was each dyno's
   * own, read with its own couplings read up to an interval apart. After the source was coupled,
   * the dyno that read first rolled the pool to the new stage and the other, still on the old
   * target, drained its new apps as "old ones not yet ready". The other dyno now takes the newer
   * read at its next pass: one new app, the old one deleted, and nothing more over further passes.
   */
  @Test
  void aSourceCoupledLaterGivesEveryDynoTheNewTargetAtItsNextPass() {
    List<SandboxApp> before = ready(1); // the source is in no pipeline: production
    assertThat(before)
        .singleElement()
        .satisfies(x -> assertThat(x.stage()).isEqualTo("production"));
    Duration drift = Duration.ofMinutes(2);
    Reconciler a = dyno(5, drift);
    Reconciler b = dyno(5, drift);
    pass(a);
    clock.advance(Duration.ofMinutes(1));
    pass(b); // dyno b looked half an interval after dyno a
    String old = a.sourceCache().get(uid()).target();
    assertThat(b.sourceCache().get(uid()).target()).isEqualTo(old);

    sim.couple(w.source(), w.pipeline(), "staging"); // heroku pipelines:add ... --stage staging
    clock.advance(Duration.ofSeconds(90));
    sim.clearCallLog();
    pass(a); // its interval is over: it reads the couplings and rolls to the staging target
    String target = a.sourceCache().get(uid()).target();
    assertThat(target).isNotEqualTo(old);
    pass(b); // within its own interval
    assertThat(b.sourceCache().get(uid()).target()).as("b takes a's read").isEqualTo(target);

    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              pass(b);
              pass(a);
              // a drain's 10 s, not the 10 min progress deadline while the probes take real time
              clock.advance(Duration.ofSeconds(1));
              java.util.Set<String> now = owned();
              return now.size() == 1
                  && !now.contains(before.get(0).name())
                  && pools.status(w.name()).readyReplicas() == 1;
            });
    SandboxApp made = sim.app(owned().iterator().next());
    assertThat(made.stage()).isEqualTo("staging");
    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofSeconds(30));
      pass(b);
      pass(a);
    }
    assertThat(owned()).as("no flapping").containsExactly(made.name());
    assertThat(calls("POST", "/apps")).as("one app made: none drained and made again").isEqualTo(1);
    assertThat(sim.callLog())
        .filteredOn(c -> c.method().equals("DELETE") && c.path().startsWith("/apps/"))
        .as("the old app deleted, no other")
        .hasSize(1);
    assertThat(a.sourceCache().get(uid()).target()).isEqualTo(target);
    assertThat(b.sourceCache().get(uid()).target()).isEqualTo(target);
  }

  /**
   * Review 26: the couplings read was stored with the writer's clock, so a dyno whose clock ran
   * ahead kept its read over a newer one another dyno stored after it, and that older stage was
   * adopted. The database stamps it now: the read stored later wins, whatever either clock says.
   */
  @Test
  void aCouplingsReadStoredLaterWinsWhateverTheWritersClock() {
    ready(1);
    Duration drift = Duration.ofSeconds(1);
    TestClock aheadClock = new TestClock();
    aheadClock.advance(Duration.between(aheadClock.instant(), Instant.now()).plusHours(1));
    ReconcileConfig c =
        (ReconcileConfig)
            Proxy.newProxyInstance(
                ReconcileConfig.class.getClassLoader(),
                new Class<?>[] {ReconcileConfig.class},
                (proxy, method, args) ->
                    method.getName().equals("driftCheckInterval")
                        ? drift
                        : method.invoke(config, args));
    Reconciler ahead =
        new Reconciler(store, locks, platform, routes, events, c, aheadClock, registry, hookTarget);
    dynos.add(ahead);
    pass(ahead); // reads the couplings: the source is in no pipeline
    assertThat(store.fleetTimers(uid()).couplings().sourceStage()).isNull();

    sim.couple(w.source(), w.pipeline(), "staging");
    Reconciler b = dyno(5, Duration.ZERO); // reads them at every pass
    clock.advance(Duration.ofSeconds(2)); // an hour behind the other dyno's clock
    pass(b); // the source is at staging now
    ReconcileStore.CouplingsRead stored = store.fleetTimers(uid()).couplings();
    assertThat(stored.sourceStage()).as("the later read is stored").isEqualTo("staging");
    assertThat(stored.age()).isBetween(Duration.ZERO, Duration.ofSeconds(30));
  }

  /**
   * Review 25 #9: the couplings were timed per process, so every dyno read them for every pool once
   * per interval and again at each start. Once per interval for the fleet now; the source's stage a
   * start needs comes with the fleet's read.
   */
  @Test
  void theCouplingsAreReadOncePerIntervalForTheFleetNotAtEachStart() {
    ready(1);
    Reconciler a = dyno(5);
    Reconciler b = dyno(5);
    sim.clearCallLog();
    pass(a);
    pass(b);
    a.forgetCaches(); // a restart
    pass(a);
    assertThat(couplingReads()).as("read within the interval: not again").isEmpty();

    clock.advance(config.driftCheckInterval().plusMinutes(1));
    sim.clearCallLog();
    pass(a);
    pass(b);
    b.forgetCaches();
    pass(b);
    assertThat(couplingReads()).as("once per interval, for the fleet").hasSize(1);
  }

  /**
   * Review 25 #9: with {@code stage: source}, a pool whose source was never read (no released slug
   * yet) read the couplings on every pass, to learn a stage it had no use for yet.
   */
  @Test
  void aSourceWithoutAReleaseDoesNotReadTheCouplingsOnEveryPass() {
    String bare = w.source() + "b";
    platform.createApp(bare, null, null, null); // created, never deployed
    SimWorld.api()
        .body(
            """
            {"metadata": {"name": "%s"},
             "spec": {"pipeline": "%s", "replicas": 1, "template": {"sourceApp": "%s"}}}
            """
                .formatted(w.name(), w.pipeline(), bare))
        .post(SimWorld.POOLS)
        .then()
        .statusCode(201);
    Reconciler a = dyno(5);
    sim.clearCallLog();
    for (int i = 0; i < 5; i++) {
      pass(a);
      clock.advance(Duration.ofSeconds(30));
    }
    assertThat(pools.status(w.name()).conditions())
        .anyMatch(c -> c.reason().equals("SourceAppHasNoRelease"));
    assertThat(couplingReads()).as("the first pass's, not one every pass").hasSize(1);
  }

  /**
   * Review 25 #9: {@code drift-checks-per-pass} 0 still compared one backend a pass ({@code max(1,
   * n)}); 0 turns the drift check off.
   */
  @Test
  void zeroDriftChecksPerPassChecksNone() {
    List<SandboxApp> apps = ready(2);
    Reconciler a = dyno(0);
    clock.advance(config.driftCheckInterval().plusMinutes(1));
    sim.clearCallLog();
    pass(a);
    clock.advance(Duration.ofSeconds(30));
    pass(a);
    assertThat(gets(apps, "/config-vars")).isEmpty();
    assertThat(gets(apps, "/formation/web")).isEmpty();
  }
}
