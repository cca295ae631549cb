package io.dynofleet.reconcile;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.api.ApiAuth;
import io.dynofleet.api.HookSignature;
import io.dynofleet.api.HookTarget;
import io.dynofleet.api.PoolService;
import io.dynofleet.cli.Cli;
import io.dynofleet.heroku.AppWebhook;
import io.dynofleet.heroku.HerokuClient;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.sandbox.SandboxApp;
import io.dynofleet.sandbox.Simulator;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Release webhooks end to end, in sandbox mode: the live reconciler subscribes each pool on its
 * source app through the real client and the simulator's webhook API; the simulator POSTs signed
 * notifications to Dynofleet's own port; the hook starts the rollout. The sweep runs once an hour
 * here, so a rollout within seconds of a release can only come from the notification.
 */
@QuarkusTest
@TestProfile(SourceWebhookTests.Live.class)
@Timeout(180)
class SourceWebhookTests {
  private static final String TOKEN = "test-token-0123456789";
  private static final String POOLS = "/_dynofleet/api/v1/pools";
  private static final AtomicInteger SEQ = new AtomicInteger();

  /**
   * A live reconciler with release webhooks on, and a sweep too rare to matter; no webhook secret
   * configured, so the sandbox makes one for the run.
   */
  public static class Live implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "dynofleet.api.webhook-secret", "",
          "dynofleet.reconcile.webhooks", "true",
          "dynofleet.reconcile.workers", "2",
          "dynofleet.reconcile.interval", "1h",
          "dynofleet.reconcile.in-flight-requeue", "300ms",
          "dynofleet.reconcile.release-poll", "300ms",
          "dynofleet.reconcile.webhook-check-interval", "1s");
    }
  }

  @Inject Simulator sim;
  @Inject HerokuClient heroku;
  @Inject HookTarget target;
  @Inject ApiAuth auth;
  @Inject io.micrometer.core.instrument.MeterRegistry meters;
  @Inject PoolService pools;
  @Inject ReconcileLoop loop;
  @Inject ReconcileStore store;

  @TestHTTPResource("/")
  URL app;

  private String name;
  private String source;
  private String pipeline;

  @BeforeEach
  void world() {
    String tag = SEQ.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 100000, 36);
    name = "hooked" + tag;
    source = "hsrc" + tag;
    pipeline = "hpipe" + tag;
    sim.createSourceApp(source);
    sim.createPipeline(pipeline);
  }

  private static RequestSpecification api() {
    return given().header("Authorization", "Bearer " + TOKEN).contentType("application/json");
  }

  private void createPool(int replicas) {
    api()
        .body(
            """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "%s", "replicas": %d, "template": {"sourceApp": "%s"},
                  "healthCheck": {"path": "/health", "intervalSeconds": 2, "timeoutSeconds": 2,
                                  "healthyThreshold": 1, "unhealthyThreshold": 3}}}
        """
                .formatted(name, pipeline, replicas, source))
        .post(POOLS)
        .then()
        .statusCode(201);
  }

  private PoolStatus status() {
    return pools.status(name);
  }

  private List<SandboxApp> owned() {
    String uid = pools.get(name).metadata().uid().toString();
    return sim.apps().stream()
        .filter(a -> uid.equals(a.configVars().get(Reconciler.OWNER_VAR)))
        .toList();
  }

  private String hookUrl() {
    return target.of(name).orElseThrow().url();
  }

  /** The deliveries of the app's webhooks, as Heroku's API lists them. */
  private List<Map<String, Object>> deliveries(String app) {
    return JsonPath.from(
            given()
                .baseUri(sim.url())
                .header("Authorization", "Bearer " + sim.apiKey())
                .header("Accept", "application/vnd.heroku+json; version=3")
                .get("/apps/" + app + "/webhook-deliveries")
                .then()
                .statusCode(200)
                .extract()
                .asString())
        .getList("$");
  }

  /**
   * Until the reconciler has left the source app alone for a second (every pass reads its latest
   * release; in flight, passes come every 300 ms): from then on only a notification starts one (or
   * a backend's health changing, which the relaxed health check here makes unlikely).
   */
  private void awaitIdle() {
    String releases = "/apps/" + source + "/releases";
    long[] seen = {-1};
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              long n = sim.callLog().stream().filter(c -> c.path().startsWith(releases)).count();
              boolean quiet = n == seen[0];
              seen[0] = n;
              return quiet;
            });
  }

  private double scheduled() {
    var c = meters.find("dynofleet.hook.notifications").tag("outcome", "scheduled").counter();
    return c == null ? 0 : c.count();
  }

  @SuppressWarnings("unchecked")
  private static Object lastCode(Map<String, Object> delivery) {
    Map<String, Object> last = (Map<String, Object>) delivery.get("last_attempt");
    return last == null ? null : last.get("code");
  }

  @Test
  void aPoolSubscribesItsSourceAppAndAReleaseThereRollsOutWithoutTheSweep() {
    assertThat(hookUrl())
        .matches("http://localhost:\\d+/_dynofleet/api/v1/hooks/heroku\\?pool=" + name);
    createPool(2);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                status().readyReplicas() == 2
                    && status().updatedReplicas() == 2
                    && status().webhook() != null);
    List<AppWebhook> subscribed = heroku.webhooks(source);
    assertThat(subscribed)
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.url()).isEqualTo(hookUrl());
              assertThat(w.include()).containsExactly("api:release");
              assertThat(w.level()).isEqualTo("notify");
              assertThat(status().webhook())
                  .as("named by the source's name, kept by its pinned id (review 30 R30-2)")
                  .isEqualTo(
                      new PoolStatus.Webhook(source, sim.app(source).id(), w.id(), hookUrl()));
            });
    assertThat(pools.events(name, 50)).anyMatch(e -> e.reason().equals("Subscribed"));
    String secret = auth.webhookSecret();
    assertThat(secret)
        .as("made for this sandbox run")
        .isNotNull()
        .hasSize(64)
        .isNotEqualTo(HookSignature.TEST_SECRET);
    String own = HookSignature.poolSecret(secret, name);
    assertThat(sim.webhookSecrets(source).values())
        .as("the subscription signs with the pool's own secret (security review 3 #4)")
        .containsExactly(own);
    assertThat(sim.callLog())
        .as("the secret went to Heroku, not into its call log")
        .noneMatch(c -> c.requestBody().contains(secret) || c.responseBody().contains(secret))
        .noneMatch(c -> c.requestBody().contains(own) || c.responseBody().contains(own))
        .anyMatch(c -> c.path().endsWith("/webhooks") && c.requestBody().contains("[redacted]"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        Cli.run(
            new String[] {"describe", "pool", name},
            Map.of("DYNOFLEET_URL", app.toString(), "DYNOFLEET_API_TOKEN", TOKEN),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("Release hook:", "subscribed on " + source + " (", hookUrl());
    awaitIdle();

    double scheduled = scheduled();
    SandboxApp pushed = sim.pushRelease(source);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                owned().size() == 2
                    && owned().stream().allMatch(a -> pushed.slugId().equals(a.slugId()))
                    && status().readyReplicas() == 2);
    assertThat(scheduled()).as("the notification scheduled the pass").isGreaterThan(scheduled);
    // heard for every dyno (review 25 #3: the longer idle turn trusts deliveries heard, not the
    // subscription), and a release that came by its delivery is no silence
    assertThat(store.fleetTimers(pools.get(name).metadata().uid()).webhookHeardAt())
        .as("the delivery is recorded as heard")
        .isNotNull();
    assertThat(status().conditions()).noneMatch(c -> c.type().equals("WebhookSilent"));
    // signed with the secret Dynofleet made and gave Heroku, and accepted without the API token
    assertThat(deliveries(source))
        .anySatisfy(
            d -> {
              assertThat(d.get("status")).isEqualTo("succeeded");
              assertThat(lastCode(d)).isEqualTo(202);
            });
  }

  @Test
  void theSubscriptionIsAdoptedMovedRemadeAndRemovedWithThePool() {
    // as if a process had made it and died before writing the status: another secret, no record
    AppWebhook leftover =
        heroku.createWebhook(source, List.of("api:build"), "notify", hookUrl(), "not-ours-anymore");
    createPool(1);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> status().readyReplicas() == 1 && status().webhook() != null);
    assertThat(status().webhook().id()).isEqualTo(leftover.id());
    assertThat(heroku.webhooks(source))
        .singleElement()
        .satisfies(w -> assertThat(w.include()).containsExactly("api:release"));
    sim.pushRelease(source);
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                deliveries(source).stream()
                    .anyMatch(d -> Integer.valueOf(202).equals(lastCode(d))));
    assertThat(deliveries(source)).noneMatch(d -> Integer.valueOf(401).equals(lastCode(d)));

    String other = "h2" + source;
    sim.createSourceApp(other);
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\": {\"template\": {\"sourceApp\": \"" + other + "\"}}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                status().webhook() != null
                    && status().webhook().app().equals(other)
                    && status().webhook().appId().equals(sim.app(other).id()));
    assertThat(heroku.webhooks(source)).isEmpty();
    AppWebhook moved = heroku.webhooks(other).get(0);
    assertThat(heroku.webhooks(other)).hasSize(1);

    // by hand: the next pass after the check is due makes it again
    heroku.deleteWebhook(other, moved.id());
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(300))
        .until(
            () -> {
              loop.enqueue(name, Duration.ZERO);
              return heroku.webhooks(other).size() == 1;
            });
    assertThat(heroku.webhooks(other).get(0).id()).isNotEqualTo(moved.id());

    api().delete(POOLS + "/" + name).then().statusCode(202);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> api().get(POOLS + "/" + name).statusCode() == 404);
    assertThat(heroku.webhooks(other)).isEmpty();
    assertThat(heroku.webhooks(source)).isEmpty();
  }
}
