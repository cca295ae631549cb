package io.dynofleet.pool.model;

import io.dynofleet.config.DynofleetConfig;
import io.quarkus.runtime.Startup;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * Deletes events older than {@code dynofleet.event-retention}, of every pool, once an hour on each
 * dyno (one indexed statement; the dynos doing it twice costs nothing). A pool's count cap is kept
 * as each event is written ({@link PoolEvents}); this is what empties a pool that went quiet.
 */
@Startup
@ApplicationScoped
public class EventRetention {
  private static final Logger LOG = Logger.getLogger(EventRetention.class);
  static final Duration SHORTEST = Duration.ofHours(1);

  private final PoolEvents events;
  private final Clock clock;
  private final Duration retention;

  @jakarta.inject.Inject io.dynofleet.db.SchemaMigration schema;

  EventRetention(PoolEvents events, Clock clock, DynofleetConfig config) {
    this.events = events;
    this.clock = clock;
    this.retention = config.eventRetention();
    if (retention.compareTo(SHORTEST) < 0) {
      throw new IllegalStateException(
          "dynofleet.event-retention (DYNOFLEET_EVENT_RETENTION) is "
              + retention
              + ": it must be at least 1h (events are what an incident review reads)");
    }
  }

  @Scheduled(
      every = "1h",
      delayed = "5m",
      identity = "event-retention",
      concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void scheduled() {
    if (schema != null && !schema.migrated()) {
      return; // no table is touched before the schema is known good (audit 23 L4)
    }
    try {
      trim();
    } catch (RuntimeException e) {
      // the database is down: the route sync and the loop say so; the next hour tries again
      LOG.debugf("event retention skipped: %s", e.toString());
    }
  }

  /** Deletes the events last seen before the retention; gives how many. */
  public long trim() {
    long n = events.deleteOlderThan(clock.instant().minus(retention));
    if (n > 0) {
      LOG.infof("deleted %d events last seen more than %s ago", n, retention);
    }
    return n;
  }
}
