package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.agroal.api.AgroalDataSource;
import io.dynofleet.api.EventDocument;
import io.dynofleet.api.PoolService;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.proxy.VerdictStore;
import io.dynofleet.sandbox.Simulator;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 12, finding 15: a static pool (spec.staticBackends) with a dead backend said Degraded False
 * "no errors" and recorded no event. Two simulated apps as the static backends, the proxy's real
 * probes, the reconciler's passes.
 */
@QuarkusTest
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StaticBackendHealthTests {
  private static final AtomicInteger SEQ = new AtomicInteger();

  @Inject Simulator sim;
  @Inject Reconciler reconciler;
  @Inject PoolService pools;
  @Inject AgroalDataSource db;
  @Inject VerdictStore verdicts;
  @Inject io.dynofleet.proxy.RoutingTable table;
  @Inject io.dynofleet.proxy.RouteSync routes;

  private String name;
  private String urlA;
  private String urlB;
  private String appB;

  /** How the status names the backends: host and port. */
  private String idA;

  private String idB;

  @BeforeEach
  void world() {
    sim.resetFaults();
    String tag = SEQ.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 100000, 36);
    name = "static" + tag;
    var a = sim.createSourceApp("sta" + tag);
    appB = "stb" + tag;
    var b = sim.createSourceApp(appB);
    urlA = a.webUrl();
    urlB = b.webUrl();
    idA = "127.0.0.1:" + a.port();
    idB = "127.0.0.1:" + b.port();
  }

  @AfterEach
  void cleanUp() {
    sim.resetFaults();
  }

  private PoolStatus.Condition condition(String type) {
    return pools.status(name).conditions().stream()
        .filter(c -> c.type().equals(type))
        .findFirst()
        .orElseThrow();
  }

  private List<EventDocument> events(String reason) {
    return pools.events(name, 200).stream().filter(e -> e.reason().equals(reason)).toList();
  }

  /** Passes until the status shows {@code healthy} of the two backends healthy. */
  private void awaitHealthy(int healthy) {
    await()
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              reconciler.reconcile(new PoolKey(name));
              List<PoolStatus.BackendStatus> b = pools.status(name).backends();
              return b.size() == 2
                  && b.stream().filter(x -> Boolean.TRUE.equals(x.healthy())).count() == healthy;
            });
  }

  private void createPool() {
    createPool(1, 1);
  }

  /** The two backends as a static pool, probed every {@code interval} seconds. */
  private void createPool(int interval, int unhealthyThreshold) {
    SimWorld.api()
        .body(
            """
        {"metadata": {"name": "%s"},
         "spec": {"staticBackends": ["%s", "%s"],
                  "healthCheck": {"path": "/health", "intervalSeconds": %d, "timeoutSeconds": 1,
                                  "healthyThreshold": 1, "unhealthyThreshold": %d},
                  "routing": {"hosts": ["%s.static.test"]}}}
        """
                .formatted(name, urlA, urlB, interval, unhealthyThreshold, name))
        .post(SimWorld.POOLS)
        .then()
        .statusCode(201);
  }

  @Test
  void aDeadStaticBackendIsAWarningAndAConditionAndItsRecoveryIsTold() {
    createPool();
    awaitHealthy(2);
    assertThat(condition("Degraded").status()).isEqualTo("False");
    // the URLs as given, not the ids (audit 13: webUrl was "127.0.0.1:port")
    assertThat(pools.status(name).backends())
        .extracting(PoolStatus.BackendStatus::webUrl)
        .containsExactlyInAnyOrder(urlA, urlB);

    sim.backendDead(appB);
    awaitHealthy(1);
    assertThat(condition("Degraded").status()).isEqualTo("True");
    assertThat(condition("Degraded").reason()).isEqualTo("BackendUnhealthy");
    assertThat(condition("Degraded").message()).contains(idB).doesNotContain(idA);
    reconciler.reconcile(new PoolKey(name));
    assertThat(events("BackendUnhealthy"))
        .as("said once, as it went")
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.type()).isEqualTo("Warning");
              assertThat(e.message()).contains(idB);
            });

    sim.backendHealthy(appB);
    awaitHealthy(2);
    assertThat(condition("Degraded").status()).isEqualTo("False");
    assertThat(events("BackendRecovered"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains(idB));
  }

  /**
   * A restarted process assumed every static URL healthy, a dead one too: its proxy sent it
   * requests until the probes failed again, and its first pass said BackendRecovered, then
   * BackendUnhealthy a second time. Now a URL the stored status finds failing waits for this
   * proxy's probes, and the stored verdict (Degraded, the backend's entry) stands meanwhile.
   */
  @Test
  void aRestartedProxyDoesNotTakeADeadStaticBackendForRecovered() {
    createPool(1, 3);
    awaitHealthy(2);
    sim.backendDead(appB);
    awaitHealthy(1);
    assertThat(events("BackendUnhealthy")).hasSize(1);

    table.replaceAll(List.of()); // as the proxy of a process that has just started
    routes.sync();
    assertThat(table.stats(name))
        .filteredOn(x -> x.id().equals(idB))
        .singleElement()
        .satisfies(
            x -> assertThat(x.healthy()).as("not routed before its own probes pass").isFalse());
    reconciler.reconcile(new PoolKey(name));
    assertThat(healthyInStatus(idB)).isFalse();
    assertThat(condition("Degraded").status()).isEqualTo("True");
    assertThat(condition("Degraded").message()).contains(idB);
    assertThat(events("BackendRecovered")).isEmpty();

    // its probes fail to the threshold here too: the same news, not told twice
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> table.stats(name).stream().anyMatch(x -> x.id().equals(idB) && x.judged()));
    reconciler.reconcile(new PoolKey(name));
    assertThat(events("BackendUnhealthy")).hasSize(1);
    assertThat(events("BackendRecovered")).isEmpty();

    sim.backendHealthy(appB);
    awaitHealthy(2);
    assertThat(events("BackendRecovered"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains(idB));
  }

  // ------------------------------------------------------------------ verdicts of several dynos

  private UUID uid() {
    return pools.get(name).metadata().uid();
  }

  private void otherDyno(String dyno, String backend, boolean healthy, int ageSeconds)
      throws SQLException {
    SimWorld.otherDynosVerdict(db, uid(), dyno, backend, healthy, ageSeconds);
  }

  /** This process's stored verdicts on the pool's backends: healthy or not, by backend. */
  private Map<String, Boolean> ownVerdicts() throws SQLException {
    Map<String, Boolean> out = new TreeMap<>();
    try (Connection c = db.getConnection();
        PreparedStatement st =
            c.prepareStatement(
                "select backend, healthy from backend_verdicts where pool_id = ? and dyno = ?")) {
      st.setObject(1, uid());
      st.setString(2, verdicts.dyno());
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getBoolean(2));
        }
      }
    }
    return out;
  }

  private boolean healthyInStatus(String id) {
    return pools.status(name).backends().stream()
        .anyMatch(b -> b.app().equals(id) && Boolean.TRUE.equals(b.healthy()));
  }

  /** The status's {@code failingOn} of backend {@code id}, as the API serves it (absent: null). */
  private List<String> failingOnInApi(String id) {
    return SimWorld.api()
        .get(SimWorld.POOLS + "/" + name)
        .then()
        .statusCode(200)
        .extract()
        .jsonPath()
        .get("status.backends.find { it.app == '" + id + "' }.failingOn");
  }

  /**
   * Review 13: health was each process's own, so with two dynos whose proxies disagreed, a pass on
   * one said BackendUnhealthy and Degraded, a pass on the other BackendRecovered, and so on. Now a
   * backend that any dyno with a fresh verdict finds healthy is healthy for the control plane; it
   * is unhealthy once every one says so; a dyno's verdict older than the TTL no longer counts.
   */
  @Test
  void aBackendAnotherDynoFindsHealthyIsNotCalledUnhealthyAndPassesDoNotFlap() throws SQLException {
    createPool();
    awaitHealthy(2);
    otherDyno("web.2.aaaaaa", idA, true, 0);
    otherDyno("web.2.aaaaaa", idB, true, 0);

    sim.backendDead(appB);
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              // A's verdict is stored once A is probed (an assumed one is not), which may come
              // a tick after B's failure: wait for both rather than race them
              Map<String, Boolean> own = ownVerdicts();
              return Boolean.FALSE.equals(own.get(idB)) && Boolean.TRUE.equals(own.get(idA));
            });
    for (int i = 0; i < 5; i++) {
      reconciler.reconcile(new PoolKey(name));
      assertThat(healthyInStatus(idB)).as("web.2 still reaches it").isTrue();
      assertThat(condition("Degraded").status()).isEqualTo("False");
    }
    assertThat(events("BackendUnhealthy")).isEmpty();
    assertThat(failingOnInApi(idB))
        .as("where it fails shows in the status")
        .containsExactly(verdicts.dyno());
    assertThat(failingOnInApi(idA)).isNull();

    otherDyno("web.2.aaaaaa", idB, false, 0); // now no dyno can use it
    reconciler.reconcile(new PoolKey(name));
    assertThat(healthyInStatus(idB)).isFalse();
    assertThat(failingOnInApi(idB)).as("healthy false says it all").isNull();
    assertThat(condition("Degraded").status()).isEqualTo("True");
    assertThat(events("BackendUnhealthy"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains(idB));

    otherDyno("web.2.aaaaaa", idB, true, 61); // a dyno gone for longer than the TTL (60 s)
    for (int i = 0; i < 3; i++) {
      reconciler.reconcile(new PoolKey(name));
      assertThat(healthyInStatus(idB)).as("a stale verdict does not count").isFalse();
    }
    assertThat(events("BackendRecovered")).isEmpty();
    assertThat(events("BackendUnhealthy")).hasSize(1);

    sim.backendHealthy(appB);
    awaitHealthy(2);
    assertThat(events("BackendRecovered"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains(idB));
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> Boolean.TRUE.equals(ownVerdicts().get(idB)));
  }

  /**
   * Review 14: a dyno that has just started assumes a static URL (or a backend published ready)
   * healthy until its probes say otherwise, and its pass said Recovered against every other dyno's
   * evidence. A verdict only assumed is neither stored nor counted.
   */
  @Test
  void aHealthOnlyAssumedHereDoesNotOutvoteAnotherDynosFailure() throws SQLException {
    sim.backendDead(appB);
    // probes every 10 s, 3 failures to call it unhealthy: B is assumed healthy for ~20 s
    createPool(10, 3);
    otherDyno("web.2.cccccc", idB, false, 0);
    reconciler.reconcile(new PoolKey(name));
    assertThat(healthyInStatus(idB)).as("web.2's evidence, not this dyno's assumption").isFalse();
    assertThat(condition("Degraded").status()).isEqualTo("True");
    assertThat(events("BackendUnhealthy"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains(idB));
    assertThat(ownVerdicts()).as("nothing stored for B on an assumption").doesNotContainKey(idB);
  }

  /** A backend that leaves the pool leaves this dyno's verdicts; a deleted pool takes them all. */
  @Test
  void thisDynosVerdictsFollowThePool() throws SQLException {
    createPool();
    awaitHealthy(2);
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> ownVerdicts().equals(Map.of(idA, true, idB, true)));

    SimWorld.api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\": {\"staticBackends\": [\"%s\"]}}".formatted(urlA))
        .patch(SimWorld.POOLS + "/" + name)
        .then()
        .statusCode(200);
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> ownVerdicts().equals(Map.of(idA, true)));

    UUID uid = uid();
    SimWorld.api()
        .delete(SimWorld.POOLS + "/" + name)
        .then()
        .statusCode(org.hamcrest.Matchers.oneOf(200, 202));
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              reconciler.reconcile(new PoolKey(name));
              try (Connection c = db.getConnection();
                  PreparedStatement st =
                      c.prepareStatement(
                          "select count(*) from backend_verdicts where pool_id = ?")) {
                st.setObject(1, uid);
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  return rs.getLong(1) == 0;
                }
              }
            });
  }
}
