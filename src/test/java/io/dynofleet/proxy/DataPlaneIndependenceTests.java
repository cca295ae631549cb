package io.dynofleet.proxy;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URI;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The data plane never waits on the database: a pool stored in PostgreSQL keeps being served while
 * the store fails (table gone) and while it hangs (table locked). A full outage test of the whole
 * process lives with the reliability suite.
 */
@QuarkusTest
@TestProfile(ProxyProfile.class)
@Timeout(60)
class DataPlaneIndependenceTests {
  static final String TOKEN = "test-token-0123456789";
  @Inject RouteSync sync;
  @Inject RoutingTable table;
  @Inject DataSource ds;
  final TestBackends backends = new TestBackends();

  @AfterEach
  void cleanUp() throws Exception {
    sql("delete from pools where name = 'indep'");
    sync.sync();
    table.replaceAll(List.of());
    backends.close();
  }

  @jakarta.inject.Inject io.dynofleet.reconcile.Reconciler reconciler;

  void sql(String s) throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(s);
    }
  }

  void served(int n) {
    for (int i = 0; i < n; i++) {
      given()
          .header("Host", "indep.example")
          .get("/")
          .then()
          .statusCode(200)
          .header("X-Backend", "db");
    }
  }

  @Test
  void pollsLoadOnlyWhenTheStoreChanged() throws Exception {
    URI first = backends.named("db");
    URI second = backends.named("db2");
    given()
        .auth()
        .oauth2(TOKEN)
        .contentType("application/json")
        .body(
            """
        {"metadata":{"name":"indep"},"spec":{"staticBackends":["%s"],"routing":{"hosts":["indep.example"]}}}
        """
                .formatted(first))
        .post("/_dynofleet/api/v1/pools")
        .then()
        .statusCode(201);
    assertThat(sync.sync()).isTrue();
    served(1);

    // nothing changed: a poll reads the fingerprint only
    long skipped = sync.skippedPolls();
    assertThat(sync.sync(false)).isTrue();
    assertThat(sync.skippedPolls()).isEqualTo(skipped + 1);

    // nor does a reconcile pass that finds nothing to do (it records its time apart from the pool
    // row: written there, every pass made every dyno reload every pool)
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey("indep")); // first status
    sync.sync(false);
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey("indep"));
    skipped = sync.skippedPolls();
    assertThat(sync.sync(false)).isTrue();
    assertThat(sync.skippedPolls()).isEqualTo(skipped + 1);

    // another dyno (no event here) points the pool elsewhere: the next poll loads it
    sql(
        "update pools set spec = jsonb_set(spec, '{staticBackends}', '[\""
            + second
            + "\"]') where name = 'indep'");
    assertThat(sync.sync(false)).isTrue();
    assertThat(sync.skippedPolls()).isEqualTo(skipped + 1);
    given()
        .header("Host", "indep.example")
        .get("/")
        .then()
        .statusCode(200)
        .header("X-Backend", "db2");

    // and so does a deleted pool
    sql("delete from pools where name = 'indep'");
    assertThat(sync.sync(false)).isTrue();
    assertThat(table.pools()).doesNotContainKey("indep");
  }

  /**
   * Security review 5 S5-8: a static URL naming a link-local address stored before the API refused
   * them is not proxied to nor probed; the pool serves its other backends, and the process says so
   * once, in a WARN and a BackendSkipped event on the pool.
   */
  @Test
  void aStoredLinkLocalStaticUrlIsSkippedWithAWarningAndAnEvent() throws Exception {
    URI db = backends.named("db");
    given()
        .auth()
        .oauth2(TOKEN)
        .contentType("application/json")
        .body(
            """
        {"metadata":{"name":"indep"},"spec":{"staticBackends":["%s"],"routing":{"hosts":["indep.example"]}}}
        """
                .formatted(db))
        .post("/_dynofleet/api/v1/pools")
        .then()
        .statusCode(201);
    // as stored by a release that took it
    sql(
        "update pools set spec = jsonb_set(spec, '{staticBackends}', '[\"http://169.254.169.254/\","
            + " \""
            + db
            + "\"]') where name = 'indep'");
    List<String> lines;
    try (io.dynofleet.LogCapture logs = io.dynofleet.LogCapture.of(RouteSync.class)) {
      assertThat(sync.sync()).isTrue();
      assertThat(sync.sync()).isTrue(); // said once per process, not at every load
      lines = logs.records().stream().map(io.dynofleet.LogCapture::text).toList();
    }
    assertThat(table.route("indep").orElseThrow().backends())
        .extracting(t -> t.url().toString())
        .containsExactly(db.toString());
    served(3);
    assertThat(lines)
        .filteredOn(l -> l.contains("static backend skipped"))
        .singleElement()
        .satisfies(
            l ->
                assertThat(l)
                    .contains("pool=indep", "spec.staticBackends[0]", "link-local")
                    .doesNotContain("169.254.169.254/"));
    given()
        .auth()
        .oauth2(TOKEN)
        .get("/_dynofleet/api/v1/pools/indep/events")
        .then()
        .statusCode(200)
        .body(
            "findAll { it.reason == 'BackendSkipped' }.message",
            org.hamcrest.Matchers.contains(
                org.hamcrest.Matchers.containsString("spec.staticBackends[0] names a link-local")));
    // what the metrics and the status call desired is what the proxy serves: one URL, not the two
    // listed (the skipped one kept the pool at "1 of 2", Ready False, for good)
    assertThat(given().auth().oauth2(TOKEN).get("/_dynofleet/q/metrics").asString())
        .containsPattern("dynofleet_pool_replicas\\{[^}]*kind=\"desired\",pool=\"indep\"} 1\\.0");
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey("indep"));
    given()
        .auth()
        .oauth2(TOKEN)
        .get("/_dynofleet/api/v1/pools/indep")
        .then()
        .statusCode(200)
        .body(
            "status.conditions.find { it.type == 'Ready' }.status",
            org.hamcrest.Matchers.is("True"));
  }

  /**
   * A pool's proxy secret changed alone (its first, made at a backend's config step; a rotation by
   * another dyno) moves the fingerprint: the next poll loads it, rather than the next backend write
   * or the full reload 30 s later.
   */
  @Test
  void aProxySecretChangedAloneIsLoadedAtTheNextPoll() throws Exception {
    given()
        .auth()
        .oauth2(TOKEN)
        .contentType("application/json")
        .body(
            """
        {"metadata":{"name":"indep"},"spec":{"pipeline":"shop","replicas":1,
         "template":{"sourceApp":"shop-web","dynoSize":"basic"},"routing":{"hosts":["indep.example"]}}}
        """)
        .post("/_dynofleet/api/v1/pools")
        .then()
        .statusCode(201);
    assertThat(sync.sync()).isTrue();
    assertThat(table.route("indep").orElseThrow().proxySecret()).isNull();

    sql(
        "insert into pool_secrets (pool_id, proxy_secret) select id, '"
            + "1".repeat(64)
            + "' from pools where name = 'indep'");
    long skipped = sync.skippedPolls();
    assertThat(sync.sync(false)).isTrue();
    assertThat(sync.skippedPolls()).as("loaded").isEqualTo(skipped);
    assertThat(table.route("indep").orElseThrow().proxySecret()).isEqualTo("1".repeat(64));

    sql(
        "update pool_secrets set proxy_secret = '"
            + "2".repeat(64)
            + "' where pool_id = (select id from pools where name = 'indep')");
    assertThat(sync.sync(false)).isTrue();
    assertThat(sync.skippedPolls()).as("loaded").isEqualTo(skipped);
    assertThat(table.route("indep").orElseThrow().proxySecret()).isEqualTo("2".repeat(64));

    // and nothing changed: skipped again
    assertThat(sync.sync(false)).isTrue();
    assertThat(sync.skippedPolls()).isEqualTo(skipped + 1);
  }

  /**
   * Two transactions racing on one row can leave the sum of the rows' transaction ids as it was: T1
   * (xid x1) starts, T2 (x2 > x1) updates pool A and commits, then T1 updates A (its xid goes from
   * x2 down to x1) and B (from b up to x1). With x2 = 2·x1 − b the sum is unchanged, as is the row
   * count; the poll must still see that A moved.
   */
  @Test
  void aChangeThatKeepsTheSumOfTransactionIdsIsStillSeen() throws Exception {
    URI first = backends.named("db");
    URI second = backends.named("db2");
    for (String[] p : new String[][] {{"indep", "indep.example"}, {"indep-b", "indep-b.example"}}) {
      given()
          .auth()
          .oauth2(TOKEN)
          .contentType("application/json")
          .body(
              """
          {"metadata":{"name":"%s"},"spec":{"staticBackends":["%s"],"routing":{"hosts":["%s"]}}}
          """
                  .formatted(p[0], first, p[1]))
          .post("/_dynofleet/api/v1/pools")
          .then()
          .statusCode(201);
    }
    try {
      boolean arranged = false;
      for (int attempt = 0; attempt < 20 && !arranged; attempt++) {
        try (Connection t1 = ds.getConnection();
            Connection t2 = ds.getConnection()) {
          t1.setAutoCommit(false);
          t2.setAutoCommit(false);
          long b = longOf(t1, "select xmin::text::bigint from pools where name = 'indep-b'");
          long x1 = longOf(t1, "select txid_current() % 4294967296");
          long x2 = 2 * x1 - b;
          // use up transaction ids until T2's is x2 (other sessions may take some: then retry)
          long next = x1 + 1;
          while (next < x2) {
            try (Connection c = ds.getConnection()) {
              next = longOf(c, "select txid_current() % 4294967296") + 1;
            }
          }
          if (next != x2 || longOf(t2, "select txid_current() % 4294967296") != x2) {
            t1.rollback();
            t2.rollback();
            continue;
          }
          try (Statement st = t2.createStatement()) {
            st.executeUpdate("update pools set spec = spec where name = 'indep'");
          }
          t2.commit();
          assertThat(sync.sync(false)).isTrue();
          served(1);
          String before = fingerprintSum();
          long skipped = sync.skippedPolls();
          try (Statement st = t1.createStatement()) {
            st.executeUpdate(
                "update pools set spec = jsonb_set(spec, '{staticBackends}', '[\""
                    + second
                    + "\"]') where name = 'indep'");
            st.executeUpdate("update pools set spec = spec where name = 'indep-b'");
          }
          t1.commit();
          // the race is arranged only if the old fingerprint (count and sum) cannot tell
          arranged = before.equals(fingerprintSum());
          assertThat(sync.sync(false)).isTrue();
          assertThat(sync.skippedPolls()).isEqualTo(skipped);
          given()
              .header("Host", "indep.example")
              .get("/")
              .then()
              .statusCode(200)
              .header("X-Backend", "db2");
          sql(
              "update pools set spec = jsonb_set(spec, '{staticBackends}', '[\""
                  + first
                  + "\"]') where name = 'indep'");
          assertThat(sync.sync(false)).isTrue();
        }
      }
      assertThat(arranged)
          .as("two racing transactions left the sum of transaction ids equal")
          .isTrue();
    } finally {
      sql("delete from pools where name = 'indep-b'");
    }
  }

  long longOf(Connection c, String query) throws Exception {
    try (Statement st = c.createStatement();
        var rs = st.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The fingerprint's earlier form: row count and sum of transaction ids. */
  String fingerprintSum() throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        var rs = st.executeQuery("select count(*) || ':' || sum(xmin::text::bigint) from pools")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** Sessions waiting for a lock on the pools table. */
  int lockWaitsOnPools() throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        var rs =
            st.executeQuery(
                "select count(*) from pg_locks where not granted and relation = 'pools'::regclass")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void storeFailingOrHangingKeepsTheLastPools() throws Exception {
    URI u = backends.named("db");
    given()
        .auth()
        .oauth2(TOKEN)
        .contentType("application/json")
        .body(
            """
        {"metadata":{"name":"indep"},"spec":{"staticBackends":["%s"],"routing":{"hosts":["indep.example"]}}}
        """
                .formatted(u))
        .post("/_dynofleet/api/v1/pools")
        .then()
        .statusCode(201);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> served(1));

    // the store fails: the sync says so and the table stays
    sql("alter table pools rename to pools_away");
    try {
      assertThat(sync.sync()).isFalse();
      served(20);
    } finally {
      sql("alter table pools_away rename to pools");
    }
    assertThat(sync.sync()).isTrue();

    // the store hangs: a sync blocked on a lock does not hold up a single request
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      st.execute("lock table pools in access exclusive mode");
      CompletableFuture<Boolean> blocked = CompletableFuture.supplyAsync(sync::sync);
      // the sync waits on the lock (not merely yet to start) before the requests are sent
      await().atMost(Duration.ofSeconds(10)).until(() -> lockWaitsOnPools() > 0);
      long t0 = System.nanoTime();
      served(20);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
      assertThat(blocked).isNotDone();
      c.rollback();
      assertThat(blocked.get(10, TimeUnit.SECONDS)).isTrue();
    }
    served(1);
  }
}
