package io.dynofleet.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * Review 15: Dynofleet's database may already hold other tables (an attached add-on another app
 * uses). Flyway baselined such a schema at version 1, skipping V1, and V2 failed on "relation pools
 * does not exist" at every start. The migrations as the app configures them, run into a schema with
 * a table of someone else's in it.
 */
@QuarkusTest
class FlywayBaselineTests {
  @Inject AgroalDataSource db;

  /** The app's own Flyway, as Quarkus configures it from application.properties. */
  @Inject Flyway app;

  @ConfigProperty(name = "quarkus.flyway.baseline-on-migrate")
  boolean baselineOnMigrate;

  @ConfigProperty(name = "quarkus.flyway.baseline-version")
  String baselineVersion;

  @Test
  void aDatabaseWithOtherTablesGetsEveryMigration() throws SQLException {
    String schema = "shared_" + Long.toString(System.nanoTime() % 1_000_000, 36);
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      st.execute("create schema " + schema);
      st.execute("create table " + schema + ".invoices (id bigint primary key)");
    }
    Flyway.configure()
        .dataSource(db)
        .schemas(schema)
        .locations("classpath:db/migration")
        .baselineOnMigrate(baselineOnMigrate)
        .baselineVersion(baselineVersion)
        .load()
        .migrate();
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      for (String table : new String[] {"pools", "backends", "backend_verdicts", "invoices"}) {
        try (ResultSet rs =
            st.executeQuery("select to_regclass('" + schema + "." + table + "') is not null")) {
          rs.next();
          assertThat(rs.getBoolean(1)).as(table).isTrue();
        }
      }
      st.execute("drop schema " + schema + " cascade");
    }
  }

  /**
   * Audit 20 H1: a pool stored before {@code spec.routing.httpsRedirect} reads it back filled in
   * (on), as every default is stored, and so {@code maintenance} (off, audit 20 M6: V14); the rest
   * of its spec is as it was.
   */
  @Test
  void aPoolStoredBeforeHttpsRedirectGetsItsDefault() throws SQLException {
    String schema = "upgrade_" + Long.toString(System.nanoTime() % 1_000_000, 36);
    Flyway before =
        Flyway.configure()
            .dataSource(db)
            .schemas(schema)
            .locations("classpath:db/migration")
            .target("10")
            .load();
    before.migrate();
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "insert into "
              + schema
              + ".pools (id, name, generation, resource_version, spec, created_at, updated_at)"
              + " values (gen_random_uuid(), 'old', 3, 7, '{\"replicas\": 2, \"routing\":"
              + " {\"hosts\": [\"a.example\"], \"retries\": 2}}', now(), now())");
    }
    Flyway.configure()
        .dataSource(db)
        .schemas(schema)
        .locations("classpath:db/migration")
        .load()
        .migrate();
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      try (ResultSet rs =
          st.executeQuery(
              "select spec::text, generation, resource_version from " + schema + ".pools")) {
        rs.next();
        assertThat(rs.getString(1))
            .isEqualTo(
                "{\"routing\": {\"hosts\": [\"a.example\"], \"retries\": 2,"
                    + " \"maintenance\": false, \"httpsRedirect\": true}, \"replicas\": 2}");
        assertThat(rs.getLong(2)).isEqualTo(3);
        assertThat(rs.getLong(3)).isEqualTo(7);
      }
      st.execute("drop schema " + schema + " cascade");
    }
  }

  /**
   * Audit 26 F1: a release must start on a schema a later release migrated (a {@code heroku
   * rollback}, an old dyno restarted during a newer one's preboot). Flyway's validation refused the
   * later release's migrations as "applied migration not resolved locally" and the start stopped,
   * every pool's traffic with it. The app's Flyway configuration, on a schema migrated by a release
   * with one more migration than this one.
   */
  @Test
  void aSchemaMigratedByALaterReleaseIsTakenAsItIs() throws SQLException {
    String schema = "later_" + Long.toString(System.nanoTime() % 1_000_000, 36);
    Flyway ours =
        Flyway.configure()
            .configuration(app.getConfiguration())
            .dataSource(db)
            .schemas(schema)
            .defaultSchema(schema)
            .load();
    ours.migrate();
    int latest = Integer.parseInt(ours.info().current().getVersion().getVersion());
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      // what the later release's start left: its migration applied, a column of its own
      st.execute("alter table " + schema + ".pools add column later_release_column text");
      st.execute(
          "insert into "
              + schema
              + ".flyway_schema_history (installed_rank, version, description, type, script,"
              + " checksum, installed_by, execution_time, success) select max(installed_rank) + 1,"
              + " '"
              + (latest + 1)
              + "', 'later release', 'SQL', 'V"
              + (latest + 1)
              + "__later_release.sql', 12345, current_user, 1, true from "
              + schema
              + ".flyway_schema_history");
    }
    var result = ours.migrate(); // this release's start: nothing to run, nothing refused
    assertThat(result.migrationsExecuted).isZero();
    assertThat(ours.info().current().getVersion().getVersion())
        .as("the later release's migration stays recorded")
        .isEqualTo(String.valueOf(latest + 1));
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      st.execute("drop schema " + schema + " cascade");
    }
  }
}
