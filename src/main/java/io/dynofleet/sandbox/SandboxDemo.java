package io.dynofleet.sandbox;

import io.dynofleet.api.ApiAuth;
import io.dynofleet.api.PoolService;
import io.dynofleet.config.DynofleetConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * First run without a Heroku account: seeds the simulator with a demo source app coupled to a demo
 * pipeline and declares a pool of three backends copied from it, then tells the user where to look.
 * Runs only in sandbox mode. The app and pipeline are made at every start (the simulated account
 * starts empty); the pool only when the store holds no pools (a restart against a kept database
 * adds nothing), and not with {@code dynofleet.sandbox.demo=false}.
 */
@ApplicationScoped
class SandboxDemo {
  private static final Logger LOG = Logger.getLogger(SandboxDemo.class);
  static final String SOURCE_APP = "demo-source";
  static final String PIPELINE = "demo";

  /**
   * The source's stage in its pipeline: the pool's default {@code stage: source} couples the
   * backends beside it, where a source outside the pipeline had them coupled to production with a
   * SourceNotInPipeline Warning the sandbox gave no way to fix (audit 22 L3). Production, as {@code
   * heroku pipelines:create -s production} makes it.
   */
  static final String STAGE = "production";

  static final String POOL =
      """
      {"apiVersion": "dynofleet.io/v1", "kind": "BackendPool",
       "metadata": {"name": "demo", "labels": {"app": "demo"}},
       "spec": {
         "pipeline": "demo",
         "replicas": 3,
         "template": {"sourceApp": "demo-source", "region": "us", "dynoSize": "basic"},
         "healthCheck": {"path": "/health", "intervalSeconds": 2, "timeoutSeconds": 1,
                         "healthyThreshold": 1, "unhealthyThreshold": 2, "replaceAfterSeconds": 30},
         "rollout": {"maxSurge": 1, "maxUnavailable": 0},
         "routing": {"default": true, "algorithm": "round-robin"}}}
      """;

  private final SandboxMode mode;
  private final Simulator simulator;
  private final PoolService pools;
  private final ApiAuth auth;
  private final DynofleetConfig dynofleet;
  private final boolean demo;
  private final int port;

  /** Where the banner points for the dashboard and API: the first admin host, else localhost. */
  private final String adminHost;

  SandboxDemo(
      SandboxMode mode,
      Simulator simulator,
      PoolService pools,
      ApiAuth auth,
      DynofleetConfig dynofleet,
      SandboxConfig sandboxConfig,
      @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int port,
      io.dynofleet.config.AdminHosts adminHosts,
      io.dynofleet.db.SchemaMigration schema,
      SecondProcessFile second) {
    this.schema = schema;
    this.second = second;
    this.adminHost = adminHosts.names().stream().sorted().findFirst().orElse("localhost");
    this.mode = mode;
    this.simulator = simulator;
    this.pools = pools;
    this.auth = auth;
    this.dynofleet = dynofleet;
    this.demo = sandboxConfig.demo();
    this.port = port;
  }

  private final io.dynofleet.db.SchemaMigration schema;
  private final SecondProcessFile second;
  private boolean started;
  private boolean seeded;
  private boolean listening;
  private boolean told;

  void onStart(
      @Observes @Priority(jakarta.interceptor.Interceptor.Priority.APPLICATION + 900)
          StartupEvent e) {
    if (!mode.sandbox()) {
      return;
    }
    seedAccount();
    // the pool only into a store whose schema is known good (a sandbox on a DATABASE_URL that
    // did not answer at start: the pool is not seeded, as when the seed failed)
    boolean s = demo && schema.migrated() && seed();
    synchronized (this) {
      started = true;
      seeded = s;
    }
    banner();
  }

  /**
   * The banner waits for the HTTP server to listen: printed at start-up it claimed "running" with a
   * token and URLs even when the port was taken and the start failed, and the URLs then reached
   * whatever held the port (audit 13).
   */
  void onListening(
      @jakarta.enterprise.event.ObservesAsync io.quarkus.vertx.http.HttpServerStart e) {
    synchronized (this) {
      listening = true;
    }
    banner();
  }

  private void banner() {
    synchronized (this) {
      if (!started || !listening || told) {
        return;
      }
      told = true;
    }
    LOG.info(
        bannerText(
                simulator.url(),
                seeded,
                port,
                adminHost,
                dynofleet.prefix(),
                auth.sandboxToken().orElse(null))
            + second.write().map(SandboxDemo::secondProcessText).orElse(""));
  }

  /**
   * The banner: where the simulator, the demo's traffic, the dashboard and the API are, and the
   * token ({@code token}, null when the user set one) with the {@code DYNOFLEET_URL} the CLI needs:
   * on another port than 8080 the CLI, told only the token, tried localhost:8080 (audit 22 L4).
   * Never the simulated Heroku API key.
   */
  static String bannerText(
      String simulatorUrl,
      boolean seeded,
      int port,
      String adminHost,
      String prefix,
      String token) {
    String base = "http://localhost:" + port;
    // with DYNOFLEET_ADMIN_HOSTS the dashboard and API answer on those hosts only (audit 11)
    String admin = "http://" + adminHost + ":" + port;
    String api = admin + prefix + "/api/v1/pools";
    // the CLI refuses to send the token over http to a host that is not a loopback unless told it
    // may: the sandbox's plain http on an admin host needs saying so (review 28 #4)
    String url =
        admin + (io.dynofleet.cli.Cli.loopback(adminHost) ? "" : " DYNOFLEET_ALLOW_HTTP=true");
    StringBuilder banner =
        new StringBuilder(
            "\n\n  Dynofleet is running in SANDBOX mode (no HEROKU_API_KEY):"
                + " a simulated Heroku Platform API at "
                + simulatorUrl
                + " and real backends on loopback.\n");
    if (seeded) {
      banner
          .append(
              "  Demo pool 'demo': 3 backends copied from app '"
                  + SOURCE_APP
                  + "', coming up now.\n")
          .append("    traffic:    curl " + base + "/\n");
    }
    if (token != null) {
      banner
          .append("    dashboard:  " + admin + prefix + "/#token=" + token + "\n")
          .append("    API:        " + api + "\n")
          .append(
              "    API token:  "
                  + token
                  + "   (export DYNOFLEET_API_TOKEN="
                  + token
                  + " DYNOFLEET_URL="
                  + url
                  + ")\n");
    } else {
      banner
          .append("    dashboard:  " + admin + prefix + "/  (sign in with DYNOFLEET_API_TOKEN)\n")
          .append("    API:        " + api + "\n")
          .append("    CLI:        export DYNOFLEET_URL=" + url + "\n");
    }
    return banner.toString();
  }

  /**
   * The banner's lines on a second process (audit 23 L6): the file's path, never what is in it (the
   * simulator's key, the database's password).
   */
  static String secondProcessText(java.nio.file.Path file) {
    return "  A second process on this sandbox (same database, same simulated account; its settings,"
        + " secrets included, are in a file only you can read):\n"
        + "    (set -a; . "
        + file
        + "; set +a; PORT=8081 java -jar target/quarkus-app/quarkus-run.jar)\n";
  }

  /**
   * The demo's source app, coupled to its pipeline, once per start whether the demo pool is seeded
   * or not: README and cli.md send pools to {@code pipeline: demo}, {@code sourceApp: demo-source}
   * in any sandbox, and with {@code dynofleet.sandbox.demo=false} the account was empty (audit 22).
   * The simulated Heroku starts empty each time; a database kept across restarts ({@code
   * DATABASE_URL}) still has the demo pool, which needs them again (it said "pipeline 'demo' not
   * found" for good; audit 12). Its old apps are gone: the reconciler replaces them.
   */
  void seedAccount() {
    try {
      if (simulator.apps().stream().noneMatch(a -> a.name().equals(SOURCE_APP))) {
        // the same id at every start: a pool kept in the database (README, "to keep pools")
        // pinned the demo source by its id, and a new id said SourceReplaced (S5-6) for good
        simulator.createSourceApp(
            SOURCE_APP,
            null,
            null,
            java.util
                .UUID
                .nameUUIDFromBytes(
                    ("dynofleet-sandbox:" + SOURCE_APP)
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .toString());
        simulator.createPipeline(PIPELINE);
        simulator.couple(SOURCE_APP, PIPELINE, STAGE);
      }
    } catch (RuntimeException ex) {
      LOG.warnf("sandbox demo app '%s' not made: %s", SOURCE_APP, ex.getMessage());
    }
  }

  private boolean seed() {
    try {
      if (!pools.list(null, null, null).items().isEmpty()) {
        LOG.info(
            "sandbox demo: pools exist already (a kept database): source app '"
                + SOURCE_APP
                + "' made again, no pool seeded; pools copying other apps find them gone");
        return false;
      }
      pools.create(POOL);
      return true;
    } catch (RuntimeException ex) {
      LOG.warnf("sandbox demo not seeded: %s", ex.getMessage());
      return false;
    }
  }
}
