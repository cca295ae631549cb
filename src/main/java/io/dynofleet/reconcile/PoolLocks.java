package io.dynofleet.reconcile;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

/**
 * One PostgreSQL session-level advisory lock per pool, so that however many Dynofleet processes
 * share the database, no two reconcile the same pool at once. The lock lives on a connection held
 * for the pass; if the process dies, PostgreSQL ends the session and the lock is gone with it.
 */
@ApplicationScoped
class PoolLocks {
  private final AgroalDataSource dataSource;

  PoolLocks(AgroalDataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** A held lock; close releases it. */
  interface Held extends AutoCloseable {
    @Override
    void close();

    /**
     * Whether the lock is still held: its database session may have ended under the pass (a
     * failover, a restart, a cut connection), and PostgreSQL then gave the lock to whoever asks.
     * Asked before each step; at most one round trip a second.
     */
    boolean stillHeld();
  }

  /** The pool's lock key: its id's two halves xor'ed ({@link #HELD_SQL} computes the same). */
  static long key(UUID poolUid) {
    return poolUid.getMostSignificantBits() ^ poolUid.getLeastSignificantBits();
  }

  /**
   * The rows of {@code pg_locks} that hold the lock of the pool whose id is the column {@code p.id}
   * (alias {@code l}): PostgreSQL lists a bigint advisory lock with its high half as {@code
   * classid}, its low half as {@code objid} and {@code objsubid} 1. A lock whose session ended (its
   * dyno died) is not listed.
   */
  private static final String LOCK_ROWS =
      "pg_locks l where l.locktype = 'advisory' and l.granted"
          + " and l.objsubid = 1 and l.database = (select oid from pg_database"
          + " where datname = current_database())"
          + " and ((cast(l.classid as bigint) << 32) | cast(l.objid as bigint))"
          + " = (cast(cast(('x' || substr(replace(cast(p.id as text), '-', ''), 1, 16)) as bit(64)) as bigint)"
          + " # cast(cast(('x' || substr(replace(cast(p.id as text), '-', ''), 17, 16)) as bit(64)) as bigint))";

  /**
   * A condition true while some session (a pass, of any dyno) holds the lock of the pool whose id
   * is the column {@code p.id}. One look at the lock table, no lock taken.
   */
  static final String HELD_SQL = "exists (select 1 from " + LOCK_ROWS + ")";

  /**
   * The process id of the database session holding the lock of the pool whose id is the column
   * {@code p.id}, or null while none does (see {@link #HELD_SQL}).
   */
  static final String HOLDER_PID_SQL = "(select l.pid from " + LOCK_ROWS + " limit 1)";

  /**
   * What tells one holding of a lock from another: the holding session's process id, when it
   * started, and when its state last changed, for the column {@code holder_pid} ({@link
   * #HOLDER_PID_SQL}). The lock's connection runs nothing but the lock, its checks ({@link
   * Held#stillHeld}, one before each step of a pass, at most one a second) and the unlock, so a
   * pass taking the lock anew, on a pooled connection or not, or a pass going on, changes it, and a
   * pass hung with its session alive leaves it as it is. The session's times are null to a database
   * role other than the holder's (then only the process id tells).
   */
  static final String HOLDER_SQL =
      "(select cast(a.pid as text) || ' ' || coalesce(cast(a.backend_start as text), '')"
          + " || ' ' || coalesce(cast(a.state_change as text), '')"
          + " from pg_stat_activity a where a.pid = holder_pid)";

  /** The lock, or null when another pass (here or in another process) holds it. */
  Held tryLock(UUID poolUid) throws SQLException {
    long key = key(poolUid);
    Connection c = dataSource.getConnection();
    boolean ok = false;
    try {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      // the server's keepalives end a session whose dyno vanished without closing it (a host
      // lost, a partition) in about a minute: by default the lock stayed with it for some two
      // hours, and no dyno could reconcile or delete the pool (review 15). Ignored on a socket
      try (PreparedStatement st =
          c.prepareStatement(
              "select set_config('tcp_keepalives_idle', '30', false),"
                  + " set_config('tcp_keepalives_interval', '10', false), set_config('tcp_keepalives_count', '3', false),"
                  + " pg_try_advisory_lock(?)")) {
        st.setLong(1, key);
        try (ResultSet rs = st.executeQuery()) {
          ok = rs.next() && rs.getBoolean(4);
        }
      }
      if (!ok) {
        return null;
      }
      return new Held() {
        private long checkedAt = System.nanoTime();
        private boolean held = true;

        @Override
        public synchronized boolean stillHeld() {
          long now = System.nanoTime();
          if (held && now - checkedAt > 1_000_000_000L) {
            checkedAt = now;
            try {
              held = c.isValid(2); // a session lock lasts as long as its session
            } catch (SQLException e) {
              held = false;
            }
          }
          return held;
        }

        @Override
        public synchronized void close() {
          boolean unlocked = false;
          try (PreparedStatement st = c.prepareStatement("select pg_advisory_unlock(?)")) {
            st.setLong(1, key);
            try (ResultSet rs = st.executeQuery()) {
              // false: this session did not hold it (behind a transaction pooler the lock stays on
              // another server connection; operations.md asks for a direct one): not pooled again
              unlocked = rs.next() && rs.getBoolean(1);
            }
            if (!unlocked) {
              c.abort(Runnable::run);
            }
          } catch (SQLException e) {
            // the session may still be alive and hold the lock: back in the pool it would keep it
            // (every dyno's pass of this pool refused until the connection retired). Aborted
            // before it is closed (a try-with-resources would have pooled it first)
            try {
              c.abort(Runnable::run);
            } catch (SQLException | RuntimeException ignored) {
              // already gone
            }
          } finally {
            if (unlocked) {
              try {
                c.close();
              } catch (SQLException ignored) {
                // the pool's concern
              }
            }
          }
        }
      };
    } finally {
      if (!ok) {
        c.close();
      }
    }
  }
}
