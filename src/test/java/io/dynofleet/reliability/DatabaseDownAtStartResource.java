package io.dynofleet.reliability;

import io.dynofleet.LogCapture;
import io.dynofleet.db.EmbeddedDatabase;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A database that is down when the application starts and whose schema is one migration behind (an
 * upgrade whose deploy came during a database outage): a database of its own in the embedded
 * PostgreSQL, migrated to {@link #BEHIND}, behind a {@link DatabaseRelay} that is cut before the
 * application starts. The test gives it back with {@link #restore()}.
 */
public class DatabaseDownAtStartResource implements QuarkusTestResourceLifecycleManager {
  /** The version the database is at: the one before the last shipped migration. */
  static final String BEHIND = "24";

  static volatile DatabaseRelay relay;

  /** The database's own JDBC URL (not through the relay), and its name. */
  static volatile String direct;

  /**
   * What the libraries under the datasource (Agroal, Narayana, Hibernate, the driver, Flyway) log
   * from before the application starts: opened here, as their start-up lines come before any test.
   */
  static volatile LogCapture libraries;

  static final String[] LIBRARIES = {
    "io.agroal",
    "io.quarkus.agroal",
    "com.arjuna",
    "io.quarkus.narayana",
    "org.hibernate",
    "io.quarkus.hibernate",
    "org.postgresql",
    "org.flywaydb",
    "io.quarkus.flyway"
  };

  @Override
  public Map<String, String> start() {
    String jdbc = EmbeddedDatabase.jdbcUrl();
    URI uri = URI.create(jdbc.substring("jdbc:".length()));
    String name = "down_at_start_" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    PGSimpleDataSource admin = new PGSimpleDataSource();
    admin.setUrl(jdbc);
    admin.setUser("postgres");
    admin.setPassword(EmbeddedDatabase.password());
    try (Connection c = admin.getConnection();
        Statement st = c.createStatement()) {
      st.execute("create database " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    String own = "jdbc:postgresql://127.0.0.1:" + uri.getPort() + "/" + name;
    direct = own;
    Flyway.configure()
        .dataSource(own, "postgres", EmbeddedDatabase.password())
        .locations("classpath:db/migration")
        .target(BEHIND)
        .load()
        .migrate();
    try {
      relay = new DatabaseRelay(uri.getPort());
      relay.cut();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    libraries = LogCapture.under(LIBRARIES);
    return Map.of(
        "quarkus.datasource.jdbc.url",
        "jdbc:postgresql://127.0.0.1:" + relay.port() + "/" + name,
        "quarkus.datasource.username",
        "postgres",
        "quarkus.datasource.password",
        EmbeddedDatabase.password());
  }

  /** Gives the database back. */
  static void restore() {
    try {
      relay.restore();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Takes it away again. */
  static void cut() {
    try {
      relay.cut();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void stop() {
    if (libraries != null) {
      libraries.close();
    }
    try {
      if (relay != null) {
        relay.close();
      }
    } catch (IOException ignored) {
      // the test JVM ends
    }
  }
}
