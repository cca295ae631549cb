package io.dynofleet.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynofleet.reconcile.SecretMask;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * An in-memory Heroku Platform API on a loopback Vert.x server: the endpoints Dynofleet uses, with
 * Heroku's paths, status codes, headers ({@code RateLimit-Remaining}, {@code ETag}, {@code
 * Request-Id}, {@code Next-Range}, {@code Content-Range}), JSON shapes, bearer auth, Range paging,
 * a token-bucket rate limit and asynchronous releases. Each app with a succeeded release and a web
 * dyno is a real HTTP server at its {@code web_url}.
 *
 * <p>Faults are injected from Java or over HTTP under {@code /__sandbox/} (see
 * docs/heroku-client.md). Java helpers that start backends block until they listen: call them from
 * test or worker threads, not the event loop.
 */
@ApplicationScoped
public class Simulator {

  private static final Logger LOG = Logger.getLogger(Simulator.class);
  private static final Pattern APP_NAME = Pattern.compile("^[a-z][a-z0-9-]{1,28}[a-z0-9]$");
  private static final Set<String> STAGES =
      Set.of("review", "development", "staging", "production");
  private static final Set<String> SIZES =
      Set.of(
          "eco",
          "basic",
          "standard-1x",
          "standard-2x",
          "performance-m",
          "performance-l",
          "performance-xl",
          "performance-2xl");
  private static final String RESPONSE_BODY = "sandbox.responseBody";
  private static final String LOSE_ANSWER = "sandbox.loseAnswer";
  private static final String ACCOUNT_ID = "3c5e8ab7-5f7b-4a5e-9d3a-8b1c2a7f0d11";
  private static final String ACCOUNT_EMAIL = "sandbox@dynofleet.local";

  /**
   * Add-on services whose add-ons may be attached to other apps than the billed one; the schema's
   * default is no, as for many partner add-ons (here: any other service name).
   */
  private static final Set<String> SHARING_SERVICES =
      Set.of("heroku-postgresql", "heroku-redis", "heroku-kafka");

  private static final Map<String, Object> REGION =
      Map.of("id", "59accabd-516d-4f0e-83e6-6e3757701145", "name", "us");
  private static final Map<String, Object> STACK =
      Map.of("id", "ee582d3c-717d-4a57-ba5a-d6a6ae4a4e0a", "name", "heroku-24");

  /** Raised by handlers; answered as Heroku's {@code {id, message, url}} error body. */
  static final class ApiError extends RuntimeException {
    final int status;
    final String id;

    ApiError(int status, String id, String message) {
      super(message, null, false, false);
      this.status = status;
      this.id = id;
    }
  }

  // ------------------------------------------------------------------ state (guarded by this)

  private static final class SimApp {
    String id = UUID.randomUUID().toString();
    String name;
    String region = "us";
    String stack = "heroku-24";
    Instant created;
    Instant updated;
    Instant releasedAt;
    Backend backend;

    /** The team that owns it ({@code POST /teams/apps}), or null when the account's user does. */
    String teamId;

    /**
     * Another user who owns it ({@link #createAppAs}), with the account's user a collaborator; null
     * when the account's user (or {@link #teamId}) does.
     */
    String ownerId;

    String ownerEmail;

    String generation = "cedar";
    final Map<String, String> config = new LinkedHashMap<>();
    final List<SimRelease> releases = new ArrayList<>();
    final Map<String, SimFormation> formation = new LinkedHashMap<>();

    /** Its labs features switched on or off, with when (the rest are off since its creation). */
    final Map<String, Boolean> features = new LinkedHashMap<>();

    final Map<String, Instant> featuresChanged = new HashMap<>();

    /** Its log lines, oldest first: the last {@link #LOG_BUFFER} only, as Logplex keeps. */
    final java.util.ArrayDeque<SimLogLine> logs = new java.util.ArrayDeque<>();
  }

  /** A log line of an app: {@code source} {@code app} or {@code heroku}, and the dyno. */
  private record SimLogLine(Instant at, String source, String dyno, String text) {
    String render() {
      return ts(at) + " " + source + "[" + dyno + "]: " + text;
    }
  }

  /** Lines Logplex keeps per app (and the most a log session asks for). */
  static final int LOG_BUFFER = 1500;

  /** Log sessions made and not read yet, by id: the lines each streams. The oldest go first. */
  private final Map<String, List<String>> logSessions =
      new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<String>> eldest) {
          return size() > 100;
        }
      };

  private static final class SimRelease {
    String id = UUID.randomUUID().toString();
    int version;

    /** The user who made it: the account's, but for the v1 of an app {@link #createAppAs} made. */
    String byId = ACCOUNT_ID;

    String byEmail = ACCOUNT_EMAIL;

    String status = "pending";
    String slugId;
    String description;
    Instant created;
    Instant updated;

    /** The app's config vars when the release was made: what it runs with. */
    Map<String, String> config = Map.of();

    /**
     * The dyno metadata its dynos see ({@code HEROKU_APP_NAME}, ...): set when {@code
     * runtime-dyno-metadata} was on as it was made ("available the next time you deploy"), else
     * empty.
     */
    Map<String, String> dynoMetadata = Map.of();

    /**
     * Its release phase's output ({@code output_stream_url}), or null when it has no release phase.
     */
    volatile String output;
  }

  /**
   * The last line of a release phase's output when the {@code release-phase/fail} fault fails it.
   */
  public static final String RELEASE_PHASE_FAILURE = "release command exited with status 1";

  private static final class SimFormation {
    String id = UUID.randomUUID().toString();
    String type;
    int quantity;
    String size = "basic";
    String command;
    Instant created;
    Instant updated;
  }

  private record SimSlug(
      String id, String appId, String commit, Map<String, String> processTypes, Instant created) {}

  /** {@code teamId}: the team that owns it, or null when the account's user does. */
  private record SimPipeline(String id, String name, Instant created, String teamId) {}

  private record SimTeam(String id, String name, Instant created) {}

  private record SimCoupling(
      String id, String appId, String pipelineId, String stage, Instant created) {}

  private static final class SimAddon {
    String id = UUID.randomUUID().toString();
    String name;
    String service;
    String plan;
    String appId;
    String url;
    Instant created;
  }

  private record SimAttachment(
      String id, String name, String addonId, String appId, Instant created) {}

  /** A log drain of an app; {@code addonId}: the add-on that made it, null for a user's. */
  private record SimDrain(
      String id, String appId, String url, String token, String addonId, Instant created) {}

  /** A labs feature an app may switch on ({@code GET /apps/{app}/features} lists them all). */
  private record SimFeature(String name, String displayName, String description, String state) {
    String id() {
      // one id per feature, the same for every app, as Heroku's are
      return UUID.nameUUIDFromBytes(("feature:" + name).getBytes(StandardCharsets.UTF_8))
          .toString();
    }
  }

  /** The labs features modelled: those Dynofleet reads on a source app, and a few others. */
  private static final List<SimFeature> FEATURES =
      List.of(
          new SimFeature(
              "http-session-affinity",
              "Session affinity",
              "Route requests of one client to the same dyno (a cookie set by the router).",
              "general"),
          new SimFeature(
              "log-runtime-metrics",
              "Log runtime metrics",
              "Emit dyno load and memory use in the app's log stream.",
              "beta"),
          new SimFeature(
              "preboot",
              "Preboot",
              "Start new dynos and route to them before the old ones stop.",
              "general"),
          new SimFeature(
              "runtime-dyno-build-metadata",
              "Runtime dyno build metadata",
              "More build information in dyno environment variables.",
              "beta"),
          new SimFeature(
              "runtime-dyno-metadata",
              "Runtime dyno metadata",
              "Information about the app and the release in dyno environment variables.",
              "beta"));

  private static final class SimBuild {
    String id = UUID.randomUUID().toString();
    String appId;
    String status = "pending";
    String url;
    String version;
    String slugId;
    String releaseId;
    Instant created;
    Instant updated;
  }

  private static final class SimSetup {
    String id = UUID.randomUUID().toString();
    String appId;
    String status = "pending";
    String buildId;
    Instant created;
    Instant updated;
  }

  private final Vertx vertx;
  private final Clock clock;
  private final SandboxConfig config;
  private final ObjectMapper json = new ObjectMapper();
  private final String apiKey = "HRKU-sandbox-" + UUID.randomUUID();
  private final Map<String, SimApp> apps = new LinkedHashMap<>();
  private final Map<String, SimSlug> slugs = new HashMap<>();
  private final Map<String, SimPipeline> pipelines = new LinkedHashMap<>();
  private final Map<String, SimTeam> teams = new LinkedHashMap<>();

  /**
   * App names another Heroku account holds: taken on create, 403 on read (names are Heroku-wide).
   */
  private final Set<String> foreignNames = new HashSet<>();

  private final Map<String, SimCoupling> couplings = new LinkedHashMap<>();
  private final Map<String, SimAddon> addons = new LinkedHashMap<>();
  private final Map<String, SimAttachment> attachments = new LinkedHashMap<>();
  private final Map<String, SimDrain> drains = new LinkedHashMap<>();
  private final Map<String, SimBuild> builds = new HashMap<>();
  private final Map<String, SimSetup> setups = new HashMap<>();

  /**
   * The last {@link #CALL_LOG_SIZE} Platform API calls, oldest first. Unbounded (and copied whole
   * on every call), it was most of a long-running sandbox's heap growth, one entry a routine call
   * (soak 1).
   */
  private final java.util.Deque<SandboxCall> callLog =
      new java.util.concurrent.ConcurrentLinkedDeque<>();

  private final java.util.concurrent.atomic.AtomicInteger callLogSize =
      new java.util.concurrent.atomic.AtomicInteger();
  static final int CALL_LOG_SIZE = 5000;
  private final SandboxWebhooks webhooks;
  private final TokenBucket bucket;
  private final java.util.Deque<ApiError> injected =
      new java.util.concurrent.ConcurrentLinkedDeque<>();
  private final java.util.Deque<String> lostAnswers =
      new java.util.concurrent.ConcurrentLinkedDeque<>();

  /** Calls ({@code "METHOD /path"} patterns) refused with an error until the faults are reset. */
  private final Map<String, ApiError> refused = new ConcurrentHashMap<>();

  /**
   * A call carried out {@code after} it arrived ({@link #completeLate}); {@code status} 0: its
   * connection is closed unanswered, else a gateway's answer of that status is sent at once.
   */
  private record LateCall(String callRegex, Duration after, int status) {}

  private final java.util.Deque<LateCall> lateCalls =
      new java.util.concurrent.ConcurrentLinkedDeque<>();

  /** List calls ({@code "METHOD /path"} patterns) paged wrongly until the faults are reset. */
  private final Map<String, PagingFault> brokenPaging = new ConcurrentHashMap<>();

  /** Numbers the {@link PagingFault#EMPTY_PAGES} ranges, so each one is new. */
  private final java.util.concurrent.atomic.AtomicLong emptyPages =
      new java.util.concurrent.atomic.AtomicLong();

  private volatile double errorRate;
  private volatile boolean keyExpired;
  private volatile Duration latency = Duration.ZERO;
  private volatile int pageSize;
  private volatile Duration releaseDelay;
  private volatile Duration restartDowntime;

  /** Apps the account may have, 0 for no limit ({@link SandboxConfig#appLimit}). */
  private volatile int appLimit;

  private HttpServer server;

  Simulator(Clock clock, SandboxConfig config) {
    // The simulator plays Heroku: it gets a Vert.x of its own, without Dynofleet's metrics (its
    // servers are not Dynofleet's and must not register meters beside Dynofleet's HTTP server).
    this.vertx =
        Vertx.vertx(
            new VertxOptions()
                .setEventLoopPoolSize(2)
                .setWorkerPoolSize(4)
                .setMetricsOptions(new MetricsOptions().setEnabled(false)));
    this.clock = clock;
    this.config = config;
    this.bucket =
        new TokenBucket(clock, config.rateLimit().capacity(), config.rateLimit().refillPerHour());
    this.pageSize = config.pageSize();
    this.releaseDelay = config.releaseDelay();
    this.restartDowntime = config.restartDowntime();
    this.appLimit = config.appLimit();
    this.webhooks = new SandboxWebhooks(vertx, clock, json);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Starts the API server if it is not running (idempotent; blocks until it listens). */
  public synchronized void start() {
    if (server != null) {
      return;
    }
    HttpServer s = vertx.createHttpServer().requestHandler(router());
    await(s.listen(config.port(), "127.0.0.1"));
    server = s;
    LOG.debugf("simulator listening on %s", url());
  }

  @PreDestroy
  void stop() {
    List<Future<Void>> closing = new ArrayList<>();
    synchronized (this) {
      apps.values().forEach(a -> closing.add(a.backend.close()));
      if (server != null) {
        closing.add(server.close());
        server = null;
      }
    }
    webhooks.close();
    for (Future<Void> f : closing) {
      try {
        f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.debugf("simulator shutdown: %s", e.toString());
      }
    }
    vertx.close();
  }

  /** Base URL of the simulated API, {@code http://127.0.0.1:<port>/}. */
  public synchronized String url() {
    if (server == null) {
      throw new IllegalStateException("simulator not started");
    }
    return "http://127.0.0.1:" + server.actualPort() + "/";
  }

  /** The bearer key the simulated API accepts. */
  public String apiKey() {
    return apiKey;
  }

  // ------------------------------------------------------------------ helpers for tests and demo

  /**
   * Creates an app with a slug and a succeeded release, scaled to one web dyno that serves, as if
   * someone had pushed code to it. Blocks until its backend listens.
   */
  public SandboxApp createSourceApp(String name) {
    return createSourceApp(name, null, null);
  }

  /**
   * A source app in {@code region} on {@code stack} (null: Heroku's defaults, us and heroku-24).
   */
  public SandboxApp createSourceApp(String name, String region, String stack) {
    return createSourceApp(name, region, stack, null);
  }

  /**
   * A source app with Heroku's id {@code id} (null: a new one): the sandbox's demo source app has
   * the same id at every start, as the user's own app keeps its id on Heroku, so a pool kept in the
   * database across sandbox starts still finds the app it pinned (security review 5 S5-6).
   */
  public SandboxApp createSourceApp(String name, String region, String stack, String id) {
    Future<Void> serving;
    synchronized (this) {
      SimApp app = newApp(name, region, stack, id);
      serving = deploy(app, true);
    }
    await(serving);
    return app(name);
  }

  /** The app's region and stack by name ({@code "eu/heroku-22"}). */
  public synchronized String placeOf(String app) {
    SimApp a = find(app);
    return a.region + "/" + a.stack;
  }

  /**
   * Slugs whose release phase fails (the {@code release:} command of their Procfile exits
   * non-zero): a release of one made through the API ends {@code failed} instead of {@code
   * succeeded}, on any app, and is never current (Heroku keeps the release before it running).
   */
  private final Set<String> failingSlugs = ConcurrentHashMap.newKeySet();

  /**
   * From now on, releases of {@code app}'s current slug made through the API (a backend's copy of
   * it, a promotion) fail their release phase; {@code false} lets them pass again. A migration that
   * fails is the usual cause.
   */
  public synchronized void releasePhaseFails(String app, boolean fails) {
    SimRelease cur = current(find(app));
    if (cur == null || cur.slugId == null) {
      throw new ApiError(422, "invalid_params", "App has no released slug.");
    }
    if (fails) {
      failingSlugs.add(cur.slugId);
    } else {
      failingSlugs.remove(cur.slugId);
    }
  }

  /**
   * Slugs whose release phase takes a lock it does not wait for, as Rails' {@code db:migrate} does
   * ({@code pg_try_advisory_lock}): a release of one that starts while another release of the same
   * slug is still in its release phase fails ({@code ConcurrentMigrationError}).
   */
  private final Set<String> exclusiveSlugs = ConcurrentHashMap.newKeySet();

  /**
   * From now on, the release phase of {@code app}'s current slug is exclusive (see {@link
   * #exclusiveSlugs}).
   */
  public synchronized void releasePhaseExclusive(String app) {
    SimRelease cur = current(find(app));
    if (cur == null || cur.slugId == null) {
      throw new ApiError(422, "invalid_params", "App has no released slug.");
    }
    exclusiveSlugs.add(cur.slugId);
  }

  /** The last line of a release phase's output that found another one holding its lock. */
  public static final String CONCURRENT_RELEASE_PHASE =
      "ActiveRecord::ConcurrentMigrationError: Cannot run migrations because another migration process is currently running.";

  /**
   * Makes the app a Fir-generation one (its releases would be OCI images; here: only the label).
   */
  public synchronized void fir(String app) {
    find(app).generation = "fir";
  }

  /** A new slug and release on the app, as {@code git push heroku} would; succeeds at once. */
  public SandboxApp pushRelease(String app) {
    Future<Void> serving;
    synchronized (this) {
      serving = deploy(find(app), true);
    }
    await(serving);
    return app(app);
  }

  /**
   * Renames the app, as {@code heroku apps:rename} does: its {@code web_url} changes with its name
   * and the old address stops answering (here: the dynos serve on a new loopback port, the old one
   * is closed). Returns the app as it is now.
   */
  public SandboxApp renameApp(String app, String newName) {
    Future<Void> moved;
    String id;
    synchronized (this) {
      SimApp a = find(app);
      id = a.id;
      moved = rename(a, newName);
    }
    await(moved);
    return app(id);
  }

  /**
   * Couples {@code app} to {@code pipeline} at {@code stage}, or moves its coupling there ({@code
   * heroku pipelines:add}, {@code pipelines:update -s}).
   */
  public synchronized void couple(String app, String pipeline, String stage) {
    SimApp a = find(app);
    SimPipeline pl = findPipeline(pipeline);
    couplings.values().removeIf(c -> c.appId().equals(a.id));
    var c = new SimCoupling(UUID.randomUUID().toString(), a.id, pl.id(), stage, now());
    couplings.put(c.id(), c);
  }

  /** The stage {@code app} is coupled at, or null. */
  public synchronized String stageOf(String app) {
    SimApp a = find(app);
    return couplings.values().stream()
        .filter(c -> c.appId().equals(a.id))
        .map(SimCoupling::stage)
        .findFirst()
        .orElse(null);
  }

  /** Creates a pipeline and returns its id. */
  public synchronized String createPipeline(String name) {
    var p = new SimPipeline(UUID.randomUUID().toString(), name, now(), null);
    pipelines.put(p.id(), p);
    return p.id();
  }

  /**
   * A pipeline the team owns (the team made if new); Heroku couples only the team's apps to it.
   * Returns the pipeline's id.
   */
  public synchronized String createTeamPipeline(String name, String team) {
    SimTeam t = teamNamed(team);
    var p = new SimPipeline(UUID.randomUUID().toString(), name, now(), t.id());
    pipelines.put(p.id(), p);
    return p.id();
  }

  /** The team of that name, made if new. */
  private SimTeam teamNamed(String team) {
    return teams.values().stream()
        .filter(x -> x.name().equals(team))
        .findFirst()
        .orElseGet(
            () -> {
              var n = new SimTeam(UUID.randomUUID().toString(), team, now());
              teams.put(n.id(), n);
              return n;
            });
  }

  /** Another Heroku account holds the app name: creating it says "taken", reading it 403. */
  public synchronized void takenElsewhere(String appName) {
    foreignNames.add(appName);
  }

  /**
   * Another Heroku user ({@code email}) makes an app named {@code name} that the key can read and
   * write: their own, the key's user added as a collaborator, or, with {@code team}, an app of that
   * team (made if new), which they are a member of. The app's release v1 is theirs, as Heroku's
   * initial release is its creator's. Its id.
   */
  public synchronized String createAppAs(String name, String email, String team) {
    SimApp a = newApp(name, null, null);
    String user = UUID.nameUUIDFromBytes(email.getBytes(StandardCharsets.UTF_8)).toString();
    if (team != null) {
      a.teamId = teamNamed(team).id();
    } else {
      a.ownerId = user;
      a.ownerEmail = email;
    }
    for (SimRelease r : a.releases) {
      r.byId = user;
      r.byEmail = email;
    }
    return a.id;
  }

  /** The name of the team that owns the app, or null when the account's user does. */
  public synchronized String teamOf(String app) {
    SimApp a = find(app);
    return a.teamId == null ? null : teams.get(a.teamId).name();
  }

  /**
   * Provisions an add-on of {@code service} (e.g. {@code heroku-postgresql}) owned by the app and
   * attached to it as {@code DATABASE} (for Postgres) or the service name; returns the add-on name.
   */
  public String createAddon(String app, String service) {
    Future<Void> restart;
    String name;
    synchronized (this) {
      SimApp owner = find(app);
      SimAddon addon = new SimAddon();
      addon.service = service;
      addon.plan = service + ":essential-0";
      addon.appId = owner.id;
      // unique, as Heroku's names are (postgresql-shaped-12345): 64 word pairs alone collided
      // within one test run, and a rotation by name then reached another test's add-on
      do {
        addon.name =
            service.replace("heroku-", "")
                + "-"
                + randomWords()
                + "-"
                + ThreadLocalRandom.current().nextInt(10000, 99999);
      } while (addons.values().stream().anyMatch(x -> x.name.equals(addon.name)));
      addon.url = credentials(service);
      addon.created = now();
      addons.put(addon.id, addon);
      restart = attach(addon, owner, null).restart;
      name = addon.name;
    }
    await(restart);
    return name;
  }

  /** The id of an add-on by name. */
  public synchronized String addonId(String name) {
    return findAddon(name).id;
  }

  /** New credentials for the add-on: every attached app gets the changed config var. */
  public void rotateAddonCredentials(String addon) {
    List<Future<Void>> restarts = new ArrayList<>();
    synchronized (this) {
      SimAddon a = findAddon(addon);
      a.url = credentials(a.service);
      for (SimAttachment att : List.copyOf(attachments.values())) {
        if (att.addonId().equals(a.id)) {
          restarts.add(
              setConfig(
                  apps.get(att.appId()),
                  Map.of(att.name() + "_URL", a.url),
                  "Update " + att.name() + " by " + a.name));
        }
      }
    }
    restarts.forEach(this::await);
  }

  /** Snapshot of one app by id or name. */
  public synchronized SandboxApp app(String idOrName) {
    return snapshot(find(idOrName));
  }

  /** Snapshot of every app. */
  public synchronized List<SandboxApp> apps() {
    return apps.values().stream().map(this::snapshot).toList();
  }

  /** The app's webhook subscriptions, as {@code GET /apps/{app}/webhooks} answers them. */
  public synchronized List<Map<String, Object>> webhooks(String app) {
    return webhooks.list(find(app).id);
  }

  /**
   * The secret each of the app's webhook subscriptions signs with, by id. In process only (tests
   * check which secret a subscription was given); the Platform API never shows one back.
   */
  public synchronized Map<String, String> webhookSecrets(String app) {
    return webhooks.secrets(find(app).id);
  }

  /** {@code heroku drains:add URL -a app}: a user's log drain on the app. */
  public synchronized void addLogDrain(String app, String url) {
    addDrain(find(app), url, null);
  }

  /** A logging add-on's own drain on the app that owns it (Heroku makes it at provisioning). */
  public synchronized void addAddonLogDrain(String addon, String url) {
    SimAddon x = findAddon(addon);
    addDrain(apps.get(x.appId), url, x.id);
  }

  /** The urls of the app's log drains, its users' and its add-ons', in the order they came. */
  public synchronized List<String> logDrains(String app) {
    SimApp a = find(app);
    return drains.values().stream().filter(d -> d.appId().equals(a.id)).map(SimDrain::url).toList();
  }

  /** {@code heroku labs:enable feature -a app} (or disable). */
  public synchronized void feature(String app, String feature, boolean on) {
    setFeature(find(app), feature(feature).name(), on);
  }

  /** The names of the app's enabled labs features. */
  public synchronized Set<String> features(String app) {
    SimApp a = find(app);
    return a.features.entrySet().stream()
        .filter(Map.Entry::getValue)
        .map(Map.Entry::getKey)
        .collect(java.util.stream.Collectors.toUnmodifiableSet());
  }

  /**
   * The dyno metadata the app's dynos see now (those of its current release): empty unless {@code
   * runtime-dyno-metadata} was enabled when that release was made.
   */
  public synchronized Map<String, String> dynoMetadata(String app) {
    SimRelease cur = current(find(app));
    return cur == null ? Map.of() : cur.dynoMetadata;
  }

  /**
   * Lines the app's web dyno printed ({@code app[web.1]: line}): what a log session of the app
   * streams (its dynos' output, a boot crash's stack trace, say).
   */
  public synchronized void appLog(String app, String... lines) {
    SimApp a = find(app);
    for (String line : lines) {
      log(a, "app", "web.1", line);
    }
  }

  /** The app's log lines as {@code heroku logs} prints them, oldest first. */
  public synchronized List<String> logLines(String app) {
    return find(app).logs.stream().map(SimLogLine::render).toList();
  }

  private void log(SimApp a, String source, String dyno, String text) {
    a.logs.addLast(new SimLogLine(now(), source, dyno, text));
    while (a.logs.size() > LOG_BUFFER) {
      a.logs.pollFirst();
    }
  }

  /** Every API call answered so far (admin calls excluded), oldest first. */
  private void logCall(SandboxCall call) {
    callLog.addLast(call);
    if (callLogSize.incrementAndGet() > CALL_LOG_SIZE && callLog.pollFirst() != null) {
      callLogSize.decrementAndGet();
    }
  }

  public List<SandboxCall> callLog() {
    return List.copyOf(callLog);
  }

  public void clearCallLog() {
    callLog.clear();
    callLogSize.set(0);
  }

  /** Largest page answered; tests lower it to force paging. */
  public void pageSize(int size) {
    this.pageSize = size;
  }

  /** How long new releases stay pending. */
  public void releaseDelay(Duration delay) {
    this.releaseDelay = delay;
  }

  /** How long a restarted app refuses connects before it serves again. */
  public void restartDowntime(Duration downtime) {
    this.restartDowntime = downtime;
  }

  // ------------------------------------------------------------------ fault injection

  /** Fraction (0..1) of API calls answered 503. */
  public void apiErrorRate(double rate) {
    this.errorRate = rate;
  }

  /**
   * The next {@code count} API calls (after authentication) fail with this Heroku error, e.g. 403
   * {@code forbidden} or 500 {@code internal_server_error}; then calls behave again.
   */
  public void injectErrors(int count, int status, String id, String message) {
    for (int i = 0; i < count; i++) {
      injected.add(new ApiError(status, id, message));
    }
  }

  /**
   * The next call whose {@code "METHOD /path"} matches {@code callRegex} is carried out, and then
   * its connection is closed instead of answered: Heroku did the work, the caller never heard of it
   * (a response lost to a timeout or a reset). Each registration loses one answer.
   */
  public void loseAnswer(String callRegex) {
    java.util.regex.Pattern.compile(callRegex); // a bad pattern fails here, not in a call
    lostAnswers.add(callRegex);
  }

  /**
   * The next call whose {@code "METHOD /path"} matches {@code callRegex} is held for {@code after},
   * then carried out, and its answer never sent (the connection is closed): a client whose read
   * timeout is shorter has given up on it by then, and Heroku does the work after that. {@link
   * #loseAnswer} does the work first; this is a create that completes after the client timed out
   * (audit 19 #6). Each registration holds one call.
   */
  public void completeLate(String callRegex, Duration after) {
    java.util.regex.Pattern.compile(callRegex); // a bad pattern fails here, not in a call
    lateCalls.add(new LateCall(callRegex, after, 0));
  }

  /**
   * The next call whose {@code "METHOD /path"} matches {@code callRegex} is answered {@code status}
   * (a 5xx) at once, with a gateway's body (not Heroku's JSON error), and carried out {@code after}
   * later all the same: a gateway in front of the API service stopped waiting for it (a 504) or
   * lost the service (a 502, 503) while the service went on with it (review 24 #1). The call log
   * has its gateway answer. Each registration holds one call.
   */
  public void completeLate(String callRegex, Duration after, int status) {
    if (status < 500 || status > 599) {
      throw new IllegalArgumentException("a gateway's answer is a 5xx: " + status);
    }
    java.util.regex.Pattern.compile(callRegex); // a bad pattern fails here, not in a call
    lateCalls.add(new LateCall(callRegex, after, status));
  }

  /** Calls {@link #completeLate} registered that no call has met yet. */
  public int pendingLateCalls() {
    return lateCalls.size();
  }

  /**
   * Every call whose {@code "METHOD /path"} matches {@code callRegex} fails with this Heroku error
   * (after authentication) until {@link #resetFaults}: a permission the key lacks on one resource,
   * say, while the rest works.
   */
  public void refuse(String callRegex, int status, String id, String message) {
    java.util.regex.Pattern.compile(callRegex); // a bad pattern fails here, not in a call
    refused.put(callRegex, new ApiError(status, id, message));
  }

  /** How a list answers wrongly ({@link #brokenPaging}). */
  public enum PagingFault {
    /** Its page, as a 206 whose {@code Next-Range} is the range the request sent. */
    REPEAT_RANGE,
    /** A 206 with no items, and a {@code Next-Range} that is new every time. */
    EMPTY_PAGES
  }

  /**
   * Every list call whose {@code "METHOD /path"} matches {@code callRegex} pages wrongly until
   * {@link #resetFaults}: a client that follows {@code Next-Range} as told asks for the same page
   * for ever ({@link PagingFault#REPEAT_RANGE}), or for page after empty page ({@link
   * PagingFault#EMPTY_PAGES}). Heroku's docs allow neither; the client guards against both (audit
   * 19 #10).
   */
  public void brokenPaging(String callRegex, PagingFault fault) {
    java.util.regex.Pattern.compile(callRegex); // a bad pattern fails here, not in a call
    brokenPaging.put(callRegex, fault);
  }

  /** Answers {@link #loseAnswer} registered that no call has lost yet. */
  public int pendingLostAnswers() {
    return lostAnswers.size();
  }

  /** Latency added to every API call. */
  public void apiLatency(Duration latency) {
    this.latency = latency;
  }

  /**
   * The apps the account may have from now on, 0 for none ({@link SandboxConfig#appLimit}) until
   * {@link #resetFaults}: a create past it answers Heroku's 422.
   */
  public void appLimit(int limit) {
    this.appLimit = limit;
  }

  /** The key stops working (401 on every call), as an expired or revoked key does, until reset. */
  public void keyExpired(boolean expired) {
    this.keyExpired = expired;
  }

  /** Empties the rate-limit bucket: calls get 429 until it refills. */
  public void rateLimitStorm() {
    bucket.drain();
  }

  /**
   * Empties the bucket and holds it empty until {@code debtCalls} calls' worth of refill passed: a
   * storm a caller meets for certain, however long its first call takes to leave.
   */
  public void rateLimitStorm(int debtCalls) {
    bucket.drain(debtCalls);
  }

  /** The bucket holds {@code calls} now (at most its capacity); it refills from there. */
  public void rateLimitRemaining(int calls) {
    bucket.set(calls);
  }

  /**
   * The bucket refills {@code perHour} calls an hour from now on, until {@link #resetFaults()} puts
   * back the configured rate.
   */
  public void rateLimitRefill(int perHour) {
    bucket.refillPerHour(perHour);
  }

  /** The app's backend answers 503 on every path. */
  public void backendCrashed(String app) {
    backendFault(app, Backend.Fault.CRASHED, null);
  }

  /** The app's backend is closed: connection refused. */
  public void backendDead(String app) {
    backendFault(app, Backend.Fault.DEAD, null);
  }

  /** The app's backend accepts connections and never answers. */
  public void backendHung(String app) {
    backendFault(app, Backend.Fault.HUNG, null);
  }

  /** The app's backend answers after {@code delay}. */
  public void backendSlow(String app, Duration delay) {
    backendFault(app, Backend.Fault.SLOW, delay);
  }

  /** The app's backend behaves again. */
  public void backendHealthy(String app) {
    backendFault(app, Backend.Fault.NONE, null);
  }

  /** Clears every fault: API error rate, latency, rate limit (bucket refilled), backend faults. */
  public void resetFaults() {
    errorRate = 0;
    injected.clear();
    lostAnswers.clear();
    lateCalls.clear();
    refused.clear();
    brokenPaging.clear();
    latency = Duration.ZERO;
    keyExpired = false;
    failingSlugs.clear();
    exclusiveSlugs.clear();
    releaseDelay = config.releaseDelay();
    appLimit = config.appLimit();
    bucket.refillPerHour(config.rateLimit().refillPerHour());
    bucket.fill();
    List<Future<Void>> all = new ArrayList<>();
    synchronized (this) {
      for (SimApp a : apps.values()) {
        a.backend.fault(Backend.Fault.NONE, null);
        all.add(refresh(a));
      }
    }
    all.forEach(this::await);
  }

  /** Forgets everything (apps, pipelines, add-ons, call log) and clears faults; keeps the key. */
  public void clear() {
    List<Future<Void>> closing = new ArrayList<>();
    synchronized (this) {
      apps.values().forEach(a -> closing.add(a.backend.close()));
      apps.clear();
      slugs.clear();
      pipelines.clear();
      teams.clear();
      foreignNames.clear();
      couplings.clear();
      addons.clear();
      attachments.clear();
      drains.clear();
      builds.clear();
      setups.clear();
      webhooks.clear();
      logSessions.clear();
      tailingSessions.clear();
      pageSize = config.pageSize();
      releaseDelay = config.releaseDelay();
      restartDowntime = config.restartDowntime();
    }
    closing.forEach(this::await);
    resetFaults();
    callLog.clear();
    callLogSize.set(0);
  }

  private void backendFault(String app, Backend.Fault fault, Duration slow) {
    Future<Void> f;
    synchronized (this) {
      SimApp a = find(app);
      a.backend.fault(fault, slow);
      f = refresh(a);
    }
    await(f);
  }

  // ------------------------------------------------------------------ HTTP

  private Router router() {
    Router r = Router.router(vertx);
    r.route().handler(BodyHandler.create().setBodyLimit(1_000_000));
    admin(r);
    r.route().handler(this::gate);
    r.get("/account").handler(ctx -> respond(ctx, 200, account()));
    r.get("/account/rate-limits")
        .handler(ctx -> respond(ctx, 200, Map.of("remaining", bucket.remaining())));
    r.get("/apps").handler(ctx -> page(ctx, "id", this::appsList));
    r.post("/apps").handler(this::createAppRoute);
    r.post("/teams/apps").handler(this::createTeamAppRoute);
    r.get("/addon-services/:service")
        .handler(ctx -> respond(ctx, 200, sync(() -> renderService(p(ctx, "service")))));
    r.get("/teams/:team")
        .handler(ctx -> respond(ctx, 200, sync(() -> render(findTeam(p(ctx, "team"))))));
    r.get("/apps/:app").handler(ctx -> respond(ctx, 200, sync(() -> render(find(p(ctx, "app"))))));
    r.delete("/apps/:app").handler(this::deleteAppRoute);
    r.patch("/apps/:app").handler(this::updateAppRoute);
    r.get("/apps/:app/config-vars")
        .handler(
            ctx -> respond(ctx, 200, sync(() -> new LinkedHashMap<>(find(p(ctx, "app")).config))));
    r.patch("/apps/:app/config-vars").handler(this::patchConfigRoute);
    r.get("/apps/:app/formation")
        .handler(ctx -> page(ctx, "id", () -> formationList(p(ctx, "app"))));
    r.patch("/apps/:app/formation").handler(this::batchFormationRoute);
    r.get("/apps/:app/formation/:type")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    sync(
                        () -> {
                          SimApp a = find(p(ctx, "app"));
                          return render(a, formation(a, p(ctx, "type")));
                        })));
    r.patch("/apps/:app/formation/:type").handler(this::formationRoute);
    r.get("/apps/:app/releases")
        .handler(ctx -> page(ctx, "version", () -> releaseList(p(ctx, "app"))));
    r.post("/apps/:app/releases").handler(this::createReleaseRoute);
    r.get("/apps/:app/releases/:release")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    sync(
                        () -> {
                          SimApp a = find(p(ctx, "app"));
                          return render(a, release(a, p(ctx, "release")));
                        })));
    r.get("/apps/:app/releases/:release/config-vars")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    sync(
                        () -> {
                          SimApp a = find(p(ctx, "app"));
                          return new LinkedHashMap<>(release(a, p(ctx, "release")).config);
                        })));
    r.get("/apps/:app/slugs/:slug")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    sync(
                        () -> {
                          find(p(ctx, "app"));
                          SimSlug s = slugs.get(p(ctx, "slug"));
                          if (s == null) {
                            throw notFound("slug");
                          }
                          return render(s);
                        })));
    r.post("/apps/:app/builds").handler(this::createBuildRoute);
    r.get("/apps/:app/builds/:build")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    sync(
                        () -> {
                          find(p(ctx, "app"));
                          SimBuild b = builds.get(p(ctx, "build"));
                          if (b == null) {
                            throw notFound("build");
                          }
                          return render(b);
                        })));
    r.post("/app-setups").handler(this::createSetupRoute);
    r.get("/app-setups/:id")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    sync(
                        () -> {
                          SimSetup s = setups.get(p(ctx, "id"));
                          if (s == null) {
                            throw notFound("app setup");
                          }
                          return render(s);
                        })));
    r.get("/pipelines/:pipeline")
        .handler(ctx -> respond(ctx, 200, sync(() -> render(findPipeline(p(ctx, "pipeline"))))));
    r.get("/pipelines/:pipeline/pipeline-couplings")
        .handler(ctx -> page(ctx, "id", () -> couplingList(p(ctx, "pipeline"))));
    r.get("/apps/:app/pipeline-couplings")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    sync(
                        () -> {
                          SimApp a = find(p(ctx, "app"));
                          return couplings.values().stream()
                              .filter(c -> c.appId().equals(a.id))
                              .findFirst()
                              .map(this::render)
                              .orElseThrow(() -> notFound("pipeline coupling"));
                        })));
    r.post("/pipeline-couplings").handler(this::createCouplingRoute);
    r.delete("/pipeline-couplings/:id")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    sync(
                        () -> {
                          SimCoupling c = couplings.remove(p(ctx, "id"));
                          if (c == null) {
                            throw notFound("pipeline coupling");
                          }
                          return render(c);
                        })));
    r.get("/apps/:app/addons").handler(ctx -> page(ctx, "id", () -> addonList(p(ctx, "app"))));
    r.get("/apps/:app/addon-attachments")
        .handler(ctx -> page(ctx, "id", () -> attachmentList(p(ctx, "app"))));
    r.post("/addon-attachments").handler(this::createAttachmentRoute);
    r.delete("/addon-attachments/:id").handler(this::deleteAttachmentRoute);
    r.get("/apps/:app/dynos").handler(ctx -> page(ctx, "id", () -> dynoList(p(ctx, "app"))));
    r.get("/apps/:app/log-drains").handler(ctx -> page(ctx, "id", () -> drainList(p(ctx, "app"))));
    r.post("/apps/:app/log-drains").handler(this::createDrainRoute);
    r.post("/apps/:app/log-sessions").handler(this::createLogSessionRoute);
    r.get("/apps/:app/features").handler(ctx -> page(ctx, "id", () -> featureList(p(ctx, "app"))));
    r.get("/apps/:app/features/:feature")
        .handler(
            ctx ->
                respond(
                    ctx, 200, sync(() -> render(find(p(ctx, "app")), feature(p(ctx, "feature"))))));
    r.patch("/apps/:app/features/:feature").handler(this::updateFeatureRoute);
    r.delete("/apps/:app/dynos").handler(this::restartRoute);
    r.get("/apps/:app/webhooks")
        .handler(ctx -> page(ctx, "id", () -> webhooks.list(find(p(ctx, "app")).id)));
    r.post("/apps/:app/webhooks").handler(this::createWebhookRoute);
    r.get("/apps/:app/webhooks/:webhook")
        .handler(
            ctx ->
                respond(
                    ctx, 200, sync(() -> webhooks.get(find(p(ctx, "app")).id, p(ctx, "webhook")))));
    r.patch("/apps/:app/webhooks/:webhook")
        .handler(
            ctx -> {
              JsonObject body = bodyOf(ctx);
              respond(
                  ctx,
                  200,
                  sync(() -> webhooks.update(find(p(ctx, "app")).id, p(ctx, "webhook"), body)));
            });
    r.delete("/apps/:app/webhooks/:webhook")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    sync(() -> webhooks.delete(find(p(ctx, "app")).id, p(ctx, "webhook")))));
    r.get("/apps/:app/webhook-deliveries")
        .handler(ctx -> page(ctx, "id", () -> webhooks.deliveries(find(p(ctx, "app")).id)));
    r.route()
        .handler(
            ctx -> {
              throw notFound("resource");
            });
    r.route().failureHandler(this::failure);
    return r;
  }

  /** Call log, latency and error injection, auth and rate limit, in Heroku's order. */
  private void gate(RoutingContext ctx) {
    var req = ctx.request();
    String requestId =
        req.getHeader("Request-Id") != null
            ? req.getHeader("Request-Id")
            : UUID.randomUUID().toString();
    ctx.response().putHeader("Request-Id", requestId);
    ctx.addHeadersEndHandler(
        v -> {
          logCall(
              new SandboxCall(
                  req.method().name(),
                  req.path(),
                  ctx.response().getStatusCode(),
                  req.getHeader("Accept"),
                  req.getHeader("User-Agent"),
                  requestId,
                  logged(req.path(), ctx),
                  ctx.get(RESPONSE_BODY, "")));
          if (ctx.get(LOSE_ANSWER) != null) {
            // the route ran; the answer it writes never leaves: the
            // connection closes first. Closed here, after the call is logged,
            // so a client that sees the loss finds the call in the log
            req.connection().close();
          }
        });
    Duration delay = latency;
    if (!delay.isZero()) {
      vertx.setTimer(Math.max(1, delay.toMillis()), id -> admit(ctx));
    } else {
      admit(ctx);
    }
  }

  /** A request body for the call log, without the secrets a webhook subscription carries. */
  private static String logged(String path, RoutingContext ctx) {
    String body = ctx.body() == null || ctx.body().asString() == null ? "" : ctx.body().asString();
    if (!path.contains("/webhooks") || body.isEmpty()) {
      return body;
    }
    try {
      JsonObject o = new JsonObject(body);
      for (String secret : List.of("secret", "authorization")) {
        if (o.getValue(secret) != null) {
          o.put(secret, "[redacted]");
        }
      }
      return o.encode();
    } catch (RuntimeException e) {
      return "[redacted]";
    }
  }

  private void admit(RoutingContext ctx) {
    if (errorRate > 0 && ThreadLocalRandom.current().nextDouble() < errorRate) {
      error(
          ctx, 503, "service_unavailable", "The API is temporarily unavailable (injected fault).");
      return;
    }
    if (keyExpired || !("Bearer " + apiKey).equals(ctx.request().getHeader("Authorization"))) {
      error(ctx, 401, "unauthorized", "Invalid credentials provided.");
      return;
    }
    if ("GET".equals(ctx.request().method().name())
        && "/account/rate-limits".equals(ctx.request().path())) {
      // free of the limit and of the injected faults (a test's injected error is meant for a call)
      ctx.response().putHeader("RateLimit-Remaining", Long.toString(bucket.remaining()));
      ctx.next();
      return;
    }
    if (!refused.isEmpty()) {
      String call = req(ctx);
      for (Map.Entry<String, ApiError> r : refused.entrySet()) {
        if (call.matches(r.getKey())) {
          error(ctx, r.getValue().status, r.getValue().id, r.getValue().getMessage());
          return;
        }
      }
    }
    ApiError forced = injected.poll();
    if (forced != null) {
      error(ctx, forced.status, forced.id, forced.getMessage());
      return;
    }
    if (!bucket.take()) {
      ctx.response().putHeader("RateLimit-Remaining", "0");
      // Heroku does not document a Retry-After on 429; the simulator sends one, when a call will
      // be taken again, so the client's reading of it is exercised
      ctx.response().putHeader("Retry-After", Long.toString(Math.max(1, bucket.secondsUntilOne())));
      error(
          ctx,
          429,
          "rate_limit",
          "Your account reached the API rate limit\nPlease wait a few minutes before making new requests");
      return;
    }
    ctx.response().putHeader("RateLimit-Remaining", Long.toString(bucket.remaining()));
    String call = lostAnswers.isEmpty() && lateCalls.isEmpty() ? "" : req(ctx);
    for (String lost : lostAnswers) {
      if (call.matches(lost) && lostAnswers.removeFirstOccurrence(lost)) {
        ctx.put(LOSE_ANSWER, Boolean.TRUE);
        break;
      }
    }
    for (LateCall late : lateCalls) {
      if (call.matches(late.callRegex()) && lateCalls.removeFirstOccurrence(late)) {
        if (late.status() == 0) {
          ctx.put(LOSE_ANSWER, Boolean.TRUE);
        } else {
          gatewayError(ctx, late.status());
        }
        vertx.setTimer(Math.max(1, late.after().toMillis()), id -> carryOutLate(ctx));
        return;
      }
    }
    ctx.next();
  }

  /**
   * A gateway's 5xx: an HTML page, not Heroku's {@code {id, message}} (what api.heroku.com's own
   * gateway sends is not documented; a client must not count on the JSON shape).
   */
  private void gatewayError(RoutingContext ctx, int status) {
    String body =
        "<html><body><h1>" + status + " Gateway Error</h1>upstream did not answer</body></html>";
    ctx.put(RESPONSE_BODY, body);
    ctx.response().setStatusCode(status).putHeader("Content-Type", "text/html").end(body);
  }

  /**
   * A {@link #completeLate} call, carried out now: the client gave up on it and closed the
   * connection, or a gateway's 5xx was sent for it, so its own answer fails to leave (it is not
   * written: {@link #respond}). That failure is not the simulator's.
   */
  private void carryOutLate(RoutingContext ctx) {
    try {
      ctx.next();
    } catch (RuntimeException e) {
      LOG.debugf("late call %s carried out, its answer not sent: %s", req(ctx), e.toString());
    }
  }

  private static String req(RoutingContext ctx) {
    return ctx.request().method().name() + " " + ctx.request().path();
  }

  private void failure(RoutingContext ctx) {
    Throwable f = ctx.failure();
    if (f instanceof ApiError e) {
      error(ctx, e.status, e.id, e.getMessage());
    } else if (f instanceof IllegalArgumentException
        || f instanceof io.vertx.core.json.DecodeException
        || f instanceof ClassCastException) {
      error(ctx, 400, "bad_request", "Invalid request: " + f.getMessage());
    } else if (ctx.statusCode() == 413) {
      error(ctx, 413, "request_entity_too_large", "Request body too large.");
    } else {
      LOG.warn("simulator failure", f);
      error(ctx, 500, "internal_server_error", "Internal server error.");
    }
  }

  private void error(RoutingContext ctx, int status, String id, String message) {
    if (ctx.response().ended()) {
      return;
    }
    var body = new LinkedHashMap<String, Object>();
    body.put("id", id);
    body.put("message", message);
    body.put("url", "https://devcenter.heroku.com/articles/platform-api-reference#clients");
    ctx.put(RESPONSE_BODY, write(body));
    ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(write(body));
  }

  /** Writes a JSON answer; a GET carries an ETag of its body and answers 304 when it matches. */
  private void respond(RoutingContext ctx, int status, Object body) {
    if (ctx.response().ended()) {
      return; // a gateway answered it already (completeLate): the work is done, its answer lost
    }
    String text = write(body);
    var res = ctx.response().putHeader("Content-Type", "application/json");
    if ("GET".equals(ctx.request().method().name())) {
      String etag = etag(text);
      res.putHeader("ETag", etag);
      if (etag.equals(ctx.request().getHeader("If-None-Match"))) {
        res.setStatusCode(304).end();
        return;
      }
    }
    ctx.put(RESPONSE_BODY, text);
    res.setStatusCode(status).end(text);
  }

  /** A paged list per Heroku's Range header (200 when complete, 206 with Next-Range otherwise). */
  private void page(
      RoutingContext ctx,
      String defaultField,
      java.util.function.Supplier<List<Map<String, Object>>> items) {
    List<Map<String, Object>> all = sync(items::get);
    RangeSpec range = RangeSpec.parse(ctx.request().getHeader("Range"), defaultField, 200);
    PagingFault fault = pagingFault(ctx);
    if (fault == PagingFault.EMPTY_PAGES) {
      ctx.response()
          .putHeader("Next-Range", range.next(Long.toString(emptyPages.incrementAndGet())));
      respond(ctx, 206, List.of());
      return;
    }
    String field = range.field();
    if (!all.isEmpty() && !all.get(0).containsKey(field)) {
      throw new ApiError(400, "bad_request", "Invalid Range header: unknown field " + field);
    }
    Comparator<Map<String, Object>> order = Comparator.comparing(m -> key(m.get(field)));
    if (range.desc()) {
      order = order.reversed();
    }
    List<Map<String, Object>> sorted = new ArrayList<>(all);
    sorted.sort(order);
    if (!range.start().isEmpty()) {
      Comparable<Object> start =
          key(field.equals("version") ? Integer.valueOf(range.start()) : range.start());
      sorted.removeIf(
          m -> {
            int c = key(m.get(field)).compareTo(start);
            c = range.desc() ? -c : c;
            return range.exclusive() ? c <= 0 : c < 0;
          });
    }
    int max = Math.max(1, Math.min(Math.min(range.max(), 1000), pageSize));
    List<Map<String, Object>> pageItems = sorted.subList(0, Math.min(max, sorted.size()));
    boolean more = sorted.size() > pageItems.size();
    ctx.response()
        .putHeader(
            "Accept-Ranges",
            String.join(
                ", ",
                defaultField.equals("version") ? List.of("id", "version") : List.of("id", "name")));
    if (!pageItems.isEmpty()) {
      ctx.response()
          .putHeader(
              "Content-Range",
              field
                  + " "
                  + pageItems.get(0).get(field)
                  + ".."
                  + pageItems.get(pageItems.size() - 1).get(field));
    }
    if (fault == PagingFault.REPEAT_RANGE) {
      String sent = ctx.request().getHeader("Range");
      ctx.response().putHeader("Next-Range", sent != null ? sent : field + " ..");
      respond(ctx, 206, pageItems);
      return;
    }
    if (more) {
      ctx.response()
          .putHeader(
              "Next-Range",
              range.next(String.valueOf(pageItems.get(pageItems.size() - 1).get(field))));
    }
    respond(ctx, more ? 206 : 200, pageItems);
  }

  /** The {@link #brokenPaging} fault this list call meets, or null. */
  private PagingFault pagingFault(RoutingContext ctx) {
    if (brokenPaging.isEmpty()) {
      return null;
    }
    String call = req(ctx);
    return brokenPaging.entrySet().stream()
        .filter(f -> call.matches(f.getKey()))
        .map(Map.Entry::getValue)
        .findFirst()
        .orElse(null);
  }

  @SuppressWarnings("unchecked")
  private static Comparable<Object> key(Object value) {
    return (Comparable<Object>) (value == null ? "" : value);
  }

  // ------------------------------------------------------------------ routes with side effects

  private void createAppRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    Map<String, Object> out =
        sync(
            () ->
                render(
                    newApp(
                        body.getString("name"),
                        body.getString("region"),
                        body.getString("stack"))));
    respond(ctx, 201, out);
  }

  private void createTeamAppRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    Map<String, Object> out =
        sync(
            () -> {
              SimTeam t = findTeam(body.getString("team", ""));
              SimApp a =
                  newApp(body.getString("name"), body.getString("region"), body.getString("stack"));
              a.teamId = t.id();
              Map<String, Object> m = render(a);
              m.put("joined", false); // a team app's own fields
              m.put("locked", false);
              return m;
            });
    respond(ctx, 201, out);
  }

  private SimTeam findTeam(String idOrName) {
    SimTeam t = teams.get(idOrName);
    if (t == null) {
      t = teams.values().stream().filter(x -> x.name().equals(idOrName)).findFirst().orElse(null);
    }
    if (t == null) {
      throw notFound("team");
    }
    return t;
  }

  private void deleteAppRoute(RoutingContext ctx) {
    Future<Void> closing;
    Map<String, Object> out;
    synchronized (this) {
      SimApp a = find(p(ctx, "app"));
      out = render(a);
      closing = deleteApp(a);
    }
    closing.onComplete(x -> respond(ctx, 200, out));
  }

  /** {@code PATCH /apps/{app}}: only {@code name} (a rename) is modelled. */
  private void updateAppRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    Object name = body.getValue("name");
    if (name != null && !(name instanceof String)) {
      throw new ApiError(422, "invalid_params", "Name must be a string.");
    }
    Future<Void> moved;
    SimApp a;
    synchronized (this) {
      a = find(p(ctx, "app"));
      moved = name == null ? Future.succeededFuture() : rename(a, (String) name);
    }
    SimApp renamed = a;
    moved.onComplete(x -> respond(ctx, 200, sync(() -> render(renamed))));
  }

  private void patchConfigRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    Map<String, String> changes = new LinkedHashMap<>();
    for (String k : body.fieldNames()) {
      Object v = body.getValue(k);
      if (v != null && !(v instanceof String)) {
        throw new ApiError(422, "invalid_params", "Config var " + k + " must be a string or null.");
      }
      changes.put(k, (String) v);
    }
    Map<String, Object> out;
    synchronized (this) {
      SimApp a = find(p(ctx, "app"));
      // an attachment owns its vars (it keeps them right across credential rotations): Heroku
      // refuses to set or unset them by hand, e.g. DATABASE_URL of an attached database
      List<String> owned =
          changes.keySet().stream()
              .filter(
                  k ->
                      attachments.values().stream()
                          .anyMatch(t -> t.appId().equals(a.id) && (t.name() + "_URL").equals(k)))
              .sorted()
              .toList();
      if (!owned.isEmpty()) {
        throw new ApiError(
            422,
            "invalid_params",
            "Cannot overwrite attachment values " + String.join(", ", owned) + ".");
      }
      Map<String, String> after = new HashMap<>(a.config);
      changes.forEach(
          (k, v) -> {
            if (v == null) {
              after.remove(k);
            } else {
              after.put(k, v);
            }
          });
      if (io.dynofleet.api.PoolValidator.configBytes(after)
          > io.dynofleet.api.PoolValidator.CONFIG_LIMIT) {
        // Heroku's limit: all keys and values of one app together within 32 kB
        throw new ApiError(
            422,
            "invalid_params",
            "Config vars are too large: an app's config vars may total 32kb.");
      }
      setConfig(a, changes, describe(changes));
      out = new LinkedHashMap<>(a.config);
    }
    respond(ctx, 200, out);
  }

  private void formationRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    Map<String, Object> out;
    Future<Void> f;
    synchronized (this) {
      SimApp a = find(p(ctx, "app"));
      SimFormation fm = formation(a, p(ctx, "type"));
      scale(fm, body.getInteger("quantity"), sizeOf(body));
      out = render(a, fm);
      f = refresh(a);
    }
    f.onComplete(x -> respond(ctx, 200, out));
  }

  /** The size asked for: {@code dyno_size.name} (or its id), else the deprecated {@code size}. */
  private static String sizeOf(JsonObject update) {
    Object d = update.getValue("dyno_size");
    if (d instanceof JsonObject o) {
      String name = o.getString("name") != null ? o.getString("name") : o.getString("id");
      if (name == null) {
        throw new ApiError(422, "invalid_params", "Invalid dyno_size: name or id required.");
      }
      return name;
    }
    if (d != null) {
      throw new ApiError(422, "invalid_params", "Invalid dyno_size: expected an object.");
    }
    return update.getString("size");
  }

  private void batchFormationRoute(RoutingContext ctx) {
    var updates = bodyOf(ctx).getJsonArray("updates");
    if (updates == null) {
      throw new ApiError(422, "invalid_params", "Missing updates.");
    }
    List<Map<String, Object>> out = new ArrayList<>();
    Future<Void> f;
    synchronized (this) {
      SimApp a = find(p(ctx, "app"));
      // validate all first: a batch applies entirely or not at all
      for (int i = 0; i < updates.size(); i++) {
        JsonObject u = updates.getJsonObject(i);
        formation(a, u.getString("type"));
        checkScale(u.getInteger("quantity"), sizeOf(u), formation(a, u.getString("type")));
      }
      for (int i = 0; i < updates.size(); i++) {
        JsonObject u = updates.getJsonObject(i);
        SimFormation fm = formation(a, u.getString("type"));
        scale(fm, u.getInteger("quantity"), sizeOf(u));
        out.add(render(a, fm));
      }
      f = refresh(a);
    }
    f.onComplete(x -> respond(ctx, 200, out));
  }

  private void createReleaseRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    String slugId = body.getString("slug");
    if (slugId == null) {
      throw new ApiError(422, "invalid_params", "Missing slug.");
    }
    Map<String, Object> out =
        sync(
            () -> {
              SimApp a = find(p(ctx, "app"));
              if (!slugs.containsKey(slugId)) {
                throw notFound("slug");
              }
              SimRelease rel =
                  release(
                      a,
                      slugId,
                      body.getString("description", "Deploy " + slugId.substring(0, 8)),
                      false);
              return render(a, rel);
            });
    respond(ctx, 201, out);
  }

  private void createBuildRoute(RoutingContext ctx) {
    JsonObject blob = bodyOf(ctx).getJsonObject("source_blob");
    if (blob == null || blob.getString("url") == null) {
      throw new ApiError(422, "invalid_params", "Missing source_blob.url.");
    }
    Map<String, Object> out =
        sync(
            () ->
                render(
                    build(find(p(ctx, "app")), blob.getString("url"), blob.getString("version"))));
    respond(ctx, 201, out);
  }

  private void createSetupRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    JsonObject app = body.getJsonObject("app", new JsonObject());
    JsonObject blob = body.getJsonObject("source_blob");
    if (blob == null || blob.getString("url") == null) {
      throw new ApiError(422, "invalid_params", "Missing source_blob.url.");
    }
    JsonObject env =
        body.getJsonObject("overrides", new JsonObject()).getJsonObject("env", new JsonObject());
    Map<String, Object> out =
        sync(
            () -> {
              SimApp a =
                  newApp(app.getString("name"), app.getString("region"), app.getString("stack"));
              env.forEach(e -> a.config.put(e.getKey(), String.valueOf(e.getValue())));
              SimSetup s = new SimSetup();
              s.appId = a.id;
              s.created = now();
              s.updated = s.created;
              setups.put(s.id, s);
              SimBuild b = build(a, blob.getString("url"), blob.getString("version"));
              s.buildId = b.id;
              return render(s);
            });
    respond(ctx, 201, out);
  }

  private void createCouplingRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    Map<String, Object> out =
        sync(
            () -> {
              SimApp a = find(body.getString("app", ""));
              SimPipeline pl = findPipeline(body.getString("pipeline", ""));
              String stage = body.getString("stage");
              if (stage == null || !STAGES.contains(stage)) {
                throw new ApiError(422, "invalid_params", "Stage must be one of " + STAGES + ".");
              }
              if (couplings.values().stream().anyMatch(c -> c.appId().equals(a.id))) {
                throw new ApiError(
                    409, "conflict", "App " + a.name + " is already coupled to a pipeline.");
              }
              if (!java.util.Objects.equals(a.teamId, pl.teamId())) {
                // Dev Center: an app's owner must be the pipeline's owner (the
                // status code is a guess: neither the schema nor the docs name it)
                throw new ApiError(
                    422,
                    "invalid_params",
                    "App " + a.name + " must be owned by the pipeline's owner.");
              }
              var c = new SimCoupling(UUID.randomUUID().toString(), a.id, pl.id(), stage, now());
              couplings.put(c.id(), c);
              return render(c);
            });
    respond(ctx, 201, out);
  }

  private void createAttachmentRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    Map<String, Object> out;
    Future<Void> f;
    synchronized (this) {
      SimAddon addon = findAddon(body.getString("addon", ""));
      SimApp a = find(body.getString("app", ""));
      Attached att = attach(addon, a, body.getString("name"));
      out = render(att.attachment);
      f = att.restart;
    }
    f.onComplete(x -> respond(ctx, 201, out));
  }

  private void deleteAttachmentRoute(RoutingContext ctx) {
    Map<String, Object> out;
    Future<Void> f;
    synchronized (this) {
      SimAttachment att = attachments.remove(p(ctx, "id"));
      if (att == null) {
        throw notFound("add-on attachment");
      }
      out = render(att);
      var changes = new HashMap<String, String>();
      changes.put(att.name() + "_URL", null);
      f = setConfig(apps.get(att.appId()), changes, "Detach " + att.name());
    }
    f.onComplete(x -> respond(ctx, 200, out));
  }

  private void createWebhookRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    SandboxWebhooks.Created out =
        sync(
            () -> {
              SimApp a = find(p(ctx, "app"));
              return webhooks.create(a.id, a.name, body);
            });
    if (out.madeSecret() != null) {
      // Heroku made the secret: it shows it this once
      ctx.response().putHeader("Heroku-Webhook-Secret", out.madeSecret());
    }
    respond(ctx, 201, out.body());
  }

  /**
   * {@code POST /apps/{app}/log-sessions} {lines, source, dyno_name, type, tail}: 201 with the
   * session, whose {@code logplex_url} (on this server, outside the API's auth: a capability, as
   * Heroku's is) streams the app's last {@code lines} lines (100 when not given, at most {@value
   * #LOG_BUFFER}) of that source, dyno and process type, as {@code text/plain}; with {@code tail}
   * the stream then stays open, as Heroku's does for lines to come. The lines are those the app has
   * when the session is made; a session is read once.
   */
  private void createLogSessionRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    Object lines = body.getValue("lines", 100);
    if (!(lines instanceof Integer n) || n < 0) {
      throw new ApiError(422, "invalid_params", "Lines must be a non-negative integer.");
    }
    for (String field : List.of("source", "dyno_name", "type")) {
      if (body.getValue(field) != null && !(body.getValue(field) instanceof String)) {
        throw new ApiError(422, "invalid_params", "Invalid " + field + ".");
      }
    }
    if (body.getValue("tail") != null && !(body.getValue("tail") instanceof Boolean)) {
      throw new ApiError(422, "invalid_params", "Tail must be true or false.");
    }
    String source = body.getString("source");
    String dyno = body.getString("dyno_name");
    String type = body.getString("type");
    boolean tail = Boolean.TRUE.equals(body.getBoolean("tail"));
    Map<String, Object> out =
        sync(
            () -> {
              SimApp a = find(p(ctx, "app"));
              List<String> picked =
                  a.logs.stream()
                      .filter(l -> source == null || l.source().equals(source))
                      .filter(l -> dyno == null || l.dyno().equals(dyno))
                      .filter(l -> type == null || l.dyno().startsWith(type + "."))
                      .map(SimLogLine::render)
                      .toList();
              List<String> last =
                  List.copyOf(
                      picked.subList(
                          Math.max(0, picked.size() - Math.min(n, LOG_BUFFER)), picked.size()));
              String id = UUID.randomUUID().toString();
              logSessions.put(id, last);
              if (tail) {
                tailingSessions.add(id);
              }
              Instant at = now();
              var m = new LinkedHashMap<String, Object>();
              m.put("created_at", ts(at));
              m.put("id", id);
              m.put(
                  "logplex_url", url() + "__sandbox/logplex/" + id + "?srv=" + at.getEpochSecond());
              m.put("updated_at", ts(at));
              return m;
            });
    respond(ctx, 201, out);
  }

  /** Log sessions made with {@code tail}: their stream stays open once their lines are sent. */
  private final Set<String> tailingSessions = ConcurrentHashMap.newKeySet();

  /** The stream of a log session's {@code logplex_url}; a session is read once, then 404. */
  private void logplexRoute(RoutingContext ctx) {
    String id = p(ctx, "session");
    List<String> lines = sync(() -> logSessions.remove(id));
    if (lines == null) {
      ctx.response().setStatusCode(404).putHeader("Content-Type", "text/plain").end("not found\n");
      return;
    }
    var res =
        ctx.response().setChunked(true).putHeader("Content-Type", "text/plain; charset=utf-8");
    res.write(lines.stream().map(l -> l + "\n").collect(java.util.stream.Collectors.joining()));
    if (!tailingSessions.remove(id)) {
      res.end();
    }
    // a tailing session stays open until its reader closes it, as Logplex's does
  }

  /**
   * {@code POST /apps/{app}/log-drains} {url}: 422 for a url the app has already, or one Logplex
   * cannot send to (the wording of both is a guess; Heroku's ids are {@code invalid_params}).
   */
  private void createDrainRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    Object url = body.getValue("url");
    if (!(url instanceof String u) || u.isBlank()) {
      throw new ApiError(422, "invalid_params", "Url can't be blank.");
    }
    if (!DRAIN_URL.matcher(u).matches()) {
      throw new ApiError(422, "invalid_params", "Url must be a syslog, syslog+tls or https URL.");
    }
    Map<String, Object> out =
        sync(
            () -> {
              SimApp a = find(p(ctx, "app"));
              if (drains.values().stream()
                  .anyMatch(d -> d.appId().equals(a.id) && d.url().equals(u))) {
                throw new ApiError(422, "invalid_params", "Url has already been taken.");
              }
              return render(addDrain(a, u, null));
            });
    respond(ctx, 201, out);
  }

  private static final Pattern DRAIN_URL =
      Pattern.compile("^(syslog|syslog\\+tls|https?)://[^\\s/]+.*$", Pattern.CASE_INSENSITIVE);

  private SimDrain addDrain(SimApp a, String url, String addonId) {
    SimDrain d =
        new SimDrain(
            UUID.randomUUID().toString(), a.id, url, "d." + UUID.randomUUID(), addonId, now());
    drains.put(d.id(), d);
    return d;
  }

  /** {@code PATCH /apps/{app}/features/{feature}} {enabled}: switches it (idempotent). */
  private void updateFeatureRoute(RoutingContext ctx) {
    JsonObject body = bodyOf(ctx);
    if (!(body.getValue("enabled") instanceof Boolean on)) {
      throw new ApiError(422, "invalid_params", "Enabled must be true or false.");
    }
    Map<String, Object> out =
        sync(
            () -> {
              SimApp a = find(p(ctx, "app"));
              SimFeature f = feature(p(ctx, "feature"));
              setFeature(a, f.name(), on);
              return render(a, f);
            });
    respond(ctx, 200, out);
  }

  private void setFeature(SimApp a, String feature, boolean on) {
    if (a.features.getOrDefault(feature, false) != on) {
      a.features.put(feature, on);
      a.featuresChanged.put(feature, now());
    }
  }

  private static SimFeature feature(String idOrName) {
    return FEATURES.stream()
        .filter(f -> f.name().equals(idOrName) || f.id().equals(idOrName))
        .findFirst()
        .orElseThrow(() -> notFound("feature"));
  }

  private void restartRoute(RoutingContext ctx) {
    Future<Void> down;
    synchronized (this) {
      down = restart(find(p(ctx, "app")));
    }
    // answered once the dynos are down, so a client sees the restart begun (Heroku's is as prompt)
    down.onComplete(x -> respond(ctx, 202, Map.of()));
  }

  // ------------------------------------------------------------------ admin (/__sandbox)

  private void admin(Router r) {
    String base = "/__sandbox";
    // Never the simulated API key: admin endpoints hand
    // out no secrets (in-process code reads apiKey()).
    r.get(base + "/info").handler(ctx -> json(ctx, Map.of("url", url(), "apps", apps().size())));
    r.get(base + "/apps").handler(ctx -> json(ctx, apps().stream().map(Simulator::shown).toList()));
    r.get(base + "/calls").handler(ctx -> json(ctx, callLog()));
    r.post(base + "/source-apps/:name")
        .handler(ctx -> blocking(ctx, () -> shown(createSourceApp(p(ctx, "name")))));
    r.post(base + "/apps/:app/push")
        .handler(ctx -> blocking(ctx, () -> shown(pushRelease(p(ctx, "app")))));
    r.post(base + "/pipelines/:name")
        .handler(ctx -> json(ctx, Map.of("id", createPipeline(p(ctx, "name")))));
    r.post(base + "/apps/:app/addons/:service")
        .handler(
            ctx ->
                blocking(ctx, () -> Map.of("name", createAddon(p(ctx, "app"), p(ctx, "service")))));
    r.post(base + "/addons/:addon/rotate")
        .handler(
            ctx ->
                blocking(
                    ctx,
                    () -> {
                      rotateAddonCredentials(p(ctx, "addon"));
                      return Map.of("rotated", p(ctx, "addon"));
                    }));
    r.post(base + "/faults/api-error-rate/:rate")
        .handler(
            ctx -> {
              apiErrorRate(Double.parseDouble(p(ctx, "rate")));
              json(ctx, Map.of("api_error_rate", errorRate));
            });
    r.post(base + "/faults/api-latency/:ms")
        .handler(
            ctx -> {
              apiLatency(Duration.ofMillis(Long.parseLong(p(ctx, "ms"))));
              json(ctx, Map.of("api_latency_ms", latency.toMillis()));
            });
    r.post(base + "/faults/key-expired/:expired")
        .handler(
            ctx -> {
              keyExpired(Boolean.parseBoolean(p(ctx, "expired")));
              json(ctx, Map.of("key_expired", keyExpired));
            });
    r.post(base + "/faults/lose-answer")
        .handler(
            ctx -> {
              String call = ctx.request().getParam("call");
              if (call == null || call.isBlank()) {
                throw new IllegalArgumentException(
                    "give the call to lose as ?call=METHOD%20/path-regex");
              }
              loseAnswer(call);
              json(ctx, Map.of("lost_answers_pending", pendingLostAnswers()));
            });
    r.post(base + "/faults/rate-limit-storm")
        .handler(
            ctx -> {
              rateLimitStorm();
              json(ctx, Map.of("rate_limit_remaining", bucket.remaining()));
            });
    r.get(base + "/release-output/:release")
        .handler(
            ctx -> {
              String out =
                  sync(
                      () ->
                          apps.values().stream()
                              .flatMap(a -> a.releases.stream())
                              .filter(x -> x.id.equals(p(ctx, "release")) && x.output != null)
                              .map(x -> x.output)
                              .findFirst()
                              .orElseThrow(() -> notFound("release output")));
              ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8").end(out);
            });
    r.get(base + "/logplex/:session").handler(this::logplexRoute);
    r.post(base + "/apps/:app/logs")
        .handler(
            ctx -> {
              String text = ctx.body() == null ? "" : ctx.body().asString();
              String[] lines = text == null ? new String[0] : text.lines().toArray(String[]::new);
              appLog(p(ctx, "app"), lines);
              json(ctx, Map.of("lines", lines.length));
            });
    r.post(base + "/apps/:app/release-phase/:outcome")
        .handler(
            ctx ->
                blocking(
                    ctx,
                    () -> {
                      String outcome = p(ctx, "outcome");
                      if (!outcome.equals("fail") && !outcome.equals("pass")) {
                        throw new ApiError(404, "not_found", "Unknown outcome; use fail or pass.");
                      }
                      releasePhaseFails(p(ctx, "app"), outcome.equals("fail"));
                      return Map.of("release_phase", outcome);
                    }));
    r.post(base + "/apps/:app/backend/:fault")
        .handler(
            ctx ->
                blocking(
                    ctx,
                    () -> {
                      String app = p(ctx, "app");
                      switch (p(ctx, "fault")) {
                        case "crashed" -> backendCrashed(app);
                        case "dead" -> backendDead(app);
                        case "hung" -> backendHung(app);
                        case "slow" ->
                            backendSlow(
                                app,
                                Duration.ofMillis(
                                    Long.parseLong(
                                        ctx.queryParams().get("ms") == null
                                            ? "2000"
                                            : ctx.queryParams().get("ms"))));
                        case "healthy" -> backendHealthy(app);
                        default ->
                            throw new ApiError(
                                404,
                                "not_found",
                                "Unknown fault; use crashed, dead, hung, slow?ms=, healthy.");
                      }
                      return shown(app(app));
                    }));
    r.post(base + "/reset")
        .handler(
            ctx ->
                blocking(
                    ctx,
                    () -> {
                      resetFaults();
                      return Map.of("reset", true);
                    }));
  }

  /**
   * An app as the admin routes answer it: the values of its config vars named like a secret ({@link
   * SecretMask#secretName}: {@code DYNOFLEET_PROXY_SECRET}, an API key or token) shown as {@code
   * (not shown)}. Those routes have no auth, and {@code GET /__sandbox/apps} handed every backend's
   * proxy secret to any local client, the other door to what the echo hides (audit 26 I3).
   * In-process code ({@link #apps()}, {@link #app}) still reads them.
   */
  static SandboxApp shown(SandboxApp a) {
    Map<String, String> vars = new TreeMap<>();
    a.configVars().forEach((k, v) -> vars.put(k, SecretMask.secretName(k) ? NOT_SHOWN : v));
    return new SandboxApp(
        a.id(),
        a.name(),
        a.webUrl(),
        a.port(),
        a.release(),
        a.slugId(),
        a.webQuantity(),
        a.webSize(),
        java.util.Collections.unmodifiableMap(vars),
        a.pipelineId(),
        a.stage(),
        a.serving());
  }

  /** What the admin routes show for a secret config var's value. */
  static final String NOT_SHOWN = "(not shown)";

  private void json(RoutingContext ctx, Object body) {
    ctx.response().putHeader("Content-Type", "application/json").end(write(body));
  }

  /** Admin actions that wait for backends run off the event loop. */
  private void blocking(RoutingContext ctx, java.util.concurrent.Callable<Object> action) {
    vertx
        .<Object>executeBlocking(action::call, false)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                json(ctx, ar.result());
              } else {
                ctx.fail(ar.cause());
              }
            });
  }

  // ------------------------------------------------------------------ domain logic (hold the lock)

  private SimApp newApp(String name, String region, String stack) {
    return newApp(name, region, stack, null);
  }

  private SimApp newApp(String name, String region, String stack, String id) {
    if (name == null) {
      do {
        name = randomWords() + "-" + ThreadLocalRandom.current().nextInt(10000, 99999);
      } while (byName(name) != null);
    }
    if (!APP_NAME.matcher(name).matches()) {
      throw new ApiError(
          422,
          "invalid_params",
          "Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes (3 to 30 characters).");
    }
    if (byName(name) != null || foreignNames.contains(name)) {
      throw new ApiError(422, "invalid_params", "Name " + name + " is already taken");
    }
    if (region != null && !Set.of("us", "eu").contains(region)) {
      throw notFound("region");
    }
    int limit = appLimit;
    if (limit > 0 && apps.size() >= limit) {
      // Heroku's refusal at the account's app limit: every app counts, source apps too
      throw new ApiError(
          422,
          "invalid_params",
          "You've reached the limit of "
              + limit
              + " apps for this account. Delete some apps or ask Heroku support to raise the"
              + " limit.");
    }
    SimApp a = new SimApp();
    if (id != null) {
      a.id = id;
    }
    a.name = name;
    a.region = region == null ? "us" : region;
    a.stack = stack == null ? "heroku-24" : stack;
    a.created = now();
    a.updated = a.created;
    a.backend = new Backend(vertx, name, PortHold.acquire());
    apps.put(a.id, a);
    // Heroku creates v1 "Initial release" (no slug) with every app.
    SimRelease initial = release(a, null, "Initial release", true);
    initial.status = "succeeded";
    return a;
  }

  /** Holds the lock. The old address is closed before the new one serves. */
  private Future<Void> rename(SimApp a, String name) {
    if (name.equals(a.name)) {
      return Future.succeededFuture();
    }
    if (!APP_NAME.matcher(name).matches()) {
      throw new ApiError(
          422,
          "invalid_params",
          "Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes (3 to 30 characters).");
    }
    if (byName(name) != null || foreignNames.contains(name)) {
      throw new ApiError(422, "invalid_params", "Name " + name + " is already taken");
    }
    Backend old = a.backend;
    a.name = name;
    a.updated = now();
    a.backend = new Backend(vertx, name, PortHold.acquire());
    a.backend.fault(old.fault(), old.slowBy());
    return old.close()
        .transform(
            x -> {
              synchronized (this) {
                return apps.containsKey(a.id) ? refresh(a) : Future.<Void>succeededFuture();
              }
            });
  }

  private Future<Void> deleteApp(SimApp a) {
    apps.remove(a.id);
    webhooks.removeApp(a.id);
    drains.values().removeIf(d -> d.appId().equals(a.id));
    couplings.values().removeIf(c -> c.appId().equals(a.id));
    List<String> owned =
        addons.values().stream().filter(x -> x.appId.equals(a.id)).map(x -> x.id).toList();
    owned.forEach(addons::remove);
    for (SimAttachment att : List.copyOf(attachments.values())) {
      if (att.appId().equals(a.id) || owned.contains(att.addonId())) {
        attachments.remove(att.id());
        SimApp other = apps.get(att.appId());
        if (other != null) {
          other.config.remove(att.name() + "_URL");
        }
      }
    }
    return a.backend.close();
  }

  /** A new slug and a release of it; {@code immediate} skips the pending phase. */
  private Future<Void> deploy(SimApp a, boolean immediate) {
    var slug =
        new SimSlug(
            UUID.randomUUID().toString(),
            a.id,
            HexFormat.of().formatHex(randomBytes(20)),
            Map.of("web", "java -jar target/quarkus-app/quarkus-run.jar"),
            now());
    slugs.put(slug.id(), slug);
    release(a, slug.id(), "Deploy " + slug.commit().substring(0, 7), immediate);
    return refresh(a);
  }

  private SimRelease release(SimApp a, String slugId, String description, boolean immediate) {
    SimRelease rel = new SimRelease();
    rel.version = a.releases.stream().mapToInt(x -> x.version).max().orElse(0) + 1;
    rel.slugId = slugId;
    rel.description = description;
    rel.config = Map.copyOf(a.config);
    if (a.features.getOrDefault("runtime-dyno-metadata", false)) {
      SimSlug slug = slugId == null ? null : slugs.get(slugId);
      var meta = new LinkedHashMap<String, String>();
      meta.put("HEROKU_APP_ID", a.id);
      meta.put("HEROKU_APP_NAME", a.name);
      meta.put("HEROKU_RELEASE_CREATED_AT", ts(now()));
      meta.put("HEROKU_RELEASE_VERSION", "v" + rel.version);
      if (slug != null) {
        meta.put("HEROKU_SLUG_COMMIT", slug.commit());
        String commit = slug.commit();
        // a test's slug may carry a short commit: Heroku shows its first 7 characters
        meta.put(
            "HEROKU_SLUG_DESCRIPTION",
            "Deploy " + (commit.length() > 7 ? commit.substring(0, 7) : commit));
      }
      rel.dynoMetadata = Map.copyOf(meta);
    }
    if (!immediate && slugId != null) {
      rel.output = ""; // its release phase runs: the output streams from here, empty until it ends
    }
    // an exclusive release phase that meets another of its slug running fails at once (a try-lock)
    boolean collides =
        !immediate
            && slugId != null
            && exclusiveSlugs.contains(slugId)
            && apps.values().stream()
                .flatMap(x -> x.releases.stream())
                .anyMatch(
                    x -> slugId.equals(x.slugId) && x.status.equals("pending") && x.output != null);
    rel.created = now();
    rel.updated = rel.created;
    a.releases.add(rel);
    log(a, "app", "api", "Release v" + rel.version + " created by user " + rel.byEmail);
    a.updated = rel.created;
    if (immediate) {
      succeed(a, rel);
    } else {
      vertx.setTimer(
          Math.max(1, releaseDelay.toMillis()),
          id -> {
            synchronized (this) {
              if (apps.containsKey(a.id)
                  && rel.slugId != null
                  && (failingSlugs.contains(rel.slugId) || collides)) {
                // the release phase failed: the release stays,
                // failed, and the one before it runs on
                rel.output =
                    collides
                        ? "Running release command...\n\n" + CONCURRENT_RELEASE_PHASE + "\n"
                        : "Running release command...\n\nsandbox: this slug's release phase fails (POST /__sandbox/apps/"
                            + slugOwner(rel.slugId)
                            + "/release-phase/pass lets it pass)\n"
                            + RELEASE_PHASE_FAILURE
                            + "\n";
                rel.status = "failed";
                rel.updated = now();
                webhooks.publish(a.id, "api:release", "release", "update", render(a, rel));
              } else if (apps.containsKey(a.id)) {
                if (rel.output != null) {
                  rel.output =
                      "Running release command...\n\nrelease command exited with status 0\n";
                }
                succeed(a, rel);
                refresh(a);
                webhooks.publish(a.id, "api:release", "release", "update", render(a, rel));
              }
            }
          });
    }
    webhooks.publish(a.id, "api:release", "release", "create", render(a, rel));
    return rel;
  }

  private void succeed(SimApp a, SimRelease rel) {
    rel.status = "succeeded";
    rel.updated = now();
    if (rel.slugId != null) {
      a.releasedAt = rel.updated;
      SimSlug slug = slugs.get(rel.slugId);
      // The first release of a slug with a web process scales web to 1, as Heroku does.
      slug.processTypes()
          .forEach(
              (type, command) -> {
                SimFormation f = a.formation.get(type);
                if (f == null) {
                  f = new SimFormation();
                  f.type = type;
                  f.quantity = type.equals("web") ? 1 : 0;
                  f.created = now();
                  a.formation.put(type, f);
                }
                f.command = command;
                f.updated = now();
              });
    }
  }

  /** Sets config vars (null deletes); like Heroku, a change makes a release and restarts dynos. */
  private Future<Void> setConfig(SimApp a, Map<String, String> changes, String description) {
    if (a == null) {
      return Future.succeededFuture();
    }
    changes.forEach(
        (k, v) -> {
          if (v == null) {
            a.config.remove(k);
          } else {
            a.config.put(k, v);
          }
        });
    SimRelease cur = current(a);
    release(a, cur == null ? null : cur.slugId, description, true);
    return cur != null && cur.slugId != null ? restart(a) : Future.succeededFuture();
  }

  private SimBuild build(SimApp a, String url, String version) {
    SimBuild b = new SimBuild();
    b.appId = a.id;
    b.url = url;
    b.version = version;
    b.created = now();
    b.updated = b.created;
    builds.put(b.id, b);
    vertx.setTimer(
        Math.max(1, releaseDelay.toMillis()),
        id -> {
          synchronized (this) {
            if (!apps.containsKey(a.id)) {
              b.status = "failed";
              return;
            }
            var slug =
                new SimSlug(
                    UUID.randomUUID().toString(),
                    a.id,
                    version,
                    Map.of("web", "java -jar target/quarkus-app/quarkus-run.jar"),
                    now());
            slugs.put(slug.id(), slug);
            b.slugId = slug.id();
            SimRelease rel =
                release(
                    a,
                    slug.id(),
                    "Deploy " + (version == null ? slug.id().substring(0, 8) : version),
                    true);
            b.releaseId = rel.id;
            b.status = "succeeded";
            b.updated = now();
            setups.values().stream()
                .filter(s -> b.id.equals(s.buildId))
                .forEach(
                    s -> {
                      s.status = "succeeded";
                      s.updated = now();
                    });
            refresh(a);
          }
        });
    return b;
  }

  private void checkScale(Integer quantity, String size, SimFormation f) {
    String s = size == null ? f.size : normalizeSize(size);
    if (!SIZES.contains(s)) {
      throw new ApiError(422, "invalid_params", "Invalid dyno size " + size + ".");
    }
    int q = quantity == null ? f.quantity : quantity;
    if (q < 0) {
      throw new ApiError(422, "invalid_params", "Quantity must be 0 or more.");
    }
    if (q > 1 && (s.equals("eco") || s.equals("basic"))) {
      throw new ApiError(
          422,
          "invalid_params",
          "Cannot update to more than 1 " + s + " size dynos per process type.");
    }
  }

  private void scale(SimFormation f, Integer quantity, String size) {
    checkScale(quantity, size, f);
    if (quantity != null) {
      f.quantity = quantity;
    }
    if (size != null) {
      f.size = normalizeSize(size);
    }
    f.updated = now();
  }

  private static String normalizeSize(String size) {
    String s = size.toLowerCase(Locale.ROOT);
    return s.equals("hobby") ? "basic" : s;
  }

  private Future<Void> restart(SimApp a) {
    SimApp app = a;
    return a.backend.restart(
        restartDowntime,
        () -> {
          synchronized (this) {
            if (apps.containsKey(app.id)) {
              refresh(app);
            }
          }
        });
  }

  /** Starts or stops the app's backend to match its release and web quantity. */
  private Future<Void> refresh(SimApp a) {
    SimRelease cur = current(a);
    SimFormation web = a.formation.get("web");
    boolean serve = cur != null && cur.slugId != null && web != null && web.quantity >= 1;
    return a.backend.sync(
        serve,
        cur == null ? 0 : cur.version,
        cur == null ? null : cur.config.get(io.dynofleet.api.PoolValidator.PROXY_SECRET_VAR));
  }

  private record Attached(SimAttachment attachment, Future<Void> restart) {}

  private Attached attach(SimAddon addon, SimApp a, String name) {
    String n = name;
    if (n == null) {
      n =
          addon.service.equals("heroku-postgresql")
              ? "DATABASE"
              : addon.service.toUpperCase(Locale.ROOT).replace('-', '_');
      if (a.config.containsKey(n + "_URL")) {
        n =
            addon.service.toUpperCase(Locale.ROOT).replace('-', '_')
                + "_"
                + HexFormat.of().formatHex(randomBytes(3)).toUpperCase(Locale.ROOT);
      }
    }
    String finalName = n.toUpperCase(Locale.ROOT);
    if (!addon.appId.equals(a.id) && !SHARING_SERVICES.contains(addon.service)) {
      // the wording is a guess; Heroku refuses it (supports_sharing false)
      throw new ApiError(
          422, "invalid_params", addon.service + " add-ons cannot be shared with other apps.");
    }
    if (attachments.values().stream()
        .anyMatch(x -> x.appId().equals(a.id) && x.name().equals(finalName))) {
      throw new ApiError(
          422, "invalid_params", "Name " + finalName + " is already taken on " + a.name + ".");
    }
    var att = new SimAttachment(UUID.randomUUID().toString(), finalName, addon.id, a.id, now());
    attachments.put(att.id(), att);
    return new Attached(
        att,
        setConfig(
            a,
            Map.of(finalName + "_URL", addon.url),
            "Attach " + finalName + " (@ref:" + addon.name + ")"));
  }

  private SimRelease current(SimApp a) {
    return a.releases.stream()
        .filter(r -> r.status.equals("succeeded"))
        .max(Comparator.comparingInt(r -> r.version))
        .orElse(null);
  }

  /** The name of the app a slug was built on (the source app), as far as it still exists. */
  private String slugOwner(String slugId) {
    SimSlug slug = slugs.get(slugId);
    SimApp owner = slug == null ? null : apps.get(slug.appId());
    return owner == null ? "{source app}" : owner.name;
  }

  private SimApp byName(String name) {
    return apps.values().stream().filter(a -> a.name.equals(name)).findFirst().orElse(null);
  }

  private SimApp find(String idOrName) {
    SimApp a = apps.get(idOrName);
    if (a == null) {
      a = byName(idOrName);
    }
    if (a == null && foreignNames.contains(idOrName)) {
      throw new ApiError(403, "forbidden", "You do not have access to the app " + idOrName + ".");
    }
    if (a == null) {
      throw notFound("app");
    }
    return a;
  }

  private SimPipeline findPipeline(String idOrName) {
    SimPipeline p = pipelines.get(idOrName);
    if (p == null) {
      p =
          pipelines.values().stream()
              .filter(x -> x.name().equals(idOrName))
              .findFirst()
              .orElse(null);
    }
    if (p == null) {
      throw notFound("pipeline");
    }
    return p;
  }

  private SimAddon findAddon(String idOrName) {
    SimAddon a = addons.get(idOrName);
    if (a == null) {
      a = addons.values().stream().filter(x -> x.name.equals(idOrName)).findFirst().orElse(null);
    }
    if (a == null) {
      throw notFound("add-on");
    }
    return a;
  }

  private SimFormation formation(SimApp a, String type) {
    SimFormation f = type == null ? null : a.formation.get(type);
    if (f == null) {
      throw new ApiError(404, "not_found", "Couldn't find that process type (" + type + ").");
    }
    return f;
  }

  private SimRelease release(SimApp a, String idOrVersion) {
    return a.releases.stream()
        .filter(r -> r.id.equals(idOrVersion) || Integer.toString(r.version).equals(idOrVersion))
        .findFirst()
        .orElseThrow(() -> notFound("release"));
  }

  private static ApiError notFound(String what) {
    return new ApiError(404, "not_found", "Couldn't find that " + what + ".");
  }

  // ------------------------------------------------------------------ lists

  private List<Map<String, Object>> appsList() {
    return apps.values().stream().map(this::render).toList();
  }

  private List<Map<String, Object>> formationList(String app) {
    SimApp a = find(app);
    return a.formation.values().stream().map(f -> render(a, f)).toList();
  }

  private List<Map<String, Object>> releaseList(String app) {
    SimApp a = find(app);
    return a.releases.stream().map(r -> render(a, r)).toList();
  }

  private List<Map<String, Object>> couplingList(String pipeline) {
    SimPipeline p = findPipeline(pipeline);
    return couplings.values().stream()
        .filter(c -> c.pipelineId().equals(p.id()))
        .map(this::render)
        .toList();
  }

  private List<Map<String, Object>> addonList(String app) {
    SimApp a = find(app);
    return addons.values().stream()
        .filter(
            x ->
                x.appId.equals(a.id)
                    || attachments.values().stream()
                        .anyMatch(t -> t.addonId().equals(x.id) && t.appId().equals(a.id)))
        .map(this::render)
        .toList();
  }

  private List<Map<String, Object>> attachmentList(String app) {
    SimApp a = find(app);
    return attachments.values().stream()
        .filter(t -> t.appId().equals(a.id))
        .map(this::render)
        .toList();
  }

  private List<Map<String, Object>> drainList(String app) {
    SimApp a = find(app);
    return drains.values().stream().filter(d -> d.appId().equals(a.id)).map(this::render).toList();
  }

  private List<Map<String, Object>> featureList(String app) {
    SimApp a = find(app);
    return FEATURES.stream().map(f -> render(a, f)).toList();
  }

  private List<Map<String, Object>> dynoList(String app) {
    SimApp a = find(app);
    SimRelease cur = current(a);
    List<Map<String, Object>> out = new ArrayList<>();
    if (cur == null || cur.slugId == null) {
      return out;
    }
    for (SimFormation f : a.formation.values()) {
      for (int i = 1; i <= f.quantity; i++) {
        String state = "up";
        if (f.type.equals("web")) {
          if (a.backend.restarting()) {
            state = "starting";
          } else if (a.backend.fault() == Backend.Fault.CRASHED
              || a.backend.fault() == Backend.Fault.DEAD) {
            state = "crashed";
          }
        }
        var d = new LinkedHashMap<String, Object>();
        d.put("attach_url", null);
        d.put("command", f.command);
        d.put("created_at", ts(cur.updated));
        d.put(
            "id",
            UUID.nameUUIDFromBytes((a.id + f.type + i).getBytes(StandardCharsets.UTF_8))
                .toString());
        d.put("name", f.type + "." + i);
        d.put("release", Map.of("id", cur.id, "version", cur.version));
        d.put("app", ref(a));
        d.put("size", f.size);
        d.put("state", state);
        d.put("type", f.type);
        d.put("updated_at", ts(cur.updated));
        out.add(d);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ JSON shapes (schema fields)

  private Map<String, Object> account() {
    var m = new LinkedHashMap<String, Object>();
    m.put("allow_tracking", true);
    m.put("beta", false);
    m.put("created_at", "2020-01-01T00:00:00Z");
    m.put("email", ACCOUNT_EMAIL);
    m.put("federated", false);
    m.put("id", ACCOUNT_ID);
    m.put("identity_provider", null);
    m.put("last_login", null);
    m.put("name", "Sandbox");
    m.put("sms_number", null);
    m.put("suspended_at", null);
    m.put("delinquent_at", null);
    m.put("two_factor_authentication", false);
    m.put("updated_at", "2020-01-01T00:00:00Z");
    m.put("verified", true);
    m.put("country_of_residence", null);
    m.put("default_organization", null);
    m.put("default_team", null);
    return m;
  }

  private Map<String, Object> render(SimApp a) {
    var m = new LinkedHashMap<String, Object>();
    m.put("acm", false);
    m.put("archived_at", null);
    m.put("buildpack_provided_description", a.releasedAt == null ? null : "heroku/java");
    m.put("build_stack", STACK);
    m.put("created_at", ts(a.created));
    m.put(
        "generation",
        a.generation.equals("cedar")
            ? Map.of("id", "d9c1ae4b-5f7e-4f0b-9e4e-2f2a9b6e2d1a", "name", "cedar")
            : Map.of(
                "id",
                UUID.nameUUIDFromBytes(a.generation.getBytes(StandardCharsets.UTF_8)).toString(),
                "name",
                a.generation));
    m.put("git_url", "https://git.heroku.com/" + a.name + ".git");
    m.put("id", a.id);
    m.put("internal_routing", null);
    m.put("maintenance", false);
    m.put("name", a.name);
    SimTeam team = a.teamId == null ? null : teams.get(a.teamId);
    m.put(
        "owner",
        team != null
            ? Map.of("email", team.name() + "@herokumanager.com", "id", team.id())
            : a.ownerId != null
                ? Map.of("email", a.ownerEmail, "id", a.ownerId)
                : Map.of("email", ACCOUNT_EMAIL, "id", ACCOUNT_ID));
    m.put("organization", team == null ? null : Map.of("id", team.id(), "name", team.name()));
    m.put("team", team == null ? null : Map.of("id", team.id(), "name", team.name()));
    m.put(
        "region",
        a.region.equals("us")
            ? REGION
            : Map.of("id", "ed30241c-ed8c-4bb6-9714-61953675d0b4", "name", a.region));
    m.put("released_at", a.releasedAt == null ? null : ts(a.releasedAt));
    m.put("repo_size", null);
    m.put("slug_size", a.releasedAt == null ? null : 52_428_800);
    m.put("space", null);
    m.put(
        "stack",
        a.stack.equals("heroku-24")
            ? STACK
            : Map.of(
                "id",
                UUID.nameUUIDFromBytes(a.stack.getBytes(StandardCharsets.UTF_8)).toString(),
                "name",
                a.stack));
    m.put("updated_at", ts(a.updated));
    m.put("web_url", "http://127.0.0.1:" + a.backend.port() + "/");
    return m;
  }

  private Map<String, Object> render(SimApp a, SimRelease r) {
    SimRelease cur = current(a);
    var m = new LinkedHashMap<String, Object>();
    m.put(
        "addon_plan_names",
        addons.values().stream().filter(x -> x.appId.equals(a.id)).map(x -> x.plan).toList());
    m.put(
        "artifacts",
        r.slugId == null ? List.of() : List.of(Map.of("type", "slug", "id", r.slugId)));
    m.put("app", ref(a));
    m.put("created_at", ts(r.created));
    m.put("description", r.description);
    m.put("id", r.id);
    m.put("updated_at", ts(r.updated));
    m.put("slug", r.slugId == null ? null : Map.of("id", r.slugId));
    m.put("status", r.status);
    m.put("user", Map.of("email", r.byEmail, "id", r.byId));
    m.put("version", r.version);
    m.put("current", cur == r);
    // the release phase's output, a stream of its own outside the API (no key: the URL is the
    // capability, as on Heroku's release-output host)
    m.put(
        "output_stream_url", r.output == null ? null : url() + "__sandbox/release-output/" + r.id);
    m.put("eligible_for_rollback", cur != r && r.status.equals("succeeded"));
    return m;
  }

  private Map<String, Object> render(SimApp a, SimFormation f) {
    var m = new LinkedHashMap<String, Object>();
    m.put("app", ref(a));
    m.put("command", f.command);
    m.put("created_at", ts(f.created));
    m.put(
        "dyno_size",
        Map.of(
            "id",
            UUID.nameUUIDFromBytes(f.size.getBytes(StandardCharsets.UTF_8)).toString(),
            "name",
            f.size));
    m.put("id", f.id);
    m.put("quantity", f.quantity);
    m.put("size", f.size);
    m.put("type", f.type);
    m.put("updated_at", ts(f.updated));
    return m;
  }

  private Map<String, Object> render(SimSlug s) {
    var m = new LinkedHashMap<String, Object>();
    m.put("blob", Map.of("method", "get", "url", "http://127.0.0.1/slugs/" + s.id() + ".tgz"));
    m.put("buildpack_provided_description", "heroku/java");
    m.put("checksum", "SHA256:" + HexFormat.of().formatHex(sha256(s.id())));
    m.put("commit", s.commit());
    m.put("commit_description", "sandbox deploy");
    m.put("created_at", ts(s.created()));
    m.put("id", s.id());
    m.put("process_types", s.processTypes());
    m.put("size", 52_428_800);
    m.put("stack", STACK);
    m.put("updated_at", ts(s.created()));
    m.put("deleted_at", null);
    return m;
  }

  private Map<String, Object> render(SimBuild b) {
    var m = new LinkedHashMap<String, Object>();
    SimApp a = apps.get(b.appId);
    m.put("app", Map.of("id", b.appId));
    m.put("buildpacks", null);
    m.put("generation", "cedar");
    m.put("created_at", ts(b.created));
    m.put("id", b.id);
    m.put("output_stream_url", "http://127.0.0.1/builds/" + b.id + ".log");
    var blob = new LinkedHashMap<String, Object>();
    blob.put("checksum", null);
    blob.put("url", b.url);
    blob.put("version", b.version);
    blob.put("version_description", null);
    m.put("source_blob", blob);
    m.put("release", b.releaseId == null ? null : Map.of("id", b.releaseId));
    m.put("slug", b.slugId == null ? null : Map.of("id", b.slugId));
    m.put("stack", a == null ? "heroku-24" : a.stack);
    m.put("status", b.status);
    m.put("updated_at", ts(b.updated));
    m.put("user", Map.of("email", ACCOUNT_EMAIL, "id", ACCOUNT_ID));
    return m;
  }

  private Map<String, Object> render(SimSetup s) {
    var m = new LinkedHashMap<String, Object>();
    SimApp a = apps.get(s.appId);
    SimBuild b = builds.get(s.buildId);
    m.put("id", s.id);
    m.put("created_at", ts(s.created));
    m.put("updated_at", ts(s.updated));
    m.put("status", s.status);
    m.put("failure_message", null);
    m.put("app", a == null ? Map.of("id", s.appId) : ref(a));
    m.put(
        "build",
        b == null
            ? null
            : Map.of(
                "id",
                b.id,
                "status",
                b.status,
                "output_stream_url",
                "http://127.0.0.1/builds/" + b.id + ".log"));
    m.put("manifest_errors", List.of());
    m.put("postdeploy", null);
    m.put("resolved_success_url", null);
    return m;
  }

  /** An add-on service by id (the name's UUID, as add-ons render it) or name. */
  private Map<String, Object> renderService(String idOrName) {
    String service =
        addons.values().stream()
            .map(x -> x.service)
            .distinct()
            .filter(x -> x.equals(idOrName) || serviceId(x).equals(idOrName))
            .findFirst()
            .orElseThrow(() -> notFound("add-on service"));
    var m = new LinkedHashMap<String, Object>();
    m.put("cli_plugin_name", null);
    m.put("created_at", ts(Instant.parse("2020-01-01T00:00:00Z")));
    m.put("human_name", service);
    m.put("id", serviceId(service));
    m.put("name", service);
    m.put("state", "ga");
    m.put("supports_multiple_installations", true);
    m.put("supports_sharing", SHARING_SERVICES.contains(service));
    m.put("updated_at", ts(Instant.parse("2020-01-01T00:00:00Z")));
    m.put(
        "supported_generations",
        List.of(Map.of("id", "d9c1ae4b-5f7e-4f0b-9e4e-2f2a9b6e2d1a", "name", "cedar")));
    return m;
  }

  private static String serviceId(String service) {
    return UUID.nameUUIDFromBytes(service.getBytes(StandardCharsets.UTF_8)).toString();
  }

  private Map<String, Object> render(SimTeam t) {
    var m = new LinkedHashMap<String, Object>();
    m.put("id", t.id());
    m.put("created_at", ts(t.created()));
    m.put("credit_card_collections", false);
    m.put("default", false);
    m.put("enterprise_account", null);
    m.put("identity_provider", null);
    m.put("membership_limit", null);
    m.put("name", t.name());
    m.put("provisioned_licenses", false);
    m.put("role", "admin");
    m.put("type", "team");
    m.put("updated_at", ts(t.created()));
    return m;
  }

  private Map<String, Object> render(SimPipeline p) {
    var m = new LinkedHashMap<String, Object>();
    m.put("created_at", ts(p.created()));
    m.put("id", p.id());
    m.put("name", p.name());
    m.put(
        "owner",
        p.teamId() == null
            ? Map.of("id", ACCOUNT_ID, "type", "user")
            : Map.of("id", p.teamId(), "type", "team"));
    m.put("updated_at", ts(p.created()));
    m.put("generation", Map.of("id", "d9c1ae4b-5f7e-4f0b-9e4e-2f2a9b6e2d1a", "name", "cedar"));
    return m;
  }

  private Map<String, Object> render(SimCoupling c) {
    var m = new LinkedHashMap<String, Object>();
    SimApp a = apps.get(c.appId());
    SimPipeline p = pipelines.get(c.pipelineId());
    m.put("app", a == null ? Map.of("id", c.appId()) : ref(a));
    m.put("created_at", ts(c.created()));
    m.put("id", c.id());
    m.put(
        "pipeline",
        p == null ? Map.of("id", c.pipelineId()) : Map.of("id", p.id(), "name", p.name()));
    m.put("stage", c.stage());
    m.put("updated_at", ts(c.created()));
    return m;
  }

  private Map<String, Object> render(SimAddon x) {
    var m = new LinkedHashMap<String, Object>();
    SimApp owner = apps.get(x.appId);
    m.put("actions", List.of());
    m.put("addon_service", Map.of("id", serviceId(x.service), "name", x.service));
    m.put(
        "billing_entity",
        Map.of("id", x.appId, "name", owner == null ? "" : owner.name, "type", "app"));
    m.put("app", owner == null ? Map.of("id", x.appId) : ref(owner));
    m.put("billed_price", null);
    m.put(
        "config_vars",
        attachments.values().stream()
            .filter(t -> t.addonId().equals(x.id) && t.appId().equals(x.appId))
            .map(t -> t.name() + "_URL")
            .toList());
    m.put("created_at", ts(x.created));
    m.put("id", x.id);
    m.put("name", x.name);
    m.put(
        "plan",
        Map.of(
            "id",
            UUID.nameUUIDFromBytes(x.plan.getBytes(StandardCharsets.UTF_8)).toString(),
            "name",
            x.plan));
    m.put("provider_id", "resource" + Math.abs(x.id.hashCode()) + "@sandbox");
    m.put("provision_message", "");
    m.put("state", "provisioned");
    m.put("updated_at", ts(x.created));
    m.put("web_url", null);
    return m;
  }

  private Map<String, Object> render(SimAttachment t) {
    var m = new LinkedHashMap<String, Object>();
    SimAddon x = addons.get(t.addonId());
    SimApp a = apps.get(t.appId());
    var addon = new LinkedHashMap<String, Object>();
    addon.put("id", t.addonId());
    addon.put("name", x == null ? null : x.name);
    addon.put("app", x == null || apps.get(x.appId) == null ? null : ref(apps.get(x.appId)));
    m.put("addon", addon);
    m.put("app", a == null ? Map.of("id", t.appId()) : ref(a));
    m.put("created_at", ts(t.created()));
    m.put("id", t.id());
    m.put("name", t.name());
    m.put("namespace", null);
    m.put("updated_at", ts(t.created()));
    m.put("web_url", null);
    m.put("log_input_url", null);
    return m;
  }

  private Map<String, Object> render(SimDrain d) {
    var m = new LinkedHashMap<String, Object>();
    SimAddon x = d.addonId() == null ? null : addons.get(d.addonId());
    if (x == null) {
      m.put("addon", null);
    } else {
      var addon = new LinkedHashMap<String, Object>();
      addon.put("id", x.id);
      addon.put("name", x.name);
      addon.put("app", apps.get(x.appId) == null ? null : ref(apps.get(x.appId)));
      m.put("addon", addon);
    }
    SimApp a = apps.get(d.appId());
    m.put("app", a == null ? null : ref(a));
    m.put("created_at", ts(d.created()));
    m.put("id", d.id());
    m.put("token", d.token());
    m.put("updated_at", ts(d.created()));
    m.put("url", d.url());
    return m;
  }

  private Map<String, Object> render(SimApp a, SimFeature f) {
    var m = new LinkedHashMap<String, Object>();
    m.put("created_at", ts(a.created));
    m.put("description", f.description());
    m.put("doc_url", "https://devcenter.heroku.com/articles/" + f.name());
    m.put("enabled", a.features.getOrDefault(f.name(), false));
    m.put("id", f.id());
    m.put("name", f.name());
    m.put("state", f.state());
    m.put("updated_at", ts(a.featuresChanged.getOrDefault(f.name(), a.created)));
    m.put("display_name", f.displayName());
    m.put("feedback_email", "labs@heroku.com");
    return m;
  }

  private SandboxApp snapshot(SimApp a) {
    SimRelease cur = current(a);
    SimFormation web = a.formation.get("web");
    SimCoupling c =
        couplings.values().stream().filter(x -> x.appId().equals(a.id)).findFirst().orElse(null);
    return new SandboxApp(
        a.id,
        a.name,
        "http://127.0.0.1:" + a.backend.port() + "/",
        a.backend.port(),
        cur == null ? 0 : cur.version,
        cur == null ? null : cur.slugId,
        web == null ? 0 : web.quantity,
        web == null ? null : web.size,
        Map.copyOf(a.config),
        c == null ? null : c.pipelineId(),
        c == null ? null : c.stage(),
        a.backend.running());
  }

  private static Map<String, Object> ref(SimApp a) {
    return Map.of("id", a.id, "name", a.name);
  }

  // ------------------------------------------------------------------ small utilities

  private synchronized <T> T sync(java.util.function.Supplier<T> s) {
    return s.get();
  }

  private static String p(RoutingContext ctx, String name) {
    return ctx.pathParam(name);
  }

  private static JsonObject bodyOf(RoutingContext ctx) {
    if (ctx.body() == null || ctx.body().length() == 0) {
      return new JsonObject();
    }
    return ctx.body().asJsonObject();
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.SECONDS);
  }

  private static String ts(Instant t) {
    return t == null ? null : t.toString();
  }

  private String write(Object body) {
    try {
      return json.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String etag(String body) {
    return "W/\"" + HexFormat.of().formatHex(sha256(body), 0, 16) + "\"";
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    ThreadLocalRandom.current().nextBytes(b);
    return b;
  }

  /**
   * New credentials of an add-on of {@code service}, as its URL: Heroku Redis hands out a {@code
   * redis://} URL (no user, no database), everything else here a Postgres one (audit 26 I5: Redis's
   * was a {@code postgres://} URL).
   */
  private static String credentials(String service) {
    String hex = HexFormat.of().formatHex(randomBytes(8));
    String password = "p" + HexFormat.of().formatHex(randomBytes(16));
    if ("heroku-redis".equals(service)) {
      return "redis://:" + password + "@127.0.0.1:6379";
    }
    return "postgres://u" + hex + ":" + password + "@127.0.0.1:5432/d" + hex;
  }

  private static String describe(Map<String, String> changes) {
    boolean removing = changes.values().stream().allMatch(v -> v == null);
    return (removing ? "Remove " : "Set ") + String.join(", ", changes.keySet()) + " config vars";
  }

  private static String randomWords() {
    String[] a = {"sandy", "quiet", "brave", "shiny", "frozen", "rapid", "gentle", "hidden"};
    String[] b = {"river", "meadow", "harbor", "canyon", "forest", "summit", "island", "valley"};
    var r = ThreadLocalRandom.current();
    return a[r.nextInt(a.length)] + "-" + b[r.nextInt(b.length)];
  }

  private <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("sandbox backend did not settle", e);
    }
  }
}
