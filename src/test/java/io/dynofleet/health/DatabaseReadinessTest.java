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
    // counts the attempts to reach it: a second answer at once is the cached one, a later one
    // is found again (both say DOWN, so only the count tells them apart)
    java.util.concurrent.atomic.AtomicInteger tries =
        new java.util.concurrent.atomic.AtomicInteger();
    javax.sql.DataSource counted =
        (javax.sql.DataSource)
            java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {javax.sql.DataSource.class},
                (p, m, args) -> {
                  if (m.getName().equals("getConnection")) tries.incrementAndGet();
                  try {
                    return m.invoke(ds, args);
                  } catch (java.lang.reflect.InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    DatabaseReadiness check =
        new DatabaseReadiness(counted, new io.dynofleet.db.SchemaMigration(null, null));
    for (int want : new int[] {1, 1, 2}) {
      if (want == 2) {
        sleepPast(1100);
      }
      HealthCheckResponse r = check.call();
      assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
      assertThat(r.getName()).isEqualTo("database");
      assertThat(r.getData()).isEmpty();
      assertThat(tries.get()).as("attempts to reach the database").isEqualTo(want);
    }
  }

  /**
   * Security review 2: every probe (served without the token) took one of the five database
   * connections; a flood of them starved the reconciler and the API. Forty probes from eight
   * threads within a second take one connection; a second later, one more.
   */
  @Test
  void probesTakeOneConnectionASecondWhateverTheirNumber() throws Exception {
    java.util.concurrent.atomic.AtomicInteger taken =
        new java.util.concurrent.atomic.AtomicInteger();
    java.sql.Connection conn =
        (java.sql.Connection)
            java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {java.sql.Connection.class},
                (p, m, args) -> {
                  if (m.getName().equals("isValid")) {
                    Thread.sleep(50); // a round trip
                    return true;
                  }
                  return null;
                });
    javax.sql.DataSource ds =
        (javax.sql.DataSource)
            java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {javax.sql.DataSource.class},
                (p, m, args) -> {
                  if (m.getName().equals("getConnection")) {
                    taken.incrementAndGet();
                    return conn;
                  }
                  return null;
                });
    DatabaseReadiness check =
        new DatabaseReadiness(ds, new io.dynofleet.db.SchemaMigration(null, null));
    java.util.concurrent.ExecutorService eight =
        java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      java.util.List<java.util.concurrent.Future<HealthCheckResponse>> all =
          new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        all.add(eight.submit(check::call));
      }
      for (var f : all) {
        assertThat(f.get().getName()).isEqualTo("database");
      }
      assertThat(taken.get())
          .as("one, or two on a machine stalled past the second")
          .isBetween(1, 2);
      sleepPast(1100);
      check.call();
      assertThat(taken.get()).as("found again a second later").isBetween(2, 3);
    } finally {
      eight.shutdownNow();
    }
  }

  private static void sleepPast(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
