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
}
