package io.dynofleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the CLI in-process against the running test app, asserting output and exit codes. */
@QuarkusTest
class CliTests {
  static final String TOKEN = "test-token-0123456789";
  private static final AtomicInteger SEQ = new AtomicInteger();

  @TestHTTPResource("/")
  URL base;

  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  Run cli(String... args) {
    return cliWith(
        Map.of("DYNOFLEET_URL", base.toString(), "DYNOFLEET_API_TOKEN", TOKEN), "", args);
  }

  /** {@code get pools --url url}, with the API token in the environment and no other setting. */
  Run getPoolsAt(String url) {
    return cliWith(Map.of("DYNOFLEET_API_TOKEN", TOKEN), "", "get", "pools", "--url", url);
  }

  Run cliWith(Map<String, String> env, String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Cli.run(
            args,
            env,
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static String unique(String base) {
    return base + "-" + System.nanoTime() % 100000 + "-" + SEQ.incrementAndGet();
  }

  Path file(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content);
  }

  String managedJson(String name, int replicas) {
    return """
        {"metadata": {"name": "%s", "labels": {"team": "cli"}},
         "spec": {"pipeline": "shop", "replicas": %d, "template": {"sourceApp": "shop-web"}}}
        """
        .formatted(name, replicas);
  }

  /**
   * Security review 3 #4: the pool's own webhook secret, alone on stdout (for {@code --secret
   * "$(dynofleet webhook-secret NAME)"}), to hand out instead of DYNOFLEET_WEBHOOK_SECRET.
   */
  @Test
  void webhookSecretPrintsThePoolsOwnSecret() throws IOException {
    String a = unique("cli-hook");
    assertThat(cli("apply", "-f", file("a.json", managedJson(a, 0)).toString()).code()).isZero();
    Run run = cli("webhook-secret", a);
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out())
        .isEqualTo(
            io.dynofleet.api.HookSignature.poolSecret(io.dynofleet.api.HookSignature.TEST_SECRET, a)
                + System.lineSeparator());
    assertThat(run.err())
        .contains("heroku webhooks:add", "/_dynofleet/api/v1/hooks/heroku?pool=" + a)
        // the pool's own source app, not a placeholder (audit 24 L5)
        .contains("heroku webhooks:add -a shop-web -i api:release")
        .doesNotContain("SOURCE_APP")
        .doesNotContain(run.out().trim());
    String st = unique("cli-hook-static");
    assertThat(
            cli(
                    "apply",
                    "-f",
                    file(
                            "st.json",
                            "{\"metadata\": {\"name\": \"%s\"}, \"spec\": {\"staticBackends\": [\"http://127.0.0.1:9\"]}}"
                                .formatted(st))
                        .toString())
                .code())
        .isZero();
    Run staticRun = cli("webhook-secret", st);
    assertThat(staticRun.code()).as(staticRun.err()).isZero();
    assertThat(staticRun.err())
        .contains("pool/" + st + " has static backends: no source app")
        .doesNotContain("webhooks:add");
    assertThat(cli("webhook-secret", unique("cli-none")).code()).isEqualTo(Cli.NOT_FOUND);
    assertThat(cli("webhook-secret").code()).isEqualTo(Cli.USAGE);
    Run reader =
        cliWith(
            Map.of(
                "DYNOFLEET_URL",
                base.toString(),
                "DYNOFLEET_API_TOKEN",
                "test-read-token-0123456789"),
            "",
            "webhook-secret",
            a);
    assertThat(reader.code()).isNotZero();
    assertThat(reader.out()).isEmpty();
  }

  /** Audit 21 L3: every pool's events in one command, newest first, each with its pool. */
  @Test
  void eventsWithoutANameListEveryPool() throws IOException {
    String a = unique("cli-ev-a");
    String b = unique("cli-ev-b");
    assertThat(cli("apply", "-f", file("a.json", managedJson(a, 0)).toString()).code()).isZero();
    assertThat(cli("apply", "-f", file("b.json", managedJson(b, 0)).toString()).code()).isZero();

    Run all = cli("events", "--since", "1h");
    assertThat(all.code()).as(all.err()).isZero();
    assertThat(all.out()).contains("POOL", "REASON", a, b, "Created");
    Run warnings = cli("events", "--warnings");
    assertThat(warnings.code()).as(warnings.err()).isZero();
    assertThat(warnings.out()).doesNotContain("Created");
    Run json = cli("events", "--since", "1h", "-o", "json");
    assertThat(json.code()).as(json.err()).isZero();
    assertThat(json.out()).contains("\"kind\" : \"EventList\"", "\"pool\" : \"" + a + "\"");

    Run badSince = cli("events", "--since", "yesterday");
    assertThat(badSince.code()).isNotZero();
    assertThat(badSince.err()).contains("since");
    assertThat(cli("events", a, "--warnings").code())
        .as("a pool's own events take -o only")
        .isEqualTo(2);
  }

  /** Audit 13: words past what a command takes were ignored, and it acted on the rest. */
  @Test
  void surplusWordsAreAUsageErrorAndNothingIsDone() throws IOException {
    String name = unique("cli-extra");
    assertThat(cli("apply", "-f", file("e.json", managedJson(name, 0)).toString()).code()).isZero();
    Run extra = cli("delete", "pool", name, "now", "please");
    assertThat(extra.code()).isEqualTo(2);
    assertThat(extra.err()).contains("unexpected argument now");
    assertThat(cli("get", "pool", name).code()).as("not deleted").isZero();
    assertThat(cli("events", name, "more").code()).isEqualTo(2);
    assertThat(cli("apply", "shop.yaml").err())
        .as("the usual hint, not a word count")
        .contains("apply needs -f FILE");
    assertThat(cli("get", "pool", name, "-ojson").out()).contains("\"name\" : \"" + name + "\"");
    assertThat(cli("delete", "pool", name).code()).isZero();
  }

  @Test
  void applyJsonThenYamlGetDescribeScaleEventsDelete() throws IOException {
    String name = unique("cli");
    Run created = cli("apply", "-f", file("p.json", managedJson(name, 2)).toString());
    assertThat(created.code()).as(created.err()).isZero();
    assertThat(created.out()).contains("pool/" + name + " created");

    String yaml =
        """
        metadata:
          name: %s
          labels:
            team: cli
        spec:
          pipeline: shop
          replicas: 3
          template:
            sourceApp: shop-web
        """
            .formatted(name);
    Run configured = cli("apply", "-f", file("p.yaml", yaml).toString());
    assertThat(configured.code()).as(configured.err()).isZero();
    assertThat(configured.out()).contains("pool/" + name + " configured");

    Run table = cli("get", "pools", "-l", "team=cli");
    assertThat(table.code()).isZero();
    assertThat(table.out()).contains("NAME", "DESIRED", "READY").contains(name);
    assertThat(table.out().lines().filter(l -> l.startsWith(name + " ")).findFirst().orElseThrow())
        .contains("3");

    Run wide = cli("get", "pools", "-o", "wide");
    assertThat(wide.out()).contains("SOURCE", "shop/shop-web");

    Run asJson = cli("get", "pool", name, "-o", "json");
    assertThat(asJson.code()).isZero();
    assertThat(asJson.out()).contains("\"name\" : \"" + name + "\"").contains("\"replicas\" : 3");
    Run asYaml = cli("get", "pool", name, "-o", "yaml");
    assertThat(asYaml.out()).contains("name: " + name);

    Run scaled = cli("scale", "pool", name, "--replicas", "5");
    assertThat(scaled.code()).as(scaled.err()).isZero();
    assertThat(cli("get", "pool", name, "-o", "json").out()).contains("\"replicas\" : 5");

    Run paused = cli("pause", "pool", name);
    assertThat(paused.code()).as(paused.err()).isZero();
    assertThat(paused.out()).contains("pool/" + name + " paused", "resume pool " + name);
    // an export leaves the lever out (audit 24 M2): describe shows it, and so does the list
    // (audit 25 F4: get pools, also -o wide, did not)
    assertThat(cli("describe", "pool", name).out()).contains("Paused:          true");
    assertThat(row(cli("get", "pools").out(), name)).matches(".* true +off +\\S+$");
    assertThat(row(cli("get", "pools", "-o", "wide").out(), name)).matches(".* true +off +\\S+$");
    assertThat(cli("get", "pools").out().lines().findFirst().orElseThrow())
        .contains("PAUSED", "MAINTENANCE");
    Run resumed = cli("resume", "pool", name);
    assertThat(resumed.code()).as(resumed.err()).isZero();
    assertThat(resumed.out()).contains("pool/" + name + " resumed");
    assertThat(cli("describe", "pool", name).out()).contains("Paused:          false");
    assertThat(row(cli("get", "pools").out(), name)).matches(".* false +off +\\S+$");
    assertThat(cli("pause", "pool", name, "--wait").code()).isEqualTo(2);
    assertThat(cli("pause", "pool", "nope-" + name).code()).isEqualTo(3);

    Run described = cli("describe", "pool", name);
    assertThat(described.code()).as(described.err()).isZero();
    assertThat(described.out())
        .contains(
            "Name:", name, "Pipeline:", "shop", "Conditions:", "Backends:", "Events:", "Cost:");

    Run events = cli("events", name);
    assertThat(events.code()).isZero();
    assertThat(events.out()).contains("REASON");
    // for "| jq" (audit 15: -o json printed the table)
    Run eventsJson = cli("events", name, "-o", "json");
    assertThat(eventsJson.code()).isZero();
    assertThat(eventsJson.out().strip()).startsWith("[").endsWith("]").contains("\"reason\"");
    assertThat(cli("events", name, "-o", "wide").code()).isEqualTo(2);

    Run deleted = cli("delete", "pool", name);
    assertThat(deleted.code()).as(deleted.err()).isZero();
    assertThat(deleted.out()).contains("pool/" + name + " deleted");
    assertThat(cli("events", name).out()).contains("Deleting");
  }

  @Test
  void applyFromStdin() {
    String name = unique("stdin");
    Run r =
        cliWith(
            Map.of("DYNOFLEET_URL", base.toString(), "DYNOFLEET_API_TOKEN", TOKEN),
            managedJson(name, 1),
            "apply",
            "-f",
            "-");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("created");
  }

  @Test
  void rolloutStatusOfAStaticPoolIsDone() throws IOException {
    String name = unique("static");
    String json =
        """
        {"metadata": {"name": "%s"}, "spec": {"staticBackends": ["http://127.0.0.1:9/"]}}"""
            .formatted(name);
    assertThat(cli("apply", "-f", file("s.json", json).toString()).code()).isZero();
    Run r = cli("rollout", "status", name, "--timeout", "5s");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    // no Heroku cost of its own to show (audit 13: "Cost: -/mo")
    assertThat(cli("describe", "pool", name).out()).contains("Name:").doesNotContain("Cost:");
  }

  @Test
  void rolloutStatusOfANotReadyManagedPoolTimesOutWithTwo() throws IOException {
    String name = unique("notready");
    assertThat(cli("apply", "-f", file("m.json", managedJson(name, 2)).toString()).code()).isZero();
    long t0 = System.nanoTime();
    Run r = cli("rollout", "status", name, "--timeout", "1s");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).contains("Waiting");
    assertThat(r.err()).contains("timed out");
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000);
  }

  @Inject io.dynofleet.reconcile.Reconciler reconciler;

  /**
   * A managed pool of one backend; a pipeline other than "no-such-pipeline" and its source app are
   * made.
   */
  String poolJson(String name, String pipeline, String extraSpec) {
    if (!pipeline.equals("no-such-pipeline")) {
      simulator.createSourceApp(pipeline + "-web");
      simulator.createPipeline(pipeline);
    }
    return """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "%s", "replicas": 1, "template": {"sourceApp": "%s-web"}%s}}
        """
        .formatted(name, pipeline, pipeline, extraSpec);
  }

  /**
   * Audit 25 F3: the sandbox's simulated account has an app limit (DYNOFLEET_SANDBOX_APP_LIMIT) and
   * answers Heroku's 422 past it, so a pool that cannot grow shows where an operator looks:
   * Degraded CreateFailed in get pools -o wide and describe, naming the limit and what to do. The
   * simulator made any number of apps.
   */
  @Test
  void aPoolPastTheAccountsAppLimitSaysSoInTheListAndDescribe() throws IOException {
    String name = unique("cli-lim");
    String manifest =
        poolJson(name, unique("lp"), "").replace("\"replicas\": 1", "\"replicas\": 2");
    simulator.appLimit(simulator.apps().size() + 1); // room for one backend app, not two
    try {
      assertThat(cli("apply", "-f", file("l.json", manifest).toString()).code()).isZero();
      reconciler.reconcile(new io.dynofleet.reconcile.PoolKey(name));
      assertThat(row(cli("get", "pools", "-o", "wide").out(), name)).contains("Degraded=True");
      assertThat(cli("describe", "pool", name).out())
          .contains("CreateFailed", "You've reached the limit of", "ask Heroku for a higher limit");
    } finally {
      simulator.appLimit(0);
      cli("delete", "pool", name);
    }
  }

  /**
   * Audit 12: a deploy script waiting on a pool whose pipeline does not exist waited out its whole
   * --timeout and said "still running" (exit 2), while the pool said InvalidSpec from its first
   * pass.
   */
  @Test
  void rolloutStatusEndsAtOnceOnAReasonThatNeedsAHuman() throws IOException {
    String name = unique("typo");
    assertThat(
            cli("apply", "-f", file("t.json", poolJson(name, "no-such-pipeline", "")).toString())
                .code())
        .isZero();
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey(name));
    Run r = cli("rollout", "status", name, "--timeout", "30s");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(Cli.FAILURE);
    assertThat(r.err())
        .contains("rollout of pool/" + name + " failed: InvalidSpec", "no-such-pipeline")
        // a fix outside the spec shows only at the next
        // look: said, with when it was found (review 13)
        .containsPattern(
            "\\(found \\d+s ago; a fix outside the spec shows at Dynofleet's next look");
  }

  /**
   * Security review 5, S5-6: a pool whose source app's name another app took (the source renamed, a
   * new app made under the old name) is SourceReplaced, which only a human ends: rollout status
   * says so at once instead of waiting out its timeout.
   */
  @Test
  void rolloutStatusEndsAtOnceOnAReplacedSource() throws IOException {
    String name = unique("taken");
    String pipeline = unique("tp");
    assertThat(cli("apply", "-f", file("s.json", poolJson(name, pipeline, "")).toString()).code())
        .isZero();
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey(name)); // the source read: pinned
    simulator.renameApp(pipeline + "-web", pipeline + "-old");
    simulator.createSourceApp(pipeline + "-web");
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey(name));
    Run r = cli("rollout", "status", name, "--timeout", "20s");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(Cli.FAILURE);
    assertThat(r.err())
        .contains("rollout of pool/" + name + " failed: SourceReplaced")
        .containsPattern(
            "\\(found \\d+s ago; a fix outside the spec shows at Dynofleet's next look");
  }

  /** Audit 12: a paused pool with work to do waited out the timeout with no word of the pause. */
  @Test
  void rolloutStatusOfAPausedPoolSaysSo() throws IOException {
    String name = unique("paused");
    assertThat(
            cli(
                    "apply",
                    "-f",
                    file("p.json", poolJson(name, unique("pp"), ", \"paused\": true")).toString())
                .code())
        .isZero();
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey(name));
    Run r = cli("rollout", "status", name, "--timeout", "30s");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(Cli.FAILURE);
    assertThat(r.err()).contains("is paused");
  }

  /**
   * Audit 12: delete --wait on a pool whose deletion Heroku refuses (the key) waited out the
   * timeout; a condition older than the deletion, though, must not end the wait (the deletion may
   * well succeed).
   */
  @Test
  void deleteWaitEndsWhenAPassSinceTheDeletionNeedsAHuman() throws IOException {
    String stale = unique("stale");
    assertThat(
            cli("apply", "-f", file("s.json", poolJson(stale, "no-such-pipeline", "")).toString())
                .code())
        .isZero();
    // InvalidSpec, before the deletion
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey(stale));
    Run waited = cli("delete", "pool", stale, "--wait", "--timeout", "2s");
    // timed out, not failed
    assertThat(waited.code()).as(waited.out() + waited.err()).isEqualTo(Cli.USAGE);
    assertThat(waited.out()).contains("Waiting for pool/" + stale + " to be gone: InvalidSpec");

    String name = unique("keyless");
    assertThat(
            cli("apply", "-f", file("k.json", poolJson(name, unique("kp"), "")).toString()).code())
        .isZero();
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey(name)); // its app is made
    simulator.keyExpired(true);
    try {
      assertThat(cli("delete", "pool", name).code()).isZero();
      reconciler.reconcile(new io.dynofleet.reconcile.PoolKey(name)); // refused: 401
      Run r = cli("delete", "pool", name, "--wait", "--timeout", "30s");
      assertThat(r.code()).as(r.out() + r.err()).isEqualTo(Cli.FAILURE);
      assertThat(r.err())
          .contains("pool/" + name + " cannot be deleted until this is fixed: HerokuUnauthorized");
    } finally {
      simulator.keyExpired(false);
    }
  }

  /**
   * Audit 12: no way to replace every backend without a new source release (kubectl rollout
   * restart, heroku ps:restart). `rollout restart` writes spec.template.restartedAt; the pool's
   * next pass makes new apps for every backend, and the old ones go.
   */
  @Test
  void rolloutRestartReplacesEveryBackend() throws IOException {
    String name = unique("restart");
    Path manifest = file("r.json", poolJson(name, unique("rp"), ""));
    assertThat(cli("apply", "-f", manifest.toString()).code()).isZero();
    io.dynofleet.reconcile.PoolKey key = new io.dynofleet.reconcile.PoolKey(name);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () -> {
              reconciler.reconcile(key);
              return io.restassured.RestAssured.given()
                      .header("Authorization", "Bearer " + TOKEN)
                      .get(base + "_dynofleet/api/v1/pools/" + name + "/status")
                      .jsonPath()
                      .getInt("readyReplicas")
                  == 1;
            });
    java.util.function.Supplier<java.util.List<String>> apps =
        () ->
            io.restassured.RestAssured.given()
                .header("Authorization", "Bearer " + TOKEN)
                .get(base + "_dynofleet/api/v1/pools/" + name + "/status")
                .jsonPath()
                .getList("backends.app", String.class);
    java.util.List<String> old = apps.get();

    Run r = cli("rollout", "restart", name);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("pool/" + name + " restarted", "generation 2");
    assertThat(cli("get", "pool", name, "-o", "json").out()).contains("\"restartedAt\"");
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () -> {
              reconciler.reconcile(key);
              java.util.List<String> now = apps.get();
              return now.size() == 1 && !old.contains(now.get(0));
            });
    Run status = cli("rollout", "status", name, "--timeout", "30s");
    assertThat(status.code()).as(status.out() + status.err()).isZero();
    // the manifest applied again (a deploy script, a pool file at start) keeps the restart: no
    // second roll of every backend (review 13)
    Run again = cli("apply", "-f", manifest.toString());
    assertThat(again.out()).as(again.err()).contains("pool/" + name + " unchanged");
    assertThat(cli("get", "pool", name, "-o", "json").out())
        .contains("\"restartedAt\"", "\"generation\" : 2");
  }

  /**
   * Review 31 R31-9: a rollout restart of a pool that is SourceReplaced confirms the app its last
   * pass found under the source's name, which may have changed hands again since the operator
   * looked; the CLI said nothing of which. It now names the app's id the restart confirms.
   */
  @Test
  void aRestartOfASourceReplacedPoolNamesTheAppItConfirms() throws IOException {
    String name = unique("confirm");
    String pipeline = unique("cp");
    assertThat(cli("apply", "-f", file("c.json", poolJson(name, pipeline, "")).toString()).code())
        .isZero();
    io.dynofleet.reconcile.PoolKey key = new io.dynofleet.reconcile.PoolKey(name);
    java.util.function.Supplier<io.restassured.path.json.JsonPath> status =
        () ->
            io.restassured.RestAssured.given()
                .header("Authorization", "Bearer " + TOKEN)
                .get(base + "_dynofleet/api/v1/pools/" + name + "/status")
                .jsonPath();
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () -> {
              reconciler.reconcile(key);
              return status.get().getInt("readyReplicas") == 1;
            });
    String source = pipeline + "-web";
    simulator.renameApp(source, unique("cp-old"));
    String taker = simulator.createSourceApp(source).id();
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () -> {
              reconciler.reconcile(key);
              return status
                  .get()
                  .getList("conditions.reason", String.class)
                  .contains("SourceReplaced");
            });
    Run r = cli("rollout", "restart", name);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("pool/" + name + " restarted", "confirms", "id " + taker);
  }

  /**
   * Audit 24 L2: mid-rollout, {@code rollout status} said "1 old to remove" (the surge) while 3 old
   * backends remained: it says the old backends still to replace, the status's replicas less its
   * updated ones (kubectl's "old replicas are pending termination").
   */
  @Test
  void rolloutStatusCountsTheOldBackendsStillToReplace() throws IOException {
    String name = unique("old");
    String manifest =
        poolJson(name, unique("op"), "").replace("\"replicas\": 1", "\"replicas\": 3");
    assertThat(cli("apply", "-f", file("o.json", manifest).toString()).code()).isZero();
    io.dynofleet.reconcile.PoolKey key = new io.dynofleet.reconcile.PoolKey(name);
    java.util.function.Supplier<io.restassured.path.json.JsonPath> status =
        () ->
            io.restassured.RestAssured.given()
                .header("Authorization", "Bearer " + TOKEN)
                .get(base + "_dynofleet/api/v1/pools/" + name + "/status")
                .jsonPath();
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(120))
        .until(
            () -> {
              reconciler.reconcile(key);
              return status.get().getInt("readyReplicas") == 3;
            });
    assertThat(cli("rollout", "restart", name).code()).isZero();
    reconciler.reconcile(key); // the first step: one new app beside the three old
    io.restassured.path.json.JsonPath s = status.get();
    int old = s.getInt("replicas") - s.getInt("updatedReplicas");
    assertThat(old).as("old backends left after the first step").isGreaterThanOrEqualTo(2);

    Run r = cli("rollout", "status", name, "--timeout", "1s");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(Cli.USAGE);
    assertThat(r.out())
        .contains(
            s.getInt("updatedReplicas") + " of 3 updated replicas", ", " + old + " old to replace")
        .doesNotContain("old to remove");
  }

  /**
   * Audit 20 M6: {@code maintenance on|off POOL}, as {@code heroku maintenance:on|off}, writes
   * {@code spec.routing.maintenance} by a merge patch (nothing else of the spec moves); get and
   * describe show it, and the manifest applied again during the maintenance keeps it.
   */
  @Test
  void maintenanceOnAndOff() throws IOException {
    String name = unique("cli-mnt");
    Path manifest = file("m.json", managedJson(name, 2));
    assertThat(cli("apply", "-f", manifest.toString()).code()).isZero();
    assertThat(row(cli("get", "pools", "-l", "team=cli").out(), name)).contains(" off ");

    Run on = cli("maintenance", "on", name);
    assertThat(on.code()).as(on.err()).isZero();
    assertThat(on.out())
        .contains("pool/" + name + " in maintenance", "503", "generation 2")
        .contains("dynofleet maintenance off " + name);
    // an export leaves the lever out (audit 24 M1); describe and the API show it
    String json = cli("get", "pool", name, "-o", "json").out();
    assertThat(json).contains("\"replicas\" : 2").doesNotContain("\"maintenance\"");
    assertThat(row(cli("get", "pools", "-l", "team=cli").out(), name)).contains(" on ");
    assertThat(cli("get", "pools", "-o", "wide").out()).contains("MAINTENANCE");
    assertThat(cli("describe", "pool", name).out())
        .contains("Maintenance:     ON: every request gets 503 and the built-in maintenance page")
        .contains("MaintenanceOn");
    Run again = cli("apply", "-f", manifest.toString());
    assertThat(again.out()).as(again.err()).contains("pool/" + name + " unchanged");

    Run off = cli("maintenance", "off", name);
    assertThat(off.code()).as(off.err()).isZero();
    assertThat(off.out()).contains("pool/" + name + " out of maintenance", "generation 3");
    assertThat(cli("describe", "pool", name).out())
        .contains("Maintenance:     off")
        .contains("MaintenanceOff");

    Run bad = cli("maintenance", "maybe", name);
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("maintenance takes on or off, not maybe");
    assertThat(cli("maintenance", "on").code()).isEqualTo(2);
    assertThat(cli("maintenance", "on", unique("nope")).code()).isEqualTo(3);
  }

  /** The line of {@code get pools} that names {@code pool}. */
  private static String row(String table, String pool) {
    return table.lines().filter(l -> l.startsWith(pool + " ")).findFirst().orElseThrow().strip();
  }

  /**
   * {@code rollout restart NAME --new-secret}: the API's rotation, a new proxy secret and a restart
   * in one call; the secret is printed nowhere. A static pool's is refused with the problem's
   * words, and the flag is the restart's only.
   */
  @Test
  void rolloutRestartWithANewSecretRotatesIt() throws IOException {
    String name = unique("cli-rot");
    assertThat(cli("apply", "-f", file("rot.json", managedJson(name, 1)).toString()).code())
        .isZero();
    Run r = cli("rollout", "restart", name, "--new-secret");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("pool/" + name + " restarted with a new proxy secret", "generation 2");
    String secret =
        (String)
            io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
                .call(
                    () ->
                        io.dynofleet.pool.model.Pool.getEntityManager()
                            .createNativeQuery(
                                "select s.proxy_secret from pool_secrets s join pools p on p.id ="
                                    + " s.pool_id where p.name = ?1")
                            .setParameter(1, name)
                            .getSingleResult());
    Run events = cli("events", name);
    assertThat(events.out()).contains("ProxySecretRotated");
    Run got = cli("get", "pool", name, "-o", "json");
    assertThat(got.out()).contains("\"restartedAt\"", "\"generation\" : 2");
    for (Run each : java.util.List.of(r, events, got, cli("describe", "pool", name))) {
      assertThat(each.out() + each.err()).doesNotContain(secret);
    }

    String st = unique("cli-rot-static");
    assertThat(
            cli(
                    "apply",
                    "-f",
                    file(
                            "rots.json",
                            """
                            {"metadata": {"name": "%s"}, "spec": {"staticBackends": ["http://127.0.0.1:9/"]}}"""
                                .formatted(st))
                        .toString())
                .code())
        .isZero();
    Run refused = cli("rollout", "restart", st, "--new-secret");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err()).contains("is static", "[409 not-managed]");
    assertThat(cli("get", "pool", st, "-o", "json").out()).contains("\"generation\" : 1");

    Run misplaced = cli("rollout", "status", name, "--new-secret");
    assertThat(misplaced.code()).isEqualTo(2);
    assertThat(misplaced.err()).contains("--new-secret is not taken by rollout status");
  }

  /** Audit 13: delete --wait was silent until the pool was gone; it says what the deletion does. */
  @Test
  void deleteWaitSaysWhatTheDeletionIsDoing() throws IOException {
    String name = unique("draining");
    assertThat(
            cli("apply", "-f", file("d.json", poolJson(name, unique("dp"), "")).toString()).code())
        .isZero();
    io.dynofleet.reconcile.PoolKey key = new io.dynofleet.reconcile.PoolKey(name);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () -> {
              reconciler.reconcile(key);
              return io.restassured.RestAssured.given()
                      .header("Authorization", "Bearer " + TOKEN)
                      .get(base + "_dynofleet/api/v1/pools/" + name + "/status")
                      .jsonPath()
                      .getInt("readyReplicas")
                  == 1;
            });
    assertThat(cli("delete", "pool", name).code()).isZero();
    reconciler.reconcile(key); // its ready backend drains first (10 s)
    Run r = cli("delete", "pool", name, "--wait", "--timeout", "1s");
    assertThat(r.out())
        .as(r.err())
        .contains("Waiting for pool/" + name + " to be gone: Deleting: 1 backends draining");
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () -> {
              reconciler.reconcile(key); // no loop runs here: the passes that finish the deletion
              return cli("get", "pool", name).code() == 3;
            });
  }

  @Test
  void notFoundIsThree() {
    Run r = cli("get", "pool", "no-such-pool");
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err()).contains("error:");
    assertThat(cli("describe", "pool", "no-such-pool").code()).isEqualTo(3);
    assertThat(cli("rollout", "status", "no-such-pool").code()).isEqualTo(3);
  }

  @Test
  void badTokenIsFourAndTheTokenIsNeverPrinted() {
    Run r =
        cliWith(
            Map.of("DYNOFLEET_URL", base.toString()),
            "",
            "get",
            "pools",
            "--token",
            "wrong-secret-xyz");
    assertThat(r.code()).isEqualTo(4);
    assertThat(r.out() + r.err()).doesNotContain("wrong-secret-xyz");
  }

  /** Security review 5 S5-7: the CLI's errors quoted a URL's {@code user:password@}. */
  @Test
  void aUrlsUserAndPasswordAreNeverPrinted() {
    Run r = getPoolsAt("https://user:s3cretpw@example.com/x");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("must be the app's root (https://example.com)");
    // a root that cannot be reached: the connect error names it
    Run c = getPoolsAt("http://user:s3cretpw@127.0.0.1:9");
    assertThat(c.code()).isEqualTo(5);
    assertThat(c.err()).contains("127.0.0.1:9");
    assertThat(r.out() + r.err() + c.out() + c.err()).doesNotContain("s3cretpw", "user:");
  }

  /**
   * Review 30 R30-9: the mask stopped at {@code /}, {@code ?} and {@code #}, so a password holding
   * one unencoded was printed whole in the JDK's text that {@code bad --url:} and {@code cannot
   * connect to} quote.
   */
  @Test
  void aPasswordHoldingASlashOrQueryOrFragmentIsNeverPrinted() {
    for (String pw : new String[] {"s3c/ret9pw", "s3c?ret9pw", "s3c#ret9pw", "a/b?c#d@e9pw"}) {
      String url = "https://user:" + pw + "@example.com:8443";
      assertThat(Cli.withoutUserinfo("Illegal character in authority at index 8: " + url))
          .isEqualTo("Illegal character in authority at index 8: https://example.com:8443");
      assertThat(Cli.withoutUserinfo("cannot reach " + url + "/ and " + url + " again"))
          .isEqualTo("cannot reach https://example.com:8443/ and https://example.com:8443 again");
      Run r = getPoolsAt(url);
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.out() + r.err()).doesNotContain("ret9pw", "user:");
    }
  }

  /** Security review 1: a base URL with a path sent every call, token and all, to a backend app. */
  @Test
  void aBaseUrlWithAPathIsRefusedAndPlainHttpElsewhereWarned() {
    Run r = getPoolsAt(base + "shop");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("must be the app's root").doesNotContain(TOKEN);
    Run q =
        cliWith(
            Map.of("DYNOFLEET_API_TOKEN", TOKEN, "DYNOFLEET_URL", base + "?x=1"),
            "",
            "get",
            "pools");
    assertThat(q.code()).isEqualTo(2);
    // a root with or without its slash still works
    assertThat(
            cliWith(
                    Map.of(
                        "DYNOFLEET_URL",
                        base.toString().replaceAll("/$", ""),
                        "DYNOFLEET_API_TOKEN",
                        TOKEN),
                    "",
                    "get",
                    "pools")
                .code())
        .isZero();
    // refused before anything is sent (audit 15: it warned, then sent the token in clear)
    Run far = getPoolsAt("http://192.0.2.1:9");
    assertThat(far.code()).isEqualTo(2);
    assertThat(far.err())
        .contains("is http:// to 192.0.2.1", "DYNOFLEET_ALLOW_HTTP=true")
        .doesNotContain(TOKEN);
    Run lookalike = getPoolsAt("http://127.evil.example:9");
    assertThat(lookalike.code()).as("not loopback").isEqualTo(2);
    Run allowed =
        cliWith(
            Map.of("DYNOFLEET_API_TOKEN", TOKEN, "DYNOFLEET_ALLOW_HTTP", "true"),
            "",
            "get",
            "pools",
            "--url",
            "http://192.0.2.1:9");
    assertThat(allowed.err())
        .contains("warning: the API token goes to 192.0.2.1 in clear over http");
  }

  /**
   * Audit 15: a token with a character the JDK refuses in a header (a "smart" quote from a
   * document, a zero-width space) was printed whole, in the JDK's message, by the CLI's catch-all.
   */
  @Test
  void aTokenNoHeaderCarriesIsRefusedWithoutBeingPrinted() {
    for (String bad :
        new String[] {
          "\u201Cso-secret-token\u201D", "so-secret\u200B-token", "so-secret\r\n-token"
        }) {
      Run r =
          cliWith(
              Map.of("DYNOFLEET_URL", base.toString(), "DYNOFLEET_API_TOKEN", bad),
              "",
              "get",
              "pools");
      assertThat(r.code()).isEqualTo(4);
      assertThat(r.err()).contains("cannot go in a header (position").doesNotContain("secret");
    }
  }

  /** Audit 15: "apply -f a.yaml -f b.yaml" applied b alone and exited 0. */
  @Test
  void aFlagGivenTwiceIsAUsageError() {
    Run r = cli("get", "pools", "-l", "a=b", "-l", "c=d");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("flag --selector given twice");
  }

  /** A flag the verb does not read is refused before any call (audit 15 L3): it was ignored. */
  @Test
  void aFlagTheVerbDoesNotTakeIsAUsageError() throws IOException {
    String name = unique("flags");
    assertThat(cli("apply", "-f", file("f.json", managedJson(name, 0)).toString()).code()).isZero();
    Run scale = cli("scale", "pool", name, "--replicas", "2", "--wait");
    assertThat(scale.code()).isEqualTo(2);
    assertThat(scale.err()).contains("--wait is not taken by scale (it takes --replicas)");
    assertThat(cli("get", "pool", name, "-o", "json").out())
        .as("not scaled")
        .contains("\"replicas\" : 0");
    Run describe = cli("describe", "pool", name, "-o", "yaml");
    assertThat(describe.code()).isEqualTo(2);
    assertThat(describe.err())
        .contains("--output is not taken by describe")
        .doesNotContain("(it takes");
    Run delete = cli("delete", "pool", name, "--timeout", "5m");
    assertThat(delete.code()).isEqualTo(2);
    assertThat(delete.err()).contains("--timeout is not taken by delete without --wait");
    assertThat(cli("get", "pool", name).code()).as("not deleted").isZero();
    // an unknown command is said first, not as a flag it does not take (review 21)
    assertThat(cli("scal", "pool", name, "--replicas", "3").err()).contains("unknown command scal");
    assertThat(cli("-Dquarkus.http.port=1", "get", "pools", "-o", "wide").err())
        .contains("JVM options go before -jar");
    Run restart = cli("rollout", "restart", name, "--release", "v2");
    assertThat(restart.err()).contains("--release is not taken by rollout restart");
    // taken together (no loop runs in this test, so the wait times out)
    Run waited = cli("delete", "pool", name, "--wait", "--timeout", "1s", "--url", base.toString());
    assertThat(waited.err()).doesNotContain("not taken").contains("timed out");
  }

  /**
   * Audit 24 I1: describe never said where a backend runs; it prints each one's region and stack
   * from the status ({@code -} where the status has none: a static URL, a backend not seen since).
   */
  @Test
  void describeShowsEachBackendsRegionAndStack() throws IOException {
    String pool =
        """
        {"apiVersion": "dynofleet.io/v1", "kind": "BackendPool",
         "metadata": {"name": "web", "generation": 2},
         "spec": {"pipeline": "shop", "replicas": 2, "template": {"sourceApp": "shop-web"}},
         "status": {"replicas": 2, "readyReplicas": 2, "updatedReplicas": 1, "backends": [
           {"app": "web-new", "phase": "Ready", "healthy": true, "release": "v4",
            "webUrl": "https://web-new.herokuapp.com/", "region": "us", "stack": "heroku-24"},
           {"app": "web-old", "phase": "Draining", "release": "v4",
            "webUrl": "https://web-old.herokuapp.com/", "region": "eu", "stack": "heroku-22"},
           {"app": "web-older", "phase": "Draining", "release": "v3",
            "webUrl": "https://web-older.herokuapp.com/"}]}}
        """;
    Run r = cliAgainst(java.util.List.of(ok(pool), ok("[]")), "describe", "pool", "web");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).containsPattern("APP +PHASE +HEALTHY +RELEASE +REGION +STACK +URL");
    assertThat(row(r.out().replace("\n  ", "\n"), "web-new")).containsPattern(" us +heroku-24 ");
    assertThat(row(r.out().replace("\n  ", "\n"), "web-old")).containsPattern(" eu +heroku-22 ");
    assertThat(row(r.out().replace("\n  ", "\n"), "web-older")).containsPattern(" - +- +https");
  }

  /**
   * The CLI, with the token, against a stand-in answering {@code answers} in turn (see {@link
   * #stub}).
   */
  Run cliAgainst(java.util.List<String[]> answers, String... args) throws IOException {
    com.sun.net.httpserver.HttpServer server = stub(answers);
    try {
      return cliWith(
          Map.of(
              "DYNOFLEET_URL",
              "http://127.0.0.1:" + server.getAddress().getPort(),
              "DYNOFLEET_API_TOKEN",
              TOKEN),
          "",
          args);
    } finally {
      server.stop(0);
    }
  }

  /** A 200 with a JSON body, for {@link #cliAgainst}. */
  private static String[] ok(String json) {
    return new String[] {"200", json, "Content-Type", "application/json"};
  }

  /** A stand-in for the API on a real socket: each request gets the next of {@code answers}. */
  private static com.sun.net.httpserver.HttpServer stub(java.util.List<String[]> answers)
      throws IOException {
    com.sun.net.httpserver.HttpServer server =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    AtomicInteger n = new AtomicInteger();
    server.createContext(
        "/",
        ex -> {
          String[] a = answers.get(Math.min(n.getAndIncrement(), answers.size() - 1));
          for (int i = 2; i + 1 < a.length; i += 2) {
            ex.getResponseHeaders().add(a[i], a[i + 1]);
          }
          byte[] body = a[1].getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(Integer.parseInt(a[0]), body.length == 0 ? -1 : body.length);
          if (body.length > 0) {
            ex.getResponseBody().write(body);
          }
          ex.close();
        });
    server.start();
    return server;
  }

  /**
   * Security review 6 S6-1, S6-2, S6-5: an event's message (an older server's, or any text the
   * server let through) with a newline, C1 controls and a bidi override was printed raw: a newline
   * started a forged row of the events table, U+009B (CSI) cleared the screen on a terminal that
   * honours C1, U+202E read the rest backwards; {@code -o json} kept them raw too, and a redirect's
   * Location came out with its C1 bytes.
   */
  @Test
  void serverTextNeverReachesTheTerminalWithRawControlsOrLineBreaksInACell() throws IOException {
    String message =
        "demo-x: X\u009b2J\u009b41mFAKE\n7s  Normal  BackendReady  1  app demo-zzzz is healthy"
            + "\u202eabc\u0085NEL\u2066 set by hand";
    String events =
        "[{\"type\":\"Warning\",\"reason\":\"ConfigDrift\",\"count\":1,"
            + "\"lastTimestamp\":\"2026-01-01T00:00:00Z\",\"message\":"
            + com.fasterxml.jackson.databind.json.JsonMapper.builder()
                .build()
                .writeValueAsString(message)
            + "}]";
    String[] raw = {"\u009b", "\u202e", "\u0085", "\u2066"};
    Run table = cliAgainst(java.util.List.<String[]>of(ok(events)), "events", "demo");
    assertThat(table.code()).as(table.err()).isZero();
    assertThat(table.out().lines()).as(table.out()).hasSize(2); // the header and one row
    assertThat(table.out())
        .doesNotContain(raw)
        .contains("X\\u009b2J\\u009b41mFAKE\\n7s  Normal", "healthy\\u202eabc\\u0085NEL");
    Run json = cliAgainst(java.util.List.<String[]>of(ok(events)), "events", "demo", "-o", "json");
    assertThat(json.code()).as(json.err()).isZero();
    assertThat(json.out()).doesNotContain(raw);
    // the escapes are JSON's own: the same text for jq
    assertThat(
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(json.out())
                .get(0)
                .path("message")
                .asText())
        .isEqualTo(message);

    Run moved =
        cliAgainst(
            java.util.List.<String[]>of(
                new String[] {
                  "302", "", "Location", "https://x.example/\u009b2J\u009d8;;evil\u009c"
                }),
            "get",
            "pools");
    assertThat(moved.code()).isEqualTo(1);
    assertThat(moved.err())
        .doesNotContain("\u009b", "\u009d", "\u009c")
        .contains("(Location: https://x.example/\\u009b2J\\u009d8;;evil\\u009c)");
  }

  /**
   * Review 31 R31-6: {@code -o yaml} wrote U+202E raw in a plain scalar (or a literal block) and
   * the stream's filter made it the text {@code \u202e}, so the YAML no longer held the value; now
   * such a string is double-quoted, where that escape is YAML's own. The raw character never
   * reaches the terminal.
   */
  @Test
  void yamlOutputKeepsABidiCharacterAsYamlsOwnEscape() throws IOException {
    String team = "a\u202eb";
    String note = "two\nlines \u202ecba";
    String tag = "x\uDB40\uDC41y"; // a tag character (U+E0041): a surrogate pair
    String pool =
        com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .build()
            .writeValueAsString(
                Map.of(
                    "metadata",
                    Map.of("name", "web", "labels", Map.of("team", team, "note", note, "tag", tag)),
                    "spec",
                    Map.of("replicas", 1, "template", Map.of("sourceApp", "shop-web"))));
    Run r = cliAgainst(java.util.List.<String[]>of(ok(pool)), "get", "pool", "web", "-o", "yaml");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).doesNotContain("\u202e").contains("name: web");
    com.fasterxml.jackson.databind.JsonNode back =
        new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
            .readTree(r.out());
    assertThat(back.path("metadata").path("labels").path("team").asText())
        .as(r.out())
        .isEqualTo(team);
    assertThat(back.path("metadata").path("labels").path("note").asText())
        .as(r.out())
        .isEqualTo(note);
    assertThat(r.out()).doesNotContain("\uDB40\uDC41");
    assertThat(back.path("metadata").path("labels").path("tag").asText())
        .as(r.out())
        .isEqualTo(tag);
  }

  /**
   * Review 31 R31-6: on a JVM whose line separator is {@code \r\n} the stream escaped the {@code
   * \r}: every line ended in a visible {@code \u000d}, and {@code -o json} (Jackson indents with
   * the system's line feed) was no longer JSON. A {@code \r\n} line ending passes; a lone {@code
   * \r} is still escaped.
   */
  @Test
  void aCrLfLineEndingPassesTheCliStreamAndALoneCarriageReturnDoesNot() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = SafePrintStream.of(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String json =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .writer(
                new com.fasterxml.jackson.core.util.DefaultPrettyPrinter()
                    .withObjectIndenter(
                        new com.fasterxml.jackson.core.util.DefaultIndenter("  ", "\r\n")))
            .writeValueAsString(Map.of("name", "web", "message", "over\rwritten"));
    out.print(json);
    out.printf("%-8s %s\r\n", "name:", "web");
    out.print("fake\rprogress");
    String printed = bytes.toString(StandardCharsets.UTF_8);
    assertThat(printed.substring(0, printed.indexOf("fake")))
        .doesNotContain("\\u000d")
        .endsWith("}name:    web\r\n");
    assertThat(printed.replace("\r\n", "")).doesNotContain("\r");
    String jsonBack = printed.substring(0, json.length());
    assertThat(
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(jsonBack)
                .path("message")
                .asText())
        .isEqualTo("over\rwritten");
    assertThat(printed).endsWith("fake\\u000dprogress");
  }

  /**
   * Audit 15: any answer below 400 was a success: behind a CDN's redirect to https, apply printed
   * "pool/x created" and exited 0 with nothing created; an HTML page made get pools end in a
   * NullPointerException.
   */
  @Test
  void aRedirectOrAPageThatIsNotJsonIsAnError() throws IOException {
    java.util.List<String[]> moved =
        java.util.List.<String[]>of(
            new String[] {
              "301", "", "Location", "https://dynofleet.example/_dynofleet/api/v1/pools/x"
            });
    Path f = file("x.json", "{\"metadata\": {\"name\": \"x\"}, \"spec\": {\"replicas\": 1}}");
    Run r = cliAgainst(moved, "apply", "-f", f.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("answered 301 (Location: https://dynofleet.example/");
    assertThat(r.out()).doesNotContain("created");
    java.util.List<String[]> page =
        java.util.List.<String[]>of(new String[] {"200", "<html>hi</html>"});
    Run html = cliAgainst(page, "get", "pools");
    assertThat(html.code()).isEqualTo(1);
    assertThat(html.err())
        .contains("answered 200 but not with JSON")
        .doesNotContain("NullPointerException");
  }

  /**
   * Audit 15: right after a push to the source app, rollout status said "successfully rolled out"
   * at once, for the old release, before Dynofleet had heard of the new one. --release waits for
   * it.
   */
  @Test
  void rolloutStatusWaitsForTheReleaseItIsTold() throws IOException {
    String pool =
        "{\"metadata\": {\"name\": \"m\", \"generation\": 1}, \"spec\": {\"replicas\": 1},"
            + " \"status\": {\"observedGeneration\": 1, \"replicas\": 1, \"readyReplicas\": 1, \"updatedReplicas\": 1,"
            + " \"targetRelease\": \"%s\", \"conditions\": [{\"type\": \"Progressing\", \"status\": \"False\","
            + " \"reason\": \"Stable\"}]}}";
    java.util.List<String[]> api =
        java.util.List.<String[]>of(ok(pool.formatted("v3")), ok(pool.formatted("v4")));
    Run r = cliAgainst(api, "rollout", "status", "m", "--release", "v4", "--timeout", "30s");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains(
            "Waiting for pool/m to see release v4 of its source (at v3)",
            "successfully rolled out");
    assertThat(cli("rollout", "status", "m", "--release", "latest").code()).isEqualTo(2);
  }

  /**
   * Audit 15: a pool waiting on an Ejected backend said only "2 ready" until the timeout, and a
   * pool being deleted was waited on until it was gone.
   */
  @Test
  void rolloutStatusNamesBackendsNotReadyAndStopsOnADeletion() throws IOException {
    String pool =
        "{\"metadata\": {\"name\": \"m\", \"generation\": 1%s}, \"spec\": {\"replicas\": 2},"
            + " \"status\": {\"observedGeneration\": 1, \"replicas\": 2, \"readyReplicas\": 1, \"updatedReplicas\": 2,"
            + " \"backends\": [{\"app\": \"m-a\", \"phase\": \"Ready\"}, {\"app\": \"m-b\", \"phase\": \"Ejected\"}],"
            + " \"conditions\": [{\"type\": \"Progressing\", \"status\": \"True\", \"reason\": \"WaitingForHealth\"}]}}";
    java.util.List<String[]> api =
        java.util.List.<String[]>of(
            ok(pool.formatted("")),
            new String[] {
              "200",
              pool.formatted(", \"deletionTimestamp\": \"2026-11-25T00:00:00Z\""),
              "Content-Type",
              "application/json"
            });
    Run r = cliAgainst(api, "rollout", "status", "m", "--timeout", "30s");
    assertThat(r.out()).contains("1 ready (Ejected: m-b)");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("is being deleted");
  }

  /** Audit 15: status.drift and status.stalledRelease were shown nowhere but -o yaml. */
  @Test
  void describeShowsDriftAndAStalledRelease() throws IOException {
    java.util.List<String[]> api =
        java.util.List.<String[]>of(
            new String[] {
              "200",
              "{\"metadata\": {\"name\": \"d\", \"generation\": 1}, \"spec\": {\"replicas\": 1},"
                  + " \"status\": {\"stalledRelease\": \"slug-1/abc\", \"drift\": [\"d-x: GREETING changed by hand\"],"
                  + " \"conditions\": [{\"type\": \"Degraded\", \"status\": \"True\", \"reason\": \"RolloutStalled\","
                  + " \"message\": \"m\", \"lastTransitionTime\": \""
                  + java.time.Instant.now().minusSeconds(300)
                  + "\"}]}}",
              "Content-Type",
              "application/json"
            },
            ok("[]"));
    Run r = cliAgainst(api, "describe", "pool", "d");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("Stalled at:", "slug-1/abc", "Drift:", "d-x: GREETING changed by hand")
        // since when a condition holds (audit 18)
        .containsPattern("TYPE +STATUS +REASON +SINCE +MESSAGE")
        .containsPattern("Degraded +True +RolloutStalled +5m +m");
  }

  /**
   * Audit 15: one 503 database-unavailable (Postgres failing over), a router 503 or a 429 ended
   * rollout status with exit 1, "rollout failed", to a deploy script. It waits through them.
   */
  @Test
  void rolloutStatusWaitsThroughA503() throws IOException {
    java.util.List<String[]> flaky =
        java.util.List.<String[]>of(
            new String[] {
              "503",
              "{\"type\": \"https://dynofleet.dev/problems/database-unavailable\", \"status\": 503,"
                  + " \"detail\": \"the database cannot be reached; retry shortly\"}",
              "Content-Type",
              "application/problem+json",
              "Retry-After",
              "1"
            },
            new String[] {
              "200",
              "{\"metadata\": {\"name\": \"s\", \"generation\": 1},"
                  + " \"spec\": {\"staticBackends\": [\"http://a.example\"]}, \"status\": {}}",
              "Content-Type",
              "application/json"
            });
    Run r = cliAgainst(flaky, "rollout", "status", "s", "--timeout", "30s");
    assertThat(r.code()).isZero();
    assertThat(r.err())
        .contains(
            "warning: the database cannot be reached; retry shortly (retry after 1 s) [503 database-unavailable]; still waiting");
    assertThat(r.out()).contains("nothing to roll out");
  }

  @Test
  void unreachableUrlIsFive() throws IOException {
    // a port bound for the whole call and never listened on: connects are refused, and no other
    // program can start listening there meanwhile
    try (java.net.Socket hold = new java.net.Socket()) {
      hold.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
      Run r = getPoolsAt("http://127.0.0.1:" + hold.getLocalPort());
      assertThat(r.code()).isEqualTo(5);
      assertThat(r.err()).contains("cannot connect");
    }
  }

  /** apply -f refuses a key given twice or a second document, as the API does (audit defect 5). */
  @Test
  void applyRefusesAKeyTwiceOrASecondDocument() throws IOException {
    String one = unique("dup");
    String two = unique("dup");
    String dup =
        managedJson(one, 1)
            .replace(
                "\"name\": \"" + one + "\"",
                "\"name\": \"" + one + "\", \"name\": \"" + two + "\"");
    Run r = cli("apply", "-f", file("dup.json", dup).toString());
    assertThat(r.code()).isEqualTo(1);
    // in the user's words, not the parser's (audit 13: Jackson's class names and the file's bytes)
    assertThat(r.err())
        .contains("(line 1): key 'name' appears twice")
        .doesNotContain("Jackson", "ObjectNode", "byte[]");
    Run missing = cli("apply", "-f", dir.resolve("nonexistent.yaml").toString());
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).endsWith("nonexistent.yaml: no such file" + System.lineSeparator());
    Run trailing =
        cli("apply", "-f", file("two.json", managedJson(one, 1) + managedJson(two, 1)).toString());
    assertThat(trailing.code()).isEqualTo(1);
    // a second document in the user's words, not Jackson's (audit 24 L6)
    assertThat(trailing.err())
        .contains("two.json (line ", "): a second document starts there; apply takes one pool")
        .doesNotContain("Trailing token", "JsonNode", "document start>");
    Run yamlTwo =
        cliWith(
            Map.of("DYNOFLEET_URL", base.toString(), "DYNOFLEET_API_TOKEN", TOKEN),
            "metadata: {name: %s}\nspec: {replicas: 2}\n---\nmetadata: {name: %s}\n"
                .formatted(one, two),
            "apply",
            "-f",
            "-");
    assertThat(yamlTwo.code()).isEqualTo(1);
    assertThat(yamlTwo.err())
        .isEqualTo(
            "error: cannot read - (line 4): a second document starts there; apply takes one pool"
                + " per file (nothing was applied: put each pool in a file of its own and apply"
                + " each)"
                + System.lineSeparator());
    assertThat(cli("get", "pool", one).code()).isEqualTo(3);
    assertThat(cli("get", "pool", two).code()).isEqualTo(3);
  }

  /**
   * Audit defect 11: one field error was printed twice (the detail is that error), and applying an
   * unchanged file said "configured" although the server wrote nothing.
   */
  @Test
  void aSingleErrorIsPrintedOnceAndAnUnchangedApplySaysSo() throws IOException {
    String name = unique("once");
    Path f = file("once.json", managedJson(name, 1));
    assertThat(cli("apply", "-f", f.toString()).out()).contains("pool/" + name + " created");
    Run same = cli("apply", "-f", f.toString());
    assertThat(same.code()).as(same.err()).isZero();
    assertThat(same.out()).contains("pool/" + name + " unchanged");
    Run changed = cli("apply", "-f", file("once2.json", managedJson(name, 2)).toString());
    assertThat(changed.out()).contains("pool/" + name + " configured");

    Run bad = cli("scale", "pool", name, "--replicas", "-1");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err().split("replicas: must be", -1)).as(bad.err()).hasSize(2); // exactly once
    assertThat(bad.err()).as("the problem type, for scripts").contains("[422 invalid]");
    Run set = cli("get", "pools", "-l", "team in (x)");
    assertThat(set.code()).isEqualTo(1);
    assertThat(set.err().split("not supported", -1)).as(set.err()).hasSize(2);
  }

  /**
   * Audit 15 L5: a status write between apply's read and its PUT moved the resourceVersion, and an
   * apply that changed nothing said "configured"; the generation and labels decide.
   */
  @Test
  void anApplyThatChangesNothingIsUnchangedWhileStatusMoves() throws IOException {
    String pool =
        "{\"metadata\": {\"name\": \"s\", \"generation\": %d, \"resourceVersion\": \"%s\","
            + " \"labels\": {\"team\": \"%s\"}}, \"spec\": {}}";
    Path f =
        file(
            "s.json",
            "{\"metadata\": {\"name\": \"s\"}, \"spec\": {\"staticBackends\": [\"http://127.0.0.1:9\"]}}");
    Run same =
        cliAgainst(
            java.util.List.of(ok(pool.formatted(3, "100", "a")), ok(pool.formatted(3, "107", "a"))),
            "apply",
            "-f",
            f.toString());
    assertThat(same.out()).as(same.err()).contains("pool/s unchanged");
    Run relabelled =
        cliAgainst(
            java.util.List.of(ok(pool.formatted(3, "100", "a")), ok(pool.formatted(3, "108", "b"))),
            "apply",
            "-f",
            f.toString());
    assertThat(relabelled.out()).contains("pool/s configured");
    Run respecced =
        cliAgainst(
            java.util.List.of(ok(pool.formatted(3, "100", "a")), ok(pool.formatted(4, "108", "a"))),
            "apply",
            "-f",
            f.toString());
    assertThat(respecced.out()).contains("pool/s configured");
  }

  /** Audit (pool files): an export applied once, then every apply was a uid or version conflict. */
  @Test
  void anExportAppliesAgainAfterItsPoolChanged() throws IOException {
    String name = unique("export");
    assertThat(cli("apply", "-f", file("ex.json", managedJson(name, 1)).toString()).code())
        .isZero();
    Path exported = file("ex-out.yaml", cli("get", "pool", name, "-o", "yaml").out());
    // the export is stale now
    assertThat(cli("scale", "pool", name, "--replicas", "3").code()).isZero();
    Run again = cli("apply", "-f", exported.toString());
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out()).contains("pool/" + name + " configured");
    assertThat(
            io.restassured.path.json.JsonPath.from(cli("get", "pool", name, "-o", "json").out())
                .getInt("spec.replicas"))
        .as("the file's, not the scale's")
        .isEqualTo(1);
  }

  /**
   * Audit 24 M1, M2: an export always wrote {@code paused: false} and {@code maintenance: false}
   * (defaults are stored), and applying the committed file resumed a paused pool and ended a
   * maintenance, printing only "configured". Exports leave both levers out, a file without them
   * keeps them, and an apply that turns one off says so on stderr.
   */
  @Test
  void anExportKeepsAPauseAndAMaintenanceAndAnApplyThatEndsOneWarns() throws IOException {
    String name = unique("levers");
    assertThat(cli("apply", "-f", file("lv.json", managedJson(name, 1)).toString()).code())
        .isZero();
    String yaml = cli("get", "pool", name, "-o", "yaml").out();
    String json = cli("get", "pool", name, "-o", "json").out();
    assertThat(yaml).contains("replicas: 1").doesNotContain("paused", "maintenance:");
    assertThat(json).contains("\"replicas\" : 1").doesNotContain("paused", "\"maintenance\"");
    // the list too: a script may split it into files (review 29 R29-14)
    for (String format : java.util.List.of("json", "yaml")) {
      var items =
          new com.fasterxml.jackson.databind.ObjectMapper(
                  format.equals("json")
                      ? null
                      : new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
              .readTree(cli("get", "pools", "-o", format).out())
              .path("items");
      assertThat(items).as(format).isNotEmpty();
      boolean listed = false;
      for (var item : items) {
        listed |= item.path("metadata").path("name").asText().equals(name);
        assertThat(item.path("spec").has("paused")).as(format).isFalse();
        assertThat(item.path("spec").path("routing").has("maintenance")).as(format).isFalse();
        assertThat(item.path("spec").isObject()).as(format).isTrue();
      }
      assertThat(listed).as(format).isTrue();
    }
    Path exported = file("lv-out.yaml", yaml);

    assertThat(cli("pause", "pool", name).code()).isZero();
    assertThat(cli("maintenance", "on", name).code()).isZero();
    Run again = cli("apply", "-f", exported.toString());
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out()).contains("pool/" + name + " unchanged");
    assertThat(again.err()).isEmpty();
    assertThat(cli("describe", "pool", name).out())
        .contains("Paused:          true")
        .contains("Maintenance:     ON");
    // the table still shows the maintenance, which the exports leave out
    assertThat(cli("get", "pools").out()).containsPattern(name + " .* on ");

    // an export of the release before: both levers written false
    Path old =
        file(
            "lv-old.yaml",
            yaml.replace("  replicas: 1", "  replicas: 1\n  paused: false")
                .replace("    hosts:", "    maintenance: false\n    hosts:"));
    assertThat(old).content().contains("paused: false", "maintenance: false");
    Run ends = cli("apply", "-f", old.toString());
    assertThat(ends.code()).as(ends.err()).isZero();
    assertThat(ends.out()).contains("pool/" + name + " configured");
    assertThat(ends.err())
        .contains(
            "warning: this apply resumed pool/" + name + " (the file says spec.paused: false)",
            "dynofleet pause pool " + name,
            "warning: this apply ended the maintenance of pool/" + name,
            "dynofleet maintenance on " + name);
    assertThat(cli("describe", "pool", name).out())
        .contains("Paused:          false")
        .contains("Maintenance:     off");
  }

  /**
   * Audit 24 L4: applying the manifest of a pool being deleted printed "unchanged" and exited 0 (an
   * unchanged spec's PUT goes through), and the pool was gone seconds later. It fails, saying so,
   * and writes nothing.
   */
  @Test
  void applyToAPoolBeingDeletedFailsSayingSo() throws IOException {
    String name = unique("going");
    Path manifest = file("g.json", managedJson(name, 0));
    assertThat(cli("apply", "-f", manifest.toString()).code()).isZero();
    String version =
        io.restassured.path.json.JsonPath.from(cli("get", "pool", name, "-o", "json").out())
            .getString("metadata.resourceVersion");
    assertThat(cli("delete", "pool", name).code()).isZero();
    String deleting =
        io.restassured.path.json.JsonPath.from(cli("get", "pool", name, "-o", "json").out())
            .getString("metadata.resourceVersion");

    Run r = cli("apply", "-f", manifest.toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(Cli.FAILURE);
    assertThat(r.out()).doesNotContain("unchanged", "configured");
    assertThat(r.err())
        .contains("pool/" + name + " is being deleted (since ", "nothing was applied")
        .contains("dynofleet delete pool " + name + " --wait");
    assertThat(
            io.restassured.path.json.JsonPath.from(cli("get", "pool", name, "-o", "json").out())
                .getString("metadata.resourceVersion"))
        .as("nothing written")
        .isEqualTo(deleting)
        .isNotEqualTo(version);
  }

  @Test
  void validationErrorIsOneWithFieldNames() throws IOException {
    String json =
        """
        {"metadata": {"name": "%s"}, "spec": {"pipeline": "shop", "replicas": -1,
          "template": {"sourceApp": "shop-web", "dynoSize": "gigantic"}}}"""
            .formatted(unique("bad"));
    Run r = cli("apply", "-f", file("bad.json", json).toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("spec.replicas").contains("spec.template.dynoSize");
  }

  @Test
  void usageAndHelp() {
    Run help = cli("help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("rollout status", "maintenance on|off NAME", "Exit codes");
    assertThat(cli("--help").code()).isZero();
    assertThat(cli("get").code()).isEqualTo(2);
    assertThat(cli("scale", "pool", "x").code()).isEqualTo(2);
  }

  @Inject io.dynofleet.sandbox.Simulator simulator;

  /** The walk-through's sandbox commands drive the simulated Heroku through the API. */
  @Test
  void sandboxCommandsDriveTheSimulator() {
    String app = unique("cli-src");
    simulator.createSourceApp(app);
    Run apps = cli("sandbox", "apps");
    assertThat(apps.code()).as(apps.err()).isZero();
    assertThat(apps.out()).contains("APP", app);

    int release = simulator.app(app).release();
    Run push = cli("sandbox", "push", app);
    assertThat(push.code()).as(push.err()).isZero();
    assertThat(simulator.app(app).release()).isGreaterThan(release);

    Run broke = cli("sandbox", "break", app, "crashed");
    assertThat(broke.code()).as(broke.err()).isZero();
    io.restassured.RestAssured.given()
        .get(simulator.app(app).webUrl() + "health")
        .then()
        .statusCode(503);
    assertThat(cli("sandbox", "heal", app).code()).isZero();
    io.restassured.RestAssured.given()
        .get(simulator.app(app).webUrl() + "health")
        .then()
        .statusCode(200);

    Run unknown = cli("sandbox", "break", "no-such-app", "dead");
    assertThat(unknown.code()).isEqualTo(Cli.NOT_FOUND);
    assertThat(unknown.err()).contains("no simulated app named 'no-such-app'");
    // a usage error, not a missing thing (audit 12)
    Run melted = cli("sandbox", "break", app, "melted");
    assertThat(melted.code()).isEqualTo(Cli.USAGE);
    assertThat(melted.err()).contains("unknown fault melted (crashed, dead, hung, slow)");
  }
}
