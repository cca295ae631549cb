package io.dynofleet.proxy;

import io.agroal.api.AgroalDataSource;
import io.dynofleet.config.StartRefused;
import io.dynofleet.proxy.FleetHealth.Verdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
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
import java.util.Objects;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * This dyno's verdicts on backends, shared through the {@code backend_verdicts} table so that every
 * dyno's reconciler judges a backend by all of them ({@link FleetHealth}). A verdict is written
 * when it changes (its {@code seen_at} then, by the database's clock), rows it no longer has are
 * deleted (a backend gone, an ejection over, a verdict without evidence), and every third of {@link
 * ProxyConfig#verdictTtl()} the dyno's heartbeat row in {@code dynofleet_dynos} is written: a
 * verdict is fresh while its own {@code seen_at} or its dyno's heartbeat is younger than the TTL.
 * All rows were written again at every heartbeat, 45 commits a second for 300 backends and 3 dynos,
 * to keep a timestamp fresh (audit 21 L1); they still are while a dyno of an earlier release is
 * seen (a heartbeat without {@code beats_verdicts}, or fresh verdicts without a heartbeat), as it
 * judges by {@code seen_at} alone, and at every tenth heartbeat in any case: that brings back a row
 * lost behind this writer's back (an earlier release's hourly delete, a failover, pruning by hand)
 * and the failures in a row of a healthy verdict, which change no write of their own. Rows an hour
 * old of a dyno without a heartbeat go, and heartbeats an hour old. Plain JDBC with auto-commit. A
 * failure (the database down) changes nothing here: the next call writes again. After {@link
 * #forget()} (shutdown) nothing is written.
 */
@ApplicationScoped
@io.quarkus.runtime.Startup // a TTL out of range stops the start, not the first write
public class VerdictStore {
  private static final Logger LOG = Logger.getLogger(VerdictStore.class);
  private static final String UPSERT =
      "insert into backend_verdicts"
          + " (pool_id, backend, dyno, healthy, ejected, consecutive_failures, last_probe,"
          + " last_failure, probe_passed, seen_at)"
          + " select ?, ?, ?, ?, ?, ?, ?, ?, ?, now() where exists (select 1 from pools where id = ?)"
          + " on conflict (pool_id, backend, dyno) do update set healthy = excluded.healthy,"
          + " ejected = excluded.ejected, consecutive_failures = excluded.consecutive_failures,"
          + " last_probe = excluded.last_probe, last_failure = excluded.last_failure,"
          + " probe_passed = excluded.probe_passed, seen_at = excluded.seen_at";

  static final Duration MIN_TTL = Duration.ofSeconds(10);

  /**
   * Every how many heartbeats all rows are written again even with no dyno of an earlier release
   * seen: 200 s at the default TTL, 300 backends and 3 dynos 4.5 rows a second (review 27 #4, #5).
   */
  static final int REWRITE_BEATS = 10;

  /** A backend of a pool, as the table keys a verdict. */
  record Key(UUID pool, String backend) {}

  private final AgroalDataSource dataSource;
  private final Duration ttl;
  private final String dyno;
  private final LongSupplier nanos;
  private Map<Key, Verdict> written = Map.of();
  private long beatAt;
  private long allAt;
  private boolean olderDynos;
  private boolean failing;
  private volatile boolean closed;
  private volatile int othersSeen;

  /** Held while writing; {@link #forget()} waits for it only briefly. */
  private final java.util.concurrent.locks.ReentrantLock writing =
      new java.util.concurrent.locks.ReentrantLock();

  @Inject
  VerdictStore(
      AgroalDataSource dataSource,
      ProxyConfig config,
      @ConfigProperty(name = "dyno", defaultValue = "local") String dyno) {
    this(dataSource, config, dyno, System::nanoTime);
  }

  /** With {@code nanos} for {@link System#nanoTime()}: tests move it to the next heartbeat. */
  VerdictStore(AgroalDataSource dataSource, ProxyConfig config, String dyno, LongSupplier nanos) {
    this.dataSource = dataSource;
    this.nanos = nanos;
    this.ttl = config.verdictTtl();
    if (ttl.compareTo(MIN_TTL) < 0) {
      // a dyno writes its heartbeat every third of the TTL, on a tick of 2 s: less, and its
      // verdicts expire between two beats
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
    // the first write beats (System.nanoTime() may be negative: not measured from 0)
    this.beatAt = nanos.getAsLong() - ttl.toNanos();
    // and writes all (none written yet): the next full write is REWRITE_BEATS beats on
    this.allAt = nanos.getAsLong();
  }

  /** How this process names itself in the table. */
  public String dyno() {
    return dyno;
  }

  /**
   * Makes the table hold {@code verdicts} as this dyno's: writes the changed ones (all of them at a
   * heartbeat while a dyno of an earlier release is seen, and at every {@link #REWRITE_BEATS}th),
   * deletes those it no longer has, and beats when the last heartbeat is a third of the TTL old.
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
    boolean beat = nanos.getAsLong() - beatAt >= ttl.toNanos() / 3;
    List<Key> gone = written.keySet().stream().filter(k -> !verdicts.containsKey(k)).toList();
    if (!beat && gone.isEmpty() && !changed(verdicts)) {
      return;
    }
    try (Connection c = connection()) {
      if (beat) {
        beat(c);
      }
      // a dyno of an earlier release judges a row by its own seen_at: while one is seen, every
      // beat writes all rows again, as that release did; and now and then anyway, for a row
      // deleted behind this writer's back, or a healthy one's failures in a row
      boolean all =
          beat && (olderDynos || nanos.getAsLong() - allAt >= ttl.toNanos() / 3 * REWRITE_BEATS);
      List<Map.Entry<Key, Verdict>> write = new ArrayList<>();
      for (Map.Entry<Key, Verdict> e : verdicts.entrySet()) {
        if (all || !sameVerdict(written.get(e.getKey()), e.getValue())) {
          write.add(e);
        }
      }
      // one order for every dyno's batch: two batches (or a pool's delete cascading) that lock the
      // same rows in different orders could deadlock
      write.sort(Map.Entry.comparingByKey(KEY_ORDER));
      if (!write.isEmpty()) {
        upsert(c, write);
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
      written = Map.copyOf(verdicts);
      if (beat) {
        beatAt = nanos.getAsLong();
      }
      if (all) {
        allAt = beatAt;
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

  private boolean changed(Map<Key, Verdict> verdicts) {
    for (Map.Entry<Key, Verdict> e : verdicts.entrySet()) {
      if (!sameVerdict(written.get(e.getKey()), e.getValue())) {
        return true;
      }
    }
    return false;
  }

  /**
   * The heartbeat: this dyno's row in {@code dynofleet_dynos}, which keeps its verdicts fresh (so
   * {@code beats_verdicts}); the rows of dynos gone an hour; the count of the others, and whether
   * one of an earlier release is among them.
   */
  private void beat(Connection c) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "insert into dynofleet_dynos (dyno, seen_at, beats_verdicts) values (?, now(), true)"
                + " on conflict (dyno) do update set seen_at = now(), beats_verdicts = true")) {
      st.setString(1, dyno);
      st.executeUpdate();
    }
    try (PreparedStatement st =
        c.prepareStatement(
            "delete from dynofleet_dynos where seen_at < now() - interval '1 hour'")) {
      st.executeUpdate();
    }
    // a live dyno's unchanged verdicts are as old as their change: only those without a heartbeat
    // (a dyno gone, or of the release before, whose rows were written every 20 s)
    try (PreparedStatement st =
        c.prepareStatement(
            "delete from backend_verdicts v where seen_at < now() - interval '1 hour'"
                + " and not exists (select 1 from dynofleet_dynos d where d.dyno = v.dyno)")) {
      st.executeUpdate();
    }
    othersSeen = countOthers(c);
    olderDynos = olderDynos(c);
  }

  private void upsert(Connection c, List<Map.Entry<Key, Verdict>> write) throws SQLException {
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
        if (h.probePassed() == null) {
          st.setNull(9, Types.BOOLEAN);
        } else {
          st.setBoolean(9, h.probePassed());
        }
        st.setObject(10, e.getKey().pool());
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  /**
   * Whether another dyno that judges a verdict by its own {@code seen_at} is seen: one of the
   * release before, whose fresh heartbeat (V23) lacks {@code beats_verdicts}, or of a release
   * before V23, with fresh verdicts and no heartbeat (review 27 #3: only the latter was looked
   * for).
   */
  private boolean olderDynos(Connection c) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "select exists (select 1 from dynofleet_dynos where dyno <> ?"
                + " and seen_at > now() - make_interval(secs => ?) and not beats_verdicts)"
                + " or exists (select 1 from backend_verdicts v where dyno <> ?"
                + " and seen_at > now() - make_interval(secs => ?)"
                + " and not exists (select 1 from dynofleet_dynos d where d.dyno = v.dyno))")) {
      st.setString(1, dyno);
      st.setDouble(2, ttl.toMillis() / 1000.0);
      st.setString(3, dyno);
      st.setDouble(4, ttl.toMillis() / 1000.0);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  /**
   * The other dynos seen, as counted at this dyno's last heartbeat (every third of the TTL; 0
   * before the first): the Platform API budget's limiter shares the refill between them and this
   * one. A dyno counts by its heartbeat in {@code dynofleet_dynos}, so one without a probed backend
   * counts (review 26 #4: at a fleet's first rollout every dyno counted itself alone), and so does
   * one of the release before (it beats at each full write); one of a release before V23, which
   * does not beat, counts by its verdicts' {@code seen_at}.
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
   * The fresh verdicts of the other dynos on a pool's backends: written within the TTL, or of a
   * dyno whose heartbeat is (a verdict is written only when it changes). Throws when they cannot be
   * read: a pass that acted on this dyno's verdicts alone is what the table is there to prevent.
   */
  List<Verdict> others(UUID pool) {
    try (Connection c = connection()) {
      try (PreparedStatement st =
          c.prepareStatement(
              "select v.backend, v.dyno, v.healthy, v.ejected, v.consecutive_failures,"
                  + " v.last_probe, v.last_failure, v.probe_passed from backend_verdicts v"
                  + " left join dynofleet_dynos d on d.dyno = v.dyno"
                  + " where v.pool_id = ? and v.dyno <> ?"
                  + " and (v.seen_at > now() - make_interval(secs => ?)"
                  + " or d.seen_at > now() - make_interval(secs => ?))")) {
        st.setObject(1, pool);
        st.setString(2, dyno);
        st.setDouble(3, ttl.toMillis() / 1000.0);
        st.setDouble(4, ttl.toMillis() / 1000.0);
        List<Verdict> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            Timestamp last = rs.getTimestamp(6);
            // null: not probed there, or a row of the release before (V26), which does not say
            Boolean passed = rs.getObject(8, Boolean.class);
            out.add(
                new Verdict(
                    rs.getString(1),
                    rs.getString(2),
                    rs.getBoolean(3),
                    rs.getBoolean(4),
                    rs.getInt(5),
                    last == null ? null : last.toInstant(),
                    rs.getString(7),
                    passed));
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
   * A change worth a write is one of what the passes judge and show by ({@link FleetHealth}):
   * {@code healthy}, {@code ejected}, whether the last probe passed (an ejected backend's {@code
   * BackendEjected} waits for a probe that passed, V26), and for a failing verdict the failures in
   * a row and what they met. Not {@code lastProbe}, which moves at every probe: a row's is as of
   * its last change (each dyno merges its own, fresher one; it kept every row of a healthy pool
   * written at each probe). Nor a healthy verdict's failures in a row: there they are live
   * traffic's, 0 again at the next success, so a busy backend with a 502 now and then was written
   * at every 2 s route sync (review 27 #4); they only show as the fewest of the healthy ones, and
   * follow with every {@link #REWRITE_BEATS}th heartbeat. (A healthy verdict's {@code lastFailure}
   * is null.)
   */
  private static boolean sameVerdict(Verdict a, Verdict b) {
    return a != null
        && a.healthy() == b.healthy()
        && a.ejected() == b.ejected()
        && Objects.equals(a.probePassed(), b.probePassed())
        && (b.healthy()
            || a.consecutiveFailures() == b.consecutiveFailures()
                && Objects.equals(a.lastFailure(), b.lastFailure()));
  }
}
