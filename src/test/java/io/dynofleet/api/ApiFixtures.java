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

  static String pool(String name, int replicas) {
    return """
        {"metadata": {"name": "%s", "labels": {"team": "web"}},
         "spec": {"pipeline": "shop", "replicas": %d,
                  "template": {"sourceApp": "shop-web", "dynoSize": "basic"}}}
        """
        .formatted(name, replicas);
  }
}
