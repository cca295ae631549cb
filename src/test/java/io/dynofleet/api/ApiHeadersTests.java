package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/**
 * Security review 4 S4-3: a pool's document holds its config vars' values, and its answer was
 * storable in a browser's disk cache; nothing said the types must not be sniffed.
 */
@QuarkusTest
class ApiHeadersTests {
  @Test
  void apiAnswersAreNeverStored() {
    String name = uniqueName("hdr");
    String pool =
        """
        {"metadata": {"name": "%s"}, "spec": {"pipeline": "shop", "replicas": 1,
         "template": {"sourceApp": "src-%s", "configVars": {"API_SECRET": "s3cret"}}}}"""
            .formatted(name, name);
    api()
        .body(pool)
        .post(POOLS)
        .then()
        .statusCode(201)
        .header("Cache-Control", equalTo("no-store"))
        .header("X-Content-Type-Options", equalTo("nosniff"));
    for (String path : new String[] {POOLS + "/" + name, POOLS, POOLS + "/" + name + "/status"}) {
      api()
          .get(path)
          .then()
          .statusCode(200)
          .header("Cache-Control", equalTo("no-store"))
          .header("X-Content-Type-Options", equalTo("nosniff"));
    }
    // refusals made before any route too
    given()
        .get(POOLS)
        .then()
        .statusCode(401)
        .header("Cache-Control", equalTo("no-store"))
        .header("X-Content-Type-Options", equalTo("nosniff"));
  }

  /** Security review 7 S7-5: the metrics, which name every backend app, had no Cache-Control. */
  @Test
  void metricsAreNeverStored() {
    api()
        .get("/_dynofleet/q/metrics")
        .then()
        .statusCode(200)
        .header("Cache-Control", equalTo("no-store"))
        .header("X-Content-Type-Options", equalTo("nosniff"));
  }

  @Test
  void theDashboardKeepsItsOwnCaching() {
    given()
        .get("/_dynofleet/")
        .then()
        .statusCode(200)
        .header("Cache-Control", equalTo("no-cache"))
        .header("X-Content-Type-Options", equalTo("nosniff"));
  }
}
