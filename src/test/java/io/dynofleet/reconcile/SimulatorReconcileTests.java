package io.dynofleet.reconcile;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.dynofleet.api.PoolService;
import io.dynofleet.config.ReconcileConfig;
import io.dynofleet.heroku.HerokuClient;
import io.dynofleet.heroku.HerokuConfig;
import io.dynofleet.heroku.TestHerokuClients;
import io.dynofleet.pool.model.Backend;
import io.dynofleet.pool.model.PoolEvents;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.proxy.RouteSync;
import io.dynofleet.proxy.RoutingTable;
import io.dynofleet.sandbox.SandboxApp;
import io.dynofleet.sandbox.SandboxCall;
import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The control plane end to end: pools created through the REST API, the real reconciler driven pass
 * by pass (no schedule, no sleeps), the real Heroku client over HTTP to the simulator, real
 * PostgreSQL, and the real proxy health probes deciding readiness, since every simulated backend is
 * a real HTTP server on loopback.
 */
@QuarkusTest
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SimulatorReconcileTests {
  private static final String TOKEN = "test-token-0123456789";
  private static final String POOLS = "/_dynofleet/api/v1/pools";
  private static final AtomicInteger SEQ = new AtomicInteger();

  @Inject Simulator sim;
  @Inject Reconciler reconciler;
  @Inject RouteSync routes;
  @Inject RoutingTable table;
  @Inject io.agroal.api.AgroalDataSource db;
  @Inject HerokuClient heroku;
  @Inject HerokuPlatform platform;
  @Inject HerokuConfig herokuConfig;
  @Inject ReconcileStore store;
  @Inject PoolLocks locks;
  @Inject io.dynofleet.proxy.VerdictStore verdicts;
  @Inject PoolEvents events;
  @Inject PoolService pools;
  @Inject ReconcileConfig config;
  @Inject Clock clock;
  @Inject MeterRegistry registry;
  @Inject io.dynofleet.api.HookTarget hookTarget;
  @Inject ReconcileLoop loop;

  private String name;
  private String source;
  private String pipeline;
  private final List<Reconciler> extra = new ArrayList<>();

  @BeforeEach
  void world() {
    sim.resetFaults();
    int n = SEQ.incrementAndGet();
    String tag = Long.toString(System.nanoTime() % 100000, 36);
    name = "sim" + n + "-" + tag;
    source = "src" + n + "-" + tag;
    pipeline = "pipe" + n + "-" + tag;
    sim.createSourceApp(source);
    sim.createPipeline(pipeline);
    reconciler.forgetCaches();
  }

  @AfterEach
  void cleanUp() {
    sim.resetFaults();
    extra.forEach(Reconciler::stop);
    extra.clear();
  }

  // ------------------------------------------------------------------ fixtures

  /** What the simulator's echo shows for the proxy's secret when its app holds that one. */
  private static final String ECHOED_SECRET_MATCHES = "(not shown; matches DYNOFLEET_PROXY_SECRET)";

  private static RequestSpecification api() {
    return given().header("Authorization", "Bearer " + TOKEN).contentType("application/json");
  }

  private void createPool(int replicas, String extraSpec) {
    createPool(replicas, extraSpec, "");
  }

  /** {@code extraTemplate}: more fields of the template, each led by a comma. */
  private void createPool(int replicas, String extraSpec, String extraTemplate) {
    api()
        .body(
            """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "%s", "replicas": %d,
                  "template": {"sourceApp": "%s", "dynoSize": "basic", "configVars": {"ROLE": "backend"}%s},
                  "healthCheck": {"path": "/health", "intervalSeconds": 1, "timeoutSeconds": 1,
                                  "healthyThreshold": 1, "unhealthyThreshold": 1, "replaceAfterSeconds": 30},
                  "routing": {"hosts": ["%s.sim.test"]}
                  %s}}
        """
                .formatted(name, pipeline, replicas, source, extraTemplate, name, extraSpec))
        .post(POOLS)
        .then()
        .statusCode(201);
  }

  private void scale(int n) {
    api()
        .body("{\"replicas\": " + n + "}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(200);
  }

  private void patch(String json) {
    api()
        .contentType("application/merge-patch+json")
        .body(json)
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200);
  }

  /** Every backend of the pool checked for drift longest ago, by any dyno. */
  private void driftDue() {
    try (var c = db.getConnection();
        var st =
            c.prepareStatement(
                "update backends set drift_checked_at = timestamptz '2000-01-01' where pool_id = ?")) {
      st.setObject(1, java.util.UUID.fromString(uid()));
      st.executeUpdate();
    } catch (java.sql.SQLException e) {
      throw new AssertionError(e);
    }
  }

  private ReconcileResult pass() {
    return reconciler.reconcile(new PoolKey(name));
  }

  /** Passes until one has nothing left in flight and {@code ready} backends are ready. */
  private void converge(int ready) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                pass().outcome() == ReconcileResult.Outcome.DONE
                    && status().readyReplicas() == ready
                    && status().replicas() == ready);
  }

  private PoolStatus status() {
    return pools.status(name);
  }

  private String uid() {
    return pools.get(name).metadata().uid().toString();
  }

  /** Apps in the simulator carrying this pool's ownership marker. */
  private List<SandboxApp> owned() {
    String uid = uid();
    return sim.apps().stream()
        .filter(a -> uid.equals(a.configVars().get(Reconciler.OWNER_VAR)))
        .toList();
  }

  private Set<String> ownedNames() {
    return owned().stream().map(SandboxApp::name).collect(Collectors.toSet());
  }

  /** Apps named like this pool's backends, owned or not: a twin or an orphan shows up here. */
  private List<SandboxApp> named() {
    return sim.apps().stream().filter(a -> a.name().startsWith(name + "-")).toList();
  }

  private List<SandboxCall> calls(String method, String pathPrefix, int status) {
    return sim.callLog().stream()
        .filter(
            c ->
                c.method().equals(method)
                    && c.path().startsWith(pathPrefix)
                    && c.status() == status)
        .toList();
  }

  /** Whether a call's body names an app ever made for this pool (a made app is named by its id). */
  private boolean namesOwnedApp(SandboxCall c) {
    return madeIds().stream().anyMatch(id -> c.requestBody().contains("\"" + id + "\""));
  }

  /** The ids of every app made for this pool, deleted ones too, from the create answers. */
  private Set<String> madeIds() {
    Set<String> ids = new HashSet<>();
    for (SandboxCall c : sim.callLog()) {
      if (c.method().equals("POST")
          && (c.path().equals("/apps") || c.path().equals("/teams/apps"))
          && c.status() == 201
          && c.requestBody().contains("\"" + name + "-")) {
        ids.add(new io.vertx.core.json.JsonObject(c.responseBody()).getString("id"));
      }
    }
    return ids;
  }

  /**
   * Successful app creates for this pool: exactly one per backend ever made, or there was a twin.
   */
  private long appCreates() {
    return calls("POST", "/apps", 201).stream()
        .filter(c -> c.path().equals("/apps") && c.requestBody().contains("\"" + name + "-"))
        .count();
  }

  private String condition(String type) {
    return status().conditions().stream()
        .filter(c -> c.type().equals(type))
        .map(c -> c.status() + "/" + c.reason())
        .findFirst()
        .orElse("none");
  }

  /**
   * The pool's stored source pin is gone, as for a pool copying its source since before the pin was
   * kept (after the upgrade).
   */
  private void unpin() {
    updatePool(
        "update pool_sweeps set source_app_pin = null, source_app_pin_for = null"
            + " where pool_id = ?");
  }

  /** Runs {@code sql}, whose one parameter is this test's pool's id, on one row. */
  private void updatePool(String sql) {
    try (var c = db.getConnection();
        var st = c.prepareStatement(sql)) {
      st.setObject(1, java.util.UUID.fromString(uid()));
      assertThat(st.executeUpdate()).isEqualTo(1);
    } catch (java.sql.SQLException e) {
      throw new AssertionError(e);
    }
  }

  private List<String> eventReasons() {
    return pools.events(name, 200).stream().map(e -> e.reason()).toList();
  }

  private Reconciler reconcilerOn(Platform p) {
    Reconciler r =
        new Reconciler(store, locks, p, routes, events, config, clock, registry, hookTarget);
    extra.add(r);
    return r;
  }

  /** Every owned app: a release of the source's current slug, one web dyno, coupled, serving. */
  private void assertBackendsLookLikeTheSource(int n) {
    SandboxApp src = sim.app(source);
    List<SandboxApp> owned = owned();
    assertThat(owned).hasSize(n);
    assertThat(named()).as("no twin, no orphan").hasSize(n);
    for (SandboxApp a : owned) {
      assertThat(a.slugId()).isEqualTo(src.slugId());
      assertThat(a.webQuantity()).isEqualTo(1);
      assertThat(a.webSize()).isEqualTo("basic");
      assertThat(a.configVars()).containsEntry("ROLE", "backend");
      assertThat(a.pipelineId()).isNotNull();
      assertThat(a.stage()).isEqualTo("production");
      assertThat(a.serving()).isTrue();
    }
  }

  /** GETs through this process's proxy until every expected backend has answered, and no other. */
  private void assertProxyServesFrom(Set<String> apps) {
    Set<String> seen = new HashSet<>();
    await()
        .atMost(Duration.ofSeconds(20))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              var r = given().header("Host", name + ".sim.test").get("/hello");
              if (r.statusCode() == 200) {
                seen.add(r.header("X-Sandbox-App"));
              }
              return seen.containsAll(apps);
            });
    assertThat(seen).isEqualTo(apps);
  }

  // ------------------------------------------------------------------ scaling and deletion

  /**
   * Audit 22 L6: Heroku refusing the app create (the account's app limit) fails the pass as
   * CreateFailed, retried only every max-backoff as InvalidSpec is, but its line gave no hint of
   * the levers that retry sooner, as InvalidSpec's does.
   */
  @Test
  void aRefusedCreateLogsTheRealRetryAndTheLevers() {
    sim.refuse(
        "POST /apps",
        422,
        "invalid_params",
        "You've reached the limit of 100 apps for this account.");
    createPool(1, "");
    try (io.dynofleet.LogCapture logs = io.dynofleet.LogCapture.of(ReconcileLoop.class)) {
      ReconcileResult r = loop.run(name);
      assertThat(r.requeueAfter()).isEqualTo(config.maxBackoff());
      assertThat(logs.records())
          .map(io.dynofleet.LogCapture::text)
          .filteredOn(t -> t.contains("pool=" + name + " failed"))
          .singleElement()
          .satisfies(
              t ->
                  assertThat(t)
                      .contains("error=\"CreateFailed: create a new app: ")
                      .contains("retry_in=" + config.maxBackoff().toSeconds() + "s")
                      .contains("a spec change or a restart retries at once"));
    }
    assertThat(condition("Degraded")).isEqualTo("True/CreateFailed");
  }

  /**
   * Audit 22 L5: the audit read retry_in=30 for a pass failing with InvalidSpec that was retried
   * after max-backoff (5 min). The line's value is the requeue's own (pinned here at max-backoff),
   * and it names the levers that retry sooner. L6: in the sandbox the advice was {@code heroku
   * pipelines:create}, which the sandbox has no use for.
   */
  @Test
  void aMissingPipelineInTheSandboxLogsTheRealRetryAndTheSimulatorsWay() {
    pipeline = pipeline + "-missing";
    createPool(1, "");
    ReconcileResult r;
    try (io.dynofleet.LogCapture logs = io.dynofleet.LogCapture.of(ReconcileLoop.class)) {
      r = loop.run(name);
      assertThat(r.requeueAfter()).isEqualTo(config.maxBackoff());
      assertThat(logs.records())
          .map(io.dynofleet.LogCapture::text)
          .filteredOn(t -> t.contains("pool=" + name + " failed"))
          .singleElement()
          .satisfies(
              t ->
                  assertThat(t)
                      .contains("retry_in=" + config.maxBackoff().toSeconds() + "s")
                      .contains("a spec change or a restart retries at once"));
    }
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.message())
                    .contains("curl -X POST " + sim.url())
                    .contains("__sandbox/pipelines/" + pipeline)
                    .doesNotContain("heroku pipelines:create")
                    .doesNotContain(sim.apiKey()));
  }

  /**
   * Audit 22 L6: a paused pool scaled from 2 to 1 keeps its 2 backends, and its Ready condition
   * said "2/1 backends ready", which read as a fraction.
   */
  @Test
  void theReadyConditionSaysHowManyAreReadyAndWanted() {
    createPool(2, "");
    converge(2);
    patch("{\"spec\": {\"paused\": true}}");
    scale(1);
    pass();
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Ready"))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.status()).as("enough are ready").isEqualTo("True");
              assertThat(c.message())
                  .isEqualTo(
                      "2 backends ready, 1 wanted (1 more than wanted until the rollout or"
                          + " scale-down drains it)");
            });
    assertThat(Reconciler.readyOfWanted(1, 1)).isEqualTo("1 backend ready, 1 wanted");
  }

  /**
   * Audit 26 I3: the simulator's admin routes (no auth) answered every backend's config vars with
   * {@code DYNOFLEET_PROXY_SECRET} in clear, the other door to what the echo hides. A var named
   * like a secret is not shown there (in-process code still reads it).
   */
  @Test
  void theSandboxAdminRoutesShowNoSecretVar() {
    createPool(1, "");
    converge(1);
    SandboxApp backend = owned().get(0);
    String secret = backend.configVars().get(Reconciler.PROXY_SECRET_VAR);
    assertThat(secret).isNotBlank();
    String listed =
        given().get(sim.url() + "__sandbox/apps").then().statusCode(200).extract().asString();
    assertThat(listed).contains(backend.name()).doesNotContain(secret);
    Map<String, Object> vars =
        given()
            .get(sim.url() + "__sandbox/apps")
            .jsonPath()
            .getMap("find { it.name == '" + backend.name() + "' }.configVars");
    assertThat(vars)
        .containsEntry(Reconciler.PROXY_SECRET_VAR, "(not shown)")
        .containsEntry("ROLE", "backend");
    for (String route : List.of("backend/crashed", "backend/healthy", "push")) {
      String answer =
          given()
              .post(sim.url() + "__sandbox/apps/" + backend.name() + "/" + route)
              .then()
              .statusCode(200)
              .extract()
              .asString();
      assertThat(answer).as(route).contains(backend.name()).doesNotContain(secret);
    }
  }

  /**
   * Audit 26 I5: the simulated Redis add-on hands out a {@code redis://} URL, after a rotation too.
   */
  @Test
  void theSandboxRedisAddonGetsARedisUrl() {
    String redis =
        given()
            .post(sim.url() + "__sandbox/apps/" + source + "/addons/heroku-redis")
            .then()
            .statusCode(200)
            .extract()
            .path("name");
    String url = sim.app(source).configVars().get("HEROKU_REDIS_URL");
    assertThat(url).startsWith("redis://:").endsWith("@127.0.0.1:6379");
    given().post(sim.url() + "__sandbox/addons/" + redis + "/rotate").then().statusCode(200);
    assertThat(sim.app(source).configVars().get("HEROKU_REDIS_URL"))
        .startsWith("redis://:")
        .isNotEqualTo(url);
  }

  /**
   * Audit 20 H2, end to end: the secret the proxy sends a pool's backends in {@code
   * X-Dynofleet-Proxy-Secret} is the one their apps got as DYNOFLEET_PROXY_SECRET, so an app can
   * tell a request through Dynofleet from one sent to its herokuapp.com address. The simulator's
   * echo says whether it matches and never shows it (audit 24 I4), nor other secret-named headers.
   */
  @Test
  void theProxySendsTheSecretItsBackendsHold() {
    createPool(2, "");
    converge(2);
    List<String> secrets =
        owned().stream().map(a -> a.configVars().get(Reconciler.PROXY_SECRET_VAR)).toList();
    assertThat(secrets).hasSize(2).doesNotContainNull();
    assertThat(secrets.get(1)).isEqualTo(secrets.get(0));
    await()
        .atMost(Duration.ofSeconds(20))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () -> {
              var r =
                  given()
                      .header("Host", name + ".sim.test")
                      .header("X-Dynofleet-Proxy-Secret", "guess")
                      .header("X-Api-Token", "t0ps3cret")
                      .get("/hello");
              assertThat(r.statusCode()).isEqualTo(200);
              Map<String, String> headers = r.jsonPath().getMap("headers");
              // the echo checks it as an app should, and shows it to no client (audit 24 I4)
              assertThat(headers)
                  .containsEntry("X-Dynofleet-Proxy-Secret", ECHOED_SECRET_MATCHES)
                  .containsEntry("X-Api-Token", "(not shown)");
              assertThat(r.asString()).doesNotContain(secrets.get(0), "t0ps3cret");
            });
  }

  /**
   * A rotation through the API ({@code POST .../proxy-secret/rotate}) rolls the pool; while old and
   * new backends both serve, each is sent the secret its app holds (the old apps the one before,
   * which sent the new one would distrust X-Dynofleet-Client-Ip until replaced); at the end every
   * app holds the new one, and it is what the proxy sends. The secret is in no answer and no log
   * line of the control plane or the proxy.
   */
  @Test
  void aRotatedProxySecretReachesEveryBackendAndNoOldOneMeanwhile() {
    createPool(2, ", \"rollout\": {\"maxSurge\": 1, \"maxUnavailable\": 0}");
    converge(2);
    Set<String> old = ownedNames();
    String before = owned().get(0).configVars().get(Reconciler.PROXY_SECRET_VAR);
    assertThat(before).isNotNull();
    try (io.dynofleet.LogCapture logs = io.dynofleet.LogCapture.under("io.dynofleet")) {
      String answer =
          api()
              .post(POOLS + "/" + name + "/proxy-secret/rotate")
              .then()
              .statusCode(200)
              .extract()
              .asString();
      String now = store.existingProxySecret(java.util.UUID.fromString(uid()));
      assertThat(now).isNotNull().isNotEqualTo(before);
      assertThat(answer).doesNotContain(before).doesNotContain(now);
      assertThat(eventReasons()).contains("ProxySecretRotated");

      // passes until a new backend serves beside an old one (maxSurge 1: one at a time)
      await()
          .atMost(Duration.ofSeconds(60))
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                pass();
                List<PoolStatus.BackendStatus> ready =
                    status().backends().stream().filter(b -> "Ready".equals(b.phase())).toList();
                return ready.stream().anyMatch(b -> old.contains(b.app()))
                    && ready.stream().anyMatch(b -> !old.contains(b.app()));
              });
      routes.sync();
      Map<String, String> sent = new java.util.HashMap<>();
      await()
          .atMost(Duration.ofSeconds(20))
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(20))
          .until(
              () -> {
                var r = given().header("Host", name + ".sim.test").get("/hello");
                if (r.statusCode() == 200) {
                  String app = r.header("X-Sandbox-App");
                  Map<String, String> headers = r.jsonPath().getMap("headers");
                  assertThat(headers.get("X-Dynofleet-Proxy-Secret"))
                      .as("what %s is sent is what its app holds", app)
                      .isEqualTo(ECHOED_SECRET_MATCHES);
                  sent.put(
                      old.contains(app) ? "old" : "new",
                      sim.app(app).configVars().get(Reconciler.PROXY_SECRET_VAR));
                }
                return sent.size() == 2;
              });
      assertThat(sent).containsEntry("old", before).containsEntry("new", now);

      await()
          .atMost(Duration.ofSeconds(90))
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  pass().outcome() == ReconcileResult.Outcome.DONE
                      && status().updatedReplicas() == 2
                      && status().readyReplicas() == 2
                      && status().replicas() == 2);
      assertThat(ownedNames()).hasSize(2).doesNotContainAnyElementsOf(old);
      assertThat(owned())
          .allSatisfy(
              a -> assertThat(a.configVars()).containsEntry(Reconciler.PROXY_SECRET_VAR, now));
      routes.sync();
      for (int i = 0; i < 4; i++) {
        var r = given().header("Host", name + ".sim.test").get("/hello");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.jsonPath().getMap("headers"))
            .containsEntry("X-Dynofleet-Proxy-Secret", ECHOED_SECRET_MATCHES);
      }
      assertThat(logs.records())
          .isNotEmpty()
          .allSatisfy(
              r ->
                  assertThat(io.dynofleet.LogCapture.text(r))
                      .doesNotContain(before)
                      .doesNotContain(now));
    }
  }

  /**
   * Review 6: every backend was made with POST /apps, so it was the key holder's own app. Heroku
   * couples only apps of the pipeline's owner: on a team's pipeline every coupling was refused (and
   * taken for "already coupled"), and the apps were billed to the person, not the team.
   */
  @Test
  void aTeamsPipelineGetsTheTeamsApps() {
    pipeline = pipeline + "-t";
    sim.createTeamPipeline(pipeline, "acme-" + name);
    createPool(2, "");
    converge(2);
    assertThat(owned())
        .hasSize(2)
        .allSatisfy(
            a -> {
              assertThat(sim.teamOf(a.name())).isEqualTo("acme-" + name);
              assertThat(a.pipelineId()).isNotNull();
            });
    assertThat(calls("POST", "/teams/apps", 201))
        .filteredOn(c -> c.requestBody().contains("\"" + name + "-"))
        .hasSize(2); // the call log is shared with the other tests (review 8)
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /**
   * Review 6: a template without a stack gave Heroku's default stack for the source's slug, and an
   * eu source's backends were made in us (then the default region, kept: review 9) without a word.
   * A region named apart from the source's is said.
   */
  @Test
  void backendsTakeTheSourcesStackAndARegionElsewhereIsSaid() {
    source = source + "-eu";
    sim.createSourceApp(source, "eu", "heroku-22");
    createPool(1, "", ", \"region\": \"us\"");
    converge(1);
    assertThat(owned())
        .singleElement()
        .satisfies(a -> assertThat(sim.placeOf(a.name())).isEqualTo("us/heroku-22"));
    assertThat(eventReasons()).contains("RegionDiffers");
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("RegionDiffers"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("set spec.template.region to eu"));
  }

  /**
   * Audit 20 M4: the guides' first pool names no region, and an eu source's backends were made in
   * us, every request and database round trip crossing the ocean, with a RegionDiffers warning as
   * the only sign. {@code source}, the default now, makes them where the source is, and says
   * nothing; and "eu" named for that source is the same target (no rollout).
   */
  @Test
  void backendsAreMadeInTheSourcesRegionByDefault() {
    source = source + "-eu";
    sim.createSourceApp(source, "eu", "heroku-22");
    createPool(1, "");
    api()
        .get(POOLS + "/" + name)
        .then()
        .body("spec.template.region", org.hamcrest.Matchers.equalTo("source"));
    converge(1);
    assertThat(owned())
        .singleElement()
        .satisfies(a -> assertThat(sim.placeOf(a.name())).isEqualTo("eu/heroku-22"));
    assertThat(eventReasons()).doesNotContain("RegionDiffers");
    Set<String> apps = ownedNames();
    patch("{\"spec\": {\"template\": {\"region\": \"eu\"}}}");
    converge(1);
    assertThat(ownedNames()).as("not rolled").isEqualTo(apps);
  }

  /**
   * Audit 24 I1: neither the status nor describe said where a backend runs, so after a region or
   * stack change nothing in Dynofleet confirmed it. Each backend says its region and stack, an old
   * one during the rollout still its own.
   */
  @Test
  void eachBackendSaysItsRegionAndStackThroughARollout() {
    source = source + "-eu";
    sim.createSourceApp(source, "eu", "heroku-22");
    createPool(1, "");
    converge(1);
    assertThat(status().backends())
        .singleElement()
        .satisfies(
            b -> {
              assertThat(sim.placeOf(b.app())).isEqualTo("eu/heroku-22");
              assertThat(b.region()).isEqualTo("eu");
              assertThat(b.stack()).isEqualTo("heroku-22");
            });
    Set<String> old = ownedNames();
    patch("{\"spec\": {\"template\": {\"region\": \"us\", \"stack\": \"heroku-24\"}}}");
    boolean[] sawBoth = {false};
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              boolean done = pass().outcome() == ReconcileResult.Outcome.DONE;
              List<PoolStatus.BackendStatus> listed = status().backends();
              for (PoolStatus.BackendStatus b : listed) {
                String place = old.contains(b.app()) ? "eu/heroku-22" : "us/heroku-24";
                assertThat(b.region() + "/" + b.stack()).as(b.app()).isEqualTo(place);
                if (ownedNames().contains(b.app())) {
                  assertThat(sim.placeOf(b.app())).as(b.app()).isEqualTo(place);
                }
              }
              sawBoth[0] |= listed.stream().map(b -> old.contains(b.app())).distinct().count() == 2;
              return done
                  && status().readyReplicas() == 1
                  && listed.stream().noneMatch(b -> old.contains(b.app()));
            });
    assertThat(sawBoth[0]).as("an old and a new backend listed together").isTrue();
  }

  /**
   * Audit 20 L5: the stage defaulted to production whatever the source's, so a pool of a staging
   * source put its backends in production, where a promotion released onto them. {@code source},
   * the default now, couples them where the source is; "staging" named for that source is the same
   * target (no rollout).
   */
  @Test
  void backendsAreCoupledAtTheSourcesStageByDefault() {
    sim.couple(source, pipeline, "staging");
    createPool(1, "");
    api()
        .get(POOLS + "/" + name)
        .then()
        .body("spec.template.stage", org.hamcrest.Matchers.equalTo("source"));
    converge(1);
    assertThat(owned()).singleElement().satisfies(a -> assertThat(a.stage()).isEqualTo("staging"));
    assertThat(eventReasons()).doesNotContain("SourceNotInPipeline");
    Set<String> apps = ownedNames();
    patch("{\"spec\": {\"template\": {\"stage\": \"staging\"}}}");
    converge(1);
    assertThat(ownedNames()).as("not rolled").isEqualTo(apps);
  }

  /**
   * Audit 20 L5: a source outside the pool's pipeline has no stage to take. The backends go where
   * every pool's went before (production) and a Warning says how to choose; once the source is
   * coupled, the pool follows its stage (new apps there).
   */
  @Test
  void aSourceOutsideThePipelineGivesProductionWithAWarningUntilItIsCoupled() {
    createPool(1, "");
    converge(1);
    assertThat(owned())
        .singleElement()
        .satisfies(a -> assertThat(a.stage()).isEqualTo("production"));
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("SourceNotInPipeline"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.message())
                    .contains(
                        "not coupled to pipeline " + pipeline,
                        "heroku pipelines:add " + pipeline + " -a " + source));
    Set<String> apps = ownedNames();
    sim.couple(source, pipeline, "staging");
    // noticed at the couplings' next read: every drift interval for the fleet (audit 21 H1, review
    // 25 #9; a start within it takes the fleet's read), here the interval over
    intervalOver();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              pass();
              List<SandboxApp> now = owned();
              return now.size() == 1
                  && !apps.contains(now.get(0).name())
                  && "staging".equals(now.get(0).stage())
                  && status().readyReplicas() == 1;
            });
  }

  /**
   * A pipeline id stored for the fleet that Heroku no longer knows (the pipeline deleted and made
   * again under its name; a sandbox started again on a kept database, whose simulator is new) is
   * looked up by name anew in the same pass. The pass failed as InvalidSpec "pipeline not found"
   * and waited out its backoff (5 minutes) though the pipeline was there (PackagedJarIT's kept
   * database run met it).
   */
  @Test
  void aStalePipelineIdStoredForTheFleetIsLookedUpAnewInTheSamePass() {
    createPool(1, "");
    converge(1);
    String real = storedPipelineId();
    assertThat(real).as("looked up and stored for the fleet").isNotNull();
    try (var c = db.getConnection();
        var st =
            c.prepareStatement(
                "update pool_sweeps set pipeline_id = ?, pipeline_read_at = now()"
                    + " where pool_id = (select id from pools where name = ?)")) {
      st.setString(1, java.util.UUID.randomUUID().toString());
      st.setString(2, name);
      assertThat(st.executeUpdate()).isEqualTo(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    intervalOver(); // the couplings are due, and this process forgets its own reads (a restart)
    pass();
    assertThat(pools.events(name, 200))
        .extracting(io.dynofleet.api.EventDocument::reason)
        .doesNotContain("InvalidSpec");
    assertThat(status().conditions()).noneMatch(c -> "InvalidSpec".equals(c.reason()));
    assertThat(storedPipelineId()).isEqualTo(real);
  }

  private String storedPipelineId() {
    try (var c = db.getConnection();
        var st =
            c.prepareStatement(
                "select pipeline_id from pool_sweeps"
                    + " where pool_id = (select id from pools where name = ?)")) {
      st.setString(1, name);
      try (var rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The drift interval over since the fleet last read the pool's couplings (and this process). */
  private void intervalOver() {
    try (var c = db.getConnection();
        var st =
            c.prepareStatement(
                "update pool_sweeps set couplings_read_at = couplings_read_at - ?::interval"
                    + " where pool_id = (select id from pools where name = ?)")) {
      st.setString(1, config.driftCheckInterval().toSeconds() + " seconds");
      st.setString(2, name);
      assertThat(st.executeUpdate()).isEqualTo(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    reconciler.forgetCaches(); // and this process's own read
  }

  /**
   * Review 9: AddonNotShared and RegionDiffers were raised again after every process start (their
   * once-only memory was the process's), on every dyno, for every such pool: a Warning and a WARN
   * log line per deploy and daily restart, though nothing changed. Once per cause now.
   */
  @Test
  void addonNotSharedAndRegionDiffersAreSaidOnceAcrossRestarts() {
    source = source + "-eu";
    sim.createSourceApp(source, "eu", "heroku-22");
    sim.createAddon(source, "mailgun");
    createPool(1, "", ", \"region\": \"us\"");
    converge(1);
    for (int restart = 0; restart < 2; restart++) {
      reconciler.forgetCaches(); // what a process start forgets
      converge(1);
    }
    for (String reason : List.of("RegionDiffers", "AddonNotShared")) {
      assertThat(pools.events(name, 200))
          .filteredOn(e -> e.reason().equals(reason))
          .as(reason)
          .singleElement()
          .satisfies(e -> assertThat(e.count()).isEqualTo(1));
    }
  }

  /**
   * Once per cause, not once per event row: a region mismatch fixed and then brought back (the
   * template's region set to the source's, then back) is said again. Before, the row of the first
   * time kept it silent for as long as the row lived.
   */
  @Test
  void aCauseThatClearedAndCameBackIsSaidAgain() {
    source = source + "-eu";
    sim.createSourceApp(source, "eu", "heroku-22");
    createPool(1, "", ", \"region\": \"us\"");
    converge(1);
    patch("{\"spec\": {\"template\": {\"region\": \"eu\"}}}");
    converge(1);
    reconciler.forgetCaches(); // and a restart in between changes nothing
    converge(1);
    patch("{\"spec\": {\"template\": {\"region\": \"us\"}}}");
    converge(1);
    reconciler.forgetCaches(); // while it stands, a restart does not say it again
    converge(1);
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("RegionDiffers"))
        .singleElement()
        .satisfies(e -> assertThat(e.count()).isEqualTo(2));
  }

  /** Review 6: a Fir source app's releases carry no slug: the pool said "waits" for ever. */
  @Test
  void aFirSourceAppIsRefusedClearly() {
    sim.fir(source);
    createPool(1, "");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(status().conditions())
        .anySatisfy(c -> assertThat(c.message()).contains("Fir-generation"));
    assertThat(named()).isEmpty();
  }

  /**
   * Security review 1: a pool could copy Dynofleet itself (or any app given its key) with {@code
   * HEROKU_API_URL} set to another host, and the copy sent the account's key there.
   */
  @Test
  void aSourceAppHoldingDynofleetsOwnKeyIsNotCopied() {
    platform.patchConfigVars(
        source, Map.of("NETRC_URL", "https://:" + sim.apiKey() + "@api.heroku.com"));
    createPool(1, "");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(status().conditions())
        .anySatisfy(
            c ->
                assertThat(c.message())
                    .contains("Dynofleet's own Heroku API key (config var NETRC_URL)")
                    .doesNotContain(sim.apiKey()));
    assertThat(named()).isEmpty();
  }

  /**
   * Security review 5 S5-4: the key base64-encoded (a CI app's credentials file in one var) was not
   * found, and the source was copied, key and all, to every backend.
   */
  @Test
  void aSourceAppHoldingDynofleetsKeyBase64EncodedIsNotCopied() {
    platform.patchConfigVars(
        source,
        Map.of(
            "HEROKU_CREDENTIALS_B64",
            java.util.Base64.getEncoder()
                .encodeToString(
                    ("machine api.heroku.com\n  login ci@example.com\n  password "
                            + sim.apiKey()
                            + "\n")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    createPool(1, "");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(status().conditions())
        .anySatisfy(
            c ->
                assertThat(c.message())
                    .contains(
                        "Dynofleet's own Heroku API key (config var HEROKU_CREDENTIALS_B64)"));
    assertThat(named()).isEmpty();
  }

  /**
   * Security review 5, S5-6: a pool followed its source by name, and whoever next created an app
   * under a deleted source's name had its slug and config vars released onto the backends (the
   * release number even went down), with no Warning. The source's id is pinned: another app under
   * the name is SourceReplaced, nothing is made from it, also after a restart, the backends keep
   * serving, and a rollout restart confirms it.
   */
  @Test
  void anAppTakingADeletedSourcesNameIsNotCopiedUntilConfirmed() {
    sim.pushRelease(source); // the app that takes the name starts at a lower release number
    createPool(1, "");
    converge(1);
    Set<String> serving = ownedNames();
    String copied = sim.app(source).id();
    platform.deleteApp(source);
    sim.createSourceApp(source); // someone else's app under the freed name
    platform.patchConfigVars(source, Map.of("PLANTED", "by-whoever-took-the-name"));
    String taker = sim.app(source).id();
    for (int restart = 0; restart < 2; restart++) {
      assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
      assertThat(condition("Degraded")).isEqualTo("True/SourceReplaced");
      reconciler.forgetCaches(); // a restart, or another dyno: the pin is the store's
    }
    assertThat(ownedNames()).isEqualTo(serving);
    assertThat(owned()).noneMatch(a -> a.configVars().containsKey("PLANTED"));
    assertThat(condition("Ready")).startsWith("True/");
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(c -> assertThat(c.message()).contains(copied, taker, "rollout restart " + name));
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("SourceReplaced"))
        .singleElement()
        .satisfies(e -> assertThat(e.type()).isEqualTo("Warning"));
    assertProxyServesFrom(serving);

    // the operator confirms the new app: it is copied from then on
    patch("{\"spec\": {\"template\": {\"restartedAt\": \"" + java.time.Instant.now() + "\"}}}");
    converge(1);
    assertThat(owned())
        .singleElement()
        .satisfies(
            a -> assertThat(a.configVars()).containsEntry("PLANTED", "by-whoever-took-the-name"));
    assertThat(condition("Degraded")).isNotEqualTo("True/SourceReplaced");
  }

  /**
   * Audit 26 F3: a source deleted, made again under its name and confirmed (rollout restart) kept
   * the dead app's webhook in the status, got none on the new app for up to the check interval (an
   * hour), and a release of it found by a look said WebhookSilent. The pass after the new pin makes
   * the webhook on the new app, records it (by the name, with the new id), and says no silence.
   */
  @Test
  void aSourceMadeAgainUnderItsNameAndConfirmedGetsTheWebhook() {
    Reconciler hooked =
        new Reconciler(
            store,
            locks,
            platform,
            routes,
            events,
            HookedReconciler.webhooksOn(config),
            clock,
            registry,
            hookTarget);
    extra.add(hooked);
    PoolKey key = new PoolKey(name);
    createPool(1, "");
    String copied = sim.app(source).id();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                hooked.reconcile(key).outcome() == ReconcileResult.Outcome.DONE
                    && status().readyReplicas() == 1
                    && status().webhook() != null);
    String dead = status().webhook().id();
    assertThat(sim.webhooks(copied))
        .singleElement()
        .satisfies(w -> assertThat(w.get("id")).isEqualTo(dead));

    platform.deleteApp(source);
    sim.createSourceApp(source);
    platform.patchConfigVars(source, Map.of("PLANTED", "by-whoever-took-the-name"));
    String taker = sim.app(source).id();
    assertThat(hooked.reconcile(key).outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/SourceReplaced");
    assertThat(sim.webhooks(taker)).as("none on an app not confirmed").isEmpty();

    patch("{\"spec\": {\"template\": {\"restartedAt\": \"" + java.time.Instant.now() + "\"}}}");
    await()
        .atMost(Duration.ofSeconds(90))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                hooked.reconcile(key).outcome() == ReconcileResult.Outcome.DONE
                    && status().readyReplicas() == 1
                    && owned().stream().allMatch(a -> a.configVars().containsKey("PLANTED")));
    assertThat(sim.webhooks(taker))
        .as("the confirmed app has the pool's webhook at once, not an hour later")
        .singleElement()
        .satisfies(
            w -> {
              assertThat(status().webhook().id()).isEqualTo(w.get("id")).isNotEqualTo(dead);
              assertThat(status().webhook().app()).isEqualTo(source); // APPCHECK
              assertThat(status().webhook().appId()).isEqualTo(taker); // APPCHECK
            });
    assertThat(pools.events(name, 200))
        .anyMatch(e -> e.reason().equals("Subscribed") && e.message().contains(source));
    assertThat(status().conditions()).noneMatch(c -> c.type().equals("WebhookSilent"));
  }

  /**
   * Review 30 R30-6: a rollout restart done for its own sake after the source's name changed hands,
   * before any pass saw it, pinned the new holder with no SourceReplaced ever said. A restart alone
   * confirms only the app the pool's last pass said SourceReplaced for.
   */
  @Test
  void aRoutineRestartDoesNotConfirmAnAppNeverSaid() {
    createPool(1, "");
    converge(1);
    Set<String> serving = ownedNames();
    platform.deleteApp(source);
    sim.createSourceApp(source);
    platform.patchConfigVars(source, Map.of("PLANTED", "by-whoever-took-the-name"));
    String taker = sim.app(source).id();
    patch("{\"spec\": {\"template\": {\"restartedAt\": \"" + java.time.Instant.now() + "\"}}}");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/SourceReplaced");
    assertThat(ownedNames()).isEqualTo(serving);
    assertThat(owned()).noneMatch(a -> a.configVars().containsKey("PLANTED"));

    // a restart after the app was said confirms it
    patch("{\"spec\": {\"template\": {\"restartedAt\": \"" + java.time.Instant.now() + "\"}}}");
    converge(1);
    assertThat(owned())
        .singleElement()
        .satisfies(
            a -> assertThat(a.configVars()).containsEntry("PLANTED", "by-whoever-took-the-name"));
    assertThat(store.sourcePin(pools.get(name).metadata().uid())).isEqualTo(taker);
  }

  /**
   * Review 30 R30-6 with its column (V29): the app a rollout restart confirms is the one the pool's
   * last pass stored as said SourceReplaced for, not whatever the condition's message text holds
   * (it was parsed out of the message, so a reworded or rewritten message confirmed nothing). A row
   * said before the upgrade (no column) still reads the message.
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aRestartConfirmsTheAppStoredAsSaidReplaced(boolean storedBeforeTheUpgrade) {
    createPool(1, "");
    converge(1);
    platform.deleteApp(source);
    sim.createSourceApp(source);
    platform.patchConfigVars(source, Map.of("PLANTED", "by-whoever-took-the-name"));
    String taker = sim.app(source).id();
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/SourceReplaced");
    assertThat(replacedBy()).isEqualTo(taker);
    String sql =
        storedBeforeTheUpgrade
            ? "update pool_sweeps set source_replaced_by = null where pool_id = ?"
            // the message no longer names the id as the old parse looked for it
            : "update pools set status = cast(replace(cast(status as text),"
                + " 'is now another app (id ', 'is now another app (ID ') as jsonb) where id = ?";
    try (var c = db.getConnection();
        var st = c.prepareStatement(sql)) {
      st.setObject(1, UUID.fromString(uid()));
      assertThat(st.executeUpdate()).isEqualTo(1);
    } catch (java.sql.SQLException e) {
      throw new AssertionError(e);
    }
    patch("{\"spec\": {\"template\": {\"restartedAt\": \"" + java.time.Instant.now() + "\"}}}");
    pass();
    assertThat(store.sourcePin(pools.get(name).metadata().uid()))
        .as("the restart confirmed the app said")
        .isEqualTo(taker);
    assertThat(replacedBy()).as("cleared with the new pin").isNull();
    converge(1);
    assertThat(owned())
        .singleElement()
        .satisfies(
            a -> assertThat(a.configVars()).containsEntry("PLANTED", "by-whoever-took-the-name"));
  }

  private String replacedBy() {
    try (var c = db.getConnection();
        var st =
            c.prepareStatement("select source_replaced_by from pool_sweeps where pool_id = ?")) {
      st.setObject(1, UUID.fromString(uid()));
      try (var rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (java.sql.SQLException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Review 30 R30-8: an app made under a deleted source's name has only slug-less releases at
   * first; a pool that remembered its source found no usable release, skipped the pin check, kept
   * the deleted app's target and synced its webhook onto the new holder's app. The pin is checked
   * when none of the releases read is the one remembered.
   */
  @Test
  void anAppUnderADeletedSourcesNameWithNoReleaseYetIsSourceReplaced() {
    createPool(1, "");
    converge(1);
    Set<String> serving = ownedNames();
    platform.deleteApp(source);
    String taker = platform.createApp(source, null, null, null).id(); // never deployed
    int mark = sim.callLog().size();
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/SourceReplaced");
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(c -> assertThat(c.message()).contains(taker));
    List<SandboxCall> log = sim.callLog();
    assertThat(log.subList(mark, log.size()))
        .as("no webhook of the app under the name listed, made or re-signed")
        .noneMatch(
            c ->
                c.path().startsWith("/apps/" + source + "/webhooks")
                    || c.path().startsWith("/apps/" + taker + "/webhooks"));
    assertThat(ownedNames()).isEqualTo(serving);
  }

  /**
   * Review 30 R30-2: after the pass read the app under the source's name and found it the pinned
   * one, its release's config vars, add-ons, log drains and features were read by the name again: a
   * name that changed hands in between gave the new holder's add-ons and drains to the backends.
   * Every read after the pin goes by the pinned id.
   */
  @Test
  void aNameSwappedAfterThePinnedReadIsNotReadAgain() {
    createPool(1, "");
    converge(1);
    String copied = sim.app(source).id();
    sim.pushRelease(source); // a new release: the next pass reads the source in full
    String[] taker = new String[1];
    Reconciler swapped =
        reconcilerOn(
            new CrashingPlatform(
                platform,
                "app",
                () -> {
                  // between the pinned read and the rest: the name changes hands
                  sim.renameApp(source, source + "-moved");
                  taker[0] = sim.createSourceApp(source).id();
                  sim.createAddon(source, "heroku-redis");
                  sim.addLogDrain(source, "syslog+tls://taker.example.com:6514");
                  platform.patchConfigVars(source, Map.of("PLANTED", "by-whoever-took-the-name"));
                }));
    int mark = sim.callLog().size();
    swapped.reconcile(new PoolKey(name));
    assertThat(taker[0]).as("the swap ran after the pinned read").isNotNull();
    List<SandboxCall> log = sim.callLog();
    int pinned = mark;
    while (!(log.get(pinned).method().equals("GET")
        && log.get(pinned).path().equals("/apps/" + source))) {
      pinned++;
    }
    assertThat(log.subList(pinned + 1, log.size()))
        .as("nothing of the source read by its name or from the new holder after the pin")
        .noneMatch(
            c ->
                c.path().matches("/apps/(" + source + "|" + taker[0] + ")/.*")
                    && c.method().equals("GET")
                    && !c.path().endsWith("/webhooks"))
        .anyMatch(c -> c.path().equals("/apps/" + copied + "/log-drains"))
        .anyMatch(c -> c.path().equals("/apps/" + copied + "/addons"))
        .anyMatch(c -> c.path().equals("/apps/" + copied + "/features"))
        .anyMatch(c -> c.path().startsWith("/apps/" + copied + "/releases/"));
    for (int i = 0; i < 20; i++) {
      swapped.reconcile(new PoolKey(name));
    }
    assertThat(owned())
        .isNotEmpty()
        .allSatisfy(
            a -> {
              assertThat(a.configVars())
                  .doesNotContainKey("PLANTED")
                  .doesNotContainKey("HEROKU_REDIS_URL");
              assertThat(sim.logDrains(a.id()))
                  .doesNotContain("syslog+tls://taker.example.com:6514");
            });
  }

  /**
   * Review 30 R30-2: the release webhook was synced on the app under the source's name, after the
   * pass's pinned read: a name that changed hands in between got a webhook signed with the pool's
   * secret. It is synced on the pinned app, by its id, and recorded by that id.
   */
  @Test
  void theReleaseWebhookGoesOnThePinnedAppById() {
    createPool(1, "");
    converge(1); // webhooks off here: none yet
    String copied = sim.app(source).id();
    sim.pushRelease(source);
    String[] taker = new String[1];
    Reconciler hooked =
        new Reconciler(
            store,
            locks,
            new CrashingPlatform(
                platform,
                "app",
                () -> {
                  sim.renameApp(source, source + "-moved");
                  taker[0] = sim.createSourceApp(source).id();
                }),
            routes,
            events,
            HookedReconciler.webhooksOn(config),
            clock,
            registry,
            hookTarget);
    extra.add(hooked);
    hooked.reconcile(new PoolKey(name));
    assertThat(taker[0]).as("the swap ran after the pinned read").isNotNull();
    assertThat(sim.webhooks(taker[0])).as("no webhook on the new holder").isEmpty();
    assertThat(sim.webhooks(copied)).hasSize(1);
    assertThat(status().webhook()).isNotNull();
    assertThat(status().webhook().appId()).isEqualTo(copied);
    assertThat(status().webhook().app()).as("named by the source's name").isEqualTo(source);
  }

  /**
   * S5-6: a pool copying a source app since before the pin existed (no pin stored, as after the
   * upgrade) whose name another app took meanwhile: its backends' source app id is the pin, not the
   * app the name answers with now.
   */
  @Test
  void aPoolNotPinnedYetTakesItsBackendsSourceAppAsThePin() {
    createPool(1, "");
    converge(1);
    Set<String> serving = ownedNames();
    unpin();
    platform.deleteApp(source);
    sim.createSourceApp(source);
    reconciler.forgetCaches(); // the upgraded process knows nothing
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/SourceReplaced");
    assertThat(ownedNames()).isEqualTo(serving);
  }

  /**
   * S5-6: a release lower than one the backends were made at by the same app is suspect (Heroku
   * numbers an app's releases upward, a rollback included). Here the backends' rows carry no source
   * app id (as rows written before it was kept) and no pin is stored, so the app that took the name
   * is pinned: the rollout goes on, with a Warning.
   */
  @Test
  void aSourceReleaseLowerThanTheBackendsIsSaid() {
    sim.pushRelease(source);
    sim.pushRelease(source);
    createPool(1, "");
    converge(1);
    int rolled = sim.app(source).release();
    updatePool("update backends set source_app_id = null where pool_id = ?");
    unpin();
    platform.deleteApp(source);
    sim.createSourceApp(source);
    int lower = sim.app(source).release();
    assertThat(lower).isLessThan(rolled);
    reconciler.forgetCaches();
    converge(1);
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("SourceReleaseLower"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.type()).isEqualTo("Warning");
              assertThat(e.message()).contains("v" + lower + ", is lower than v" + rolled);
            });
  }

  /**
   * S5-6: a rollback through the spec (the pool pointed at another app, at a lower release number)
   * rolls as any spec change does, with no Warning: only the same app's numbers are compared.
   */
  @Test
  void aRollbackThroughTheSpecToAnotherAppIsNotSuspect() {
    sim.pushRelease(source);
    sim.pushRelease(source);
    createPool(1, "");
    converge(1);
    String older = source + "-b";
    sim.createSourceApp(older);
    assertThat(sim.app(older).release()).isLessThan(sim.app(source).release());
    patch("{\"spec\": {\"template\": {\"sourceApp\": \"" + older + "\"}}}");
    converge(1);
    assertThat(owned())
        .singleElement()
        .satisfies(a -> assertThat(a.slugId()).isEqualTo(sim.app(older).slugId()));
    assertThat(eventReasons()).doesNotContain("SourceReleaseLower", "SourceReplaced");
  }

  /**
   * S5-6: a source never read (a typo, an app not made yet) has no pin, so the first app made under
   * the name is the one copied: its not-found message says no more than that, and does not claim
   * such an app would wait for a confirmation.
   */
  @Test
  void aSourceNeverReadIsOnlyNotFound() {
    source = source + "-typo";
    createPool(1, "");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.reason()).isEqualTo("InvalidSpec");
              assertThat(c.message()).isEqualTo("source app '" + source + "' not found");
            });
  }

  /**
   * S5-6: a renamed source is not followed (its name is not found, as before), and the pool says
   * what it is called now and that its old name is free for anyone to take.
   */
  @Test
  void aRenamedSourceIsNamedAndItsOldNameSaidFree() {
    createPool(1, "");
    converge(1);
    Set<String> serving = ownedNames();
    sim.renameApp(source, source + "-new");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/InvalidSpec");
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.message())
                    .startsWith("source app '" + source + "' not found")
                    .contains("now named '" + source + "-new'", "free for anyone to take"));
    assertThat(ownedNames()).isEqualTo(serving);
    assertThat(condition("Ready")).startsWith("True/");
  }

  /**
   * Review 6: names are Heroku-wide; another account's app answers 403 (the fake plays the pass).
   */
  @Test
  void anotherAccountsAppIsForbiddenNotMissing() {
    sim.takenElsewhere(name + "-elsewhere");
    assertThatThrownBy(() -> platform.app(name + "-elsewhere"))
        .isInstanceOfSatisfying(
            Platform.PlatformException.class,
            e -> assertThat(e.kind()).isEqualTo(Platform.PlatformException.Kind.FORBIDDEN));
    assertThatThrownBy(() -> platform.createApp(name + "-elsewhere", null, null, null))
        .isInstanceOfSatisfying(
            Platform.PlatformException.class,
            e -> assertThat(e.kind()).isEqualTo(Platform.PlatformException.Kind.NAME_TAKEN));
  }

  @Test
  void scalesZeroToThreeToOneToZero() {
    createPool(0, "");
    converge(0);
    assertThat(named()).isEmpty();
    assertThat(condition("Ready")).isEqualTo("True/AllReplicasReady");

    scale(3);
    converge(3);
    assertBackendsLookLikeTheSource(3);
    assertThat(status().backends())
        .extracting(PoolStatus.BackendStatus::app)
        .containsExactlyInAnyOrderElementsOf(ownedNames());
    assertThat(condition("Progressing")).isEqualTo("False/Stable");
    assertProxyServesFrom(ownedNames());

    scale(1);
    converge(1);
    assertBackendsLookLikeTheSource(1);
    assertProxyServesFrom(ownedNames());

    scale(0);
    converge(0);
    assertThat(named()).isEmpty();
    assertThat(appCreates()).isEqualTo(3);
    assertThat(eventReasons()).contains("AppCreated", "BackendReady", "Draining", "AppDeleted");
  }

  /**
   * Audit 21 H1: a steady pass read the pipeline's couplings too, half of every look's cost; they
   * are read every drift interval, after a change, or while a backend is not ready or failing.
   */
  @Test
  void steadyStateCostsOnePlatformCallPerPassAndIsMeasured() {
    createPool(3, "");
    converge(3);
    pass();
    DistributionSummary perPass = registry.find("dynofleet.reconcile.platform.calls").summary();
    assertThat(perPass).as("calls-per-pass metric").isNotNull();
    long recorded = perPass.count();
    sim.clearCallLog();
    for (int i = 0; i < 5; i++) {
      ReconcileResult r = pass();
      assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.DONE);
      // exactly: a pass that stopped looking (a release or a deleted app never noticed) passed
      // an upper bound alone (review 15)
      assertThat(r.platformCalls()).isEqualTo(1);
    }
    assertThat(perPass.count()).isEqualTo(recorded + 5);
    // the call is the source's newest release, a conditional GET that Heroku answers 304 when
    // nothing moved; the couplings are not read on a steady pass
    assertThat(sim.callLog())
        .hasSize(5)
        .allMatch(c -> c.method().equals("GET") && c.status() == 304);
    assertThat(sim.callLog()).filteredOn(c -> c.path().endsWith("/releases")).hasSize(5);
    assertThat(sim.callLog()).filteredOn(c -> c.path().endsWith("/pipeline-couplings")).isEmpty();
  }

  @Test
  void deletingThePoolDeletesItsAppsThenTheRow() {
    createPool(2, "");
    converge(2);
    api().delete(POOLS + "/" + name).then().statusCode(202);
    api().get(POOLS + "/" + name).then().statusCode(200); // the finalizer has not run yet
    await()
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                pass().outcome() == ReconcileResult.Outcome.DONE
                    && api().get(POOLS + "/" + name).statusCode() == 404);
    assertThat(named()).isEmpty();
    assertThat(
            calls("DELETE", "/apps/", 200).stream()
                .filter(c -> !c.path().endsWith("/dynos"))
                .count())
        .isGreaterThanOrEqualTo(2);
  }

  // ------------------------------------------------------------------ rollout

  @Test
  void aNewSourceReleaseRollsWithinMaxSurgeAndMaxUnavailable() {
    createPool(3, ", \"rollout\": {\"maxSurge\": 1, \"maxUnavailable\": 0}");
    converge(3);
    Set<String> before = ownedNames();
    SandboxApp pushed = sim.pushRelease(source);
    await()
        .atMost(Duration.ofSeconds(90))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              ReconcileResult r = pass();
              PoolStatus s = status();
              assertThat(s.replicas()).as("backends during the rollout").isLessThanOrEqualTo(3 + 1);
              assertThat(s.readyReplicas())
                  .as("available during the rollout")
                  .isGreaterThanOrEqualTo(3);
              return r.outcome() == ReconcileResult.Outcome.DONE
                  && s.updatedReplicas() == 3
                  && s.readyReplicas() == 3
                  && s.replicas() == 3;
            });
    assertBackendsLookLikeTheSource(3);
    assertThat(ownedNames()).doesNotContainAnyElementsOf(before);
    assertThat(status().targetRelease()).isEqualTo("v" + pushed.release());
    assertThat(eventReasons()).contains("RolloutStep");
    assertProxyServesFrom(ownedNames());
  }

  // ------------------------------------------------------------------ health and drift

  @Test
  void anUnhealthyBackendIsRestartedThenReplaced() {
    createPool(2, "");
    converge(2);
    String sick = owned().get(0).name();
    sim.backendCrashed(sick);
    awaitPhase(sick, "Unhealthy");
    assertThat(status().readyReplicas()).isEqualTo(1);
    // how it fails, not only that it does (audit 18 L5): Heroku's router answers a crashed app 503
    assertThat(status().backends())
        .filteredOn(b -> b.app().equals(sick))
        .singleElement()
        .extracting(PoolStatus.BackendStatus::lastFailure)
        .isEqualTo("HTTP 503");
    assertThat(pools.events(name, 50))
        .filteredOn(e -> e.reason().equals("BackendUnhealthy"))
        .singleElement()
        .extracting(e -> e.message())
        .isEqualTo("app " + sick + " fails its health checks: HTTP 503");

    // replaceAfterSeconds: 30
    backdate(sick, b -> b.unhealthySince = clock.instant().minusSeconds(31));
    pass();
    assertThat(restarts(sick)).hasSize(1);
    pass();
    assertThat(restarts(sick)).as("restarted once, not every pass").hasSize(1);

    backdate(sick, b -> b.restartedAt = clock.instant().minusSeconds(31)); // still crashed after it
    converge(2);
    assertThat(ownedNames()).hasSize(2).doesNotContain(sick);
    assertThat(sim.apps()).noneMatch(a -> a.name().equals(sick));
    assertThat(eventReasons()).contains("BackendUnhealthy", "BackendRestarted", "BackendReplaced");
    assertProxyServesFrom(ownedNames());
  }

  /**
   * Audit 27 F1: a dead backend whose replacement the rate reserve holds back is restarted again,
   * and the pool said Degraded False "no errors" meanwhile; operations.md promises RateLimited,
   * with a message that stays true while the budget refills (I1: "0 calls left" stood for minutes).
   */
  @Test
  void aRepairHeldBackByTheRateReserveSaysRateLimited() {
    createPool(3, "");
    converge(3);
    String sick = owned().get(0).name();
    sim.backendCrashed(sick);
    awaitPhase(sick, "Unhealthy");
    backdate(sick, b -> b.unhealthySince = clock.instant().minusSeconds(31));
    pass();
    assertThat(restarts(sick)).hasSize(1);

    sim.rateLimitRefill(0);
    sim.rateLimitRemaining(50); // under the reserve (300)
    heroku.account(); // an answer that says so (a steady pass may make no call before the repair)
    backdate(sick, b -> b.restartedAt = clock.instant().minusSeconds(31)); // still dead after it
    pass();
    assertThat(restarts(sick)).as("restarted again, not replaced").hasSize(2);
    assertThat(ownedNames()).contains(sick).hasSize(3);
    assertThat(condition("Degraded")).isEqualTo("True/RateLimited");
    pass(); // a pass before its next turn: still waiting for the budget, still said
    assertThat(condition("Degraded")).isEqualTo("True/RateLimited");
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Degraded"))
        .singleElement()
        .extracting(c -> c.message())
        .asString()
        .contains("under the reserve of 300 calls")
        .doesNotContain("calls left");

    sim.resetFaults();
    heroku.account(); // the budget full again, and known so
    sim.backendHealthy(sick);
    awaitPhase(sick, "Ready");
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /**
   * Security review 7 S7-4: with the budget under the low watermark, a crashed backend of a serving
   * pool was marked Unhealthy only after the pass's paced reads (the source, then the app's own
   * look): 4 min 25 s while other pools' passes took the turns. The fleet's verdicts need no call:
   * here no call can be sent at all (a 429 storm, a second's wait allowed), and the pass that fails
   * for it still marks the backend and says so.
   */
  @Test
  void aFailingBackendIsMarkedUnhealthyWithoutACallWhileCallsArePaced() {
    createPool(2, "");
    converge(2);
    String sick = owned().get(0).name();
    java.util.UUID uid = java.util.UUID.fromString(uid());
    sim.backendCrashed(sick);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              var h = routes.health(name, uid).get(sick);
              return h != null && h.known() && !h.healthy();
            });
    HerokuConfig quick =
        TestHerokuClients.with(herokuConfig, Map.of("rateLimitMaxWait", Duration.ofSeconds(1)));
    Reconciler paced =
        reconcilerOn(
            new HerokuPlatform(TestHerokuClients.client(quick, registry, sim.url(), sim.apiKey())));
    sim.rateLimitStorm(1_000_000);
    // the first pass meets the empty budget (its first call); the second knows it before any call
    for (int i = 0; i < 2; i++) {
      assertThat(paced.reconcile(new PoolKey(name)).outcome())
          .as("no call gets through")
          .isEqualTo(ReconcileResult.Outcome.FAILED);
    }
    assertThat(condition("Degraded")).isEqualTo("True/RateLimited");
    assertThat(status().backends())
        .filteredOn(b -> b.app().equals(sick))
        .singleElement()
        .extracting(PoolStatus.BackendStatus::phase)
        .isEqualTo("Unhealthy");
    assertThat(status().readyReplicas()).isEqualTo(1);
    assertThat(pools.events(name, 50))
        .filteredOn(e -> e.reason().equals("BackendUnhealthy"))
        .singleElement()
        .extracting(e -> e.message())
        .isEqualTo("app " + sick + " fails its health checks: HTTP 503");
    sim.resetFaults();
  }

  /**
   * Security review 7 S7-4: a loop creating and deleting empty pools left hundreds of deletions
   * queued while calls were paced, and a crashed backend of the pool serving traffic waited for all
   * of them (marked after 4 min 25 s, replaced after 6 min 10 s). Played with a loop of two workers
   * and a client paced at one call a second (the simulated account refilling as much, 450 calls
   * left: under the low watermark, over the reserve): the crash is marked while most of the
   * deleting pools are still there, and the backend is replaced before the last is gone.
   */
  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void aServingPoolsRepairGoesBeforeDeletionsWhileCallsArePaced() throws Exception {
    createPool(2, "");
    converge(2);
    String sick = owned().get(0).name();
    java.util.UUID uid = java.util.UUID.fromString(uid());
    // each with its release webhook on the source (its deletion's calls: S5-3)
    ReconcileConfig hooks = HookedReconciler.webhooksOn(config);
    Reconciler hooked =
        new Reconciler(store, locks, platform, routes, events, hooks, clock, registry, hookTarget);
    extra.add(hooked);
    List<String> doomed = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String n = name + "-d" + i;
      api()
          .body(
              """
              {"metadata": {"name": "%s"},
               "spec": {"pipeline": "%s", "replicas": 0, "template": {"sourceApp": "%s"}}}
              """
                  .formatted(n, pipeline, source))
          .post(POOLS)
          .then()
          .statusCode(201);
      assertThat(hooked.reconcile(new PoolKey(n)).outcome())
          .isEqualTo(ReconcileResult.Outcome.DONE);
      doomed.add(n);
    }
    doomed.forEach(n -> api().delete(POOLS + "/" + n).then().statusCode(202));
    java.util.function.LongSupplier left =
        () -> doomed.stream().filter(n -> store.pool(n).isPresent()).count();

    sim.rateLimitRefill(3600);
    sim.rateLimitRemaining(450);
    HerokuConfig slow =
        TestHerokuClients.with(herokuConfig, Map.of("rateLimitRefillPerHour", 3600));
    Reconciler paced =
        new Reconciler(
            store,
            locks,
            new HerokuPlatform(TestHerokuClients.client(slow, registry, sim.url(), sim.apiKey())),
            routes,
            events,
            hooks,
            clock,
            registry,
            hookTarget);
    extra.add(paced);
    java.util.concurrent.ScheduledThreadPoolExecutor workers =
        new java.util.concurrent.ScheduledThreadPoolExecutor(2);
    workers.setRemoveOnCancelPolicy(true);
    try {
      ReconcileLoop local = new ReconcileLoop(paced, config, registry, clock, workers);
      doomed.forEach(n -> local.enqueue(n, Duration.ZERO));
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> left.getAsLong() < doomed.size());
      sim.backendCrashed(sick);
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                var h = routes.health(name, uid).get(sick);
                return h != null && h.known() && !h.healthy();
              });
      local.onHealth(new io.dynofleet.pool.model.HealthChanged(name));
      await()
          .atMost(Duration.ofSeconds(300))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> phaseOf(sick).equals("Unhealthy"));
      assertThat(left.getAsLong())
          .as("deleting pools left when the crash was marked")
          .isGreaterThan(doomed.size() / 2);

      // replaceAfterSeconds (30) moved into the past rather than waited for
      backdateBetweenPasses(sick, b -> b.unhealthySince = clock.instant().minusSeconds(31));
      local.enqueue(name, Duration.ZERO);
      await()
          .atMost(Duration.ofSeconds(300))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> stored(sick).restartedAt != null);
      backdateBetweenPasses(sick, b -> b.restartedAt = clock.instant().minusSeconds(31));
      local.enqueue(name, Duration.ZERO);
      await()
          .atMost(Duration.ofSeconds(300))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> eventReasons().contains("BackendReplaced"));
      assertThat(left.getAsLong())
          .as("deleting pools left when the backend was replaced")
          .isPositive();
      await()
          .atMost(Duration.ofSeconds(300))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> left.getAsLong() == 0);
    } finally {
      workers.shutdownNow();
      sim.resetFaults();
    }
  }

  /** {@link #backdate}, with the pool's lock held: no pass of it writes the row meanwhile. */
  private void backdateBetweenPasses(String app, Consumer<Backend> change) {
    java.util.UUID id = java.util.UUID.fromString(uid());
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              try (PoolLocks.Held held = locks.tryLock(id)) {
                if (held == null) {
                  return false;
                }
                backdate(app, change);
                return true;
              }
            });
  }

  private String phaseOf(String app) {
    return status().backends().stream()
        .filter(b -> b.app().equals(app))
        .map(PoolStatus.BackendStatus::phase)
        .findFirst()
        .orElse("");
  }

  /**
   * Review 13, for managed pools: a backend this dyno's proxy finds dead but another dyno's (a
   * fresh verdict in the table) finds healthy is neither marked Unhealthy nor restarted nor
   * replaced, however long that lasts; once that verdict is older than the TTL, the usual path
   * runs.
   */
  @Test
  void aBackendAnotherDynoFindsHealthyIsNeitherRestartedNorReplaced() throws Exception {
    createPool(2, "");
    converge(2);
    String sick = owned().get(0).name();
    java.util.UUID uid = pools.get(name).metadata().uid();
    SimWorld.otherDynosVerdict(db, uid, "web.2.bbbbbb", sick, true, 0);
    sim.backendCrashed(sick);
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> table.stats(name).stream().anyMatch(s -> s.id().equals(sick) && !s.healthy()));
    for (int i = 0; i < 3; i++) {
      pass();
      assertThat(status().backends())
          .filteredOn(b -> b.app().equals(sick))
          .singleElement()
          .satisfies(b -> assertThat(b.phase()).isEqualTo("Ready"));
    }
    assertThat(status().readyReplicas()).isEqualTo(2);
    assertThat(status().backends())
        .filteredOn(b -> b.app().equals(sick))
        .singleElement()
        .satisfies(
            b ->
                assertThat(b.failingOn())
                    .as("the dyno that cannot use it")
                    .containsExactly(verdicts.dyno()));
    assertThat(eventReasons()).doesNotContain("BackendUnhealthy");
    assertThat(restarts(sick)).isEmpty();

    // that dyno went away: its verdict is older than the TTL
    SimWorld.otherDynosVerdict(db, uid, "web.2.bbbbbb", sick, true, 61);
    awaitPhase(sick, "Unhealthy");
    // replaceAfterSeconds: 30
    backdate(sick, b -> b.unhealthySince = clock.instant().minusSeconds(31));
    pass();
    assertThat(restarts(sick)).hasSize(1);
  }

  /**
   * A Dynofleet dyno that has just started assumed every ready backend healthy, the dead ones too:
   * its proxy sent them requests until their probes failed, and its first pass said
   * BackendRecovered and started their repair clocks over (so a restart of Dynofleet more often
   * than replaceAfterSeconds kept a dead backend for ever). Now a backend the fleet found failing
   * waits for this proxy's own probes, and its verdict stands meanwhile.
   */
  @Test
  void aRestartedProxyDoesNotTakeADeadBackendForRecovered() {
    createPool(2, "");
    converge(2);
    String sick = owned().get(0).name();
    sim.backendCrashed(sick);
    awaitPhase(sick, "Unhealthy");
    java.time.Instant since = stored(sick).unhealthySince;

    table.replaceAll(List.of()); // as the proxy of a process that has just started
    routes.sync();
    assertThat(table.stats(name))
        .filteredOn(s -> s.id().equals(sick))
        .singleElement()
        .satisfies(
            s -> assertThat(s.healthy()).as("not routed before its own probes pass").isFalse());
    pass();
    assertThat(status().backends())
        .filteredOn(b -> b.app().equals(sick))
        .singleElement()
        .satisfies(
            b -> {
              assertThat(b.phase()).isEqualTo("Unhealthy");
              assertThat(b.healthy()).isFalse();
            });
    assertThat(eventReasons()).doesNotContain("BackendRecovered");
    assertThat(status().readyReplicas()).as("not counted ready either (review 15)").isEqualTo(1);
    assertThat(condition("Ready")).startsWith("False/");
    assertThat(stored(sick).unhealthySince).as("the repair clock keeps running").isEqualTo(since);

    sim.backendHealthy(sick);
    awaitPhase(sick, "Ready");
    assertThat(eventReasons()).contains("BackendRecovered");
  }

  /**
   * Review 15: the apps of one batch ran their release phases at the same moment against the shared
   * database, and Rails' db:migrate does not wait for another's lock, it fails
   * (ConcurrentMigrationError): at a release no app had got ready on, each such failure stalled the
   * pool. Release phases now run one at a time in a pool.
   */
  @Test
  void releasePhasesThatTakeALockWithoutWaitingDoNotFailEachOther() {
    sim.releasePhaseExclusive(source); // the source's slug: a Rails app's release: rails db:migrate
    createPool(3, "");
    converge(3);
    assertThat(eventReasons()).doesNotContain("BackendFailed", "CreateFailed");
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
    assertThat(
            calls("POST", "/apps", 201).stream()
                .filter(c -> c.requestBody().contains("\"" + name + "-")))
        .as("no app made again")
        .hasSize(3);

    // a scale-up: the new apps one at a time as well
    scale(5);
    converge(5);
    assertThat(eventReasons()).doesNotContain("BackendFailed", "CreateFailed");
  }

  /**
   * Review 16 #4: releases went one at a time per pool only, so two pools copied from one source
   * app (one database) ran their release phases at once, and a migration that takes its lock
   * without waiting failed the other pool's new app.
   */
  @Test
  void twoPoolsFromOneSourceRunTheirReleasePhasesOneAtATime() {
    sim.releasePhaseExclusive(source);
    String first = name;
    String second = name + "-b";
    createPool(2, "");
    name = second;
    createPool(2, "");
    try {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                boolean done = true;
                for (String pool : List.of(first, second)) {
                  name = pool;
                  done &=
                      pass().outcome() == ReconcileResult.Outcome.DONE
                          && status().readyReplicas() == 2;
                }
                return done;
              });
      List<String> reasons = new ArrayList<>();
      for (String pool : List.of(first, second)) {
        name = pool;
        assertThat(eventReasons()).as(pool).doesNotContain("BackendFailed", "CreateFailed");
        reasons.addAll(eventReasons());
      }
      assertThat(reasons)
          .as("one pool waited for the other's release phase")
          .contains("ReleaseWaits");
      assertThat(calls("POST", "/apps", 201))
          .filteredOn(c -> c.requestBody().contains("\"" + first + "-"))
          .as("no app made again (both pools' names start with the first's)")
          .hasSize(4);
    } finally {
      name = first;
    }
  }

  /**
   * Audit 25 F1: a pool waiting for its new backends' health or for another pool's release phase of
   * the same source passes every 2 to 5 s, and every pass of every such pool read the source's
   * newest releases, and the pipeline's couplings while a backend was not ready: a shared source's
   * rollout cost 1.8 times the documented calls, growing with pools per source times the rollout's
   * length. Now the releases are read at most once per release-poll for all the pools of a source
   * (and at once after a spec change or a delivery), the couplings when a backend is coupled, goes,
   * or becomes not ready, and every 6 release polls while one stays so. Passes here come every 100
   * ms, far more often than the loop's, so the old cost shows many times over.
   */
  @Test
  void aSharedSourcesRolloutReadsItsReleasesByAgeAndTheCouplingsByChange() {
    sim.releasePhaseExclusive(source); // the pools wait for each other's release phases
    String first = name;
    List<String> all = List.of(first, first + "-b", first + "-c");
    try {
      for (String pool : all) {
        name = pool;
        createPool(2, "");
      }
      await()
          .atMost(Duration.ofSeconds(120))
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> passAll(all, null, new HashSet<>(), new int[1]));
      // release phases that take a while, as a migration does: the pools wait for each other
      sim.releaseDelay(Duration.ofSeconds(2)); // reset with the faults
      int mark = sim.callLog().size();
      long began = System.nanoTime();
      SandboxApp pushed = sim.pushRelease(source);
      int[] passes = {0};
      Set<String> finished = new HashSet<>();
      await()
          .atMost(Duration.ofSeconds(150))
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> passAll(all, "v" + pushed.release(), finished, passes));
      Duration took = Duration.ofNanos(System.nanoTime() - began);
      List<SandboxCall> rollout = sim.callLog().subList(mark, sim.callLog().size());
      long releaseReads =
          rollout.stream()
              .filter(
                  c -> c.method().equals("GET") && c.path().equals("/apps/" + source + "/releases"))
              .count();
      long couplingReads =
          rollout.stream()
              .filter(
                  c ->
                      c.method().equals("GET")
                          && c.path().startsWith("/pipelines/")
                          && c.path().endsWith("/pipeline-couplings"))
              .count();
      long polls = took.toMillis() / config.releasePoll().toMillis();
      System.out.printf(
          "shared source rollout: %d passes in %d ms, %d release reads, %d couplings reads, %d"
              + " calls%n",
          passes[0], took.toMillis(), releaseReads, couplingReads, rollout.size());
      for (String pool : all) {
        name = pool;
        assertThat(eventReasons()).as(pool).doesNotContain("BackendFailed", "CreateFailed");
      }
      // one read per release-poll for the three pools; and a pass after one that was not only a
      // wait reads: each pool's first after the push, and after each of its 2 creates and 2 drains
      assertThat(releaseReads)
          .as("the source's releases read by age, not on each of %d passes", passes[0])
          .isLessThanOrEqualTo(polls + 1 + all.size() * 5);
      // per pool: each of 2 new backends coupled, each of 2 old ones gone, a new one not ready
      // when coupled, one read more each, and every 6 release polls of the rollout
      assertThat(couplingReads)
          .as("the couplings read on a change, not on each of %d passes", passes[0])
          .isLessThanOrEqualTo(all.size() * (2 + 2 + 2 + 1 + polls / 6 + 1));
    } finally {
      name = first;
    }
  }

  /**
   * Audit 25 F1: while a backend was not ready or failing, every pass read the pipeline's couplings
   * (a pool passes every 2 s while one is). Now once when it became so, and again every 6 release
   * polls while it stays so; one that fails afterwards is read for at once.
   */
  @Test
  void aFailingBackendsCouplingsAreReadWhenItBeginsToFailNotOnEachPass() {
    createPool(3, "");
    converge(3);
    List<String> apps = owned().stream().map(SandboxApp::name).sorted().toList();
    sim.backendCrashed(apps.get(0));
    awaitPhase(apps.get(0), "Unhealthy");
    int mark = sim.callLog().size();
    long began = System.nanoTime();
    for (int i = 0; i < 20; i++) {
      pass();
    }
    long polls =
        Duration.ofNanos(System.nanoTime() - began).toMillis() / config.releasePoll().toMillis();
    assertThat(couplingReads(mark))
        .as("20 passes while one backend stays unhealthy")
        .isLessThanOrEqualTo(1 + polls / 6);

    // another begins to fail: read at the first pass that finds it so
    mark = sim.callLog().size();
    sim.backendCrashed(apps.get(1));
    awaitPhase(apps.get(1), "Unhealthy");
    assertThat(couplingReads(mark)).as("read when another began to fail").isPositive();
  }

  /** The reads of a pipeline's couplings since call {@code mark} of the simulator's log. */
  private long couplingReads(int mark) {
    List<SandboxCall> log = sim.callLog();
    return log.subList(mark, log.size()).stream()
        .filter(
            c ->
                c.method().equals("GET")
                    && c.path().startsWith("/pipelines/")
                    && c.path().endsWith("/pipeline-couplings"))
        .count();
  }

  /**
   * A pass of each pool not {@code finished} yet (counted in {@code passes}), as the loop's
   * requeues bring them; whether all are done, with 2 ready backends (of {@code release}: all up to
   * date at it, unless null).
   */
  private boolean passAll(List<String> all, String release, Set<String> finished, int[] passes) {
    String was = name;
    try {
      for (String pool : all) {
        if (finished.contains(pool)) {
          continue;
        }
        name = pool;
        passes[0]++;
        PoolStatus s;
        if (pass().outcome() == ReconcileResult.Outcome.DONE
            && (s = status()).readyReplicas() == 2
            && s.replicas() == 2
            && (release == null || release.equals(s.targetRelease()) && s.updatedReplicas() == 2)) {
          finished.add(pool);
        }
      }
    } finally {
      name = was;
    }
    return finished.containsAll(all);
  }

  /**
   * Audit 14: nothing a Prometheus alert could read said whether a pool was ready, degraded or
   * stalled, or whether this process's routing table was stale.
   */
  @Test
  void poolStateIsExportedAsGauges() {
    createPool(2, "");
    converge(2);
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              String m = api().get("/_dynofleet/q/metrics").asString();
              assertThat(m)
                  .contains(
                      "dynofleet_pool_replicas{dyno=\"local\",kind=\"desired\",pool=\""
                          + name
                          + "\"} 2.0",
                      "dynofleet_pool_replicas{dyno=\"local\",kind=\"ready\",pool=\""
                          + name
                          + "\"} 2.0",
                      "dynofleet_pool_replicas{dyno=\"local\",kind=\"updated\",pool=\""
                          + name
                          + "\"} 2.0",
                      "dynofleet_pool_condition{dyno=\"local\",pool=\""
                          + name
                          + "\",reason=\"AsExpected\",status=\"False\",type=\"Degraded\"} 1.0")
                  .containsPattern("dynofleet_route_sync_age_seconds\\{dyno=\"local\"} [0-9.E-]+");
            });
    scale(3);
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () ->
                assertThat(api().get("/_dynofleet/q/metrics").asString())
                    .contains(
                        "dynofleet_pool_replicas{dyno=\"local\",kind=\"desired\",pool=\""
                            + name
                            + "\"} 3.0"));
  }

  /** The restarts of backend {@code app}'s dynos (made apps are called by id). */
  private List<SandboxCall> restarts(String app) {
    return calls("DELETE", "/apps/" + sim.app(app).id() + "/dynos", 202);
  }

  /** Passes until the status shows backend {@code app} in {@code phase}. */
  private void awaitPhase(String app, String phase) {
    await()
        .atMost(Duration.ofSeconds(20))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              pass();
              return status().backends().stream()
                  .anyMatch(b -> b.app().equals(app) && b.phase().equals(phase));
            });
  }

  /** The stored row of backend {@code app}. */
  private Backend stored(String app) {
    return store.backends(pools.get(name).metadata().uid()).stream()
        .filter(x -> x.appName.equals(app))
        .findFirst()
        .orElseThrow();
  }

  /** Moves a recorded time of a backend into the past: the clock moves, not the test thread. */
  private void backdate(String app, Consumer<Backend> change) {
    Backend b = stored(app);
    change.accept(b);
    store.save(b);
  }

  /**
   * Audit 9 (not covered: the simulator had no release phase): a release whose release phase fails
   * on the backends. At a new release: the new app is Failed, never routed, the rollout stalls and
   * the old apps serve. At a release other apps got ready on (a migration that now fails): each
   * replacement failed and the next pass made another, ten calls each, for ever; now the next waits
   * (1 s, 2 s here; 1 min, 2 min by default) and the third stalls.
   */
  @Test
  void aFailingReleasePhaseIsNeverRoutedAndRetriedOnlyAFewTimes() throws Exception {
    createPool(2, "");
    converge(2);
    Set<String> serving = ownedNames();

    // a new release whose release phase fails on the backends: the rollout stalls
    sim.pushRelease(source);
    sim.releasePhaseFails(source, true);
    for (int i = 0; i < 40 && !condition("Degraded").equals("True/RolloutStalled"); i++) {
      pass();
      Thread.sleep(100);
    }
    assertThat(condition("Degraded")).isEqualTo("True/RolloutStalled");
    assertThat(status().readyReplicas()).isEqualTo(2);
    assertThat(table.route(name).orElseThrow().backends())
        .extracting(io.dynofleet.proxy.BackendTarget::id)
        .containsExactlyInAnyOrderElementsOf(serving);
    long creates =
        calls("POST", "/apps", 201).stream()
            .filter(c -> c.requestBody().contains("\"" + name + "-"))
            .count();
    for (int i = 0; i < 10; i++) {
      pass();
      Thread.sleep(100);
    }
    assertThat(
            calls("POST", "/apps", 201).stream()
                .filter(c -> c.requestBody().contains("\"" + name + "-"))
                .count())
        .as("no app made while stalled")
        .isEqualTo(creates);
    assertThat(eventReasons()).contains("RolloutStalled");

    // back to a release the pool runs; then it fails on new apps too (its migration broke)
    sim.releasePhaseFails(source, false);
    sim.pushRelease(source);
    converge(2);
    sim.releasePhaseFails(source, true);
    Reconciler r = withFailedAppRetry(Duration.ofSeconds(1));
    creates =
        calls("POST", "/apps", 201).stream()
            .filter(c -> c.requestBody().contains("\"" + name + "-"))
            .count();
    Set<String> before = ownedNames();
    String victim = before.iterator().next();
    heroku.deleteApp(victim);
    // passes until the pool stalls (three tries with waits of 1 s and 2 s between: about 4 s, but
    // each try's create, release and failure take longer on a loaded machine, so no fixed time
    // holds them), then 5 s more: a fourth try would come after a wait of 4 s
    long t0 = System.nanoTime();
    while (!condition("Degraded").equals("True/CreateFailed")
        && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60)) {
      r.reconcile(new PoolKey(name));
      Thread.sleep(100);
    }
    long stalled = System.nanoTime();
    while (System.nanoTime() - stalled < TimeUnit.SECONDS.toNanos(5)) {
      r.reconcile(new PoolKey(name));
      Thread.sleep(100);
    }
    long made =
        calls("POST", "/apps", 201).stream()
                .filter(c -> c.requestBody().contains("\"" + name + "-"))
                .count()
            - creates;
    assertThat(made).as("three tries, then a stall").isEqualTo(Reconciler.FAILED_APPS_BEFORE_STALL);
    assertThat(condition("Degraded")).isEqualTo("True/CreateFailed");
    assertThat(pools.events(name, 200))
        .filteredOn(e -> e.reason().equals("BackendFailed"))
        .hasSize(2);
    assertThat(status().readyReplicas()).isEqualTo(1);
    assertThat(table.route(name).orElseThrow().backends()).hasSize(1);
    // the failed apps were deleted: nothing billed, nothing orphaned
    assertThat(owned()).hasSize(1);

    // fixed, and the spec moves (any change lifts a stall): made again
    sim.releasePhaseFails(source, false);
    scale(3);
    converge(3);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /** Another reconciler on this store whose failed-app retry wait is {@code wait}. */
  private Reconciler withFailedAppRetry(Duration wait) {
    ReconcileConfig quick =
        (ReconcileConfig)
            java.lang.reflect.Proxy.newProxyInstance(
                ReconcileConfig.class.getClassLoader(),
                new Class<?>[] {ReconcileConfig.class},
                (proxy, m, args) ->
                    m.getName().equals("failedAppRetry") ? wait : m.invoke(config, args));
    Reconciler r =
        new Reconciler(store, locks, platform, routes, events, quick, clock, registry, hookTarget);
    extra.add(r);
    return r;
  }

  /**
   * Another reconciler on this store and {@code on}, whose progress deadline is {@code deadline}.
   */
  private Reconciler withProgressDeadline(Platform on, Duration deadline) {
    ReconcileConfig quick =
        (ReconcileConfig)
            java.lang.reflect.Proxy.newProxyInstance(
                ReconcileConfig.class.getClassLoader(),
                new Class<?>[] {ReconcileConfig.class},
                (proxy, m, args) ->
                    m.getName().equals("progressDeadline") ? deadline : m.invoke(config, args));
    Reconciler r =
        new Reconciler(store, locks, on, routes, events, quick, clock, registry, hookTarget);
    extra.add(r);
    return r;
  }

  /**
   * {@code p}, with the dyno of the pool's app crashed (503 on every path) as soon as the app is
   * made: it never gets healthy.
   */
  private Platform crashingItsApp(Platform p) {
    return new CrashingPlatform(
        p, "createApp", () -> named().forEach(a -> sim.backendCrashed(a.name())));
  }

  /**
   * A one-replica pool whose only app never gets healthy (see {@link #crashingItsApp}) and printed
   * {@code lines}: passes of {@code r} until that app exists; its name.
   */
  private String aCrashedBackendThatLogged(Reconciler r, String... lines) {
    createPool(1, "");
    await()
        .atMost(Duration.ofSeconds(20))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              r.reconcile(new PoolKey(name));
              return !named().isEmpty();
            });
    String app = named().get(0).name();
    sim.appLog(app, lines);
    return app;
  }

  /** Passes of {@code r} until app {@code app} is gone from the simulator. */
  private void passUntilDeleted(Reconciler r, String app) {
    await()
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              r.reconcile(new PoolKey(name));
              return sim.apps().stream().noneMatch(a -> a.name().equals(app));
            });
  }

  /** The messages of this pool's events of {@code reason}, newest first. */
  private List<String> messages(String reason) {
    return pools.events(name, 200).stream()
        .filter(e -> e.reason().equals(reason))
        .map(e -> e.message())
        .toList();
  }

  /**
   * Audit 20 M1: a first pool whose app never got healthy (a boot crash, a health path answering
   * 404 or 401) waited out the progress deadline, and its app was deleted with its logs: the
   * runbook's {@code heroku logs -a APP} answered "Couldn't find that app". Its last log lines are
   * read before the delete and kept in an event, masked as release output is (a config var's value
   * the app printed is not shown), and the failure says where they are.
   */
  @Test
  void aBackendFailedAtTheProgressDeadlineLeavesItsLastLogLinesMaskedInAnEvent() {
    heroku.updateConfigVars(source, Map.of("PAYMENT_API_SECRET", "pk-9f8e7d6c5b4a"));
    Reconciler r = withProgressDeadline(crashingItsApp(platform), Duration.ofSeconds(2));
    String app =
        aFailedBackendThatLogged(
            r,
            "Booting with payment key pk-9f8e7d6c5b4a",
            "Error: Cannot find module 'express'",
            "Process exited with status 1");
    // audit 24 L7: failed, its app not deleted yet, there is no such event: the message said
    // "its app's last log lines: event BackendLogTail" all the same
    assertThat(messages("CreateFailed"))
        .singleElement()
        .satisfies(m -> assertThat(m).endsWith(Reconciler.LOG_TAIL_POINTER));
    assertThat(Reconciler.LOG_TAIL_POINTER)
        .isEqualTo(
            "; its app's last log lines go into event BackendLogTail when its app is deleted");
    String id = sim.app(app).id();
    passUntilDeleted(r, app);

    assertThat(messages("BackendLogTail"))
        .singleElement()
        .satisfies(
            m ->
                assertThat(m)
                    .startsWith("app " + app + "'s last log lines before its deletion: ")
                    .contains(
                        "app[web.1]: Booting with payment key *** | ",
                        "app[web.1]: Error: Cannot find module 'express' | ",
                        "app[web.1]: Process exited with status 1")
                    .doesNotContain("pk-9f8e7d6c5b4a"));
    assertThat(messages("CreateFailed"))
        .singleElement()
        .satisfies(
            m ->
                assertThat(m)
                    .contains("not healthy within the progress deadline")
                    .contains(
                        "its app's last log lines go into event BackendLogTail when its app is"
                            + " deleted"));
    List<SandboxCall> log = sim.callLog();
    int read = -1;
    int deleted = -1;
    for (int i = 0; i < log.size(); i++) {
      SandboxCall c = log.get(i);
      if (c.method().equals("POST") && c.path().equals("/apps/" + id + "/log-sessions")) {
        read = i;
      }
      if (c.method().equals("DELETE") && c.path().equals("/apps/" + id) && c.status() == 200) {
        deleted = i;
      }
    }
    assertThat(read).as("the log session made").isNotNegative();
    assertThat(deleted).as("the app deleted after its lines were read").isGreaterThan(read);
    assertThat(named()).as("no app left").isEmpty();
  }

  /**
   * Review 25 #6: the lines were masked with the source's config vars as they are now. An old app
   * holds those of the release it was made from; after a credential rotated on the source (the
   * common reason an old app crash-loops) it printed the old value bare, and the event kept it. An
   * app made at another target than the source's is masked with its own vars too (one more call).
   */
  @Test
  void aFailedBackendOfAnEarlierTargetIsMaskedWithItsAppsOwnVars() {
    heroku.updateConfigVars(source, Map.of("API_KEY", "ak-old-5e4d3c2b1a"));
    Reconciler r = withProgressDeadline(crashingItsApp(platform), Duration.ofSeconds(2));
    String app = aFailedBackendThatLogged(r, "Calling the payment API with ak-old-5e4d3c2b1a");
    heroku.updateConfigVars(source, Map.of("API_KEY", "ak-new-9f8e7d6c5b")); // the rotation
    // its notification: a waiting pool's next pass reads the source at once (without, within
    // release-poll; audit 25 F1)
    r.heard(name);
    passUntilDeleted(r, app);

    assertThat(messages("BackendLogTail"))
        .singleElement()
        .satisfies(
            m ->
                assertThat(m)
                    .startsWith("app " + app + "'s last log lines before its deletion: ")
                    .contains("app[web.1]: Calling the payment API with ***")
                    .doesNotContain("ak-old-5e4d3c2b1a"));
  }

  /**
   * Without the app's own vars (a refused or failed read), its lines are not read: a value only
   * they hold would go out bare. The event says why, and the app is deleted all the same.
   */
  @Test
  void aFailedBackendOfAnEarlierTargetWhoseVarsCannotBeReadKeepsNoLines() {
    heroku.updateConfigVars(source, Map.of("API_KEY", "ak-old-5e4d3c2b1a"));
    Reconciler r = withProgressDeadline(crashingItsApp(platform), Duration.ofSeconds(2));
    String app = aFailedBackendThatLogged(r, "Calling the payment API with ak-old-5e4d3c2b1a");
    String id = sim.app(app).id();
    sim.refuse("GET /apps/" + id + "/config-vars", 403, "forbidden", "Not allowed.");
    heroku.updateConfigVars(source, Map.of("API_KEY", "ak-new-9f8e7d6c5b"));
    r.heard(name); // its notification, as above
    passUntilDeleted(r, app);

    assertThat(messages("BackendLogTail"))
        .singleElement()
        .satisfies(
            m ->
                assertThat(m)
                    .startsWith(
                        "app "
                            + app
                            + ": its last log lines were not read before its deletion (its app's"
                            + " own config vars, which they would be masked with, could not be"
                            + " read: ")
                    .contains("403")
                    .doesNotContain("ak-old-5e4d3c2b1a"));
    assertThat(calls("POST", "/apps/" + id + "/log-sessions", 201)).as("no lines read").isEmpty();
  }

  /**
   * A one-replica pool whose only app never gets healthy (see {@link #crashingItsApp}) and printed
   * {@code lines}: passes of {@code r} until the pass that fails it at the progress deadline, which
   * leaves its log lines and its deletion to the next; its name.
   */
  private String aFailedBackendThatLogged(Reconciler r, String... lines) {
    String app = aCrashedBackendThatLogged(r, lines);
    java.util.UUID uid = pools.get(name).metadata().uid();
    await()
        .atMost(Duration.ofSeconds(20))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              if (store.backends(uid).stream().anyMatch(b -> b.phase == Backend.Phase.Failed)) {
                return true;
              }
              r.reconcile(new PoolKey(name));
              return false;
            });
    assertThat(messages("BackendLogTail")).as("not read yet").isEmpty();
    return app;
  }

  /**
   * The read is best effort: a log session Heroku refuses (a 5xx) is said in the event, and the app
   * is deleted all the same (kept, it would bill).
   */
  @Test
  void aLogSessionThatFailsIsSaidAndTheAppIsDeletedAllTheSame() {
    sim.refuse(
        "POST /apps/[^/]+/log-sessions", 503, "service_unavailable", "Logplex is unavailable.");
    Reconciler r = withProgressDeadline(crashingItsApp(platform), Duration.ofSeconds(2));
    String app = aCrashedBackendThatLogged(r, "Error: never seen");
    passUntilDeleted(r, app);

    assertThat(messages("BackendLogTail"))
        .singleElement()
        .satisfies(
            m ->
                assertThat(m)
                    .startsWith(
                        "app " + app + ": its last log lines were not read before its deletion (")
                    .contains("log-sessions → 503")
                    .doesNotContain("never seen"));
    assertThat(named()).as("no app left").isEmpty();
  }

  /**
   * A process that dies after the read and before the drain is stored (a deploy, a crash): the next
   * reads again and deletes the app; nothing is left behind.
   */
  @Test
  void aCrashAfterTheLogReadReadsAgainAndLeavesNoApp() {
    CrashingPlatform crashing = new CrashingPlatform(crashingItsApp(platform), "logTail");
    Reconciler doomed = withProgressDeadline(crashing, Duration.ofSeconds(2));
    String app = aCrashedBackendThatLogged(doomed, "Error: boot failed");
    await()
        .atMost(Duration.ofSeconds(20))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              doomed.reconcile(new PoolKey(name));
              return crashing.fired();
            });
    assertThat(sim.apps()).as("not deleted yet").anyMatch(a -> a.name().equals(app));
    reconciler.forgetCaches(); // a new process: the failed backend is in the database only
    passUntilDeleted(reconciler, app);
    assertThat(messages("BackendLogTail"))
        .singleElement()
        .satisfies(m -> assertThat(m).contains("app[web.1]: Error: boot failed"));
    String id = madeIds().iterator().next();
    assertThat(calls("POST", "/apps/" + id + "/log-sessions", 201)).as("read again").hasSize(2);
    assertThat(named()).as("no orphan").isEmpty();
  }

  /**
   * Review 10: apps made together that failed together at a release that works elsewhere counted as
   * failures in a row, so three replacements failing at once stalled the pool without a wait. Since
   * review 15 a pool releases one app at a time, so they no longer fail together: the first fails,
   * the others wait out the failed-app wait (review 16) and then go one by one, each a failure of
   * the streak; the pool is not stalled at once, and no app is made faster than they fail.
   */
  @Test
  void appsOfOneBatchFailOneAtATimeWithTheWaitBetween() throws Exception {
    createPool(4, "");
    converge(4);
    sim.releasePhaseFails(source, true);
    Reconciler r = withFailedAppRetry(Duration.ofSeconds(1));
    long creates =
        calls("POST", "/apps", 201).stream()
            .filter(c -> c.requestBody().contains("\"" + name + "-"))
            .count();
    ownedNames().stream().limit(3).forEach(heroku::deleteApp);
    long t0 = System.nanoTime();
    while (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(2500)) {
      r.reconcile(new PoolKey(name));
      Thread.sleep(100);
    }
    long made =
        calls("POST", "/apps", 201).stream()
                .filter(c -> c.requestBody().contains("\"" + name + "-"))
                .count()
            - creates;
    assertThat(condition("Degraded")).isNotIn("True/CreateFailed", "True/RolloutStalled");
    assertThat(eventReasons()).contains("BackendFailed");
    assertThat(made)
        .as("the three replacements and one for the first that failed; no batch churn")
        .isBetween(3L, 4L);
    sim.releasePhaseFails(source, false);
  }

  @Test
  void anAppDeletedOutOfBandIsRecreated() {
    createPool(2, "");
    converge(2);
    String victim = owned().get(0).name();
    heroku.deleteApp(victim);
    // a steady pass no longer reads the couplings (audit 21 H1): the proxy's probes find the app
    // gone within a probe interval, and the pass that brings reads it
    await()
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              pass();
              return eventReasons().contains("BackendVanished");
            });
    converge(2);
    assertThat(ownedNames()).hasSize(2).doesNotContain(victim);
    assertBackendsLookLikeTheSource(2);
    assertThat(eventReasons()).contains("BackendVanished");
  }

  /**
   * Review 15: a backend app renamed by hand ({@code heroku apps:rename}) was called by its old
   * name after it was made: once its old address died, its restart got a 404 and every pass of the
   * pool failed there for ever. Made apps are called by id now, and a dead backend is read anew
   * before it is restarted: the rename is followed to the new address, nothing is replaced.
   */
  @Test
  void aBackendRenamedByHandIsFollowedToItsNewAddressNotReplaced() {
    createPool(2, "");
    converge(2);
    String old = owned().get(0).name();
    String other = owned().get(1).name();
    String renamed = name + "-moved";
    sim.renameApp(old, renamed); // its old address stops answering
    // read when it first fails its checks (audit 14; it was a replace window later, at its restart)
    await()
        .atMost(Duration.ofSeconds(20))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                pass().outcome() != ReconcileResult.Outcome.FAILED
                    && eventReasons().contains("BackendRenamed"));
    assertThat(eventReasons()).doesNotContain("BackendUnhealthy");
    assertThat(status().backends())
        .extracting(b -> b.app())
        .containsExactlyInAnyOrder(renamed, other);
    assertThat(stored(renamed).webUrl).isEqualTo(sim.app(renamed).webUrl());
    awaitPhase(renamed, "Ready");
    converge(2);
    assertThat(ownedNames()).containsExactlyInAnyOrder(renamed, other);
    assertThat(appCreates()).as("nothing replaced").isEqualTo(2);
    assertThat(eventReasons()).doesNotContain("BackendReplaced", "BackendRestarted");
    assertThat(sim.callLog())
        .as("no call by the old name after the rename")
        .noneMatch(c -> c.path().contains("/" + old) && c.status() == 404);
    assertProxyServesFrom(Set.of(renamed, other));
  }

  /**
   * Review 17: two backends' names swapped by hand (a third name between) end both addresses at
   * once, which looks like a shared cause; and the first one followed takes a name the other's row
   * still held (names are unique among the rows), which failed the pass at every look.
   */
  @Test
  void twoBackendsWhoseNamesWereSwappedAreBothFollowed() {
    createPool(2, "");
    converge(2);
    String a = owned().get(0).name();
    String b = owned().get(1).name();
    sim.renameApp(a, name + "-tmp");
    sim.renameApp(b, a);
    sim.renameApp(name + "-tmp", b);
    // each is read when it first fails its checks; failing in the same pass (a shared cause, a
    // ManyUnhealthy) each is read once per replace window: the clock of any Unhealthy one is moved
    // past it. Every pass must go through: the first one followed takes a name the other's row
    // still holds (names are unique among the rows)
    await()
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              assertThat(pass().outcome()).isNotEqualTo(ReconcileResult.Outcome.FAILED);
              for (Backend x : store.backends(pools.get(name).metadata().uid())) {
                if (x.unhealthySince != null
                    && clock.instant().isBefore(x.unhealthySince.plusSeconds(31))) {
                  // replaceAfterSeconds: 30
                  backdate(x.appName, y -> y.unhealthySince = clock.instant().minusSeconds(31));
                }
              }
              return eventReasons().stream().filter("BackendRenamed"::equals).count() == 2;
            });
    assertThat(store.backends(pools.get(name).metadata().uid()))
        .filteredOn(r -> r.appName.equals(a) || r.appName.equals(b))
        .hasSize(2)
        .allSatisfy(r -> assertThat(r.appId).as(r.appName).isEqualTo(sim.app(r.appName).id()));
    // (no check of BackendRecovered here: when both failed in one pass they were Unhealthy before
    // they were followed, and their new addresses passing their checks is a recovery to tell)
    converge(2);
    assertThat(eventReasons()).filteredOn("BackendRenamed"::equals).hasSize(2);
    assertThat(ownedNames()).containsExactlyInAnyOrder(a, b);
    assertThat(appCreates()).as("nothing replaced").isEqualTo(2);
    assertProxyServesFrom(Set.of(a, b));
  }

  /**
   * Audit 21 M3: in a shared failure each dead backend's app was read anew (a bulk rename looks
   * like one) once per replace window, one {@code GET /apps/{id}} each: 300 backends failing
   * together were 60 reads a minute per dyno for as long as the outage lasted. More than a few due
   * are read with one list of the account's apps, and a renamed one among them is still followed.
   */
  @Test
  void deadBackendsOfASharedFailureAreReadWithOneListOfApps() {
    createPool(4, "");
    converge(4);
    List<String> apps = owned().stream().map(SandboxApp::name).toList();
    apps.forEach(sim::backendCrashed); // the source's database is down
    apps.forEach(a -> awaitPhase(a, "Unhealthy"));
    // replaceAfterSeconds: 30, over for each: each is due for a look
    apps.forEach(a -> backdate(a, b -> b.unhealthySince = clock.instant().minusSeconds(31)));
    String renamed = name + "-moved";
    sim.renameApp(apps.get(0), renamed);
    Set<String> reads = new HashSet<>();
    apps.stream().skip(1).forEach(a -> reads.add("/apps/" + sim.app(a).id()));
    reads.add("/apps/" + sim.app(renamed).id());
    sim.clearCallLog();

    pass();
    assertThat(sim.callLog())
        .as("one list of the apps")
        .filteredOn(c -> c.method().equals("GET") && c.path().equals("/apps"))
        .hasSize(1);
    assertThat(sim.callLog())
        .as("no read of a backend's app by itself")
        .noneMatch(c -> c.method().equals("GET") && reads.contains(c.path()));
    assertThat(eventReasons()).contains("BackendRenamed");
    assertThat(stored(renamed).appId).isEqualTo(sim.app(renamed).id());
    assertThat(restarts(apps.get(1))).as("a shared cause: none restarted").isEmpty();

    reads.add("/apps");
    sim.clearCallLog();
    pass();
    assertThat(sim.callLog())
        .as("read once per replace window")
        .noneMatch(c -> c.method().equals("GET") && reads.contains(c.path()));
  }

  @Test
  void sourceConfigChangesAreFollowedAndHandSetVarsReportedAsDrift() {
    heroku.updateConfigVars(source, Map.of("GREETING", "hello"));
    createPool(2, "");
    converge(2);
    assertThat(owned()).allMatch(a -> "hello".equals(a.configVars().get("GREETING")));

    heroku.updateConfigVars(source, Map.of("GREETING", "bonjour"));
    await()
        .atMost(Duration.ofSeconds(60))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                pass().outcome() == ReconcileResult.Outcome.DONE
                    && status().readyReplicas() == 2
                    && owned().size() == 2
                    && owned().stream()
                        .allMatch(a -> "bonjour".equals(a.configVars().get("GREETING"))));
    assertThat(named()).hasSize(2);
    assertThat(status().drift()).isNull();

    String app = owned().get(0).name();
    heroku.updateConfigVars(app, Map.of("DEBUG", "1"));
    heroku.updateFormation(app, "web", 3, "standard-2x"); // audit 14: scaled by hand, reported
    driftDue(); // each backend's drift check is due (once an hour, for the fleet)
    pass();
    assertThat(status().drift())
        .anyMatch(d -> d.contains(app) && d.contains("DEBUG") && d.contains("by hand"));
    assertThat(eventReasons()).contains("ConfigDrift");
    assertThat(status().drift())
        .anyMatch(d -> d.equals(app + ": web 3 x standard-2x set by hand (made as 1 x basic)"));
  }

  @Test
  void aPausedPoolTakesNoAction() {
    createPool(2, ", \"paused\": true");
    for (int i = 0; i < 3; i++) {
      assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.DONE);
    }
    assertThat(named()).isEmpty();
    assertThat(condition("Progressing")).isEqualTo("False/Paused");

    patch("{\"spec\": {\"paused\": false}}");
    converge(2);
    Set<String> running = ownedNames();

    patch("{\"spec\": {\"paused\": true, \"replicas\": 0}}");
    sim.clearCallLog();
    for (int i = 0; i < 3; i++) {
      pass();
    }
    assertThat(ownedNames()).isEqualTo(running);
    assertThat(sim.callLog())
        .as("a paused pool only reads")
        .allMatch(c -> c.method().equals("GET"));

    patch("{\"spec\": {\"paused\": false}}");
    converge(0);
    assertThat(named()).isEmpty();
  }

  /**
   * Audit 27 F4: a paused pool's pass skipped the health check, so backends dead after the pause
   * stayed phase Ready, the pool Degraded False "no errors", with no BackendUnhealthy event nor
   * ManyUnhealthy. Paused, the pool is observed as before; nothing is restarted or replaced.
   */
  @Test
  void aPausedPoolStillSaysWhichBackendsFailAndRepairsNone() {
    createPool(3, "");
    converge(3);
    List<String> apps = new ArrayList<>(ownedNames());
    patch("{\"spec\": {\"paused\": true}}");
    pass();
    assertThat(condition("Progressing")).isEqualTo("False/Paused");

    String sick = apps.get(0);
    sim.backendCrashed(sick);
    awaitPhase(sick, "Unhealthy");
    assertThat(pools.events(name, 50))
        .filteredOn(e -> e.reason().equals("BackendUnhealthy"))
        .singleElement()
        .extracting(e -> e.message())
        .isEqualTo("app " + sick + " fails its health checks: HTTP 503");
    backdate(sick, b -> b.unhealthySince = clock.instant().minusSeconds(31)); // replaceAfter 30 s
    sim.clearCallLog();
    pass();
    pass();
    assertThat(restarts(sick)).as("paused: observed, not restarted").isEmpty();
    assertThat(sim.callLog())
        .as("a paused pool only reads")
        .allMatch(c -> c.method().equals("GET"));

    String second = apps.get(1);
    sim.backendCrashed(second);
    awaitPhase(second, "Unhealthy");
    assertThat(condition("Degraded")).isEqualTo("True/ManyUnhealthy");
    assertThat(condition("Progressing")).isEqualTo("False/Paused");

    sim.backendHealthy(sick);
    sim.backendHealthy(second);
    awaitPhase(sick, "Ready");
    awaitPhase(second, "Ready");
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
    assertThat(eventReasons()).contains("BackendRecovered");
    assertThat(ownedNames()).as("none replaced").containsExactlyInAnyOrderElementsOf(apps);
  }

  /**
   * Review 32 R32-2: a backend marked Unhealthy during a pause had its repair clock running all the
   * pause, so the first pass after the resume restarted it at once, with none of the
   * replaceAfterSeconds an unpaused pool gives. Its clock now waits while paused. Fails on the old
   * code (restarted by the resume's pass).
   */
  @Test
  void aBackendThatFailedWhilePausedGetsItsGraceAfterTheResume() {
    createPool(3, "");
    converge(3);
    List<String> apps = new ArrayList<>(ownedNames());
    patch("{\"spec\": {\"paused\": true}}");
    pass();
    String sick = apps.get(0);
    sim.backendCrashed(sick);
    awaitPhase(sick, "Unhealthy");
    // marked long before the resume (replaceAfter 30 s)
    backdate(sick, b -> b.unhealthySince = clock.instant().minusSeconds(31));
    pass();
    assertThat(restarts(sick)).isEmpty();
    patch("{\"spec\": {\"paused\": false}}");
    pass();
    pass();
    assertThat(restarts(sick)).as("the resume's passes: its grace has just begun").isEmpty();
    assertThat(stored(sick).phase.name()).isEqualTo("Unhealthy");
    backdate(sick, b -> b.unhealthySince = clock.instant().minusSeconds(31)); // the grace passed
    pass();
    assertThat(restarts(sick)).as("restarted once its grace after the resume passed").isNotEmpty();
  }

  /**
   * Audit 27 F5 and F4: a stalled rollout said Progressing True RollingUpdate on every later pass
   * while nothing more was tried (Kubernetes turns Progressing False past its deadline), and a
   * pause wiped its Degraded RolloutStalled at once.
   */
  @Test
  void aStalledRolloutIsNotProgressingAndAPauseKeepsItsStall() throws Exception {
    createPool(2, "");
    converge(2);
    sim.pushRelease(source);
    sim.releasePhaseFails(source, true);
    for (int i = 0; i < 40 && !condition("Degraded").equals("True/RolloutStalled"); i++) {
      pass();
      Thread.sleep(100);
    }
    assertThat(condition("Degraded")).isEqualTo("True/RolloutStalled");
    for (int i = 0; i < 5; i++) {
      pass();
      Thread.sleep(100);
    }
    assertThat(condition("Degraded")).isEqualTo("True/RolloutStalled");
    assertThat(condition("Progressing")).isEqualTo("False/RolloutStalled");
    assertThat(status().conditions())
        .filteredOn(c -> c.type().equals("Progressing"))
        .singleElement()
        .extracting(c -> c.message())
        .asString()
        .contains("stalled: nothing more is tried until the source app or the spec changes");

    patch("{\"spec\": {\"paused\": true}}");
    pass();
    pass();
    assertThat(condition("Progressing")).isEqualTo("False/Paused");
    assertThat(condition("Degraded"))
        .as("the pause keeps the stall said")
        .isEqualTo("True/RolloutStalled");
  }

  @Test
  void sharedAddOnsAreAttachedAndRotatedCredentialsReachEveryBackend() {
    java.util.Map<String, String> varsBefore = sim.app(source).configVars();
    String addon = sim.createAddon(source, "heroku-postgresql");
    // the var the attachment set: DATABASE_URL, or HEROKU_POSTGRESQL_<X>_URL when that is taken
    String var =
        sim.app(source).configVars().entrySet().stream()
            .filter(
                e ->
                    !e.getValue().equals(varsBefore.get(e.getKey()))
                        && e.getValue().startsWith("postgres://"))
            .map(java.util.Map.Entry::getKey)
            .findFirst()
            .orElseThrow();
    String url = sim.app(source).configVars().get(var);
    createPool(2, "");
    converge(2);
    assertThat(owned()).allMatch(a -> url.equals(a.configVars().get(var)));
    assertThat(calls("POST", "/addon-attachments", 201))
        .filteredOn(c -> namesOwnedApp(c))
        .hasSize(2); // the call log is the simulator's, shared with the other test classes
    Set<String> before = ownedNames();

    sim.rotateAddonCredentials(addon);
    String rotated = sim.app(source).configVars().get(var);
    assertThat(rotated).isNotEqualTo(url);
    assertThat(owned()).allMatch(a -> rotated.equals(a.configVars().get(var)));
    // the source app's new (config-only) release changes nothing Dynofleet owns: no rollout
    converge(2);
    assertThat(ownedNames()).isEqualTo(before);
    assertThat(owned()).allMatch(a -> rotated.equals(a.configVars().get(var)));
  }

  /**
   * Review 6: many add-on services allow no sharing (the schema's default). Heroku refused the
   * attachment, the refusal was taken for "already attached", and the add-on's vars were left out
   * of the copy: every backend ran without them. They are copied, and the pool says so.
   */
  @Test
  void anAddOnThatCannotBeSharedHasItsVarsCopied() {
    sim.createAddon(source, "heroku-postgresql");
    sim.createAddon(source, "mailgun");
    String mail = sim.app(source).configVars().get("MAILGUN_URL");
    assertThat(mail).isNotNull();
    createPool(1, "");
    converge(1);
    assertThat(owned())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.configVars())
                  .containsEntry("MAILGUN_URL", mail)
                  .containsKey("DATABASE_URL");
            });
    assertThat(calls("POST", "/addon-attachments", 201))
        .filteredOn(c -> namesOwnedApp(c))
        .as("the database only")
        .hasSize(1);
    assertThat(calls("POST", "/addon-attachments", 422))
        .filteredOn(c -> namesOwnedApp(c))
        .isEmpty();
    assertThat(eventReasons()).contains("AddonNotShared");
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /**
   * Review 3: add-ons were attached to backends without names, so Heroku (and the simulator) named
   * them in the order attached: with a leader and a follower database, a backend's DATABASE_URL
   * could be the follower's. They are attached under the source's names.
   */
  @Test
  void addOnsAreAttachedUnderTheSourcesNames() {
    String leader = sim.createAddon(source, "heroku-postgresql"); // DATABASE on the source
    String follower;
    do { // one the add-on list puts first (it is ordered by id), so order alone would get it wrong
      follower = sim.createAddon(source, "heroku-postgresql");
    } while (sim.addonId(follower).compareTo(sim.addonId(leader)) > 0);
    java.util.Map<String, String> sourceVars = sim.app(source).configVars();
    createPool(2, "");
    converge(2);
    assertThat(owned())
        .hasSize(2)
        .allSatisfy(
            a -> {
              assertThat(a.configVars().get("DATABASE_URL"))
                  .isEqualTo(sourceVars.get("DATABASE_URL"));
              sourceVars.forEach(
                  (k, v) -> {
                    if (k.startsWith("HEROKU_POSTGRESQL_")) {
                      assertThat(a.configVars().get(k)).as(k).isEqualTo(v);
                    }
                  });
            });
  }

  // ------------------------------------------------------------------ crashes and concurrency

  @ParameterizedTest
  @ValueSource(
      strings = {
        "createApp:before",
        "createApp",
        "attachAddon",
        "patchConfigVars",
        "createRelease",
        "scaleWeb",
        "couple"
      })
  void aCrashAtAnyStepOfACreateConvergesWithoutTwins(String point) {
    sim.createAddon(source, "heroku-postgresql");
    createPool(2, "");
    CrashingPlatform crashing = new CrashingPlatform(platform, point);
    Reconciler doomed = reconcilerOn(crashing);
    // later steps wait for the release: pass until the process reaches its crash point
    ReconcileResult[] last = new ReconcileResult[1];
    await()
        .atMost(Duration.ofSeconds(20))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              last[0] = doomed.reconcile(new PoolKey(name));
              return crashing.fired();
            });
    assertThat(last[0].outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    // the process is gone; a new one (no memory but the database) takes over
    reconciler.forgetCaches();
    converge(2);
    assertBackendsLookLikeTheSource(2);
    assertThat(appCreates()).as("apps created").isEqualTo(2);
    String db = sim.app(source).configVars().get("DATABASE_URL");
    assertThat(owned()).allMatch(a -> db.equals(a.configVars().get("DATABASE_URL")));
  }

  /**
   * Heroku carries out a call and its answer is lost (a read timeout, a reset): the client sees a
   * transient failure of a call that did happen. Retried or looked up, it must not make a twin, an
   * orphan, a stuck backend or a second subscription.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "POST /apps",
        "POST /addon-attachments",
        "PATCH /apps/[^/]+/config-vars",
        "POST /apps/[^/]+/releases",
        "PATCH /apps/[^/]+/formation(/web)?",
        "POST /pipeline-couplings"
      })
  void aLostAnswerAtAnyStepOfACreateConvergesWithoutTwins(String call) {
    sim.createAddon(source, "heroku-postgresql");
    sim.loseAnswer(call);
    createPool(2, "");
    converge(2);
    assertThat(sim.pendingLostAnswers()).as("the answer was lost").isZero();
    assertBackendsLookLikeTheSource(2);
    assertThat(appCreates()).as("apps created").isEqualTo(2);
    String db = sim.app(source).configVars().get("DATABASE_URL");
    assertThat(owned()).allMatch(a -> db.equals(a.configVars().get("DATABASE_URL")));
    assertThat(condition("Degraded")).startsWith("False");
    if (call.equals("POST /apps")) {
      assertThat(eventReasons()).contains("Adopted");
      // audit 9: the adopted app had an AppCreated too, as if a second app had been made
      assertThat(pools.events(name, 200))
          .filteredOn(e -> e.reason().equals("AppCreated"))
          .singleElement()
          .satisfies(e -> assertThat(e.count()).isEqualTo(1));
    }
  }

  /**
   * Audit 14: the answer to a release's POST lost (a timeout, a reset, the dyno killed while it
   * waited), the next pass sent a second release; its release phase ran beside the first, failed on
   * its lock (Rails' db:migrate), and the pool stalled with CreateFailed, for a transient fault.
   * The release sent is found on the app and waited for.
   */
  @Test
  void aLostAnswerToAReleaseIsLookedUpNotSentAgain() {
    sim.releasePhaseExclusive(source);
    sim.releaseDelay(Duration.ofSeconds(2)); // reset with the faults
    sim.loseAnswer("POST /apps/[^/]+/releases");
    createPool(1, "");
    converge(1);
    assertThat(sim.pendingLostAnswers()).as("the answer was lost").isZero();
    String app = owned().get(0).id();
    assertThat(calls("POST", "/apps/" + app + "/releases", 201)).as("one release sent").hasSize(1);
    assertThat(eventReasons()).contains("Adopted").doesNotContain("CreateFailed", "BackendFailed");
    assertThat(condition("Degraded")).startsWith("False");
  }

  /**
   * Audit 19 #6: a create whose POST timed out while Heroku had not made the app yet, then a scale
   * to 0 at once. The drained intent's {@code GET /apps/{name}} answered 404, its row was
   * forgotten, and Heroku made the app after that: an app named like the pool's, without a marker
   * or a row, never adopted nor deleted. The row is kept and the app looked for again until the
   * POST can no longer land; the app made meanwhile is deleted. Played with a client whose read
   * timeout is 1 s and a create the simulator carries out 8 s after it arrived.
   */
  @Test
  void aCreateCarriedOutAfterItsTimeoutAndADrainIsDeletedNotOrphaned() {
    HerokuConfig impatient = TestHerokuClients.impatient(herokuConfig, Duration.ofSeconds(1));
    Reconciler slow =
        reconcilerOn(
            new HerokuPlatform(
                TestHerokuClients.client(impatient, registry, sim.url(), sim.apiKey())));
    createPool(1, "");
    sim.completeLate("POST /apps", Duration.ofSeconds(8));
    assertThat(slow.reconcile(new PoolKey(name)).outcome())
        .as("the create timed out")
        .isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(sim.pendingLateCalls()).isZero();
    scale(0);
    slow.reconcile(new PoolKey(name)); // drains the intent, looks for its app: not there yet
    assertThat(named()).as("the create has not landed yet").isEmpty();
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> !named().isEmpty());
    converge(0);
    assertThat(named()).as("no orphan").isEmpty();
    assertThat(appCreates()).isEqualTo(1);
    assertThat(eventReasons()).contains("AppDeleted");
  }

  /**
   * Review 24 #1, release: a gateway's 504 to a release's POST while the API service goes on and
   * makes it. Taken for "not done", the mark kept no time, the next pass found no release yet and
   * sent a second one: two release phases on one app (with an exclusive release phase, the second
   * failed on its lock). The 504 is waited out as no answer is: one POST, one release.
   */
  @Test
  void aReleaseAnswered504ThatLandsLateIsFoundNotSentAgain() {
    sim.releasePhaseExclusive(source);
    sim.completeLate("POST /apps/[^/]+/releases", Duration.ofSeconds(6), 504);
    createPool(1, "");
    ReconcileResult first = null;
    for (int i = 0; i < 10 && sim.pendingLateCalls() > 0; i++) {
      first = pass();
    }
    assertThat(sim.pendingLateCalls()).as("the release was answered 504").isZero();
    assertThat(first.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    String app = owned().get(0).id();
    pass(); // at once: the release has not landed yet
    assertThat(sim.callLog())
        .as("not sent again while it may land")
        .filteredOn(c -> c.method().equals("POST") && c.path().equals("/apps/" + app + "/releases"))
        .extracting(SandboxCall::status)
        .containsExactly(504);
    converge(1);
    assertThat(sim.callLog())
        .as("one release sent")
        .filteredOn(c -> c.method().equals("POST") && c.path().equals("/apps/" + app + "/releases"))
        .hasSize(1);
    assertThat(heroku.releases(app))
        .as("one release of Dynofleet's on the app")
        .filteredOn(r -> r.description() != null && r.description().startsWith("Dynofleet: "))
        .hasSize(1);
    assertThat(eventReasons()).contains("Adopted").doesNotContain("CreateFailed", "BackendFailed");
    assertThat(condition("Degraded")).startsWith("False");
    assertThat(first.error())
        .as("the failure says the answer was a 5xx, and that the release may be made")
        .contains("releases → 504")
        .contains("the release may have been made all the same");
  }

  /**
   * Review 24 #1, create: a gateway's 503 to {@code POST /apps} while the API service goes on and
   * makes the app, then a scale to 0 at once. Taken for "not done", the intent kept no send time,
   * its drain took the name's first 404 for "never made" and forgot the row, and the app made after
   * that was an orphan. The 503 is waited out as no answer is: the late app is deleted.
   */
  @Test
  void aCreateAnswered503ThatLandsLateWhileItsIntentIsDrainedLeavesNoOrphan() {
    createPool(1, "");
    sim.completeLate("POST /apps", Duration.ofSeconds(8), 503);
    ReconcileResult r = pass();
    assertThat(r.outcome())
        .as("the create was answered 503")
        .isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(sim.pendingLateCalls()).isZero();
    scale(0);
    pass(); // drains the intent, looks for its app: not there yet
    assertThat(named()).as("the create has not landed yet").isEmpty();
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> !named().isEmpty());
    converge(0);
    assertThat(named()).as("no orphan").isEmpty();
    assertThat(sim.callLog())
        .as("one create sent, answered 503")
        .filteredOn(
            c ->
                c.method().equals("POST")
                    && c.path().equals("/apps")
                    && c.requestBody().contains("\"" + name + "-"))
        .extracting(SandboxCall::status)
        .containsExactly(503);
    assertThat(eventReasons()).contains("AppDeleted");
    assertThat(r.error())
        .as("the failure says the answer was a 5xx, and that the app may be made")
        .contains("POST /apps → 503")
        .contains("the app may have been made all the same");
  }

  /**
   * Security review 5 S5-1: the name of an app whose create had not answered (a 503, no answer, a
   * 429 wait) was in the status from the moment its intent was saved, so a holder of the read-only
   * token (or anyone at the dashboard) could take that name on Heroku before Dynofleet's create
   * landed. The status, the Degraded condition and the events say "a new app" until the create has
   * answered; the name shows once the app is made.
   */
  @Test
  void theNameOfAnAppWhoseCreateHasNotAnsweredIsShownToNoReader() {
    sim.refuse("POST /apps", 503, "unavailable", "Service Unavailable");
    createPool(1, "");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    String intended = store.backends(java.util.UUID.fromString(uid())).get(0).appName;
    assertThat(store.backends(java.util.UUID.fromString(uid())).get(0).sentAt)
        .as("the create may still land")
        .isNotNull();
    RequestSpecification reader =
        given().header("Authorization", "Bearer test-read-token-0123456789");
    for (String path : List.of("", "/status", "/events")) {
      assertThat(reader.get(POOLS + "/" + name + path).then().statusCode(200).extract().asString())
          .as("GET %s%s with the read-only token", name, path)
          .doesNotContain(intended);
    }
    assertThat(status().backends())
        .singleElement()
        .satisfies(
            b -> {
              assertThat(b.phase()).isEqualTo("Creating");
              assertThat(b.app()).isNull();
            });
    assertThat(status().conditions())
        .anySatisfy(
            c -> {
              assertThat(c.type()).isEqualTo("Degraded");
              assertThat(c.message()).startsWith("create a new app: ");
            });
    scale(0); // its intent drained while its create may still land
    pass();
    assertThat(pools.events(name, 200))
        .extracting(e -> e.message())
        .anySatisfy(m -> assertThat(m).contains("a new app whose create has not answered"))
        .noneSatisfy(m -> assertThat(m).contains(intended));
    assertThat(reader.get(POOLS + "/" + name).then().statusCode(200).extract().asString())
        .doesNotContain(intended);
    sim.resetFaults();
    scale(1);
    converge(1);
    String made = owned().get(0).name();
    assertThat(status().backends()).extracting(PoolStatus.BackendStatus::app).containsExactly(made);
  }

  /**
   * The intent of a create answered 503 (not carried out): its name is kept for the next try, and
   * the create's send time with it. Its intended name.
   */
  private String intentWhoseCreateWasAnswered503() {
    sim.refuse("POST /(teams/)?apps", 503, "unavailable", "Service Unavailable");
    assertThat(pass().outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    Backend intent = store.backends(java.util.UUID.fromString(uid())).get(0);
    assertThat(intent.sentAt).as("the create may still land").isNotNull();
    sim.resetFaults();
    return intent.appName;
  }

  /** What a foreign app under an intended name was given: nothing, ever. */
  private void assertUntouched(String app) {
    SandboxApp a = sim.app(app);
    assertThat(a.configVars()).as("no config var written to %s", app).isEmpty();
    assertThat(a.release()).as("only Heroku's initial release").isEqualTo(1);
    assertThat(a.slugId()).isNull();
    assertThat(a.webQuantity()).isZero();
    assertThat(a.pipelineId()).isNull();
    assertThat(eventReasons()).contains("NameTaken").doesNotContain("Adopted");
    assertThat(ownedNames()).as("a new name was chosen").hasSize(1).doesNotContain(app);
  }

  /**
   * Security review 5 S5-1: while a create went unanswered (or 5xx, or waited out a 429) anyone who
   * made an app under the intended name where Dynofleet's key could read it (their own, the key's
   * user added as a collaborator) got it adopted: any unmarked app made after the intent passed for
   * Dynofleet's own lost create, and was given the source app's config vars, the template's and the
   * pool's proxy secret, the source's slug, then the pool's traffic. An app another user made and
   * owns is NameTaken: a new name is chosen, and nothing is written to it.
   */
  @Test
  void anAppAnotherUserMakesUnderAnIntendedNameIsNeverAdopted() {
    createPool(1, ""); // its template's ROLE, the source's vars and the proxy secret to keep
    String intended = intentWhoseCreateWasAnswered503();
    sim.createAppAs(intended, "mallory@example.com", null);
    converge(1);
    assertUntouched(intended);
  }

  /**
   * S5-1 on a team's pipeline: a member of the team who may create the team's apps makes one under
   * the intended name. The team owns it as it owns Dynofleet's apps, but the key's user did not
   * make it (its release v1 is the member's): NameTaken, never adopted.
   */
  @Test
  void anAppATeamMemberMakesUnderAnIntendedNameIsNeverAdopted() {
    pipeline = pipeline + "-t";
    sim.createTeamPipeline(pipeline, "acme-" + name);
    createPool(1, "");
    String intended = intentWhoseCreateWasAnswered503();
    sim.createAppAs(intended, "eve@example.com", "acme-" + name);
    converge(1);
    assertUntouched(intended);
    assertThat(owned()).allSatisfy(a -> assertThat(sim.teamOf(a.name())).isEqualTo("acme-" + name));
  }

  /**
   * S5-1, the drain's side: an intent drained while its create may still land looks for its app by
   * name and deleted any unmarked app made after the intent, another user's included. Another
   * user's app is left alone; the row goes.
   */
  @Test
  void aDrainedIntentLeavesAnotherUsersAppUnderItsNameAlone() {
    createPool(1, "");
    String intended = intentWhoseCreateWasAnswered503();
    sim.createAppAs(intended, "mallory@example.com", null);
    scale(0);
    converge(0);
    assertThat(sim.app(intended)).as("not deleted").isNotNull();
    assertThat(sim.app(intended).configVars()).isEmpty();
    assertThat(store.backends(java.util.UUID.fromString(uid()))).isEmpty();
  }

  /**
   * S5-1: an unmarked app under the intended name that something was done to (a config var set) is
   * no create of ours whose answer was lost, even when the key's user made it (someone with the
   * key, or the same account): NameTaken, and nothing more is written to it.
   */
  @Test
  void anUnmarkedAppWithAConfigVarIsNeverAdopted() {
    createPool(1, "");
    String intended = intentWhoseCreateWasAnswered503();
    heroku.createApp(new io.dynofleet.heroku.AppCreate(intended, null, null));
    heroku.updateConfigVars(intended, Map.of("MINE", "yes"));
    converge(1);
    assertThat(sim.app(intended).configVars()).containsOnlyKeys("MINE");
    assertThat(eventReasons()).contains("NameTaken").doesNotContain("Adopted");
    assertThat(ownedNames()).hasSize(1).doesNotContain(intended);
  }

  /**
   * Crash safety kept on a team's pipeline: a create of a team app whose answer was lost is still
   * adopted (the team owns it, the key's user made it, nothing was done to it), not doubled.
   */
  @Test
  void aLostAnswerToATeamAppsCreateIsAdopted() {
    pipeline = pipeline + "-t";
    sim.createTeamPipeline(pipeline, "acme-" + name);
    sim.loseAnswer("POST /teams/apps");
    createPool(1, "");
    converge(1);
    assertThat(sim.pendingLostAnswers()).as("the answer was lost").isZero();
    assertThat(eventReasons()).contains("Adopted").doesNotContain("NameTaken");
    assertThat(named()).as("no twin, no orphan").hasSize(1);
    assertThat(owned()).hasSize(1);
  }

  @Test
  void aLostAnswerToAnAppDeleteStillEndsWithTheAppGone() {
    createPool(2, "");
    converge(2);
    sim.loseAnswer("DELETE /apps/[^/]+"); // by id
    scale(0);
    converge(0);
    assertThat(sim.pendingLostAnswers()).as("the answer was lost").isZero();
    assertThat(named()).isEmpty();
    assertThat(eventReasons()).filteredOn("AppDeleted"::equals).hasSize(2);
    assertThat(condition("Degraded")).startsWith("False");
  }

  @Test
  void twoReconcilersOnOneDatabaseNeverDuplicateAnAction() throws Exception {
    Reconciler other = reconcilerOn(platform);
    createPool(4, "");
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                List<Future<ReconcileResult>> both =
                    List.of(
                        threads.submit(() -> reconciler.reconcile(new PoolKey(name))),
                        threads.submit(() -> other.reconcile(new PoolKey(name))));
                boolean done = false;
                for (Future<ReconcileResult> f : both) {
                  done |= f.get().outcome() == ReconcileResult.Outcome.DONE;
                }
                return done && status().readyReplicas() == 4;
              });
    } finally {
      threads.shutdownNow();
    }
    assertBackendsLookLikeTheSource(4);
    assertThat(appCreates()).isEqualTo(4);
    assertThat(calls("POST", "/pipeline-couplings", 201).stream().filter(c -> namesOwnedApp(c)))
        .hasSize(4);
  }

  /**
   * Review 30 R30-1: a pass that only waited reused this process's look at the source's releases,
   * up to release-poll old, though another dyno had read a newer release since and made apps for
   * it: those apps looked off-target, were drained, and the rollout stepped back. The fleet's newer
   * read (or the pool's higher target release) makes the look stale.
   */
  @Test
  void aLookOlderThanAnotherDynosReadOfTheSourceIsNotReused() {
    Reconciler other = reconcilerOn(platform);
    createPool(2, "");
    converge(2);
    Set<String> before = ownedNames();
    sim.backendCrashed(before.iterator().next()); // the pool waits for it: passes only wait
    awaitPhase(before.iterator().next(), "Unhealthy");
    // a waiting pass of this dyno that has just read the source's releases
    await()
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              int mark = sim.callLog().size();
              boolean waited = pass().outcome() == ReconcileResult.Outcome.REQUEUE;
              List<SandboxCall> log = sim.callLog();
              return waited
                  && log.subList(mark, log.size()).stream()
                      .anyMatch(
                          c ->
                              c.method().equals("GET")
                                  && c.path().equals("/apps/" + source + "/releases"));
            });
    long looked = System.nanoTime();
    SandboxApp pushed = sim.pushRelease(source);
    other.reconcile(new PoolKey(name)); // another dyno reads it and makes apps for it
    UUID pool = pools.get(name).metadata().uid();
    Set<UUID> itsApps =
        store.backends(pool).stream()
            .filter(b -> !before.contains(b.appName))
            .map(b -> b.id)
            .collect(Collectors.toSet());
    assertThat(itsApps).as("the other dyno's new backends").isNotEmpty();
    pass();
    // what is shown needs this dyno's look younger than release-poll still (not a speed check)
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Duration.ofNanos(System.nanoTime() - looked).compareTo(config.releasePoll()) < 0);
    assertThat(store.backends(pool))
        .filteredOn(b -> itsApps.contains(b.id))
        .as("the other dyno's backends at v%d are not drained", pushed.release())
        .hasSize(itsApps.size())
        .allSatisfy(
            b -> assertThat(b.phase).isNotIn(Backend.Phase.Draining, Backend.Phase.Deleting));
    assertThat(status().targetRelease()).isEqualTo("v" + pushed.release());
  }

  /**
   * Review 30 R30-I3: a waiting pass reuses the look at the source's releases for release-poll
   * (audit 25 F1), and a notification ends the reuse at once; without one, a new release must still
   * be seen once the look is older than release-poll (docs/reliability.md). The log-tail tests
   * simulate the notification, so nothing else covered this bound: a reuse that never expired would
   * pass them all.
   */
  @Test
  void aReleaseWithoutANotificationIsSeenOnceTheLookIsOlderThanReleasePoll() {
    createPool(2, "");
    converge(2);
    String sick = ownedNames().iterator().next();
    sim.backendCrashed(sick); // the pool waits for it: its passes only wait
    awaitPhase(sick, "Unhealthy");
    pass();
    SandboxApp pushed = sim.pushRelease(source); // no r.heard(name): no notification
    // passes go on as the loop would run them; the release is read once the look has aged
    await()
        .atMost(config.releasePoll().multipliedBy(6))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              pass();
              return ("v" + pushed.release()).equals(status().targetRelease());
            });
  }

  // ------------------------------------------------------------------ Platform API faults

  /**
   * Played with short Platform API timeouts in the 5xx phase (the simulator answers in
   * milliseconds): a 5xx to a release's POST is waited out for the client's send window before the
   * release is sent again, as it may land (review 24 #1), about 47 s with the test profile's 10 s
   * read timeout, which a few 503s in a row made longer than the phase's wait; about 7 s here.
   */
  @Test
  void fiveHundredsLatencyAndA429StormConvergeLaterWithinTheBudget() {
    HerokuConfig quick =
        TestHerokuClients.with(
            herokuConfig,
            Map.of(
                "readTimeout", Duration.ofSeconds(1),
                "connectTimeout", Duration.ofSeconds(1),
                "rateLimitMaxWait", Duration.ofSeconds(1)));
    Reconciler faulty =
        reconcilerOn(
            new HerokuPlatform(TestHerokuClients.client(quick, registry, sim.url(), sim.apiKey())));
    createPool(3, "");
    // a burst longer than the client's retries first, so at least one pass fails for certain
    // (30% at random alone is sometimes all absorbed by the retries)
    sim.injectErrors(8, 503, "internal_server_error", "Internal server error.");
    sim.apiErrorRate(0.3);
    sim.apiLatency(Duration.ofMillis(30));
    List<ReconcileResult> failed = new ArrayList<>();
    Set<String> reasons = new HashSet<>();
    await()
        .atMost(Duration.ofSeconds(90))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              ReconcileResult r = faulty.reconcile(new PoolKey(name));
              if (r.outcome() == ReconcileResult.Outcome.FAILED) {
                failed.add(r);
                reasons.add(condition("Degraded"));
              }
              return r.outcome() == ReconcileResult.Outcome.DONE && status().readyReplicas() == 3;
            });
    assertThat(calls("GET", "/", 503).size() + calls("POST", "/", 503).size()).isPositive();
    assertThat(failed)
        .isNotEmpty()
        .allMatch(r -> !r.requeueAfter().isZero() && !r.requeueAfter().isNegative());
    assertThat(reasons).contains("True/HerokuUnavailable");
    sim.resetFaults();
    converge(3);
    assertBackendsLookLikeTheSource(3);
    assertThat(appCreates()).isEqualTo(3);

    // a 429 storm: the bucket is empty, it refills slowly; creation waits for the budget
    scale(5);
    sim.rateLimitStorm();
    sim.clearCallLog();
    for (int i = 0; i < 3; i++) {
      ReconcileResult r = pass();
      assertThat(r.outcome()).isNotEqualTo(ReconcileResult.Outcome.DONE);
    }
    assertThat(condition("Degraded")).isEqualTo("True/RateLimited");
    assertThat(calls("POST", "/apps", 201))
        .as("no create while the budget is under its reserve")
        .isEmpty();
    long limited = sim.callLog().stream().filter(c -> c.status() == 429).count();
    assertThat(limited).as("429s are waited out, not retried hot").isLessThanOrEqualTo(3 * 2 * 4);
    sim.resetFaults();
    converge(5);
    assertBackendsLookLikeTheSource(5);
    assertThat(appCreates()).as("creates since the storm began").isEqualTo(2);
  }

  @Test
  @Timeout(60)
  void aPassWaitingOutA429SaysSoAtOnceAndClearsItWhenTheWaitPaysOff() throws Exception {
    createPool(1, "");
    converge(1);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
    scale(2);
    // six 429s: the client waits 50+100+...+1600 ms
    // (3.15 s, under the 5 s it may wait), then goes on
    sim.injectErrors(6, 429, "rate_limit", "Your account reached the API rate limit");
    ExecutorService one = Executors.newSingleThreadExecutor();
    try {
      Future<ReconcileResult> passing = one.submit(this::pass);
      // not a bound of the test: "at once" is that the pass still waits when it is seen (below).
      // 3 s here counted the pass's start too, which a loaded machine can spend on its own
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> condition("Degraded").equals("True/RateLimited"));
      assertThat(passing).as("shown while the pass still waits").isNotDone();
      PoolStatus during = status();
      assertThat(during.readyReplicas()).as("the rest of the status is kept").isEqualTo(1);
      assertThat(during.conditions())
          .filteredOn(c -> c.type().equals("Degraded"))
          .singleElement()
          .satisfies(c -> assertThat(c.message()).contains("429"));
      ReconcileResult r = passing.get(30, TimeUnit.SECONDS);
      assertThat(r.outcome()).isNotEqualTo(ReconcileResult.Outcome.FAILED);
      assertThat(condition("Degraded")).as("the wait paid off").isEqualTo("False/AsExpected");
    } finally {
      one.shutdownNow();
    }
    converge(2);
  }

  /**
   * Audit 9: with Heroku answering slower than the client's read timeout, a pass hung ~90 s in its
   * first GET (three timeouts) while the status said Ready/Stable; only observedGeneration gave it
   * away. The first failed attempt now shows Degraded/HerokuUnavailable at once. Played with a
   * client whose read timeout is 1 s (5 attempts) and answers 1.5 s late.
   */
  @Test
  void aPlatformApiSlowerThanTheTimeoutShowsInTheStatusWhileThePassHangs() throws Exception {
    createPool(1, "");
    converge(1);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
    HerokuConfig impatient = TestHerokuClients.impatient(herokuConfig, Duration.ofSeconds(1), 5);
    Reconciler slow =
        reconcilerOn(
            new HerokuPlatform(
                TestHerokuClients.client(impatient, registry, sim.url(), sim.apiKey())));
    scale(2);
    sim.apiLatency(Duration.ofMillis(1500));
    ExecutorService one = Executors.newSingleThreadExecutor();
    try {
      long t0 = System.nanoTime();
      Future<ReconcileResult> hanging = one.submit(() -> slow.reconcile(new PoolKey(name)));
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> hanging.isDone() || condition("Degraded").equals("True/HerokuUnavailable"));
      double shownAfter = (System.nanoTime() - t0) / 1e9;
      assertThat(hanging.isDone()).as("shown while the pass still hangs").isFalse();
      assertThat(shownAfter).as("shown after the first timeout, not the last").isLessThan(3.5);
      assertThat(status().conditions())
          .anySatisfy(c -> assertThat(c.message()).contains("failing or slow"));
      assertThat(status().observedGeneration()).isLessThan(pools.get(name).metadata().generation());
      ReconcileResult r = hanging.get(60, TimeUnit.SECONDS);
      assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
      assertThat((System.nanoTime() - t0) / 1e9)
          .as("the pass hung through its retries")
          .isGreaterThan(5);
    } finally {
      one.shutdownNow();
    }
    sim.apiLatency(Duration.ZERO);
    converge(2);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  @Test
  void anInvalidOrExpiredKeyIsAConditionNotACrashLoop() {
    createPool(1, "");
    String wrongKey = "HRKU-wrong-" + SEQ.get();
    Reconciler wrong =
        reconcilerOn(
            new HerokuPlatform(
                TestHerokuClients.client(herokuConfig, registry, sim.url(), wrongKey)));
    for (int i = 0; i < 3; i++) {
      ReconcileResult r = wrong.reconcile(new PoolKey(name));
      assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
      assertThat(r.requeueAfter())
          .as("a slow retry, not a crash loop")
          .isEqualTo(config.maxBackoff());
    }
    assertThat(condition("Degraded")).isEqualTo("True/HerokuUnauthorized");
    assertThat(eventReasons()).contains("HerokuUnauthorized");
    String everything =
        api().get(POOLS + "/" + name).asString()
            + api().get(POOLS + "/" + name + "/events").asString();
    assertThat(everything).doesNotContain(wrongKey).doesNotContain(sim.apiKey());
    assertThat(named()).isEmpty();

    // the right key works; then it expires on Heroku's side while the pool runs
    converge(1);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
    sim.keyExpired(true);
    reconciler.forgetCaches();
    ReconcileResult r = pass();
    assertThat(r.outcome()).isEqualTo(ReconcileResult.Outcome.FAILED);
    assertThat(condition("Degraded")).isEqualTo("True/HerokuUnauthorized");
    assertThat(owned()).hasSize(1); // nothing is torn down for an auth failure
    sim.keyExpired(false);
    converge(1);
    assertThat(condition("Degraded")).isEqualTo("False/AsExpected");
  }

  /** The index in the simulator's call log of the first {@code method} call on {@code path}. */
  private int firstCall(List<SandboxCall> log, String method, String path) {
    for (int i = 0; i < log.size(); i++) {
      if (log.get(i).method().equals(method) && log.get(i).path().equals(path)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Audit 20 M2 over the real API: the source's own log drain is added to every backend before its
   * release, once; a logging add-on's drain on the source is not copied; the source's drains are
   * read once for the target; and no event names the url (its token).
   */
  @Test
  void theSourcesLogDrainReachesEveryBackendBeforeItsRelease() {
    String drain = "syslog+tls://logs.example.invalid:6514/?token=drain-t0ken-" + name;
    String addon = sim.createAddon(source, "heroku-postgresql");
    sim.addAddonLogDrain(addon, "https://addon-logs.example.invalid/" + name);
    sim.addLogDrain(source, drain);
    createPool(2, "");
    converge(2);
    List<SandboxCall> log = sim.callLog();
    assertThat(owned())
        .hasSize(2)
        .allSatisfy(
            a -> {
              assertThat(sim.logDrains(a.name())).containsExactly(drain);
              int added = firstCall(log, "POST", "/apps/" + a.id() + "/log-drains");
              assertThat(added)
                  .isNotNegative()
                  .isLessThan(firstCall(log, "POST", "/apps/" + a.id() + "/releases"));
            });
    assertThat(log)
        .filteredOn(
            c ->
                c.method().equals("GET")
                    && c.path().equals("/apps/" + sim.app(source).id() + "/log-drains"))
        .as("read once for the target, not per backend (by the pinned id)")
        .hasSize(1);
    assertThat(pools.events(name, 200).toString()).doesNotContain("drain-t0ken");
    assertThat(eventReasons()).contains("LogDrainsCopied");
    // what a retried create step meets: Heroku's 422 for the url already there, which the step
    // takes for "there" once it finds it in the list
    assertThatThrownBy(() -> platform.addLogDrain(owned().get(0).id(), drain))
        .isInstanceOfSatisfying(
            Platform.PlatformException.class,
            e -> assertThat(e.kind()).isEqualTo(Platform.PlatformException.Kind.INVALID));
  }

  /**
   * Audit 20 M5 over the real API: with {@code runtime-dyno-metadata} on the source, each backend's
   * release carries the dyno metadata (the simulator sets it only on a release made while the
   * feature is on, as Heroku does), naming the backend's own app and the source's slug commit;
   * {@code http-session-affinity} on the source is a Warning.
   */
  @Test
  void dynoMetadataReachesEveryBackendAndSessionAffinityIsWarnedAbout() {
    sim.feature(source, "runtime-dyno-metadata", true);
    sim.feature(source, "http-session-affinity", true);
    createPool(2, "");
    converge(2);
    assertThat(owned())
        .hasSize(2)
        .allSatisfy(
            a -> {
              assertThat(sim.features(a.name())).containsExactly("runtime-dyno-metadata");
              assertThat(sim.dynoMetadata(a.name()))
                  .containsEntry("HEROKU_APP_NAME", a.name())
                  .containsEntry("HEROKU_APP_ID", a.id())
                  .containsKey("HEROKU_SLUG_COMMIT");
            });
    assertThat(eventReasons()).containsOnlyOnce("SessionAffinityIgnored");
  }
}
