package io.dynofleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The packaged application as a newcomer and Heroku run it: {@code java -jar} of the built jar, in
 * a process of its own. Proves the README's first-run promise (sandbox demo answered by 3 backends
 * in turn, the banner tells where to look), that {@code DATABASE_URL} in Heroku's form is honoured
 * at run time, that a configured token is never printed, and a clean exit on SIGTERM.
 */
class PackagedJarIT {
  static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");
  static final String TOKEN = "it-token-" + Long.toHexString(System.nanoTime());

  /**
   * initdb and the first start of an embedded PostgreSQL: zonky's 10 s default is too short on a
   * loaded 2-core machine (Fleet and the product's sandbox database wait 60 s too).
   */
  static final Duration PG_STARTUP_WAIT = Duration.ofSeconds(60);

  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  final List<Process> started = new ArrayList<>();

  @AfterEach
  void stop() {
    started.forEach(Process::destroyForcibly);
  }

  @Test
  @Timeout(180)
  void sandboxFirstRunWithHerokuStyleDatabaseUrl() throws Exception {
    try (EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setPort(io.dynofleet.sandbox.PortHold.pickFree())
            .setPGStartupWait(PG_STARTUP_WAIT)
            .start()) {
      int port = freePort();
      Path log = Files.createTempFile("dynofleet-it", ".log");
      Process p =
          start(
              port,
              log,
              Map.of(
                  "DATABASE_URL",
                  "postgres://postgres:postgres@127.0.0.1:" + pg.getPort() + "/postgres",
                  "DYNOFLEET_API_TOKEN",
                  TOKEN));
      String base = "http://127.0.0.1:" + port;
      awaitReady(base, p, log);

      // the demo pool of 3 answers `curl /` from 3 different backends within a short time
      Set<String> apps = new HashSet<>();
      Pattern app = Pattern.compile("\"app\":\"([a-z0-9-]+)\"");
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                HttpResponse<String> r = get(base + "/", null);
                Matcher m = app.matcher(r.body());
                if (r.statusCode() == 200 && m.find()) {
                  apps.add(m.group(1));
                }
                return apps.size() == 3;
              });
      assertThat(apps).allMatch(a -> a.startsWith("demo-"));

      // the pool lives in the database DATABASE_URL names, not in an embedded one
      try (Connection c = pg.getPostgresDatabase().getConnection();
          ResultSet rs = c.createStatement().executeQuery("select name from pools")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("demo");
      }
      assertThat(get(base + "/_dynofleet/api/v1/pools", TOKEN).statusCode()).isEqualTo(200);
      assertThat(get(base + "/_dynofleet/api/v1/pools", "wrong").statusCode()).isEqualTo(401);

      // SIGTERM: a clean, prompt exit
      p.destroy();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exits within 30 s of SIGTERM").isTrue();
      assertThat(p.exitValue()).isIn(0, 143);
      String out = Files.readString(log);
      assertThat(out).contains("Demo pool 'demo'").doesNotContain(TOKEN);
      assertThat(out).doesNotContain("embedded PostgreSQL started");

      // started again on the kept database (README: "to keep pools"): the simulated Heroku is new
      // and empty, yet the kept demo pool serves again, from new apps (it said "pipeline 'demo'
      // not found" for good, its backends still listed ready at ports nobody served; audit 12)
      Path log2 = Files.createTempFile("dynofleet-it", ".log");
      Process again =
          start(
              port,
              log2,
              Map.of(
                  "DATABASE_URL",
                  "postgres://postgres:postgres@127.0.0.1:" + pg.getPort() + "/postgres",
                  "DYNOFLEET_API_TOKEN",
                  TOKEN));
      awaitReady(base, again, log2);
      Set<String> after = new HashSet<>();
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                HttpResponse<String> r = get(base + "/", null);
                Matcher m = app.matcher(r.body());
                if (r.statusCode() == 200 && m.find()) {
                  after.add(m.group(1));
                }
                return after.size() == 3;
              });
      assertThat(after).allMatch(a -> a.startsWith("demo-")).doesNotContainAnyElementsOf(apps);
      again.destroy();
      assertThat(again.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  @Timeout(120)
  void withoutAnythingConfiguredTheBannerShowsTheGeneratedToken() throws Exception {
    int port = freePort();
    Path log = Files.createTempFile("dynofleet-it", ".log");
    Process p = start(port, log, Map.of("DYNOFLEET_SANDBOX_DEMO", "false"));
    String base = "http://127.0.0.1:" + port;
    awaitReady(base, p, log);
    Matcher m =
        Pattern.compile("dashboard: +http://localhost:" + port + "/_dynofleet/#token=(\\S+)")
            .matcher(Files.readString(log));
    assertThat(m.find()).as("banner with the dashboard URL").isTrue();
    assertThat(get(base + "/_dynofleet/api/v1/pools", m.group(1)).statusCode()).isEqualTo(200);
    assertThat(get(base + "/_dynofleet/api/v1/sandbox", m.group(1)).body())
        .contains("\"sandbox\":true");
    p.destroy();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  @Timeout(120)
  void aPrefixOtherThanTheBuiltOneStopsTheStartSayingWhy() throws Exception {
    int port = freePort();
    Path log = Files.createTempFile("dynofleet-it", ".log");
    Process p =
        start(port, log, Map.of("DYNOFLEET_SANDBOX_DEMO", "false", "DYNOFLEET_PREFIX", "/_lb"));
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("stops by itself").isTrue();
    assertThat(p.exitValue()).isNotZero();
    assertThat(Files.readString(log))
        .contains(
            "Dynofleet did not start: dynofleet.prefix is /_lb but this build serves"
                + " its API and dashboard under /_dynofleet",
            "unset DYNOFLEET_PREFIX");
    refusedPlainly(log);
  }

  /**
   * Audit 14: a database out of reach at start (an outage, a failover, the plan's connections all
   * taken while preboot runs old and new dynos) made the start fail in Flyway, before $PORT was
   * bound: every restart in an outage took the dyno's proxy down, and Heroku's cool-off between
   * crash restarts kept it down after. Now the process serves what it can and waits for it.
   */
  @Test
  @Timeout(240)
  void aDatabaseOutOfReachAtStartIsWaitedForWhileTheStaticPoolServes() throws Exception {
    int dbPort = io.dynofleet.sandbox.PortHold.pickFree();
    com.sun.net.httpserver.HttpServer backend =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    backend.createContext(
        "/",
        ex -> {
          byte[] body = "static-ok".getBytes(java.nio.charset.StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    backend.start();
    try {
      int port = freePort();
      String base = "http://127.0.0.1:" + port;
      Path log = Files.createTempFile("dynofleet-it", ".log");
      // a pool file of the deploy: applied once the database is there (review 18: refused at the
      // start, it waited for the next restart)
      Path poolsDir = Files.createTempDirectory("dynofleet-it-pools");
      Files.writeString(
          poolsDir.resolve("filed.yaml"),
          "metadata:\n  name: filed\nspec:\n  staticBackends: [\"http://127.0.0.1:"
              + backend.getAddress().getPort()
              + "\"]\n  routing:\n    hosts: [filed.example]\n");
      Process p =
          start(
              port,
              log,
              Map.of(
                  "DATABASE_URL",
                  "postgres://postgres:postgres@127.0.0.1:" + dbPort + "/postgres",
                  "DYNOFLEET_API_TOKEN",
                  TOKEN,
                  "DYNOFLEET_SANDBOX_DEMO",
                  "false",
                  "DYNOFLEET_API_POOLS_DIR",
                  poolsDir.toString(),
                  "DYNOFLEET_STATIC_BACKENDS",
                  "http://127.0.0.1:" + backend.getAddress().getPort()));
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () -> {
                if (!p.isAlive()) {
                  throw new AssertionError(
                      "exited " + p.exitValue() + ":\n" + Files.readString(log));
                }
                try {
                  HttpResponse<String> r = get(base + "/", null);
                  return r.statusCode() == 200 && r.body().equals("static-ok");
                } catch (IOException e) {
                  return false;
                }
              });
      assertThat(get(base + "/_dynofleet/q/health/ready", null).statusCode()).isEqualTo(503);
      assertThat(get(base + "/_dynofleet/q/health/live", null).statusCode()).isEqualTo(200);
      assertThat(get(base + "/_dynofleet/api/v1/pools", TOKEN).statusCode()).isEqualTo(503);
      assertThat(Files.readString(log))
          .contains("the database cannot be reached")
          .doesNotContain("Dynofleet did not start");

      try (EmbeddedPostgres pg =
          EmbeddedPostgres.builder().setPort(dbPort).setPGStartupWait(PG_STARTUP_WAIT).start()) {
        awaitReady(base, p, log);
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> get(base + "/_dynofleet/api/v1/pools/filed", TOKEN).statusCode() == 200);
        assertThat(Files.readString(log)).contains("the database is reached: schema at version");
        assertThat(get(base + "/", null).body()).isEqualTo("static-ok");
      }
    } finally {
      backend.stop(0);
    }
  }

  /**
   * Review 3: with no more connections than reconcile workers, every store call timed out. Fewer
   * workers then, saying so; the process still serves (review 4: refusing the start took the proxy
   * down with the reconciler).
   */
  @Test
  @Timeout(120)
  void aDatabasePoolTooSmallForTheWorkersRunsFewerAndSaysSo() throws Exception {
    Path log = Files.createTempFile("dynofleet-it", ".log");
    int port = freePort();
    Process p =
        start(port, log, Map.of("DYNOFLEET_SANDBOX_DEMO", "false", "DYNOFLEET_DB_POOL_SIZE", "3"));
    try {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(250))
          .ignoreExceptions()
          .until(
              () ->
                  !p.isAlive()
                      || get("http://127.0.0.1:" + port + "/_dynofleet/q/health/ready", null)
                              .statusCode()
                          == 200);
      assertThat(p.isAlive()).as("serves").isTrue();
      assertThat(Files.readString(log))
          .contains(
              "DYNOFLEET_DB_POOL_SIZE is 3: too few connections for 2 reconcile workers",
              "running 1");
    } finally {
      p.destroy();
      p.waitFor(30, TimeUnit.SECONDS);
    }
    // audit 8: with one connection the start timed out inside Flyway, never naming the setting
    Path log1 = Files.createTempFile("dynofleet-it", ".log");
    Process p1 =
        start(
            freePort(),
            log1,
            Map.of("DYNOFLEET_SANDBOX_DEMO", "false", "DYNOFLEET_DB_POOL_SIZE", "1"));
    assertThat(p1.waitFor(90, TimeUnit.SECONDS)).as("stops by itself").isTrue();
    assertThat(p1.exitValue()).isNotZero();
    assertThat(Files.readString(log1))
        .contains("DYNOFLEET_DB_POOL_SIZE is 1: at least 2 database connections")
        .doesNotContain("FlywaySqlUnableToConnectToDbException");
    refusedPlainly(log1);
    // review 8/9: a value past an int stopped the start with a NumberFormatException that never
    // named it, and the same limit set on Quarkus's own key was not checked at all
    Map<String, String> refused =
        Map.of("DYNOFLEET_DB_POOL_SIZE", "99999999999", "QUARKUS_DATASOURCE_JDBC_MAX_SIZE", "1");
    Map<String, String> said =
        Map.of(
            "DYNOFLEET_DB_POOL_SIZE",
            "DYNOFLEET_DB_POOL_SIZE is 99999999999: not a number of",
            "QUARKUS_DATASOURCE_JDBC_MAX_SIZE",
            "quarkus.datasource.jdbc.max-size is 1: at least 2 database connections");
    for (Map.Entry<String, String> e : refused.entrySet()) {
      Path logN = Files.createTempFile("dynofleet-it", ".log");
      Process pn =
          start(
              freePort(),
              logN,
              Map.of("DYNOFLEET_SANDBOX_DEMO", "false", e.getKey(), e.getValue()));
      assertThat(pn.waitFor(90, TimeUnit.SECONDS)).as(e.getKey() + " stops by itself").isTrue();
      assertThat(pn.exitValue()).isNotZero();
      assertThat(Files.readString(logN))
          .as(e.getKey())
          .contains(said.get(e.getKey()))
          .doesNotContain("FlywaySqlUnableToConnectToDbException")
          .doesNotContain("NumberFormatException");
    }
  }

  @Test
  @Timeout(120)
  void withAHerokuKeyButNoDatabaseItRefusesToStartRatherThanForgetItsPools() throws Exception {
    Path log = Files.createTempFile("dynofleet-it", ".log");
    Process p =
        start(
            freePort(),
            log,
            Map.of(
                "HEROKU_API_KEY",
                "it-key",
                "HEROKU_API_URL",
                "http://127.0.0.1:9",
                "DYNOFLEET_API_TOKEN",
                TOKEN));
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("stops by itself").isTrue();
    assertThat(p.exitValue()).isNotZero();
    assertThat(Files.readString(log))
        .contains(
            "HEROKU_API_KEY is set but no database is: set DATABASE_URL",
            "DYNOFLEET_DATABASE_EMBEDDED=true")
        .doesNotContain("it-key")
        .doesNotContain("embedded PostgreSQL started");
    refusedPlainly(log);

    // the embedded one forbidden, even in sandbox mode: said plainly, not as an unknown host
    Path log2 = Files.createTempFile("dynofleet-it", ".log");
    Process p2 =
        start(
            freePort(),
            log2,
            Map.of("DYNOFLEET_DATABASE_EMBEDDED", "false", "DYNOFLEET_SANDBOX_DEMO", "false"));
    assertThat(p2.waitFor(90, TimeUnit.SECONDS)).as("stops by itself").isTrue();
    assertThat(p2.exitValue()).isNotZero();
    assertThat(Files.readString(log2))
        .contains("no database: set DATABASE_URL (DYNOFLEET_DATABASE_EMBEDDED=false");
    refusedPlainly(log2);

    // security review 2: a key no header carries failed every call, each failure quoting it
    Path log3 = Files.createTempFile("dynofleet-it", ".log");
    Process p3 =
        start(
            freePort(),
            log3,
            Map.of(
                "HEROKU_API_KEY",
                "it-key-qzqz\u0007wxwx\n",
                "DYNOFLEET_DATABASE_EMBEDDED",
                "true",
                "DYNOFLEET_API_TOKEN",
                TOKEN,
                "DYNOFLEET_SANDBOX_DEMO",
                "false"));
    assertThat(p3.waitFor(90, TimeUnit.SECONDS)).as("stops by itself").isTrue();
    assertThat(p3.exitValue()).isNotZero();
    assertThat(Files.readString(log3))
        .contains(
            "HEROKU_API_KEY holds a character no Heroku API key holds (at position 12" + " of 16)")
        .doesNotContain("qzqz")
        .doesNotContain("wxwx");
    refusedPlainly(log3);
  }

  /**
   * Security review 1: a dyno that lost its HEROKU_API_KEY started the simulator against the real
   * database, and without a token printed a generated one into the app's logs.
   */
  @Test
  @Timeout(180)
  void aDynoWithoutAHerokuKeyRunsNoSandboxUnlessToldTo() throws Exception {
    Path log = Files.createTempFile("dynofleet-it", ".log");
    Process p = start(freePort(), log, Map.of("DYNO", "web.1", "DYNOFLEET_SANDBOX_DEMO", "false"));
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("stops by itself").isTrue();
    assertThat(p.exitValue()).isNotZero();
    assertThat(Files.readString(log))
        .contains(
            "HEROKU_API_KEY is not set on this Heroku dyno: refusing to start in" + " sandbox mode",
            "DYNOFLEET_SANDBOX_ON_DYNO=true")
        .doesNotContain("sandbox mode: simulated Heroku");
    refusedPlainly(log);

    // told to, it still wants a token of its own: a generated one would go to the log drains
    Path log2 = Files.createTempFile("dynofleet-it", ".log");
    Process p2 =
        start(
            freePort(),
            log2,
            Map.of(
                "DYNO",
                "web.1",
                "DYNOFLEET_SANDBOX_ON_DYNO",
                "true",
                "DYNOFLEET_SANDBOX_DEMO",
                "false"));
    assertThat(p2.waitFor(90, TimeUnit.SECONDS)).as("stops by itself").isTrue();
    assertThat(p2.exitValue()).isNotZero();
    assertThat(Files.readString(log2))
        .contains("DYNOFLEET_API_TOKEN is not set")
        .doesNotContain("#token=")
        // the refusal comes before the scheduler's jobs start: none fails on the
        // torn-down container above the line that says what to set (audit 12)
        .doesNotContain("NullPointerException");
    refusedPlainly(log2);
  }

  /**
   * Audit 12: a refusal to start was Quarkus's ERROR "Failed to start application" and some thirty
   * lines of stack, the reason in a "Caused by" far down; now it is one line that says what to set.
   */
  private static void refusedPlainly(Path log) throws IOException {
    assertThat(Files.readString(log))
        .contains("Dynofleet did not start: ")
        .doesNotContain("Failed to start application")
        .doesNotContain("\tat ")
        .doesNotContain("Caused by");
  }

  private Process start(int port, Path log, Map<String, String> env) throws IOException {
    assertThat(JAR).as("the packaged jar (run by failsafe after package)").exists();
    ProcessBuilder pb =
        new ProcessBuilder("java", "-Xmx256m", "-jar", JAR.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().remove("DATABASE_URL");
    pb.environment().remove("HEROKU_API_KEY");
    pb.environment().remove("DYNOFLEET_API_TOKEN");
    pb.environment().remove("DYNO");
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().putAll(env);
    Process p = pb.start();
    started.add(p);
    return p;
  }

  private void awaitReady(String base, Process p, Path log) {
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              if (!p.isAlive()) {
                throw new AssertionError("exited " + p.exitValue() + ":\n" + Files.readString(log));
              }
              try {
                return get(base + "/_dynofleet/q/health/ready", null).statusCode() == 200;
              } catch (IOException e) {
                return false;
              }
            });
  }

  private HttpResponse<String> get(String url, String token)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Below the ephemeral range: another program's port-0 pick cannot take it before the jar binds.
   */
  static int freePort() {
    return io.dynofleet.sandbox.PortHold.pickFree();
  }
}
