package io.dynofleet.proxy;

import io.agroal.api.AgroalDataSource;
import io.dynofleet.reconcile.DataPlane.Health;
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
 * dyno's reconciler judges a backend by all of them ({@link FleetHealth}). A verdict is written when
 * it changes; every third of {@link ProxyConfig#verdictTtl()} all of this dyno's rows are written
 * again (so their {@code seen_at}, by the database's clock, stays fresh), rows it no longer has are
 * deleted, and rows of any dyno an hour old go. Plain JDBC with auto-commit: each row stands alone.
 * A failure (the database down) changes nothing here: the next call writes again.
 */
@ApplicationScoped
public class VerdictStore {
  private static final Logger LOG = Logger.getLogger(VerdictStore.class);
  private static final String UPSERT = "insert into backend_verdicts"
      + " (pool_id, backend, dyno, healthy, ejected, consecutive_failures, last_probe, seen_at)"
      + " select ?, ?, ?, ?, ?, ?, ?, now() where exists (select 1 from pools where id = ?)"
      + " on conflict (pool_id, backend, dyno) do update set healthy = excluded.healthy,"
      + " ejected = excluded.ejected, consecutive_failures = excluded.consecutive_failures,"
      + " last_probe = excluded.last_probe, seen_at = excluded.seen_at";

  /** A backend of a pool, as the table keys a verdict. */
  record Key(UUID pool, String backend) {
  }

  private final AgroalDataSource dataSource;
  private final Duration ttl;
  private final String dyno;
  private Map<Key, Health> written = Map.of();
  private long writtenAllAt;
  private boolean failing;

  VerdictStore(AgroalDataSource dataSource, ProxyConfig config,
      @ConfigProperty(name = "dyno", defaultValue = "local") String dyno) {
    this.dataSource = dataSource;
    this.ttl = config.verdictTtl();
    // the same DYNO (web.1) is two processes for a moment across a restart: each its own rows
    byte[] r = new byte[3];
    new SecureRandom().nextBytes(r);
    this.dyno = dyno + "." + HexFormat.of().formatHex(r);
  }

  /** How this process names itself in the table. */
  public String dyno() {
    return dyno;
  }

  /**
   * Makes the table hold {@code verdicts} as this dyno's: the changed ones, or all of them when the
   * last full write is a third of the TTL old; deletes those it no longer has.
   */
  synchronized void publish(Map<Key, Health> verdicts) {
    boolean all = System.nanoTime() - writtenAllAt >= ttl.toNanos() / 3;
    List<Map.Entry<Key, Health>> write = new ArrayList<>();
    for (Map.Entry<Key, Health> e : verdicts.entrySet()) {
      if (all || !sameVerdict(written.get(e.getKey()), e.getValue())) {
        write.add(e);
      }
    }
    List<Key> gone = written.keySet().stream().filter(k -> !verdicts.containsKey(k)).toList();
    if (write.isEmpty() && gone.isEmpty() && !all) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      if (!write.isEmpty()) {
        try (PreparedStatement st = c.prepareStatement(UPSERT)) {
          for (Map.Entry<Key, Health> e : write) {
            Health h = e.getValue();
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
            st.setObject(8, e.getKey().pool());
            st.addBatch();
          }
          st.executeBatch();
        }
      }
      if (!gone.isEmpty()) {
        try (PreparedStatement st = c.prepareStatement(
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
        try (PreparedStatement st = c.prepareStatement(
            "delete from backend_verdicts where seen_at < now() - interval '1 hour'")) {
          st.executeUpdate();
        }
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
      if (!failing) {
        failing = true;
        LOG.warnf("backend verdicts not written (other dynos judge without this one's): %s", e.getMessage());
      }
    }
  }

  /** The fresh verdicts of the other dynos on a pool's backends; none when the database fails. */
  List<FleetHealth.Verdict> others(UUID pool) {
    try (Connection c = dataSource.getConnection()) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      try (PreparedStatement st = c.prepareStatement("select backend, dyno, healthy, ejected,"
          + " consecutive_failures, last_probe from backend_verdicts where pool_id = ? and dyno <> ?"
          + " and seen_at > now() - make_interval(secs => ?)")) {
        st.setObject(1, pool);
        st.setString(2, dyno);
        st.setDouble(3, ttl.toMillis() / 1000.0);
        List<FleetHealth.Verdict> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            Timestamp last = rs.getTimestamp(6);
            out.add(new FleetHealth.Verdict(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4),
                rs.getInt(5), last == null ? null : last.toInstant()));
          }
        }
        return out;
      }
    } catch (SQLException e) {
      LOG.debugf("other dynos' verdicts not read, judging by this one's: %s", e.getMessage());
      return List.of();
    }
  }

  /** On shutdown: this dyno's verdicts go with it rather than linger for the TTL. */
  synchronized void forget() {
    try (Connection c = dataSource.getConnection()) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      try (PreparedStatement st = c.prepareStatement("delete from backend_verdicts where dyno = ?")) {
        st.setString(1, dyno);
        st.executeUpdate();
      }
      written = Map.of();
    } catch (SQLException e) {
      LOG.debugf("verdicts not deleted at shutdown (they expire): %s", e.getMessage());
    }
  }

  private static boolean sameVerdict(Health a, Health b) {
    return a != null && a.healthy() == b.healthy() && a.ejected() == b.ejected();
  }
}
