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
}
