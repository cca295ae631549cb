package io.dynofleet.reliability;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.LogCapture;
import io.dynofleet.db.SchemaMigration;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A start while the database is down, on a schema one migration behind (an upgrade deployed during
 * an outage), then the database comes back: nothing reads or writes a table before the migration
 * has run (audit 23 L4: the route sync read the old schema about 11 s before it), and the libraries
 * under the datasource add nothing to Dynofleet's own lines (audit 23 L7).
 */
@QuarkusTest
@QuarkusTestResource(value = DatabaseDownAtStartResource.class, restrictToAnnotatedClass = true)
@Tag("reliability")
class StartWithoutDatabaseTests {
  private static final String TOKEN = "test-token-0123456789";
  private static final String REACHED = "the database is reached";
  private static final String RECOVERED = "route sync recovered";

  @Inject SchemaMigration schema;

  @Test
  @Timeout(180)
  void nothingReadsTheStoreBeforeTheSchemaIsBroughtUpToDate() throws Exception {
    try (LogCapture ours = LogCapture.under("io.dynofleet")) {
      assertThat(schema.migrated()).as("migrated before the database came back").isFalse();
      given()
          .header("Authorization", "Bearer " + TOKEN)
          .get("/_dynofleet/api/v1/pools")
          .then()
          .statusCode(503)
          .contentType("application/problem+json");
      // readiness is DOWN, and each probe of it is no line of SmallRye's (audit 27 F2: an INFO
      // SRHCK01001 per probe, 3,600 an hour of outage under a probe a second)
      try (LogCapture health = LogCapture.under("io.smallrye.health")) {
        for (int i = 0; i < 5; i++) {
          given().get("/_dynofleet/q/health/ready").then().statusCode(503);
        }
        assertThat(lines(health.records())).as("SmallRye Health's lines while DOWN").isEmpty();
      }

      // back at once: the route sync polls every 2 s, the schema's next attempt comes 5 s after
      // the start, then 10 s later
      DatabaseDownAtStartResource.restore();
      // the database answers, the schema is not migrated yet (its next attempt is seconds away): a
      // pool this dyno does not route has no stats in memory, and none is read from the store
      // (review 29 R29-8: it was, a 404 here, a 500 on an empty database)
      int code =
          given()
              .header("Authorization", "Bearer " + TOKEN)
              .get("/_dynofleet/api/v1/pools/nosuch/stats")
              .statusCode();
      if (!schema.migrated()) {
        assertThat(code).as("stats of an unrouted pool before the migration").isEqualTo(503);
      }
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> schema.migrated() && index(ours, RECOVERED) >= 0);

      int reached = index(ours, REACHED);
      int recovered = index(ours, RECOVERED);
      assertThat(reached).as("the migration's line").isGreaterThanOrEqualTo(0);
      assertThat(recovered)
          .as(
              "the route sync read the store only after the migration; Dynofleet's lines: %s",
              lines(ours.records()))
          .isGreaterThan(reached);
      given()
          .header("Authorization", "Bearer " + TOKEN)
          .get("/_dynofleet/api/v1/pools")
          .then()
          .statusCode(200);

      // and an outage that cuts a write inside its transaction: the pools table is held locked
      // (directly, not through the relay) so the write waits inside it when the relay is cut
      cutUnderAWrite();
      DatabaseDownAtStartResource.restore();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  given()
                          .header("Authorization", "Bearer " + TOKEN)
                          .get("/_dynofleet/api/v1/pools")
                          .statusCode()
                      == 200);
    }
    List<LogRecord> noisy =
        DatabaseDownAtStartResource.libraries.records().stream()
            .filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
            .toList();
    assertThat(lines(noisy))
        .as("lines of the libraries under the datasource at WARN or above, start to recovery")
        .isEmpty();
  }

  private static void cutUnderAWrite() throws Exception {
    try (java.sql.Connection lock =
        java.sql.DriverManager.getConnection(
            DatabaseDownAtStartResource.direct,
            "postgres",
            io.dynofleet.db.EmbeddedDatabase.password())) {
      lock.setAutoCommit(false);
      try (java.sql.Statement st = lock.createStatement()) {
        st.execute("lock table pools in access exclusive mode");
      }
      java.util.concurrent.CompletableFuture<Integer> write =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () ->
                  given()
                      .header("Authorization", "Bearer " + TOKEN)
                      .contentType("application/json")
                      .body(
                          "{\"metadata\": {\"name\": \"cut-write\"}, \"spec\": {\"staticBackends\":"
                              + " [\"http://127.0.0.1:9\"], \"routing\": {\"hosts\": [\"cut.example\"]}}}")
                      .post("/_dynofleet/api/v1/pools")
                      .statusCode());
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> waiting(lock) > 0);
      DatabaseDownAtStartResource.cut();
      lock.rollback();
      assertThat(write.get(60, java.util.concurrent.TimeUnit.SECONDS))
          .as("the write cut inside its transaction")
          .isEqualTo(503);
      Thread.sleep(3000); // the route sync's polls meet the outage too
    }
  }

  /** Lock requests waiting in the database (the write behind the held lock). */
  private static int waiting(java.sql.Connection c) throws java.sql.SQLException {
    try (java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs =
            st.executeQuery("select count(*) from pg_locks where not granted")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static int index(LogCapture capture, String text) {
    List<LogRecord> all = capture.records();
    for (int i = 0; i < all.size(); i++) {
      if (LogCapture.text(all.get(i)).contains(text)) {
        return i;
      }
    }
    return -1;
  }

  private static List<String> lines(List<LogRecord> records) {
    return records.stream()
        .map(
            r ->
                r.getLevel()
                    + " "
                    + r.getLoggerName()
                    + " "
                    + LogCapture.text(r)
                    + (r.getThrown() == null ? "" : " [" + r.getThrown() + "]"))
        .toList();
  }
}
