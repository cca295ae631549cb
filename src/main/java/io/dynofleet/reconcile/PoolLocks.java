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
  }

  /** The lock, or null when another pass (here or in another process) holds it. */
  Held tryLock(UUID poolUid) throws SQLException {
    long key = poolUid.getMostSignificantBits() ^ poolUid.getLeastSignificantBits();
    Connection c = dataSource.getConnection();
    boolean ok = false;
    try {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      try (PreparedStatement st = c.prepareStatement("select pg_try_advisory_lock(?)")) {
        st.setLong(1, key);
        try (ResultSet rs = st.executeQuery()) {
          ok = rs.next() && rs.getBoolean(1);
        }
      }
      if (!ok) {
        return null;
      }
      return () -> {
        try (c; PreparedStatement st = c.prepareStatement("select pg_advisory_unlock(?)")) {
          st.setLong(1, key);
          st.execute();
        } catch (SQLException e) {
          // closing the connection below ends the session, which releases the lock anyway
        }
      };
    } finally {
      if (!ok) {
        c.close();
      }
    }
  }
}
