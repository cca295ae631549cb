package io.dynofleet.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DatabaseUrlTest {

  @Test
  void herokuUrlGetsSslRequired() {
    DatabaseUrl u =
        DatabaseUrl.parse("postgres://u1:p%40ss@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8abc");
    assertThat(u.jdbcUrl())
        .isEqualTo(
            "jdbc:postgresql://ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8abc?sslmode=require");
    assertThat(u.username()).isEqualTo("u1");
    assertThat(u.password()).isEqualTo("p@ss");
    assertThat(u.toString()).doesNotContain("p@ss");
  }

  /** Audit 12: a plus in the userinfo is a plus (RFC 3986); form decoding made it a space. */
  @Test
  void aPlusInThePasswordStaysAPlus() {
    DatabaseUrl u = DatabaseUrl.parse("postgres://dy+no:p+ss%2Fw%3Ard%2B@db.example.com/fleet");
    assertThat(u.username()).isEqualTo("dy+no");
    assertThat(u.password()).isEqualTo("p+ss/w:rd+");
  }

  @Test
  void loopbackDefaultsToNoSslAndPortDefaults() {
    DatabaseUrl u = DatabaseUrl.parse("postgresql://me@localhost/app");
    assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/app");
    assertThat(u.password()).isNull();
  }

  @Test
  void explicitSslModeIsKept() {
    DatabaseUrl u =
        DatabaseUrl.parse(
            "postgres://a:b@db.example.com:6543/x?sslmode=verify-full&application_name=df");
    assertThat(u.jdbcUrl())
        .isEqualTo(
            "jdbc:postgresql://db.example.com:6543/x?sslmode=verify-full&application_name=df");
  }

  @Test
  void badUrlsAreRefusedWithAReason() {
    assertThatThrownBy(() -> DatabaseUrl.parse("mysql://a:b@h/x"))
        .hasMessageContaining("postgres://");
    assertThatThrownBy(() -> DatabaseUrl.parse("postgres://a:b@h"))
        .hasMessageContaining("database name");
    assertThatThrownBy(() -> DatabaseUrl.parse("postgres:///x")).hasMessageContaining("host");
    assertThatThrownBy(() -> DatabaseUrl.parse("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> DatabaseUrl.parse("postgres://a b")).hasMessageContaining("not a URL");
  }
}
