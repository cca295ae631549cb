package io.dynofleet.api;

import static io.restassured.RestAssured.given;

import io.restassured.specification.RequestSpecification;
import java.util.concurrent.atomic.AtomicInteger;

/** Shared bits of the API tests: the test token, unique names and a minimal valid pool. */
final class ApiFixtures {
  static final String TOKEN = "test-token-0123456789";
  static final String POOLS = "/_dynofleet/api/v1/pools";
  private static final AtomicInteger SEQ = new AtomicInteger();

  private ApiFixtures() {}

  static RequestSpecification api() {
    return given().header("Authorization", "Bearer " + TOKEN).contentType("application/json");
  }

  static String uniqueName(String base) {
    return base + "-" + System.nanoTime() % 100000 + "-" + SEQ.incrementAndGet();
  }

  /**
   * Takes {@code routing.default} off every stored pool. The first pool without hosts made in an
   * empty database is stored as the default (audit 20 H3), and the test database is shared by every
   * test class: a test that claims the default would find an earlier test's.
   */
  static void noStoredDefault() {
    sql(
        "update pools set spec = jsonb_set(spec, '{routing,default}', 'false')"
            + " where spec #>> '{routing,default}' = 'true'");
  }

  /**
   * Deletes every pool, for a test of what a write does when no other pool exists: the test
   * database holds every earlier test's pools.
   */
  static void noPools() {
    sql("delete from pools");
  }

  static void sql(String statement) {
    io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
        .run(
            () ->
                io.dynofleet.pool.model.Pool.getEntityManager()
                    .createNativeQuery(statement)
                    .executeUpdate());
  }

  static String pool(String name, int replicas) {
    return """
        {"metadata": {"name": "%s", "labels": {"team": "web"}},
         "spec": {"pipeline": "shop", "replicas": %d,
                  "template": {"sourceApp": "shop-web", "dynoSize": "basic"}}}
        """
        .formatted(name, replicas);
  }
}
