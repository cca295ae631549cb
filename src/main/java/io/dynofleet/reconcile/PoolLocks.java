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
   * A condition true while some session (a pass, of any dyno) holds the lock of the pool whose id
   * is the column {@code p.id}: PostgreSQL lists a bigint advisory lock in {@code pg_locks} with
   * its high half as {@code classid}, its low half as {@code objid} and {@code objsubid} 1. One
   * look at the lock table, no lock taken; a lock whose session ended (its dyno died) is not
   * listed.
   */
  static final String HELD_SQL =
      "exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.granted"
          + " and l.objsubid = 1 and l.database = (select oid from pg_database"
          + " where datname = current_database())"
          + " and ((cast(l.classid as bigint) << 32) | cast(l.objid as bigint))"
          + " = (cast(cast(('x' || substr(replace(cast(p.id as text), '-', ''), 1, 16)) as bit(64)) as bigint)"
          + " # cast(cast(('x' || substr(replace(cast(p.id as text), '-', ''), 17, 16)) as bit(64)) as bigint)))";

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
