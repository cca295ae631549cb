package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.pool;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import io.dynofleet.reconcile.PoolKey;
import io.dynofleet.reconcile.Reconciler;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Security review 5 S5-3, S5-8: nothing bounded the pools a token holder or a looping script could
 * make, each costing a dozen Platform API calls (a source read and a webhook), a static one up to
 * 100 probes a second. {@code dynofleet.api.max-pools} bounds them; the other tests run without it,
 * as the pools every test class leaves in the shared database would reach it.
 *
 * <p>Review 30 R30-7: the test made pools until one was refused whatever the shared database held,
 * so a limit enforced one early or one late passed it, and "pools being deleted count" was never
 * tried. It now starts from an empty fleet (the limit is what exists plus {@link #LIMIT}), and the
 * reconciler does not run in the tests, so a deleted pool stays until the test runs its finalizer.
 */
@QuarkusTest
@TestProfile(PoolLimitTests.SmallLimit.class)
class PoolLimitTests {
  static final int LIMIT = 2;

  public static class SmallLimit implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("dynofleet.api.max-pools", String.valueOf(LIMIT));
    }
  }

  @Inject Reconciler reconciler;

  @Test
  void exactlyTheLimitIsMadeAndPoolsBeingDeletedCountUntilTheyAreGone() {
    ApiFixtures.noPools(); // the shared database holds earlier test classes' pools
    assertThat(api().get(POOLS).then().statusCode(200).extract().<List<?>>path("items")).isEmpty();
    List<String> made = new ArrayList<>();
    for (int i = 0; i < LIMIT; i++) {
      String name = uniqueName("limit");
      api().body(pool(name, 0)).post(POOLS).then().statusCode(201);
      made.add(name);
    }
    String refused = uniqueName("limit");
    refusedAtTheLimit(refused);
    api().get(POOLS + "/" + refused).then().statusCode(404);

    // a stored pool may be replaced at the limit
    String leaving = made.get(0);
    api().body(pool(leaving, 0)).put(POOLS + "/" + leaving).then().statusCode(200);

    // a pool being deleted keeps its place until it is gone
    api().delete(POOLS + "/" + leaving).then().statusCode(202);
    api()
        .get(POOLS + "/" + leaving)
        .then()
        .statusCode(200)
        .body("metadata.deletionTimestamp", notNullValue());
    refusedAtTheLimit(refused);
    api().get(POOLS + "/" + refused).then().statusCode(404);

    reconciler.reconcile(new PoolKey(leaving)); // the finalizer: the row goes
    api().get(POOLS + "/" + leaving).then().statusCode(404);
    api().body(pool(refused, 0)).post(POOLS).then().statusCode(201);

    for (String name : List.of(made.get(1), refused)) {
      api().delete(POOLS + "/" + name).then().statusCode(202);
      reconciler.reconcile(new PoolKey(name));
    }
  }

  private static void refusedAtTheLimit(String name) {
    api()
        .body(pool(name, 0))
        .post(POOLS)
        .then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("type", containsString("pool-limit"))
        .body("detail", containsString("the fleet holds " + LIMIT + " pools"))
        .body("detail", containsString("DYNOFLEET_API_MAX_POOLS is " + LIMIT))
        .body("errors[0].field", equalTo("metadata.name"));
  }
}
