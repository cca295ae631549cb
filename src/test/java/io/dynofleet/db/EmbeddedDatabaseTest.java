package io.dynofleet.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Security review 2: zonky's initdb trusts every local connection, so any user of the machine was
 * superuser of the sandbox's (and the tests') database, and through COPY ... FROM PROGRAM ran
 * commands as the user who started Dynofleet. The real driver, on the real server.
 */
class EmbeddedDatabaseTest {

  @Test
  void aConnectionWithoutThePasswordIsRefused() throws SQLException {
    String url = EmbeddedDatabase.jdbcUrl();
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(url);
    ds.setUser("postgres");
    ds.setConnectTimeout(5);
    assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class);
    ds.setPassword("postgres");
    assertThatThrownBy(ds::getConnection)
        .as("zonky's usual password")
        .isInstanceOf(SQLException.class);
    ds.setPassword(EmbeddedDatabase.password());
    try (Connection c = ds.getConnection()) {
      assertThat(c.isValid(2)).isTrue();
    }
    assertThat(EmbeddedDatabase.password()).hasSizeGreaterThanOrEqualTo(32);
  }
}
