package io.dynofleet.heroku;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.dynofleet.api.HookSignature;
import io.dynofleet.sandbox.SandboxCall;
import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every facade call against the simulator over real HTTP. */
@QuarkusTest
class HerokuClientTests {

  @Inject HerokuClient client;
  @Inject Simulator sim;
  @Inject MeterRegistry meters;

  @BeforeEach
  void clean() {
    sim.clear();
  }

  @Test
  void accountAndStandardHeaders() {
    long before = client.callCount();
    assertThat(client.account().email()).isEqualTo("sandbox@dynofleet.local");
    assertThat(client.callCount()).isEqualTo(before + 1);
    SandboxCall call = sim.callLog().get(sim.callLog().size() - 1);
    assertThat(call.accept()).isEqualTo("application/vnd.heroku+json; version=3");
    assertThat(call.userAgent()).startsWith("dynofleet/");
    assertThat(UUID.fromString(call.requestId())).isNotNull();
    assertThat(client.budget().remaining()).isLessThan(4500);
    assertThat(meters.get("dynofleet.heroku.rate.limit.remaining").gauge().value())
        .as("the budget as a metric, to alert on")
        .isEqualTo(client.budget().remaining());
    client.account();
    assertThat(meters.get("dynofleet.heroku.rate.limit.remaining").gauge().value())
        .isEqualTo(client.budget().remaining())
        .isLessThan(4500);
    assertThat(
            meters
                .find("dynofleet.heroku.calls")
                .tag("method", "GET")
                .tag("status", "200")
                .counter())
        .isNotNull();
  }

  private long timed(String method, String status) {
    var t =
        meters.find("dynofleet.heroku.call").tag("method", method).tag("status", status).timer();
    return t == null ? 0 : t.count();
  }

  /** Audit 18 #3: every call is timed by method and status, beside the documented counter. */
  @Test
  void callsAreTimedByMethodAndStatus() {
    String name = "timed-" + UUID.randomUUID().toString().substring(0, 8);
    client.createApp(new AppCreate(name, null, null));
    long ok = timed("GET", "200");
    client.app(name); // a first GET of its path: no ETag to send, so not a 304
    assertThat(timed("GET", "200")).isEqualTo(ok + 1);
    long notFound = timed("GET", "404");
    assertThatThrownBy(() -> client.app("no-such-app-timed")).isInstanceOf(HerokuException.class);
    assertThat(timed("GET", "404")).isEqualTo(notFound + 1);
    assertThat(meters.get("dynofleet.heroku.call").tag("status", "404").timer().max(SECONDS))
        .isPositive();
  }

  /**
   * Audit 18 #6: a failure said only Heroku's words. It names the call, the status, Heroku's id and
   * the Request-Id sent (Heroku Support asks for it); the fields stay, and no body (a webhook's
   * secret) is in it.
   */
  @Test
  void aFailureNamesTheCallStatusIdAndRequestId() {
    assertThatThrownBy(() -> client.app("no-such-app-named"))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class,
            e -> {
              SandboxCall sent = sim.callLog().get(sim.callLog().size() - 1);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "GET /apps/no-such-app-named → 404 not_found: Couldn't find that app.");
              // kept beside the text, not in it: the text is the pool's condition and event, the
              // same at every failed pass
              assertThat(e.requestId()).isEqualTo(sent.requestId());
              assertThat(e.status()).isEqualTo(404);
              assertThat(e.id()).isEqualTo("not_found");
              assertThat(e.herokuMessage()).isEqualTo("Couldn't find that app.");
              assertThat(e.isNotFound()).isTrue();
            });
    assertThatThrownBy(
            () ->
                client.createWebhook(
                    "no-such-app-named",
                    List.of("api:release"),
                    "notify",
                    "https://example.com/hook",
                    "s3cr3t-webhook-value"))
        .isInstanceOfSatisfying(
            HerokuException.class,
            e ->
                assertThat(e.getMessage())
                    .startsWith("POST /apps/no-such-app-named/webhooks → 404 not_found: ")
                    .doesNotContain("s3cr3t")
                    .doesNotContain("example.com"));
  }

  @Test
  void appsLifecycleAndErrors() {
    App app = client.createApp(new AppCreate("alpha-one", null, null));
    assertThat(app.webUrl()).startsWith("http://127.0.0.1:");
    assertThat(app.region().name()).isEqualTo("us");
    assertThat(client.app("alpha-one").id()).isEqualTo(app.id());
    assertThat(client.app(app.id()).name()).isEqualTo("alpha-one");
    assertThat(client.apps()).extracting(App::name).containsExactly("alpha-one");

    assertThatThrownBy(() -> client.createApp(new AppCreate("alpha-one", null, null)))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class,
            e -> {
              assertThat(e.isNameTaken()).isTrue();
              assertThat(e.status()).isEqualTo(422);
              assertThat(e.id()).isEqualTo("invalid_params");
            });
    assertThatThrownBy(() -> client.createApp(new AppCreate("9-Bad_Name", null, null)))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class, e -> assertThat(e.isNameTaken()).isFalse());

    assertThat(client.deleteApp("alpha-one").id()).isEqualTo(app.id());
    assertThatThrownBy(() -> client.app("alpha-one"))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class,
            e -> {
              assertThat(e.isNotFound()).isTrue();
              assertThat(e.id()).isEqualTo("not_found");
            });
  }

  @Test
  void configVarsMergeAndNullDeletes() {
    client.createApp(new AppCreate("cfg-app", null, null));
    client.updateConfigVars("cfg-app", Map.of("A", "1", "B", "2"));
    var changes = new HashMap<String, String>();
    changes.put("A", null);
    changes.put("C", "3");
    assertThat(client.updateConfigVars("cfg-app", changes))
        .containsOnly(Map.entry("B", "2"), Map.entry("C", "3"));
    assertThat(client.configVars("cfg-app")).containsOnly(Map.entry("B", "2"), Map.entry("C", "3"));
  }

  @Test
  void formationScaling() {
    sim.createSourceApp("form-src");
    assertThat(client.formations("form-src"))
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.type()).isEqualTo("web");
              assertThat(f.quantity()).isEqualTo(1);
            });
    assertThat(client.formation("form-src", "web").size()).isEqualTo("basic");
    assertThat(client.updateFormation("form-src", "web", 2, "standard-1x").quantity()).isEqualTo(2);
    assertThat(client.updateFormations("form-src", List.of(FormationUpdate.of("web", 0, null))))
        .singleElement()
        .satisfies(f -> assertThat(f.quantity()).isZero());
    assertThat(sim.app("form-src").serving()).isFalse();
    assertThatThrownBy(() -> client.updateFormation("form-src", "web", 3, "basic"))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class, e -> assertThat(e.status()).isEqualTo(422));
    assertThatThrownBy(() -> client.formation("form-src", "worker"))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class, e -> assertThat(e.isNotFound()).isTrue());
  }

  @Test
  void forkReleasesSourceSlugAsync() throws Exception {
    var src = sim.createSourceApp("rel-src");
    Release latest = client.recentReleases("rel-src", 1).stream().findFirst().orElseThrow();
    assertThat(latest.slug().id()).isEqualTo(src.slugId());
    assertThat(latest.current()).isTrue();
    assertThat(client.slug("rel-src", src.slugId()).processTypes()).containsKey("web");

    App fork = client.createApp(new AppCreate("rel-fork", null, null));
    Release pending = client.createRelease("rel-fork", src.slugId(), "fork of rel-src");
    assertThat(pending.status()).isEqualTo("pending");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> client.release("rel-fork", pending.id()).succeeded());
    assertThat(client.releases("rel-fork")).extracting(Release::version).containsExactly(1, 2);
    assertThat(client.release("rel-fork", "2").id()).isEqualTo(pending.id());
    await().atMost(Duration.ofSeconds(5)).until(() -> sim.app("rel-fork").serving());

    var http = HttpClient.newHttpClient();
    var res =
        http.send(
            HttpRequest.newBuilder(URI.create(fork.webUrl() + "health")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(res.body()).isEqualTo("ok");

    assertThatThrownBy(() -> client.createRelease("rel-fork", UUID.randomUUID().toString(), null))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class, e -> assertThat(e.isNotFound()).isTrue());
  }

  @Test
  void buildsAndAppSetups() {
    client.createApp(new AppCreate("build-app", null, null));
    Build build =
        client.createBuild(
            "build-app", new SourceBlob("https://example.invalid/src.tgz", "v1", null));
    assertThat(build.status()).isEqualTo("pending");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> client.build("build-app", build.id()).status().equals("succeeded"));
    assertThat(client.build("build-app", build.id()).slug().id()).isNotNull();

    AppSetup setup =
        client.createAppSetup(
            new AppSetupCreate(
                new AppCreate("setup-app", null, null),
                new SourceBlob("https://example.invalid/src.tgz", null, null),
                new AppSetupCreate.Overrides(Map.of("X", "y"))));
    assertThat(setup.app().name()).isEqualTo("setup-app");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> client.appSetup(setup.id()).status().equals("succeeded"));
    assertThat(client.configVars("setup-app")).containsEntry("X", "y");
    await().atMost(Duration.ofSeconds(5)).until(() -> sim.app("setup-app").serving());
  }

  @Test
  void pipelinesAndCouplings() {
    String pipelineId = sim.createPipeline("pipe");
    client.createApp(new AppCreate("pipe-app", null, null));
    assertThat(client.pipeline("pipe").id()).isEqualTo(pipelineId);
    assertThat(client.pipeline(pipelineId).name()).isEqualTo("pipe");
    assertThat(client.appPipelineCoupling("pipe-app")).isEmpty();

    PipelineCoupling c = client.createPipelineCoupling("pipe-app", pipelineId, "production");
    assertThat(c.stage()).isEqualTo("production");
    assertThat(client.pipelineCouplings(pipelineId))
        .extracting(x -> x.app().name())
        .containsExactly("pipe-app");
    assertThat(client.appPipelineCoupling("pipe-app")).map(PipelineCoupling::id).contains(c.id());
    assertThatThrownBy(() -> client.createPipelineCoupling("pipe-app", pipelineId, "staging"))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class,
            e -> {
              assertThat(e.status()).isEqualTo(409);
              assertThat(e.id()).isEqualTo("conflict");
            });
    client.deletePipelineCoupling(c.id());
    assertThat(client.pipelineCouplings(pipelineId)).isEmpty();
    assertThatThrownBy(() -> client.pipeline("nope"))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class, e -> assertThat(e.isNotFound()).isTrue());
  }

  @Test
  void addonAttachmentsFollowCredentialRotation() {
    sim.createSourceApp("db-owner");
    client.createApp(new AppCreate("db-user", null, null));
    String addon = sim.createAddon("db-owner", "heroku-postgresql");
    assertThat(client.addons("db-owner"))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.name()).isEqualTo(addon);
              assertThat(a.configVars()).containsExactly("DATABASE_URL");
            });

    AddOnAttachment att = client.createAddonAttachment(addon, "db-user", null);
    assertThat(att.name()).isEqualTo("DATABASE");
    String url = client.configVars("db-user").get("DATABASE_URL");
    assertThat(url)
        .startsWith("postgres://")
        .isEqualTo(client.configVars("db-owner").get("DATABASE_URL"));
    assertThat(client.addonAttachments("db-user"))
        .extracting(AddOnAttachment::id)
        .containsExactly(att.id());

    sim.rotateAddonCredentials(addon);
    String rotated = client.configVars("db-user").get("DATABASE_URL");
    assertThat(rotated)
        .isNotEqualTo(url)
        .isEqualTo(client.configVars("db-owner").get("DATABASE_URL"));

    client.deleteAddonAttachment(att.id());
    assertThat(client.configVars("db-user")).doesNotContainKey("DATABASE_URL");
  }

  @Test
  void dynosListAndRestart() {
    sim.createSourceApp("dyno-app");
    assertThat(client.dynos("dyno-app"))
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.name()).isEqualTo("web.1");
              assertThat(d.state()).isEqualTo("up");
              assertThat(d.release().version()).isEqualTo(2);
            });
    // room for a loaded machine between the 202 and the check
    sim.restartDowntime(Duration.ofSeconds(2));
    client.restartAllDynos("dyno-app");
    assertThat(sim.app("dyno-app").serving()).isFalse();
    await().atMost(Duration.ofSeconds(5)).until(() -> sim.app("dyno-app").serving());
  }

  /** A notification receiver on a real socket: answers each POST with the next status. */
  private record Received(Map<String, String> headers, String body) {}

  private static com.sun.net.httpserver.HttpServer receiver(
      java.util.Queue<Integer> statuses, List<Received> got) throws java.io.IOException {
    var server =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/hook",
        ex -> {
          String body =
              new String(
                  ex.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
          Map<String, String> h = new HashMap<>();
          ex.getRequestHeaders()
              .forEach((k, v) -> h.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
          got.add(new Received(h, body));
          Integer status = statuses.poll();
          ex.sendResponseHeaders(status == null ? 200 : status, -1);
          ex.close();
        });
    server.start();
    return server;
  }

  @Test
  void appWebhooksValidateAndDeliverSignedReleaseNotifications() throws Exception {
    var src = sim.createSourceApp("hooked-src");
    List<Received> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    var statuses = new java.util.concurrent.ConcurrentLinkedQueue<Integer>(List.of(500, 503));
    var server = receiver(statuses, got);
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
      assertThatThrownBy(
              () -> client.createWebhook("hooked-src", List.of("api:release"), "loud", url, "k"))
          .isInstanceOfSatisfying(
              HerokuException.Permanent.class, e -> assertThat(e.status()).isEqualTo(422));
      assertThatThrownBy(
              () -> client.createWebhook("hooked-src", List.of("api:nothing"), "notify", url, "k"))
          .isInstanceOfSatisfying(
              HerokuException.Permanent.class, e -> assertThat(e.status()).isEqualTo(422));
      assertThatThrownBy(
              () ->
                  client.createWebhook(
                      "hooked-src", List.of("api:release"), "notify", "not a url", "k"))
          .isInstanceOfSatisfying(
              HerokuException.Permanent.class, e -> assertThat(e.status()).isEqualTo(422));
      AppWebhook hook =
          client.createWebhook("hooked-src", List.of("api:release"), "sync", url, "the-secret");
      assertThat(hook.app().name()).isEqualTo("hooked-src");
      assertThatThrownBy(
              () -> client.createWebhook("hooked-src", List.of("api:release"), "notify", url, "k"))
          .as("one subscription per URL and app")
          .isInstanceOfSatisfying(
              HerokuException.Permanent.class, e -> assertThat(e.status()).isEqualTo(422));
      assertThat(client.webhooks("hooked-src"))
          .extracting(AppWebhook::id)
          .containsExactly(hook.id());

      // pending, then succeeded: two events
      client.createRelease("hooked-src", src.slugId(), "again");
      // sync: the receiver's first two answers are 500 and 503, so those two posts are tried again
      // (a second apart): four posts for the two events
      await().atMost(Duration.ofSeconds(15)).until(() -> got.size() >= 4);
      for (Received r : got) {
        assertThat(r.headers())
            .containsEntry(
                "heroku-webhook-hmac-sha256", HookSignature.sign("the-secret", r.body()));
        var event = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
        assertThat(event.path("resource").asText()).isEqualTo("release");
        assertThat(event.path("data").path("app").path("name").asText()).isEqualTo("hooked-src");
        assertThat(event.path("webhook_metadata").path("webhook").path("id").asText())
            .isEqualTo(hook.id());
      }
      assertThat(got).extracting(r -> r.body().contains("\"action\":\"create\"")).contains(true);
      assertThat(got).extracting(r -> r.body().contains("\"action\":\"update\"")).contains(true);

      // PATCH: a new secret and an authorization header from then on
      client.updateWebhook("hooked-src", hook.id(), List.of("api:release"), "notify", "rotated");
      got.clear();
      sim.pushRelease("hooked-src");
      await().atMost(Duration.ofSeconds(10)).until(() -> !got.isEmpty());
      assertThat(got.get(0).headers())
          .containsEntry(
              "heroku-webhook-hmac-sha256", HookSignature.sign("rotated", got.get(0).body()));

      // the secrets never show: not in answers, not in the call log
      assertThat(sim.callLog())
          .noneMatch(
              c ->
                  c.requestBody().contains("the-secret")
                      || c.requestBody().contains("rotated")
                      || c.responseBody().contains("the-secret")
                      || c.responseBody().contains("rotated"));
      client.deleteWebhook("hooked-src", hook.id());
      assertThat(client.webhooks("hooked-src")).isEmpty();
      assertThatThrownBy(() -> client.deleteWebhook("hooked-src", hook.id()))
          .isInstanceOfSatisfying(
              HerokuException.Permanent.class, e -> assertThat(e.isNotFound()).isTrue());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aWebhookWithoutASecretGetsOneShownOnce() throws Exception {
    sim.createSourceApp("hooked-gen");
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(sim.url() + "apps/hooked-gen/webhooks"))
                    .header("Authorization", "Bearer " + sim.apiKey())
                    .header("Accept", "application/vnd.heroku+json; version=3")
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"include\":[\"api:release\"],\"level\":\"notify\",\"url\":\"https://lb.example.com/h\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.headers().firstValue("Heroku-Webhook-Secret"))
        .hasValueSatisfying(v -> assertThat(v).hasSize(64));
    assertThat(r.body()).doesNotContain(r.headers().firstValue("Heroku-Webhook-Secret").get());
  }

  /**
   * Audit 20 M2, M5: a user's drain added and listed (an add-on's marked as the add-on's), the same
   * url again refused with 422 (what a retried create step meets), and a labs feature listed off,
   * enabled, and enabled again without error.
   */
  @Test
  void logDrainsAndAppFeatures() {
    var app = sim.createSourceApp("drains-app");
    String addon = sim.createAddon("drains-app", "heroku-postgresql");
    sim.addAddonLogDrain(addon, "https://addon-logs.example.invalid/x");
    String url = "syslog+tls://logs.example.invalid:6514";
    LogDrain made = client.createLogDrain("drains-app", url);
    assertThat(made.url()).isEqualTo(url);
    assertThat(made.addon()).isNull();
    assertThat(made.toString())
        .as("no url where a drain is printed")
        .doesNotContain("logs.example");
    assertThat(client.logDrains(app.id()))
        .extracting(d -> d.url(), d -> d.addon() == null ? null : d.addon().name())
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("https://addon-logs.example.invalid/x", addon),
            org.assertj.core.groups.Tuple.tuple(url, null));
    assertThatThrownBy(() -> client.createLogDrain("drains-app", url))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class, e -> assertThat(e.status()).isEqualTo(422));
    assertThatThrownBy(() -> client.createLogDrain("drains-app", "not a url"))
        .isInstanceOf(HerokuException.Permanent.class);

    assertThat(client.appFeatures("drains-app"))
        .filteredOn(f -> f.name().equals("runtime-dyno-metadata"))
        .singleElement()
        .satisfies(f -> assertThat(f.enabled()).isFalse());
    assertThat(client.updateAppFeature("drains-app", "runtime-dyno-metadata", true).enabled())
        .isTrue();
    assertThat(client.updateAppFeature("drains-app", "runtime-dyno-metadata", true).enabled())
        .isTrue();
    assertThat(client.appFeatures("drains-app"))
        .filteredOn(AppFeature::enabled)
        .extracting(AppFeature::name)
        .containsExactly("runtime-dyno-metadata");
    assertThatThrownBy(() -> client.updateAppFeature("drains-app", "no-such-feature", true))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class, e -> assertThat(e.isNotFound()).isTrue());
  }

  /**
   * Audit 20 M1: a log session ({@code POST /apps/{app}/log-sessions}, one call of the budget)
   * hands out a {@code logplex_url} that streams the app's last lines, read without the key; one
   * made with {@code tail} never ends, and is read for a few seconds only, keeping what came.
   */
  @Test
  @org.junit.jupiter.api.Timeout(40)
  void aLogSessionStreamsTheAppsLastLinesAndATailingOneIsReadForAWhile() {
    sim.createSourceApp("logs-app");
    sim.appLog("logs-app", "Booting", "Error: DATABASE_URL is not set", "Process exited");
    long calls = client.callCount();
    LogSession session = client.createLogSession("logs-app", 2, "app", false);
    assertThat(client.callCount()).as("one call of the budget").isEqualTo(calls + 1);
    SandboxCall call = sim.callLog().get(sim.callLog().size() - 1);
    assertThat(call.method() + " " + call.path() + " " + call.status())
        .isEqualTo("POST /apps/logs-app/log-sessions 201");
    assertThat(call.requestBody()).isEqualTo("{\"lines\":2,\"source\":\"app\",\"tail\":false}");
    assertThat(session.toString())
        .as("no capability url where it is printed")
        .doesNotContain("logplex");
    assertThat(client.logTail(session.logplexUrl(), 50))
        .hasSize(2)
        .satisfiesExactly(
            l -> assertThat(l).endsWith(" app[web.1]: Error: DATABASE_URL is not set"),
            l -> assertThat(l).endsWith(" app[web.1]: Process exited"));
    assertThat(
            client.logTail(client.createLogSession("logs-app", 10, "app", false).logplexUrl(), 2))
        .as("at most maxLines, the last")
        .hasSize(2)
        .last()
        .satisfies(l -> assertThat(l).endsWith("Process exited"));
    assertThatThrownBy(() -> client.logTail(session.logplexUrl(), 50))
        .as("a session is read once")
        .hasMessageContaining("log session: HTTP 404");

    LogSession tailing = client.createLogSession("logs-app", 1, "app", true);
    long t0 = System.nanoTime();
    assertThat(client.logTail(tailing.logplexUrl(), 50))
        .singleElement()
        .satisfies(l -> assertThat(l).endsWith("Process exited"));
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .as("a stream left open is read for a while, not for ever")
        .isBetween(HerokuClient.LOG_TAIL_READ_TIME.minusMillis(500), Duration.ofSeconds(15));

    assertThatThrownBy(() -> client.createLogSession("no-such-logs-app", 2, "app", false))
        .isInstanceOfSatisfying(
            HerokuException.Permanent.class, e -> assertThat(e.isNotFound()).isTrue());
    assertThatThrownBy(() -> client.logTail("http://example.com/sessions/x", 2))
        .hasMessageContaining("not a log session URL");
  }
}
