package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The account's app limit ({@code dynofleet.heroku.app-limit}), set to 40 here: the other tests run
 * with none to speak of, as the pools every test class leaves in the shared database would reach
 * any real one together and give their creates an {@code AppLimit} warning.
 */
@QuarkusTest
@TestProfile(AppLimitTests.Limit40.class)
class AppLimitTests {
  public static class Limit40 implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("dynofleet.heroku.app-limit", "40");
    }
  }

  /**
   * Audit 17 #12: {@code replicas} 100 with the default {@code maxSurge} 1 was taken, and its
   * rollouts needed 101 apps on an account that may have 100: the creates past it failed with
   * CreateFailed. Here the account may have 40. Refused now (the surge counted as a rollout uses
   * it: at most {@code replicas} new apps); the pools together above it are warned of, not refused.
   * The pools are paused and deleted at the end: no test's pass makes their apps.
   */
  @Test
  void replicasWithTheRolloutsSurgeAboveTheAppLimitAreRefused() {
    String doc =
        """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "shop", "replicas": %d, "paused": true,
                  "rollout": {"maxSurge": %d, "maxUnavailable": 0},
                  "template": {"sourceApp": "shop-web"}}}
        """;
    String big = uniqueName("limit");
    api()
        .body(doc.formatted(big, 40, 1))
        .post(POOLS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body(
            "errors.field",
            org.hamcrest.Matchers.contains("spec.replicas", "spec.rollout.maxSurge"))
        .body("errors[0].message", containsString("make 41 apps"))
        .body("errors[0].message", containsString("app limit 40"));
    api().get(POOLS + "/" + big).then().statusCode(404);
    // the surge a rollout uses is at most replicas: 20 + 20
    String wide = uniqueName("limit-wide");
    String fleet = uniqueName("limit-fleet");
    try {
      api().body(doc.formatted(wide, 20, 30)).post(POOLS).then().statusCode(201);
      api()
          .body("{\"replicas\": 21}")
          .put(POOLS + "/" + wide + "/scale")
          .then()
          .statusCode(422)
          .contentType("application/problem+json")
          .body("errors.field", org.hamcrest.Matchers.contains("replicas"))
          .body("errors[0].message", containsString("make 42 apps"));
      api()
          .contentType("application/merge-patch+json")
          .body("{\"spec\": {\"replicas\": 25}}")
          .patch(POOLS + "/" + wide)
          .then()
          .statusCode(422)
          .body(
              "errors.field",
              org.hamcrest.Matchers.contains("spec.replicas", "spec.rollout.maxSurge"))
          .body("errors[0].message", containsString("make 50 apps"));
      api()
          .get(POOLS + "/" + wide)
          .then()
          .body("spec.replicas", equalTo(20))
          .body("metadata.generation", equalTo(1));
      // within the limit alone, above it with the other pool: taken, with a warning
      api()
          .body(doc.formatted(fleet, 5, 1))
          .post(POOLS)
          .then()
          .statusCode(201)
          .header("Warning", containsString("app limit 40"));
      api()
          .get(POOLS + "/" + fleet + "/events")
          .then()
          .body("reason", hasItem("AppLimit"))
          .body("message", hasItem(containsString("the managed pools together reach")));
    } finally {
      api().delete(POOLS + "/" + wide);
      api().delete(POOLS + "/" + fleet);
    }
  }
}
