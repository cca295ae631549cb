package io.dynofleet.proxy;

import io.agroal.api.AgroalDataSource;
import io.dynofleet.config.StartRefused;
import io.dynofleet.proxy.FleetHealth.Verdict;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * This dyno's verdicts on backends, shared through the {@code backend_verdicts} table so that every
 * dyno's reconciler judges a backend by all of them ({@link FleetHealth}). A verdict is written
 * when it changes; every third of {@link ProxyConfig#verdictTtl()} all of this dyno's rows are
 * written again (so their {@code seen_at}, by the database's clock, stays fresh), rows it no longer
 * has are deleted (a backend gone, an ejection over, a verdict without evidence), and rows of any
 * dyno an hour old go. Plain JDBC with auto-commit. A failure (the database down) changes nothing
 * here: the next call writes again. After {@link #forget()} (shutdown) nothing is written.
 */
@ApplicationScoped
@io.quarkus.runtime.Startup // a TTL out of range stops the start, not the first write
public class VerdictStore {
  private static final Logger LOG = Logger.getLogger(VerdictStore.class);
  private static final String UPSERT =
      "insert into backend_verdicts"
          + " (pool_id, backend, dyno, healthy, ejected, consecutive_failures, last_probe,"
          + " last_failure, seen_at)"
          + " select ?, ?, ?, ?, ?, ?, ?, ?, now() where exists (select 1 from pools where id = ?)"
          + " on conflict (pool_id, backend, dyno) do update set healthy = excluded.healthy,"
          + " ejected = excluded.ejected, consecutive_failures = excluded.consecutive_failures,"
          + " last_probe = excluded.last_probe, last_failure = excluded.last_failure,"
          + " seen_at = excluded.seen_at";

  static final Duration MIN_TTL = Duration.ofSeconds(10);

  /** A backend of a pool, as the table keys a verdict. */
  record Key(UUID pool, String backend) {}

  private final AgroalDataSource dataSource;
  private final Duration ttl;
  private final String dyno;
  private Map<Key, Verdict> written = Map.of();
  private long writtenAllAt;
  private boolean failing;
  private volatile boolean closed;
  private volatile int othersSeen;

  /** Held while writing; {@link #forget()} waits for it only briefly. */
  private final java.util.concurrent.locks.ReentrantLock writing =
      new java.util.concurrent.locks.ReentrantLock();

  VerdictStore(
      AgroalDataSource dataSource,
      ProxyConfig config,
      @ConfigProperty(name = "dyno", defaultValue = "local") String dyno) {
    this.dataSource = dataSource;
    this.ttl = config.verdictTtl();
    if (ttl.compareTo(MIN_TTL) < 0) {
      // a dyno rewrites its rows every third of the TTL, on a tick of 2 s: less, and they expire
      // between two writes
      throw new StartRefused(
          "DYNOFLEET_PROXY_VERDICT_TTL (dynofleet.proxy.verdict-ttl) is "
              + ttl
              + ": it must be at least "
              + MIN_TTL.toSeconds()
              + "s (default 60s)");
    }
    // the same DYNO (web.1) is two processes for a moment across a restart: each its own rows
    byte[] r = new byte[3];
    new SecureRandom().nextBytes(r);
    this.dyno = dyno + "." + HexFormat.of().formatHex(r);
    // the first write is a full one (System.nanoTime() may be negative: not measured from 0)
    this.writtenAllAt = System.nanoTime() - ttl.toNanos();
  }

  /** How this process names itself in the table. */
  public String dyno() {
    return dyno;
  }

  /**
   * Makes the table hold {@code verdicts} as this dyno's: the changed ones, or all of them when the
   * last full write is a third of the TTL old; deletes those it no longer has.
   */
  void publish(Map<Key, Verdict> verdicts) {
    writing.lock();
    try {
      if (!closed) {
        write(verdicts);
      }
    } finally {
      writing.unlock();
    }
  }

  private void write(Map<Key, Verdict> verdicts) {
    boolean all = System.nanoTime() - writtenAllAt >= ttl.toNanos() / 3;
    List<Map.Entry<Key, Verdict>> write = new ArrayList<>();
    for (Map.Entry<Key, Verdict> e : verdicts.entrySet()) {
      if (all || !sameVerdict(written.get(e.getKey()), e.getValue())) {
        write.add(e);
      }
    }
    List<Key> gone = written.keySet().stream().filter(k -> !verdicts.containsKey(k)).toList();
    if (write.isEmpty() && gone.isEmpty() && !all) {
      return;
    }
    // one order for every dyno's batch: two batches (or a pool's delete cascading) that lock the
    // same rows in different orders could deadlock
    write.sort(Map.Entry.comparingByKey(KEY_ORDER));
    try (Connection c = connection()) {
      if (!write.isEmpty()) {
        try (PreparedStatement st = c.prepareStatement(UPSERT)) {
          for (Map.Entry<Key, Verdict> e : write) {
            Verdict h = e.getValue();
            st.setObject(1, e.getKey().pool());
            st.setString(2, e.getKey().backend());
            st.setString(3, dyno);
            st.setBoolean(4, h.healthy());
            st.setBoolean(5, h.ejected());
            st.setInt(6, h.consecutiveFailures());
            if (h.lastProbe() == null) {
              st.setNull(7, Types.TIMESTAMP_WITH_TIMEZONE);
            } else {
              st.setTimestamp(7, Timestamp.from(h.lastProbe()));
            }
            st.setString(8, h.lastFailure());
            st.setObject(9, e.getKey().pool());
            st.addBatch();
          }
          st.executeBatch();
        }
      }
      if (!gone.isEmpty()) {
        try (PreparedStatement st =
            c.prepareStatement(
                "delete from backend_verdicts where pool_id = ? and backend = ? and dyno = ?")) {
          for (Key k : gone) {
            st.setObject(1, k.pool());
            st.setString(2, k.backend());
            st.setString(3, dyno);
            st.addBatch();
          }
          st.executeBatch();
        }
      }
      if (all) {
        try (PreparedStatement st =
            c.prepareStatement(
                "delete from backend_verdicts where seen_at < now() - interval '1 hour'")) {
          st.executeUpdate();
        }
        try (PreparedStatement st =
            c.prepareStatement(
                "insert into dynofleet_dynos (dyno, seen_at) values (?, now())"
                    + " on conflict (dyno) do update set seen_at = now()")) {
          st.setString(1, dyno);
          st.executeUpdate();
        }
        try (PreparedStatement st =
            c.prepareStatement(
                "delete from dynofleet_dynos where seen_at < now() - interval '1 hour'")) {
          st.executeUpdate();
        }
        othersSeen = countOthers(c);
      }
      written = Map.copyOf(verdicts);
      if (all) {
        writtenAllAt = System.nanoTime();
      }
      if (failing) {
        failing = false;
        LOG.info("backend verdicts written again");
      }
    } catch (SQLException e) {
      if (e.getSQLState() != null && RACES.contains(e.getSQLState())) {
        // a pool deleted under the batch (its cascade, a foreign key): the next tick, without it
        LOG.debugf("backend verdicts not written this time: %s", e.getMessage());
      } else if (!failing) {
        failing = true;
        LOG.warnf(
            "backend verdicts not written (other dynos judge without this one's): %s",
            e.getMessage());
      }
    }
  }

  /**
   * The other dynos with fresh verdicts, as counted at this dyno's last full write (every third of
   * the TTL; 0 before the first): the Platform API budget's limiter shares the refill between them
   * and this one. Each full write is a heartbeat in {@code dynofleet_dynos} too, so a dyno without
   * a probed backend counts (review 26 #4: at a fleet's first rollout every dyno counted itself
   * alone); the verdicts' dynos count as well, for a dyno of the release before.
   */
  int othersSeen() {
    return othersSeen;
  }

  private int countOthers(Connection c) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "select count(*) from (select dyno from backend_verdicts"
                + " where dyno <> ? and seen_at > now() - make_interval(secs => ?)"
                + " union select dyno from dynofleet_dynos"
                + " where dyno <> ? and seen_at > now() - make_interval(secs => ?)) d")) {
      st.setString(1, dyno);
      st.setDouble(2, ttl.toMillis() / 1000.0);
      st.setString(3, dyno);
      st.setDouble(4, ttl.toMillis() / 1000.0);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }

  private static final java.util.Comparator<Key> KEY_ORDER =
      java.util.Comparator.comparing(Key::pool).thenComparing(Key::backend);

  /** Foreign key violation, deadlock: a race with a pool's deletion, not a failing database. */
  private static final java.util.Set<String> RACES = java.util.Set.of("23503", "40P01");

  /**
   * The fresh verdicts of the other dynos on a pool's backends. Throws when they cannot be read: a
   * pass that acted on this dyno's verdicts alone is what the table is there to prevent.
   */
  List<Verdict> others(UUID pool) {
    try (Connection c = connection()) {
      try (PreparedStatement st =
          c.prepareStatement(
              "select backend, dyno, healthy, ejected,"
                  + " consecutive_failures, last_probe, last_failure from backend_verdicts"
                  + " where pool_id = ? and dyno <> ?"
                  + " and seen_at > now() - make_interval(secs => ?)")) {
        st.setObject(1, pool);
        st.setString(2, dyno);
        st.setDouble(3, ttl.toMillis() / 1000.0);
        List<Verdict> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            Timestamp last = rs.getTimestamp(6);
            out.add(
                new Verdict(
                    rs.getString(1),
                    rs.getString(2),
                    rs.getBoolean(3),
                    rs.getBoolean(4),
                    rs.getInt(5),
                    last == null ? null : last.toInstant(),
                    rs.getString(7)));
          }
        }
        return out;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "the other dynos' backend verdicts could not be read: " + e.getMessage(), e);
    }
  }

  /**
   * On shutdown: this dyno's verdicts go with it rather than count for the TTL, and none is written
   * again. Skipped while the database fails (they expire), and bounded, so that it cannot hold up
   * the stop Heroku ends with SIGKILL after 30 s.
   */
  void forget() {
    closed = true;
    try {
      // a write stuck on a failing database: leave the rows to expire
      if (!writing.tryLock(1, java.util.concurrent.TimeUnit.SECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    try {
      if (!failing) {
        delete();
      }
    } finally {
      writing.unlock();
    }
  }

  private void delete() {
    try (Connection c = connection()) {
      try (PreparedStatement st =
          c.prepareStatement("delete from backend_verdicts where dyno = ?")) {
        st.setQueryTimeout(2);
        st.setString(1, dyno);
        st.executeUpdate();
      }
      try (PreparedStatement st =
          c.prepareStatement("delete from dynofleet_dynos where dyno = ?")) {
        st.setQueryTimeout(2);
        st.setString(1, dyno);
        st.executeUpdate();
      }
    } catch (SQLException e) {
      LOG.debugf("verdicts not deleted at shutdown (they expire): %s", e.getMessage());
    }
  }

  /** A connection of its own, each statement its own transaction. */
  private Connection connection() throws SQLException {
    Connection c = dataSource.getConnection();
    try {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      return c;
    } catch (SQLException e) {
      c.close();
      throw e;
    }
  }

  /**
   * A change worth a write at once is one of {@code healthy} or {@code ejected}; the failures in a
   * row and what they met follow with the next full write (a failing backend's probe result may
   * change at every probe: a timeout, then a refused connection).
   */
  private static boolean sameVerdict(Verdict a, Verdict b) {
    return a != null && a.healthy() == b.healthy() && a.ejected() == b.ejected();
  }
}
