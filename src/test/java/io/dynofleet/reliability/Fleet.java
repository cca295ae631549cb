package io.dynofleet.reliability;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynofleet.sandbox.SandboxApp;
import io.dynofleet.sandbox.SandboxCall;
import io.dynofleet.sandbox.Simulator;
import io.dynofleet.sandbox.StandaloneSimulator;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The harness of the reliability tests: this JVM is "Heroku" (the Platform API simulator, with its
 * fault hooks and call log) and owns the database (an embedded PostgreSQL); the processes under
 * test are the packaged Dynofleet jar started with {@code java -jar}, pointed at both by {@code
 * HEROKU_API_URL}/{@code HEROKU_API_KEY} and {@code DATABASE_URL}, exactly as on Heroku. A process
 * can be killed with SIGKILL (nothing runs after it) or stopped with SIGTERM.
 */
final class Fleet implements AutoCloseable {
  static final String TOKEN = "test-token-0123456789";
  static final String POOLS = "/_dynofleet/api/v1/pools";
  static final String WEBHOOK_SECRET = "fleet-webhook-secret";
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  final EmbeddedPostgres pg;
  final Simulator sim;
  private final List<Dyno> dynos = new ArrayList<>();
  private final Path logs;
  private int started;

  /**
   * Where "Heroku" sends the release webhooks: the first process's port, as one router address
   * serves every dyno of an app (a process started later has the same public URL, whoever is up).
   */
  private String publicUrl;

  Fleet(String name) {
    try {
      // generous: on a loaded 2-core machine initdb + start can take longer than the 10 s default
      this.pg =
          EmbeddedPostgres.builder()
              .setPort(io.dynofleet.sandbox.PortHold.pickFree())
              .setPGStartupWait(Duration.ofSeconds(60))
              .start();
      this.logs = Files.createDirectories(Path.of("target", "reliability", name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.sim = StandaloneSimulator.start();
  }

  @Override
  public void close() throws IOException {
    dynos.forEach(Dyno::kill9);
    StandaloneSimulator.stop(sim);
    pg.close();
  }

  /** Starts a Dynofleet process and waits until it answers. {@code props} are extra -D settings. */
  Dyno start(Map<String, String> props) {
    int port = freePort();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx160m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Xshare:auto",
                // a reconciler tuned for tests: a 1 s sweep, short requeues and drains
                "-Ddynofleet.reconcile.interval=1s",
                "-Ddynofleet.reconcile.in-flight-requeue=200ms",
                "-Ddynofleet.reconcile.release-poll=200ms",
                "-Ddynofleet.reconcile.drain-time=300ms",
                "-Ddynofleet.reconcile.base-backoff=200ms",
                "-Ddynofleet.reconcile.max-backoff=3s",
                "-Ddynofleet.heroku.retry-initial-delay=50ms",
                "-Ddynofleet.heroku.retry-max-delay=500ms",
                "-Ddynofleet.heroku.rate-limit-initial-delay=100ms",
                "-Ddynofleet.heroku.rate-limit-max-wait=3s",
                "-Dquarkus.http.host=127.0.0.1",
                "-Dquarkus.log.category.\"io.dynofleet\".level=DEBUG"));
    if (publicUrl == null) {
      publicUrl = "http://127.0.0.1:" + port;
    }
    cmd.add("-Ddynofleet.api.public-url=" + publicUrl);
    cmd.add("-Ddynofleet.api.webhook-secret=" + WEBHOOK_SECRET);
    props.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
    cmd.add("-jar");
    cmd.add(jar().toAbsolutePath().toString());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    env.put("PORT", Integer.toString(port));
    env.put("DATABASE_URL", "postgres://postgres:postgres@localhost:" + pg.getPort() + "/postgres");
    env.put("HEROKU_API_URL", sim.url());
    env.put("HEROKU_API_KEY", sim.apiKey());
    env.put("DYNOFLEET_API_TOKEN", TOKEN);
    env.put("DYNOFLEET_DB_POOL_SIZE", "5");
    Path log = logs.resolve("dyno-" + (++started) + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    pb.directory(Path.of("target").toFile()); // no config/ of the project: packaged defaults only
    try {
      Dyno d = new Dyno(pb.start(), port, log);
      dynos.add(d);
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> !d.process.isAlive() || d.up());
      if (!d.process.isAlive()) {
        throw new IllegalStateException("dynofleet exited at start, see " + log);
      }
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Dyno start() {
    return start(Map.of());
  }

  static Path jar() {
    Path jar = Path.of(System.getProperty("dynofleet.jar", "target/quarkus-app/quarkus-run.jar"));
    if (!Files.exists(jar)) {
      throw new IllegalStateException(
          jar + " missing: run ./mvnw package first (failsafe runs after it)");
    }
    return jar;
  }

  /**
   * Below the ephemeral range: a port-0 pick of another program cannot take it before the dyno
   * binds.
   */
  private static int freePort() {
    return io.dynofleet.sandbox.PortHold.pickFree();
  }

  // ------------------------------------------------------------------ the world

  /** A source app with a release and a pipeline, as a user has them before making a pool. */
  void sourceAndPipeline(String source, String pipeline) {
    sim.createSourceApp(source);
    sim.createPipeline(pipeline);
  }

  static String pool(String name, String source, String pipeline, int replicas, String extra) {
    return """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "%s", "replicas": %d,
                  "template": {"sourceApp": "%s", "dynoSize": "basic"},
                  "healthCheck": {"path": "/health", "intervalSeconds": 1, "timeoutSeconds": 1,
                                  "healthyThreshold": 1, "unhealthyThreshold": 2},
                  "rollout": {"maxSurge": 2, "maxUnavailable": 1}%s}}
        """
        .formatted(name, pipeline, replicas, source, extra);
  }

  /** Apps named like the pool's backends. */
  List<SandboxApp> named(String pool) {
    return sim.apps().stream().filter(a -> a.name().startsWith(pool + "-")).toList();
  }

  /** Successful app creates for the pool in the call log. */
  long creates(String pool) {
    return sim.callLog().stream()
        .filter(
            c ->
                c.method().equals("POST")
                    && c.path().equals("/apps")
                    && c.status() == 201
                    && c.requestBody().contains("\"" + pool + "-"))
        .count();
  }

  /** The ids of every app made for the pool, deleted ones too, from the create answers. */
  java.util.Set<String> madeIds(String pool) {
    return sim.callLog().stream()
        .filter(
            c ->
                c.method().equals("POST")
                    && c.path().equals("/apps")
                    && c.status() == 201
                    && c.requestBody().contains("\"" + pool + "-"))
        .map(c -> new io.vertx.core.json.JsonObject(c.responseBody()).getString("id"))
        .collect(java.util.stream.Collectors.toSet());
  }

  /** URLs of the app's release webhook subscriptions. */
  List<String> webhooks(String app) {
    return sim.webhooks(app).stream().map(w -> (String) w.get("url")).toList();
  }

  long calls(String method, String path, int status) {
    return sim.callLog().stream()
        .filter(
            c ->
                c.method().equals(method)
                    && c.path().startsWith(path)
                    && (status == 0 || c.status() == status))
        .count();
  }

  /**
   * Calls on the app {@code app} by its name or by its id alike (the source app's webhook is made
   * and kept by the id the pool pinned), to paths starting {@code rest} after the app.
   */
  long callsOnApp(String method, String app, String rest, int status) {
    return calls(method, "/apps/" + app + rest, status)
        + calls(method, "/apps/" + sim.app(app).id() + rest, status);
  }

  List<SandboxCall> callLog() {
    return sim.callLog();
  }

  /** Backend rows of the pool by step, straight from the database (what a crash left behind). */
  Map<String, Integer> steps(String pool) {
    Map<String, Integer> out = new TreeMap<>();
    try (Connection c = pg.getPostgresDatabase().getConnection();
        PreparedStatement st =
            c.prepareStatement(
                "select b.step, count(*) from backends b join pools p on p.id = b.pool_id where p.name = ? group by b.step")) {
      st.setString(1, pool);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getInt(2));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  /**
   * The pool as it should be: status says {@code n} ready, updated and stable; the simulator holds
   * exactly those {@code n} apps, each carrying the pool's marker once, on the source's current
   * slug, serving.
   */
  boolean converged(Dyno d, String pool, String source, int n) {
    lastDivergence = divergence(d, pool, source, n);
    return lastDivergence == null;
  }

  /** Waits for {@link #converged}; fails saying what still differs. Returns the time it took. */
  Duration awaitConverged(Dyno d, String pool, String source, int n, Duration max) {
    long t0 = System.nanoTime();
    try {
      await()
          .atMost(max)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> converged(d, pool, source, n));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          "pool " + pool + " did not converge to " + n + " in " + max + ": " + lastDivergence);
    }
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  /** Why the pool is not (yet) as it should be, for failure messages. */
  volatile String lastDivergence;

  private String divergence(Dyno d, String pool, String source, int n) {
    JsonNode status = d.json("GET", POOLS + "/" + pool + "/status", null);
    if (status == null) {
      return "no status: " + d.lastError;
    }
    if (status.path("readyReplicas").asInt(-1) != n
        || status.path("replicas").asInt(-1) != n
        || status.path("updatedReplicas").asInt(-1) != n) {
      return "status " + status;
    }
    for (JsonNode c : status.path("conditions")) {
      if (c.path("type").asText().equals("Progressing")
          && !c.path("status").asText().equals("False")) {
        return "progressing " + status;
      }
    }
    Set<String> listed = new java.util.HashSet<>();
    status.path("backends").forEach(b -> listed.add(b.path("app").asText()));
    String slug = sim.app(source).slugId();
    List<SandboxApp> apps = named(pool);
    Set<String> names = apps.stream().map(SandboxApp::name).collect(Collectors.toSet());
    if (apps.size() != n || !listed.equals(names)) {
      return "apps " + names + " status lists " + listed;
    }
    for (SandboxApp a : apps) {
      if (!a.configVars().containsKey("DYNOFLEET_POOL")
          || !slug.equals(a.slugId())
          || !a.serving()) {
        return "app " + a;
      }
    }
    return null;
  }

  /** A Dynofleet child process. */
  static final class Dyno {
    final Process process;
    final int port;
    final Path log;

    Dyno(Process process, int port, Path log) {
      this.process = process;
      this.port = port;
      this.log = log;
    }

    String base() {
      return "http://127.0.0.1:" + port;
    }

    boolean up() {
      try {
        return HTTP.send(
                    HttpRequest.newBuilder(URI.create(base() + "/_dynofleet/q/health/ready"))
                        .timeout(Duration.ofSeconds(2))
                        .build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    /** SIGKILL: the process stops between any two instructions. */
    void kill9() {
      process.destroyForcibly();
      try {
        process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** SIGTERM, as Heroku sends on a restart or deploy. */
    void term() {
      process.destroy();
    }

    int send(String method, String path, String body) {
      return request(method, path, body).statusCode();
    }

    HttpResponse<String> request(String method, String path, String body) {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(base() + path))
              .timeout(Duration.ofSeconds(10))
              .header("Authorization", "Bearer " + TOKEN)
              .header(
                  "Content-Type",
                  method.equals("PATCH") ? "application/merge-patch+json" : "application/json")
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(body));
      try {
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** The JSON answer, or null when the call failed (the process may be going away). */
    JsonNode json(String method, String path, String body) {
      try {
        HttpResponse<String> r = request(method, path, body);
        if (r.statusCode() / 100 != 2) {
          lastError = r.statusCode() + " " + r.body();
          return null;
        }
        return JSON.readTree(r.body());
      } catch (IOException | RuntimeException e) {
        lastError = e.toString();
        return null;
      }
    }

    /** What the last failed {@link #json} call got. */
    volatile String lastError;

    void scale(String pool, int n) {
      int s = send("PUT", POOLS + "/" + pool + "/scale", "{\"replicas\": " + n + "}");
      if (s != 200) {
        throw new IllegalStateException("scale answered " + s);
      }
    }

    /** The pool's Degraded condition as "status/reason", or "" when unreadable. */
    String degraded(String pool) {
      JsonNode s = json("GET", POOLS + "/" + pool + "/status", null);
      if (s == null) {
        return "";
      }
      for (JsonNode c : s.path("conditions")) {
        if (c.path("type").asText().equals("Degraded")) {
          return c.path("status").asText() + "/" + c.path("reason").asText();
        }
      }
      return "";
    }

    /**
     * The sum of every series of the gauge {@code name} (Prometheus spelling) in the process's
     * metrics, 0 when it has none; -1 when the metrics cannot be read.
     */
    double gauge(String name) {
      HttpResponse<String> r;
      try {
        r = request("GET", "/_dynofleet/q/metrics", null);
      } catch (RuntimeException e) {
        return -1;
      }
      if (r.statusCode() != 200) {
        return -1;
      }
      return r.body()
          .lines()
          .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
          .sum();
    }

    /** The backend apps this process's proxy routes to, and which of them it finds healthy. */
    Map<String, Boolean> proxyView(String pool) {
      Map<String, Boolean> out = new TreeMap<>();
      JsonNode stats = json("GET", POOLS + "/" + pool + "/stats", null);
      if (stats != null) {
        stats.forEach(b -> out.put(b.path("app").asText(), b.path("healthy").asBoolean()));
      }
      return out;
    }
  }
}
