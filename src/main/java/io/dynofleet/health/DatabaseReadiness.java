package io.dynofleet.health;

import io.dynofleet.db.SchemaMigration;
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
 * down; the reason goes to the log, once when the database is lost and once when it is back (not at
 * every probe).
 */
@Readiness
@ApplicationScoped
public class DatabaseReadiness implements HealthCheck {
  static final String NAME = "database";
  private static final Logger LOG = Logger.getLogger(DatabaseReadiness.class);

  /** Seconds a connection has to answer the validity check. */
  private static final int VALID_SECONDS = 2;

  private final DataSource dataSource;
  private final java.util.concurrent.atomic.AtomicBoolean down =
      new java.util.concurrent.atomic.AtomicBoolean();

  private final SchemaMigration schema;

  public DatabaseReadiness(DataSource dataSource, SchemaMigration schema) {
    this.dataSource = dataSource;
    this.schema = schema;
  }

  /** How long an answer stands: probes are served without the token, to anyone. */
  private static final long FRESH_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

  /** The last answer and when it was found (System.nanoTime). */
  private record Answer(boolean up, long at) {}

  private volatile Answer last;
  private final java.util.concurrent.locks.ReentrantLock checking =
      new java.util.concurrent.locks.ReentrantLock();

  /**
   * Up or down, found at most once a second and by one caller at a time: the others get the last
   * answer. Each probe took one of the few database connections, and a flood of them (served
   * without the token) starved the reconciler and the API (security review 2).
   */
  @Override
  public HealthCheckResponse call() {
    Answer a = last;
    if (a != null && System.nanoTime() - a.at() < FRESH_NANOS) {
      return answer(a.up());
    }
    if (a != null) {
      if (!checking.tryLock()) {
        return answer(a.up()); // another caller is finding out
      }
    } else {
      checking.lock(); // the first answer: wait for the caller finding it
    }
    try {
      a = last;
      if (a == null || System.nanoTime() - a.at() >= FRESH_NANOS) {
        a = new Answer(check(), System.nanoTime());
        last = a;
      }
      return answer(a.up());
    } finally {
      checking.unlock();
    }
  }

  private static HealthCheckResponse answer(boolean up) {
    return up ? HealthCheckResponse.up(NAME) : HealthCheckResponse.down(NAME);
  }

  private boolean check() {
    String why;
    try (Connection c = dataSource.getConnection()) {
      if (c.isValid(VALID_SECONDS)) {
        if (!schema.migrated()) {
          return false; // reached, the schema not yet brought up to date
        }
        if (down.compareAndSet(true, false)) {
          LOG.info("readiness: the database answers again");
        }
        return true;
      }
      why = "a connection did not answer its validity check";
    } catch (SQLException e) {
      why = e.getMessage(); // the log is the operator's; the answer is anyone's
    }
    if (down.compareAndSet(false, true)) {
      LOG.warnf("readiness: the database cannot be reached: %s", why);
    }
    return false;
  }
}
