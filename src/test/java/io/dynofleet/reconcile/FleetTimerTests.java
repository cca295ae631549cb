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
    ReconcileConfig c =
        (ReconcileConfig)
            Proxy.newProxyInstance(
                ReconcileConfig.class.getClassLoader(),
                new Class<?>[] {ReconcileConfig.class},
                (proxy, method, args) ->
                    method.getName().equals("driftChecksPerPass")
                        ? perPass
                        : method.invoke(config, args));
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
    return sim.callLog().stream()
        .filter(c -> c.path().startsWith("/apps/" + w.source()))
        .filter(c -> !c.path().equals("/apps/" + w.source() + "/releases"))
        .map(c -> c.method() + " " + c.path())
        .toList();
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
}
