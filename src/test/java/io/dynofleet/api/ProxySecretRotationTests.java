package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.pool;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import io.dynofleet.LogCapture;
import io.dynofleet.pool.model.Pool;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * {@code POST .../pools/{name}/proxy-secret/rotate}: a new DYNOFLEET_PROXY_SECRET for a managed
 * pool and a rollout restart in one write, the secret in no answer, event or log line; refused, as
 * a problem and with nothing changed, for a pool it cannot apply to.
 */
@QuarkusTest
class ProxySecretRotationTests {
  private static final String ROTATE = "/proxy-secret/rotate";

  private static String secret(String pool) {
    List<?> rows =
        QuarkusTransaction.requiringNew()
            .call(
                () ->
                    Pool.getEntityManager()
                        .createNativeQuery(
                            "select s.proxy_secret from pool_secrets s join pools p on p.id ="
                                + " s.pool_id where p.name = ?1")
                        .setParameter(1, pool)
                        .getResultList());
    return rows.isEmpty() ? null : (String) rows.get(0);
  }

  @Test
  void aRotationStoresANewSecretRollsThePoolAndShowsItNowhere() {
    String name = uniqueName("rot");
    api().body(pool(name, 2)).post(POOLS).then().statusCode(201);
    // a pool made before the secret existed has none yet: a rotation makes its first
    assertThat(secret(name)).isNull();

    try (LogCapture logs =
        LogCapture.of(PoolService.class, io.dynofleet.pool.model.PoolEvents.class)) {
      Response first = api().post(POOLS + "/" + name + ROTATE);
      first
          .then()
          .statusCode(200)
          .header("ETag", startsWith("\""))
          .body("metadata.generation", equalTo(2))
          .body("spec.replicas", equalTo(2));
      String s1 = secret(name);
      assertThat(s1).hasSize(64).matches("[0-9a-f]+");
      String restarted = first.path("spec.template.restartedAt");
      assertThat(restarted).as("the pool rolls, as for rollout restart").isNotBlank();

      Response second = api().post(POOLS + "/" + name + ROTATE);
      second.then().statusCode(200).body("metadata.generation", equalTo(3));
      String s2 = secret(name);
      assertThat(s2).hasSize(64).isNotEqualTo(s1);
      assertThat((String) second.path("spec.template.restartedAt")).isNotEqualTo(restarted);

      String read = api().get(POOLS + "/" + name).asString();
      String events = api().get(POOLS + "/" + name + "/events").asString();
      String status = api().get(POOLS + "/" + name + "/status").asString();
      for (String text : List.of(first.asString(), second.asString(), read, events, status)) {
        assertThat(text).doesNotContain(s1).doesNotContain(s2);
      }
      assertThat(
              api().get(POOLS + "/" + name + "/events").jsonPath().getList("reason", String.class))
          .contains("ProxySecretRotated", "SpecChanged");
      assertThat(logs.records())
          .as("logged (the events are)")
          .isNotEmpty()
          .allSatisfy(r -> assertThat(LogCapture.text(r)).doesNotContain(s1).doesNotContain(s2));
      assertThat(logs.records())
          .anySatisfy(r -> assertThat(LogCapture.text(r)).contains("ProxySecretRotated"))
          .allSatisfy(r -> assertThat(r.getLevel().intValue()).isLessThan(Level.SEVERE.intValue()));
    }
  }

  @Test
  void aRotationThatCannotApplyIsAProblemAndChangesNothing() {
    // an unknown pool
    api()
        .post(POOLS + "/no-such-pool-" + System.nanoTime() + ROTATE)
        .then()
        .statusCode(404)
        .contentType("application/problem+json")
        .body("type", equalTo("https://dynofleet.dev/problems/not-found"));

    // a static pool: its backends are no apps of Dynofleet's
    String st = uniqueName("rot-static");
    api()
        .body(
            """
            {"metadata": {"name": "%s"},
             "spec": {"staticBackends": ["http://127.0.0.1:9"], "routing": {"hosts": ["%s.example"]}}}
            """
                .formatted(st, st))
        .post(POOLS)
        .then()
        .statusCode(201);
    api()
        .post(POOLS + "/" + st + ROTATE)
        .then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("type", equalTo("https://dynofleet.dev/problems/not-managed"));
    api().get(POOLS + "/" + st).then().body("metadata.generation", equalTo(1));
    assertThat(secret(st)).isNull();

    String name = uniqueName("rot-bad");
    Response created = api().body(pool(name, 1)).post(POOLS);
    String etag = created.header("ETag");
    // a body: Dynofleet makes the secret, none is taken
    api()
        .body("{\"secret\": \"mine\"}")
        .post(POOLS + "/" + name + ROTATE)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("type", equalTo("https://dynofleet.dev/problems/body-not-allowed"));
    // a query parameter it does not take
    api()
        .post(POOLS + "/" + name + ROTATE + "?dryRun=All")
        .then()
        .statusCode(422)
        .contentType("application/problem+json");
    // a stale If-Match
    api()
        .header("If-Match", "\"1\"")
        .post(POOLS + "/" + name + ROTATE)
        .then()
        .statusCode(412)
        .contentType("application/problem+json");
    // the read-only token
    io.restassured.RestAssured.given()
        .header("Authorization", "Bearer test-read-token-0123456789")
        .post(POOLS + "/" + name + ROTATE)
        .then()
        .statusCode(403)
        .contentType("application/problem+json")
        .body("type", equalTo("https://dynofleet.dev/problems/read-only-token"));
    Response after = api().get(POOLS + "/" + name);
    after.then().body("metadata.generation", equalTo(1));
    assertThat(after.header("ETag")).isEqualTo(etag);
    assertThat(secret(name)).isNull();

    // a pool being deleted: its spec can no longer change
    api().delete(POOLS + "/" + name).then().statusCode(202);
    api()
        .post(POOLS + "/" + name + ROTATE)
        .then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("type", equalTo("https://dynofleet.dev/problems/terminating"));
    assertThat(secret(name)).isNull();

    // with the right If-Match it goes through
    String other = uniqueName("rot-ok");
    String tag = api().body(pool(other, 1)).post(POOLS).header("ETag");
    api().header("If-Match", tag).post(POOLS + "/" + other + ROTATE).then().statusCode(200);
    assertThat(secret(other)).isNotNull();
  }
}
