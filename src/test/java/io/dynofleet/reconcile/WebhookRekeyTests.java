package io.dynofleet.reconcile;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.api.HookSignature;
import io.dynofleet.api.HookTarget;
import io.dynofleet.api.PoolService;
import io.dynofleet.sandbox.Simulator;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Security review 3 #4: each pool's release webhook signs with the pool's own secret, derived from
 * DYNOFLEET_WEBHOOK_SECRET, and the hook checks a pool's URL against that pool's secret. A
 * subscription the release before made (given the master secret, and recorded so) is taken with the
 * master secret until the reconciler gives it the pool's own, at its first look after the start.
 * Against the simulator over HTTP, with release webhooks on.
 */
@QuarkusTest
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WebhookRekeyTests {
  private static final String HOOK = "/_dynofleet/api/v1/hooks/heroku";

  @Inject Simulator sim;
  @Inject HerokuPlatform platform;
  @Inject ReconcileStore store;
  @Inject Clock clock;
  @Inject PoolService pools;
  @Inject HookedReconciler processes;

  private SimWorld w;
  private Reconciler hooked;

  @BeforeEach
  void world() {
    w = SimWorld.fresh(sim, null, "rekey");
    hooked = process();
  }

  @AfterEach
  void cleanUp() {
    hooked.stop();
  }

  /** A Dynofleet process with release webhooks on (a new one: what a restart makes). */
  private Reconciler process() {
    return processes.process();
  }

  private UUID uid() {
    return pools.get(w.name()).metadata().uid();
  }

  private String poolSecret() {
    return HookSignature.poolSecret(HookSignature.TEST_SECRET, w.name());
  }

  /** A fresh release notification of the source app to the pool's URL, signed with {@code key}. */
  private io.restassured.response.ValidatableResponse notify(String key) {
    String body =
        """
        {"id": "%s", "created_at": "%s", "resource": "release", "action": "create",
         "data": {"id": "r1", "version": 7, "status": "succeeded", "app": {"name": "%s"}}}"""
            .formatted(UUID.randomUUID(), clock.instant(), w.source());
    return given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.sign(key, body))
        .queryParam("pool", w.name())
        .body(body)
        .post(HOOK)
        .then();
  }

  private void subscribed() {
    w.createPool(0, "", "");
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                hooked.reconcile(new PoolKey(w.name())).outcome() == ReconcileResult.Outcome.DONE
                    && pools.status(w.name()).webhook() != null);
  }

  @Test
  void thePoolsSubscriptionIsGivenThePoolsOwnSecret() {
    subscribed();
    assertThat(sim.webhookSecrets(w.source()).values())
        .as("the secret the simulator's subscription signs with")
        .containsExactly(poolSecret());
    assertThat(store.fleetTimers(uid()).webhookSigned())
        .isEqualTo(HookTarget.fingerprint(poolSecret()));
    notify(poolSecret())
        .statusCode(202)
        .body("reconciling", org.hamcrest.Matchers.contains(w.name()));
    notify(HookSignature.TEST_SECRET).statusCode(401);
  }

  @Test
  void aSubscriptionTheReleaseBeforeMadeIsTakenUntilItIsGivenThePoolsOwnSecret() {
    subscribed();
    // as the release before left it: the subscription signs with the master secret, and the
    // record says so
    String id = pools.status(w.name()).webhook().id();
    platform.resubscribe(w.source(), id, HookSignature.TEST_SECRET);
    store.webhookChecked(uid(), clock.instant(), HookTarget.fingerprint(HookSignature.TEST_SECRET));
    notify(HookSignature.TEST_SECRET)
        .statusCode(202)
        .body("reconciling", org.hamcrest.Matchers.contains(w.name()));
    // delivered by Heroku too: the simulator signs with what the subscription holds
    sim.pushRelease(w.source());
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> delivered(202));

    // the upgraded process: its first look gives the subscription the pool's own secret
    hooked.stop();
    hooked = process();
    hooked.reconcile(new PoolKey(w.name()));
    assertThat(sim.webhookSecrets(w.source()))
        .containsExactly(java.util.Map.entry(id, poolSecret()));
    assertThat(store.fleetTimers(uid()).webhookSigned())
        .isEqualTo(HookTarget.fingerprint(poolSecret()));
    notify(HookSignature.TEST_SECRET)
        .statusCode(401)
        .body("type", org.hamcrest.Matchers.endsWith("bad-signature"));
    notify(poolSecret())
        .statusCode(202)
        .body("reconciling", org.hamcrest.Matchers.contains(w.name()));
  }

  /** Whether a delivery of the source app's webhook got {@code code} back, as Heroku lists it. */
  private boolean delivered(int code) {
    return io.restassured.path.json.JsonPath.from(
            given()
                .baseUri(sim.url())
                .header("Authorization", "Bearer " + sim.apiKey())
                .header("Accept", "application/vnd.heroku+json; version=3")
                .get("/apps/" + w.source() + "/webhook-deliveries")
                .then()
                .statusCode(200)
                .extract()
                .asString())
        .getList("last_attempt.code")
        .contains(code);
  }
}
