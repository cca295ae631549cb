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
}
