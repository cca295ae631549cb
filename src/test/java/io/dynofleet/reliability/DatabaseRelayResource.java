package io.dynofleet.reliability;

import io.dynofleet.db.EmbeddedDatabase;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.Map;

/**
 * Starts the embedded PostgreSQL and a {@link DatabaseRelay} in front of it, and points the
 * datasource at the relay, so a test can take the database away and give it back.
 */
public class DatabaseRelayResource implements QuarkusTestResourceLifecycleManager {
  /** The running relay; the test and the resource share the test class loader. */
  static volatile DatabaseRelay relay;

  @Override
  public Map<String, String> start() {
    String jdbc = EmbeddedDatabase.jdbcUrl();
    int pgPort = URI.create(jdbc.substring("jdbc:".length())).getPort();
    try {
      relay = new DatabaseRelay(pgPort);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Map.of(
        "quarkus.datasource.jdbc.url",
        "jdbc:postgresql://127.0.0.1:" + relay.port() + "/postgres",
        "quarkus.datasource.username",
        "postgres",
        "quarkus.datasource.password",
        EmbeddedDatabase.password());
  }

  /**
   * Takes the database away: every connection closed, new ones refused (for tests in other
   * packages).
   */
  public static void cut() {
    try {
      relay.cut();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Gives the database back on the same port. */
  public static void restore() {
    try {
      relay.restore();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void stop() {
    try {
      if (relay != null) {
        relay.close();
      }
    } catch (IOException ignored) {
      // test JVM ends
    }
  }
}
