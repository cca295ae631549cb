package io.dynofleet.health;

import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

/**
 * Readiness of the store, in place of Quarkus's datasource check: that one put the driver's message
 * in the answer ("Connection to host:port refused", the user of a failed login), and health is
 * served without the token, to anyone on the internet (security review 1). This says only up or
 * down; the reason goes to the log.
 */
@Readiness
@ApplicationScoped
public class DatabaseReadiness implements HealthCheck {
  static final String NAME = "database";
  private static final Logger LOG = Logger.getLogger(DatabaseReadiness.class);
  /** Seconds a connection has to answer the validity check. */
  private static final int VALID_SECONDS = 2;

  private final DataSource dataSource;

  public DatabaseReadiness(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  @Override
  public HealthCheckResponse call() {
    try (Connection c = dataSource.getConnection()) {
      if (c.isValid(VALID_SECONDS)) {
        return HealthCheckResponse.up(NAME);
      }
      LOG.warn("readiness: a database connection did not answer its validity check");
    } catch (SQLException e) {
      LOG.warnf("readiness: the database cannot be reached (%s)", e.getClass().getSimpleName());
    }
    return HealthCheckResponse.down(NAME);
  }
}
