package io.dynofleet.proxy;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agroal.api.AgroalDataSource;
import io.dynofleet.proxy.FleetHealth.Verdict;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The table of the dynos' verdicts, written and read by stores of two "dynos" in this process (each
 * a VerdictStore of its own, as each Dynofleet process has), against the real database.
 */
@QuarkusTest
class VerdictStoreTests {
  static final String TOKEN = "test-token-0123456789";
  @Inject AgroalDataSource db;
  @Inject ProxyConfig config;
  private UUID pool;

  @BeforeEach
  void pool() {
    String id =
        given()
            .auth()
            .oauth2(TOKEN)
            .contentType("application/json")
            .body(
                """
        {"metadata":{"name":"verdicts"},"spec":{"staticBackends":["http://127.0.0.1:9"],
         "routing":{"hosts":["verdicts.example"]}}}
        """)
            .post("/_dynofleet/api/v1/pools")
            .then()
            .statusCode(201)
            .extract()
            .path("metadata.uid");
    pool = UUID.fromString(id);
  }

  @AfterEach
  void cleanUp() throws SQLException {
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      st.execute("delete from pools where name = 'verdicts'");
      st.execute("delete from dynofleet_dynos where dyno = 'web.3.older'");
    }
  }

  private static Verdict verdict(String backend, boolean healthy) {
    return new Verdict(
        backend,
        "",
        healthy,
        false,
        healthy ? 0 : 3,
        Instant.parse("2026-11-25T10:00:00Z"),
        healthy ? null : "HTTP 503");
  }

  private Map<String, Boolean> rows(String dyno) throws SQLException {
    Map<String, Boolean> out = new TreeMap<>();
    try (Connection c = db.getConnection();
        PreparedStatement st =
            c.prepareStatement(
                "select backend, healthy from backend_verdicts where pool_id = ? and dyno = ?")) {
      st.setObject(1, pool);
      st.setString(2, dyno);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getBoolean(2));
        }
      }
    }
    return out;
  }

  @Test
  void eachDynoReadsTheOthersVerdictsNotItsOwnAndAVerdictGoneIsDeleted() throws SQLException {
    VerdictStore web1 = new VerdictStore(db, config, "web.1");
    VerdictStore web2 = new VerdictStore(db, config, "web.2");
    web1.publish(
        Map.of(
            new VerdictStore.Key(pool, "a:1"),
            verdict("a:1", false),
            new VerdictStore.Key(pool, "b:1"),
            verdict("b:1", true)));
    web2.publish(Map.of(new VerdictStore.Key(pool, "a:1"), verdict("a:1", true)));

    assertThat(web1.others(pool))
        .extracting(Verdict::backend, Verdict::dyno, Verdict::healthy)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("a:1", web2.dyno(), true));
    assertThat(web2.others(pool))
        .extracting(Verdict::backend, Verdict::healthy, Verdict::lastFailure)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("a:1", false, "HTTP 503"),
            org.assertj.core.groups.Tuple.tuple("b:1", true, null));

    // b:1 no longer judged
    web1.publish(Map.of(new VerdictStore.Key(pool, "a:1"), verdict("a:1", true)));
    assertThat(rows(web1.dyno())).isEqualTo(Map.of("a:1", true));
  }

  /**
   * Review 14: deleted at shutdown, the rows came back at the next tick and counted for the TTL.
   */
  @Test
  void afterShutdownADynosRowsAreGoneAndStayGone() throws SQLException {
    VerdictStore web1 = new VerdictStore(db, config, "web.1");
    Map<VerdictStore.Key, Verdict> mine =
        Map.of(new VerdictStore.Key(pool, "a:1"), verdict("a:1", false));
    web1.publish(mine);
    assertThat(rows(web1.dyno())).isEqualTo(Map.of("a:1", false));
    web1.forget();
    assertThat(rows(web1.dyno())).isEmpty();
    web1.publish(
        Map.of(
            new VerdictStore.Key(pool, "a:1"),
            verdict("a:1", true),
            new VerdictStore.Key(pool, "b:1"),
            verdict("b:1", false)));
    assertThat(rows(web1.dyno()))
        .as("a tick after the stop writes nothing, changed or new")
        .isEmpty();
  }

  @Test
  void aVerdictOnAPoolDeletedMeanwhileIsNotWrittenAndTheOthersAre() throws SQLException {
    VerdictStore web1 = new VerdictStore(db, config, "web.1");
    UUID gone = UUID.randomUUID();
    web1.publish(
        Map.of(
            new VerdictStore.Key(gone, "x:1"),
            verdict("x:1", true),
            new VerdictStore.Key(pool, "a:1"),
            verdict("a:1", true)));
    assertThat(rows(web1.dyno())).isEqualTo(Map.of("a:1", true));
  }

  @Test
  void aTtlTooShortForTheHeartbeatStopsTheStartNamingTheSetting() {
    ProxyConfig shortTtl =
        (ProxyConfig)
            java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {ProxyConfig.class},
                (p, m, a) ->
                    m.getName().equals("verdictTtl") ? Duration.ofSeconds(3) : m.invoke(config, a));
    assertThatThrownBy(() -> new VerdictStore(db, shortTtl, "web.1"))
        .isInstanceOf(io.dynofleet.config.StartRefused.class)
        .hasMessageContaining("DYNOFLEET_PROXY_VERDICT_TTL")
        .hasMessageContaining("at least 10s");
  }

  /**
   * Review 14: a failed read gave an empty list, and the pass acted on this dyno's verdicts alone.
   * Now it is an error (the pass fails and is retried); a failed write only waits for the next
   * tick.
   */
  @Test
  void aDatabaseThatFailsMakesTheReadAnErrorAndTheWriteANoOp() {
    AgroalDataSource down =
        (AgroalDataSource)
            java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {AgroalDataSource.class},
                (p, m, a) -> {
                  if (m.getName().equals("getConnection")) {
                    throw new SQLException("connection refused");
                  }
                  return m.invoke(db, a);
                });
    VerdictStore web1 = new VerdictStore(down, config, "web.1");
    assertThatThrownBy(() -> web1.others(pool))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("verdicts could not be read");
    web1.publish(Map.of(new VerdictStore.Key(pool, "a:1"), verdict("a:1", true)));
    web1.forget();
  }

  /**
   * Audit 21 M1: the Platform API refill is shared between the dynos seen, those with fresh
   * verdicts, counted at each full write. Three more "dynos" writing are three more for the next
   * store's count (other processes' rows, the application's own, may be there too: counted from
   * what the first saw).
   */
  @Test
  void eachFullWriteCountsTheOtherDynosSeen() {
    VerdictStore web0 = new VerdictStore(db, config, "web.0");
    assertThat(web0.othersSeen()).as("before its first write").isZero();
    web0.publish(Map.of(new VerdictStore.Key(pool, "a:1"), verdict("a:1", true)));
    int before = web0.othersSeen();
    VerdictStore web1 = new VerdictStore(db, config, "web.1");
    VerdictStore web2 = new VerdictStore(db, config, "web.2");
    VerdictStore web3 = new VerdictStore(db, config, "web.3");
    web1.publish(Map.of(new VerdictStore.Key(pool, "a:1"), verdict("a:1", true)));
    web2.publish(Map.of(new VerdictStore.Key(pool, "a:1"), verdict("a:1", false)));
    web3.publish(Map.of(new VerdictStore.Key(pool, "b:1"), verdict("b:1", true)));
    assertThat(web3.othersSeen()).as("web.0, web.1 and web.2 besides").isEqualTo(before + 3);
    web2.forget();
    VerdictStore web4 = new VerdictStore(db, config, "web.4");
    web4.publish(Map.of(new VerdictStore.Key(pool, "a:1"), verdict("a:1", true)));
    assertThat(web4.othersSeen()).as("web.2 went with its rows").isEqualTo(before + 3);
    for (VerdictStore s : List.of(web0, web1, web3, web4)) {
      s.forget();
    }
  }

  /**
   * Review 26 #4: a dyno whose proxy has no probed backend wrote no verdict and was not counted, so
   * at a fleet's first rollout every dyno took the whole refill. Its full write is a heartbeat now.
   */
  @Test
  void aDynoWithoutVerdictsIsCountedByItsHeartbeat() {
    VerdictStore web5 = new VerdictStore(db, config, "web.5");
    web5.publish(Map.of());
    int before = web5.othersSeen();
    VerdictStore web6 = new VerdictStore(db, config, "web.6");
    web6.publish(Map.of());
    web5.forget();
    VerdictStore web7 = new VerdictStore(db, config, "web.7");
    web7.publish(Map.of());
    assertThat(web7.othersSeen())
        .as("web.6 beats without a verdict; web.5 went at its stop")
        .isEqualTo(before + 1);
    web6.forget();
    web7.forget();
  }

  /** The transaction that last wrote each of the dyno's rows on the pool, by backend. */
  private Map<String, String> versions(String dyno) throws SQLException {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = db.getConnection();
        PreparedStatement st =
            c.prepareStatement(
                "select backend, xmin::text from backend_verdicts where pool_id = ? and dyno = ?")) {
      st.setObject(1, pool);
      st.setString(2, dyno);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return out;
  }

  private String heartbeat(String dyno) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement st =
            c.prepareStatement("select xmin::text from dynofleet_dynos where dyno = ?")) {
      st.setString(1, dyno);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private void sql(String statement, Object... params) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement st = c.prepareStatement(statement)) {
      for (int i = 0; i < params.length; i++) {
        st.setObject(i + 1, params[i]);
      }
      st.executeUpdate();
    }
  }

  /**
   * Rows of a "dyno of an earlier release" (fresh verdicts without a heartbeat, a heartbeat without
   * beats_verdicts) that other test classes insert: while one is seen a store writes all its rows
   * at each heartbeat, as that release reads them.
   */
  private void noOlderDynos() throws SQLException {
    sql("delete from dynofleet_dynos where not beats_verdicts");
    sql(
        "delete from backend_verdicts v"
            + " where not exists (select 1 from dynofleet_dynos d where d.dyno = v.dyno)");
  }

  /** What the release before (a85fcce) writes at each full write: a heartbeat, no flag. */
  private void heartbeatOfTheReleaseBefore(String dyno) throws SQLException {
    sql(
        "insert into dynofleet_dynos (dyno, seen_at) values (?, now())"
            + " on conflict (dyno) do update set seen_at = now()",
        dyno);
  }

  private int storedFailures(String dyno, String backend) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement st =
            c.prepareStatement(
                "select consecutive_failures from backend_verdicts"
                    + " where pool_id = ? and dyno = ? and backend = ?")) {
      st.setObject(1, pool);
      st.setString(2, dyno);
      st.setString(3, backend);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).as("a row for %s", backend).isTrue();
        return rs.getInt(1);
      }
    }
  }

  private static Map<VerdictStore.Key, Verdict> three(UUID pool, Instant probed, int failures) {
    return Map.of(
        new VerdictStore.Key(pool, "a:1"),
        new Verdict("a:1", "", true, false, 0, probed, null),
        new VerdictStore.Key(pool, "b:1"),
        new Verdict("b:1", "", true, false, 0, probed, null),
        new VerdictStore.Key(pool, "c:1"),
        new Verdict("c:1", "", false, false, failures, probed, "HTTP 503"));
  }

  /**
   * Audit 21 L1: every heartbeat (a third of the TTL) wrote all of a dyno's verdicts again, 45
   * commits a second for 300 backends and 3 dynos. Unchanged verdicts (a new probe time is no
   * change) are not written again, the heartbeat is; a change is written at the next call.
   */
  @Test
  void unchangedVerdictsAreNotWrittenAgainOnlyTheHeartbeatAndAChangeIsWrittenAtOnce()
      throws SQLException {
    noOlderDynos();
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    VerdictStore web1 = new VerdictStore(db, config, "web.1", now::get);
    Instant probed = Instant.parse("2026-11-25T10:00:00Z");
    web1.publish(three(pool, probed, 3));
    Map<String, String> first = versions(web1.dyno());
    assertThat(first).containsOnlyKeys("a:1", "b:1", "c:1");
    String beat = heartbeat(web1.dyno());
    assertThat(beat).as("the first write beats").isNotNull();
    for (int round = 1; round <= 3; round++) {
      now.addAndGet(config.verdictTtl().toNanos() / 3 + 1);
      probed = probed.plusSeconds(20);
      web1.publish(three(pool, probed, 3));
      assertThat(versions(web1.dyno())).as("round %d: no verdict written", round).isEqualTo(first);
      String next = heartbeat(web1.dyno());
      assertThat(next).as("round %d: the heartbeat written", round).isNotEqualTo(beat);
      beat = next;
    }

    web1.publish(three(pool, probed, 4));
    Map<String, String> after = versions(web1.dyno());
    assertThat(after.get("c:1"))
        .as("one more failure: written at once")
        .isNotEqualTo(first.get("c:1"));
    assertThat(after).as("the others untouched").containsEntry("a:1", first.get("a:1"));
    assertThat(after).containsEntry("b:1", first.get("b:1"));
    assertThat(heartbeat(web1.dyno())).as("no beat between two").isEqualTo(beat);
    web1.forget();
  }

  /**
   * A verdict written long ago counts while its dyno beats; one of the release before (no
   * heartbeat) while its own seen_at is fresh; neither, it does not.
   */
  @Test
  void aVerdictIsFreshByItsOwnWriteOrItsDynosHeartbeat() throws SQLException {
    VerdictStore web1 = new VerdictStore(db, config, "web.1");
    VerdictStore web2 = new VerdictStore(db, config, "web.2");
    web1.publish(Map.of(new VerdictStore.Key(pool, "a:1"), verdict("a:1", false)));
    sql(
        "update backend_verdicts set seen_at = now() - interval '10 minutes' where dyno = ?",
        web1.dyno());
    assertThat(web2.others(pool))
        .as("written 10 minutes ago, its dyno's heartbeat fresh")
        .extracting(Verdict::dyno)
        .containsExactly(web1.dyno());

    sql(
        "insert into backend_verdicts (pool_id, backend, dyno, healthy, ejected,"
            + " consecutive_failures, seen_at) values (?, 'b:1', 'web.3.older', true, false, 0, now())",
        pool);
    sql(
        "update dynofleet_dynos set seen_at = now() - interval '10 minutes' where dyno = ?",
        web1.dyno());
    assertThat(web2.others(pool))
        .as("web.1 stale both ways; the older release's row fresh by its own seen_at")
        .extracting(Verdict::dyno)
        .containsExactly("web.3.older");
    web1.forget();
    web2.forget();
  }

  /**
   * A dyno of a release before V23 (fresh verdicts, no heartbeat) reads a verdict by its own
   * seen_at: while one is seen, each heartbeat writes all of a dyno's rows again, so they stay
   * fresh for it.
   */
  @Test
  void whileADynoOfAReleaseWithoutHeartbeatsIsSeenEveryHeartbeatWritesAllRows()
      throws SQLException {
    noOlderDynos();
    sql(
        "insert into backend_verdicts (pool_id, backend, dyno, healthy, ejected,"
            + " consecutive_failures, seen_at) values (?, 'b:1', 'web.3.older', true, false, 0, now())",
        pool);
    everyHeartbeatWritesAllRows();
  }

  /**
   * Review 27 #3: the release before beats in dynofleet_dynos (V23) but reads a verdict by its own
   * seen_at; only a dyno without a heartbeat was taken for one, so during a deploy the new dynos
   * wrote only changes and the old ones stopped counting their unchanged verdicts after the TTL.
   */
  @Test
  void whileADynoOfTheReleaseBeforeBeatsEveryHeartbeatWritesAllRows() throws SQLException {
    noOlderDynos();
    heartbeatOfTheReleaseBefore("web.3.older");
    sql(
        "insert into backend_verdicts (pool_id, backend, dyno, healthy, ejected,"
            + " consecutive_failures, seen_at) values (?, 'b:1', 'web.3.older', true, false, 0, now())",
        pool);
    everyHeartbeatWritesAllRows();
  }

  private void everyHeartbeatWritesAllRows() throws SQLException {
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    VerdictStore web1 = new VerdictStore(db, config, "web.1", now::get);
    Instant probed = Instant.parse("2026-11-25T10:00:00Z");
    web1.publish(three(pool, probed, 3));
    Map<String, String> first = versions(web1.dyno());
    now.addAndGet(config.verdictTtl().toNanos() / 3 + 1);
    web1.publish(three(pool, probed, 3));
    Map<String, String> second = versions(web1.dyno());
    for (String backend : List.of("a:1", "b:1", "c:1")) {
      assertThat(second.get(backend)).as(backend).isNotEqualTo(first.get(backend));
    }
    web1.forget();
  }

  /**
   * Review 27 #4: a healthy backend's failures in a row are live traffic's, 0 again at the next
   * success, and each move was a write at the next 2 s route sync. They are not a change; the
   * periodic rewrite (every REWRITE_BEATS heartbeats) brings them up to date.
   */
  @Test
  void aHealthyVerdictsFailuresInARowAreNoChangeAndFollowWithThePeriodicRewrite()
      throws SQLException {
    noOlderDynos();
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    VerdictStore web1 = new VerdictStore(db, config, "web.1", now::get);
    Instant probed = Instant.parse("2026-11-25T10:00:00Z");
    VerdictStore.Key a = new VerdictStore.Key(pool, "a:1");
    web1.publish(Map.of(a, new Verdict("a:1", "", true, false, 0, probed, null)));
    Map<String, String> first = versions(web1.dyno());
    assertThat(first).containsOnlyKeys("a:1");
    for (int failures : new int[] {0, 1, 0, 2}) {
      web1.publish(Map.of(a, new Verdict("a:1", "", true, false, failures, probed, null)));
      assertThat(versions(web1.dyno()))
          .as("healthy with %d failures in a row: not written", failures)
          .isEqualTo(first);
    }
    now.addAndGet(config.verdictTtl().toNanos() / 3 * VerdictStore.REWRITE_BEATS + 1);
    web1.publish(Map.of(a, new Verdict("a:1", "", true, false, 2, probed, null)));
    assertThat(storedFailures(web1.dyno(), "a:1")).as("the periodic rewrite").isEqualTo(2);
    web1.forget();
  }

  /**
   * Review 27 #5: what was written is kept in memory, so a row deleted behind the writer's back
   * (the release before's hourly delete, a failover, pruning by hand) stayed missing until it
   * changed. Every REWRITE_BEATS heartbeats all rows are written again.
   */
  @Test
  void rowsDeletedBehindTheWritersBackAreWrittenAgainByThePeriodicRewrite() throws SQLException {
    noOlderDynos();
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    VerdictStore web1 = new VerdictStore(db, config, "web.1", now::get);
    Instant probed = Instant.parse("2026-11-25T10:00:00Z");
    web1.publish(three(pool, probed, 3));
    assertThat(versions(web1.dyno())).containsOnlyKeys("a:1", "b:1", "c:1");
    sql("delete from backend_verdicts where dyno = ?", web1.dyno());
    now.addAndGet(config.verdictTtl().toNanos() / 3 * VerdictStore.REWRITE_BEATS + 1);
    web1.publish(three(pool, probed, 3));
    assertThat(versions(web1.dyno())).containsOnlyKeys("a:1", "b:1", "c:1");
    web1.forget();
  }

  /**
   * V26 (review 28 #1): a verdict says whether its dyno's last probe passed, and a change of that
   * alone (an ejected backend's probe failing, then passing) is written at once, as any change of a
   * verdict: the passes tell {@code BackendEjected} only once a probe after the ejection passed. A
   * row of the release before, which does not know the column, reads as unknown.
   */
  @Test
  void whetherTheLastProbePassedIsWrittenAtOnceAndARowOfTheReleaseBeforeReadsUnknown()
      throws SQLException {
    noOlderDynos();
    VerdictStore web1 = new VerdictStore(db, config, "web.1");
    VerdictStore web2 = new VerdictStore(db, config, "web.2");
    Instant probed = Instant.parse("2026-11-25T10:00:00Z");
    VerdictStore.Key a = new VerdictStore.Key(pool, "a:1");
    web1.publish(Map.of(a, new Verdict("a:1", "", false, true, 5, probed, "HTTP 500", false)));
    assertThat(web2.others(pool)).extracting(Verdict::probePassed).containsExactly(false);
    Map<String, String> first = versions(web1.dyno());

    web1.publish(
        Map.of(
            a, new Verdict("a:1", "", false, true, 5, probed.plusSeconds(10), "HTTP 500", true)));
    assertThat(versions(web1.dyno())).as("written at once").isNotEqualTo(first);
    assertThat(web2.others(pool))
        .extracting(Verdict::probePassed, Verdict::lastProbe)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(true, probed.plusSeconds(10)));

    // the release before's upsert names no probe_passed
    sql(
        "insert into backend_verdicts (pool_id, backend, dyno, healthy, ejected,"
            + " consecutive_failures, last_probe, last_failure, seen_at)"
            + " values (?, 'b:1', 'web.3.older', false, true, 5, now(), 'HTTP 500', now())",
        pool);
    assertThat(web2.others(pool))
        .filteredOn(v -> v.backend().equals("b:1"))
        .singleElement()
        .satisfies(v -> assertThat(v.probePassed()).isNull());
    web1.forget();
    web2.forget();
  }
}
