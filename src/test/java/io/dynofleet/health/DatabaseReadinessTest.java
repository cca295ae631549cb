package io.dynofleet.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.sandbox.PortHold;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** The real PostgreSQL driver against a port nothing listens on. */
class DatabaseReadinessTest {

  @Test
  void anUnreachableDatabaseIsDownWithoutTheDriversMessage() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    int port = PortHold.pickFree();
    ds.setUrl("jdbc:postgresql://127.0.0.1:" + port + "/dynofleet");
    ds.setUser("secret_user");
    ds.setConnectTimeout(2);
    DatabaseReadiness check = new DatabaseReadiness(ds, new io.dynofleet.db.SchemaMigration(null, null));
    for (int i = 0; i < 2; i++) {
      HealthCheckResponse r = check.call();
      assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
      assertThat(r.getName()).isEqualTo("database");
      assertThat(r.getData()).isEmpty();
    }
  }
}
