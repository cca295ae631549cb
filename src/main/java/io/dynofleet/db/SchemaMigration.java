package io.dynofleet.db;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.net.ConnectException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.jboss.logging.Logger;

/**
 * Brings the schema up to date at start, in place of Quarkus's {@code migrate-at-start}, which made
 * a database out of reach at start fatal: a dyno restarted during a database outage (daily, at a
 * deploy or config change, after a crash, or with the plan's connections all taken while preboot
 * runs old and new dynos) exited before it bound {@code $PORT}, its proxy down with it, and Heroku's
 * cool-off between crash restarts kept it down after the database was back (audit 14).
 *
 * <p>Now a database that cannot be reached is waited for in the background (5 s, then 10, then every 15 s):
 * the process starts, serves what it can without the store (the {@code DYNOFLEET_STATIC_BACKENDS}
 * pool; the API answers 503; readiness is down), and everything that reads the store picks up once
 * the schema is there. A migration that fails on a database that answers (a bad script, a clash)
 * still stops the start: that needs a person, and the deploy should show it at once.
 */
@ApplicationScoped
public class SchemaMigration {
  private static final Logger LOG = Logger.getLogger(SchemaMigration.class);
  static final Duration FIRST_RETRY = Duration.ofSeconds(5);
  static final Duration MAX_RETRY = Duration.ofSeconds(15);

  private final Flyway flyway;
  private volatile boolean migrated;
  private volatile ScheduledExecutorService retries;

  public SchemaMigration(Flyway flyway) {
    this.flyway = flyway;
  }

  /** Whether the schema is known to be up to date in this process. */
  public boolean migrated() {
    return migrated;
  }

  void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE - 10) StartupEvent event) {
    if (attempt(true)) {
      return;
    }
    retries = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "dynofleet-schema");
      t.setDaemon(true);
      return t;
    });
    retry(FIRST_RETRY);
  }

  void onStop(@Observes ShutdownEvent event) {
    ScheduledExecutorService r = retries;
    if (r != null) {
      r.shutdownNow();
    }
  }

  private void retry(Duration after) {
    retries.schedule(() -> {
      try {
        if (!attempt(false)) {
          Duration next = after.multipliedBy(2);
          retry(next.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : next);
        } else {
          retries.shutdown();
        }
      } catch (RuntimeException e) {
        // reachable, and the migration itself failed: a person must look; keep trying is no help
        LOG.errorf("schema migration failed: %s; Dynofleet runs without its store until it is fixed"
            + " and the app restarted", e.getMessage());
        retries.shutdown();
      }
    }, after.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * One migration; false when the database could not be reached (said once at start, and when it
   * is reached). A failure on a reachable database is thrown.
   */
  private boolean attempt(boolean atStart) {
    try {
      var result = flyway.migrate();
      migrated = true;
      if (!atStart) {
        LOG.infof("the database is reached: schema at version %s; the store is used from now on",
            result.targetSchemaVersion == null ? flyway.info().current().getVersion() : result.targetSchemaVersion);
      }
      return true;
    } catch (RuntimeException e) {
      if (!unreachable(e)) {
        throw e;
      }
      if (atStart) {
        LOG.warnf("the database cannot be reached (%s): starting without it; the proxy serves only"
            + " DYNOFLEET_STATIC_BACKENDS, the API answers 503 and readiness is down until it is reached"
            + " (tried again every %d s, up to every %d s)", rootMessage(e), FIRST_RETRY.toSeconds(),
            MAX_RETRY.toSeconds());
      }
      return false;
    }
  }

  /** A failure to reach the database (refused, unknown host, timeout, too many connections). */
  static boolean unreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectException || t instanceof java.net.UnknownHostException
          || t instanceof java.net.SocketTimeoutException || t instanceof java.sql.SQLTransientConnectionException) {
        return true;
      }
      if (t instanceof SQLException s && s.getSQLState() != null
          && (s.getSQLState().startsWith("08") || s.getSQLState().equals("53300") || s.getSQLState().equals("57P03"))) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
