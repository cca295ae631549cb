package io.dynofleet.db;

import io.dynofleet.config.StartRefused;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
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
 * runs old and new dynos) exited before it bound {@code $PORT}, its proxy down with it, and
 * Heroku's cool-off between crash restarts kept it down after the database was back (audit 14).
 *
 * <p>Now a database that cannot be reached is waited for in the background (5 s, then 10, then
 * every 15 s): the process starts, serves what it can without the store (the {@code
 * DYNOFLEET_STATIC_BACKENDS} pool; the API answers 503; readiness is down); the route sync, the
 * reconciler and the API use the store as soon as it answers, and the pool files are applied once
 * the schema is up to date ({@link SchemaReady}). Nothing reads or writes the tables before that,
 * whatever answers first: the route sync, the reconcile sweeps and health turns, the pool files,
 * the event retention and the API wait for {@link #migrated()} (the route sync loads at once when
 * it turns true): they polled every 2 s and read, or wrote, tables of a schema not yet checked (an
 * upgrade's new code on the old schema) in the up to 15 s before the next attempt (audit 23 L4). A
 * migration that fails at start on a database that answers (a bad script, a clash) still stops the
 * start: that needs a person, and the deploy should show it at once. Later, any failure is tried
 * again every 15 s.
 */
@ApplicationScoped
public class SchemaMigration {
  private static final Logger LOG = Logger.getLogger(SchemaMigration.class);
  static final Duration FIRST_RETRY = Duration.ofSeconds(5);
  static final Duration MAX_RETRY = Duration.ofSeconds(15);

  private final Flyway flyway;
  private final Event<SchemaReady> ready;
  private volatile boolean migrated;
  private volatile ScheduledExecutorService retries;

  public SchemaMigration(Flyway flyway, Event<SchemaReady> ready) {
    this.flyway = flyway;
    this.ready = ready;
  }

  /** Whether the schema is known to be up to date in this process. */
  public boolean migrated() {
    return migrated;
  }

  void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE - 10) StartupEvent event) {
    if (attempt(true)) {
      return;
    }
    retries =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
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
    retries.schedule(
        () -> {
          Duration next =
              after.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : after.multipliedBy(2);
          boolean done;
          try {
            done = attempt(false);
          } catch (RuntimeException e) {
            // any other failure too (a pool busy with the app's own traffic as the
            // database comes back, a connection cut by a failover, a bad script):
            // tried again, said each time. Given up, the process stayed unready
            // for good and never exited for Heroku to restart it (review 18)
            LOG.errorf(
                "schema migration failed: %s; tried again in %d s",
                rootMessage(e), next.toSeconds());
            done = false;
          }
          if (done) {
            retries.shutdown();
            ready.fire(new SchemaReady());
          } else {
            retry(next);
          }
        },
        after.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Fired when the schema is brought up to date after a start without the database. */
  public record SchemaReady() {}

  /**
   * Thrown by a reader or writer of the store while the schema is not known to be up to date (a
   * start without the database, until the migration ran): the API answers it as the database being
   * unavailable.
   */
  public static final class Pending extends RuntimeException {
    public Pending() {
      super("the schema is not yet brought up to date", null, false, false);
    }
  }

  /**
   * One migration; false when the database could not be reached (said once at start, and when it is
   * reached). A failure on a reachable database is thrown.
   */
  private boolean attempt(boolean atStart) {
    try {
      var result = flyway.migrate();
      migrated = true;
      if (!atStart) {
        LOG.infof(
            "the database is reached: schema at version %s; the store is used from now on",
            result.targetSchemaVersion == null
                ? flyway.info().current().getVersion()
                : result.targetSchemaVersion);
      }
      return true;
    } catch (RuntimeException e) {
      if (!unreachable(e)) {
        if (atStart) {
          // reachable, and the migration itself failed (a bad script, a clash with an existing
          // table): the deploy should show it at once
          throw new StartRefused("the schema migration failed: " + rootMessage(e));
        }
        throw e;
      }
      if (atStart) {
        LOG.warnf(
            "the database cannot be reached (%s): starting without it; the proxy serves only"
                + " DYNOFLEET_STATIC_BACKENDS, the API answers 503 and readiness is down until it is reached"
                + " (tried again every %d s, up to every %d s)",
            rootMessage(e), FIRST_RETRY.toSeconds(), MAX_RETRY.toSeconds());
      }
      return false;
    }
  }

  /** A failure to reach the database (refused, unknown host, timeout, too many connections). */
  static boolean unreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectException
          || t instanceof java.net.UnknownHostException
          || t instanceof java.net.SocketTimeoutException
          || t instanceof java.sql.SQLTransientConnectionException) {
        return true;
      }
      if (t instanceof SQLException s
          && s.getSQLState() != null
          && (s.getSQLState().startsWith("08")
              || s.getSQLState().equals("53300")
              || s.getSQLState().equals("57P03"))) {
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
