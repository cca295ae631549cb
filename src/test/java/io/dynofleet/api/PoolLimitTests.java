package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.pool;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Security review 5 S5-3, S5-8: nothing bounded the pools a token holder or a looping script could
 * make, each costing a dozen Platform API calls (a source read and a webhook), a static one up to
 * 100 probes a second. {@code dynofleet.api.max-pools} bounds them; the other tests run without it,
 * as the pools every test class leaves in the shared database would reach it.
 */
@QuarkusTest
@TestProfile(PoolLimitTests.SmallLimit.class)
class PoolLimitTests {
  static final int LIMIT = 3;

  public static class SmallLimit implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("dynofleet.api.max-pools", String.valueOf(LIMIT));
    }
  }

  @Test
  void aCreatePastTheLimitIsRefusedAndStoresNothingWhileStoredPoolsMayBeReplaced() {
    // the shared database may already hold pools of other test classes: at most LIMIT are made
    List<String> made = new ArrayList<>();
    String refused = null;
    Response last = null;
    for (int i = 0; i <= LIMIT && refused == null; i++) {
      String name = uniqueName("limit");
      last = api().body(pool(name, 0)).post(POOLS);
      if (last.statusCode() == 201) {
        made.add(name);
      } else {
        refused = name;
      }
    }
    assertThat(made).hasSizeLessThanOrEqualTo(LIMIT);
    assertThat(refused).as("a create past %d pools", LIMIT).isNotNull();
    last.then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("type", containsString("pool-limit"))
        .body("detail", containsString("DYNOFLEET_API_MAX_POOLS is " + LIMIT))
        .body("errors[0].field", equalTo("metadata.name"));
    api().get(POOLS + "/" + refused).then().statusCode(404);
    for (String name : made) {
      // a stored pool stays and may be replaced; its place is freed once it is gone
      api().body(pool(name, 0)).put(POOLS + "/" + name).then().statusCode(200);
      api().delete(POOLS + "/" + name).then().statusCode(202);
    }
  }
}
