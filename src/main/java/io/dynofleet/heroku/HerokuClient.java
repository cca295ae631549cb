package io.dynofleet.heroku;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.dynofleet.sandbox.SandboxMode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.rest.client.reactive.QuarkusRestClientBuilder;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * The Heroku Platform API, for every other package. Blocking: call it from worker threads (the
 * reconciler), never from the event loop.
 *
 * <p>It sends the version 3 Accept header and the key, follows {@code Range}/{@code Next-Range}
 * paging to the end, answers unchanged GETs from an ETag cache ({@code If-None-Match} → 304), keeps
 * {@link RateBudget} current from {@code RateLimit-Remaining} (and {@code GET /account/rate-limits}
 * before its first call), takes a turn of the budget's limiter for each call while the budget is
 * low, waits out 429 ({@code Retry-After}, else a doubling delay; every other thread of the process
 * waits with it) up to a bound, retries transient failures (5xx, connect, timeout) with exponential
 * backoff and jitter for safe requests only (GET, DELETE, config-var and formation PATCH; never
 * POST, which could create twice), and translates errors into {@link HerokuException}.
 */
@ApplicationScoped
@io.quarkus.runtime.Startup // its budget gauge is in the metrics from the start
public class HerokuClient {

  private static final Logger LOG = Logger.getLogger(HerokuClient.class);
  private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

  /** Waits between attempts; a seam so tests could avoid real time. */
  interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;

    /**
     * Waits a turn of the limiter: up to {@code delay}, less when the budget recovers meanwhile
     * ({@link RateBudget#await}); how long it waited.
     */
    default Duration awaitTurn(RateBudget budget, Duration delay) throws InterruptedException {
      return budget.await(delay);
    }
  }

  /** An answer; {@code requestId} is the Request-Id this client sent with its request. */
  private record Exchange(
      int status,
      String body,
      String etag,
      String nextRange,
      String requestId,
      String retryAfter) {}

  private final HerokuConfig config;
  private final RateBudget budget;
  private final MeterRegistry meters;
  private final Supplier<ApiEndpoint> endpoint;
  private final Sleeper sleeper;
  private final AtomicLong calls = new AtomicLong();
  // per thread as well: a reconcile pass counts its own calls while other passes run beside it
  private final ThreadLocal<long[]> threadCalls = ThreadLocal.withInitial(() -> new long[1]);
  private final Map<String, Exchange> etags;
  // Our own mapper: lenient on unknown fields (Heroku adds fields), ISO dates, explicit nulls
  // where we put them (config-var PATCH deletes with null; the global mapper drops nulls).
  private final ObjectMapper json =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .build();
  private volatile HerokuApi api;
  private final java.util.List<java.util.function.Consumer<String>> failureListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Null for a test's client, which names no mode. */
  private volatile SandboxMode mode;

  /**
   * The simulated Platform API's URL when this client talks to the sandbox's simulator; empty on
   * Heroku (and for a test's hand-built client).
   */
  public java.util.Optional<String> simulatorUrl() {
    return mode != null && mode.sandbox()
        ? java.util.Optional.of(endpoint.get().url())
        : java.util.Optional.empty();
  }

  @Inject
  HerokuClient(HerokuConfig config, RateBudget budget, MeterRegistry meters, SandboxMode mode) {
    this(config, budget, meters, mode::endpoint, d -> Thread.sleep(d.toMillis()));
    this.mode = mode;
    io.micrometer.core.instrument.Gauge.builder(
            "dynofleet.heroku.rate.limit.remaining", budget, RateBudget::remaining)
        .description(
            "Platform API calls left, as Heroku last said (RateLimit-Remaining, GET /account/rate-limits; 4500 before the first) plus the account's refill since, up to 4500")
        .strongReference(true)
        .register(meters);
    // at 0 from the start, the statuses the documented alerts watch: a series born at its first
    // count shows rate() and increase() nothing, and a 429 or a 401 is often alone in its spell
    // (the client paces, or waits max-backoff, after it: audit 27 F3)
    for (String method : METHODS) {
      for (String status : ALERTED_STATUSES) {
        meters.counter("dynofleet.heroku.calls", "method", method, "status", status);
      }
    }
  }

  /** The methods this client calls the Platform API with. */
  static final java.util.List<String> METHODS = java.util.List.of("GET", "POST", "PATCH", "DELETE");

  /**
   * The statuses of {@code dynofleet_heroku_calls_total} the alerts in docs/operations.md watch,
   * registered at 0 for each of {@link #METHODS}: the key refused (401, 403), the rate limit (429),
   * Heroku failing (500, 503) and no answer ({@code error}).
   */
  static final java.util.List<String> ALERTED_STATUSES =
      java.util.List.of("401", "403", "429", "500", "503", "error");

  /** For tests: another endpoint (wrong key, dead port) or a sleeper that only records. */
  HerokuClient(
      HerokuConfig config,
      RateBudget budget,
      MeterRegistry meters,
      Supplier<ApiEndpoint> endpoint,
      Sleeper sleeper) {
    this.config = config;
    this.budget = budget;
    this.meters = meters;
    this.endpoint = endpoint;
    this.sleeper = sleeper;
    int cap = config.etagCacheSize();
    this.etags =
        java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(64, 0.75f, true) {
              @Override
              protected boolean removeEldestEntry(Map.Entry<String, Exchange> eldest) {
                return size() > cap;
              }
            });
  }

  /**
   * Whether a value holds the Platform API key this client sends: the key itself, or inside a
   * longer value ({@code https://:KEY@api.heroku.com}: audit 11), see {@link #holdsKey}.
   */
  public boolean isApiKey(String value) {
    return holdsKey(value, endpoint.get().key().trim());
  }

  /** A key this long or longer is looked for base64-encoded too (shorter: too many false hits). */
  private static final int MIN_KEY_ENCODED = 12;

  /**
   * Whether {@code value} holds {@code key}: as it is, in any case (a UUID key is read either way),
   * URL-encoded (a value percent-decoded first), or base64-encoded (standard or URL-safe alphabet,
   * line breaks aside) alone or inside a longer encoded text (a {@code .netrc} or a JSON
   * credentials file in one var), at any of the three byte offsets base64 can put it at. CI apps
   * keep keys encoded as often as bare (security review 5 S5-4). Not recognised, and not knowable:
   * the key encrypted, hashed, split across vars or encoded otherwise (twice, hex), and other keys
   * of the account (a CI app's own): only this key is known.
   */
  static boolean holdsKey(String value, String key) {
    if (value == null || key == null || key.isEmpty()) {
      return false;
    }
    String lowerKey = key.toLowerCase(java.util.Locale.ROOT);
    String lower = value.toLowerCase(java.util.Locale.ROOT);
    if (lower.contains(lowerKey)) {
      return true;
    }
    String decoded = percentDecoded(value);
    if (decoded.toLowerCase(java.util.Locale.ROOT).contains(lowerKey)) {
      return true;
    }
    if (key.length() < MIN_KEY_ENCODED) {
      return false;
    }
    String compact = value.replaceAll("\\s+", "");
    String compactDecoded = decoded.replaceAll("\\s+", "");
    for (String k :
        new java.util.LinkedHashSet<>(
            List.of(key, lowerKey, key.toUpperCase(java.util.Locale.ROOT)))) {
      byte[] bytes = k.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      for (int skip = 0; skip < 3; skip++) {
        // the characters that encode only key bytes, whatever came before or after them
        int groups = (bytes.length - skip) / 3;
        String std =
            java.util.Base64.getEncoder()
                .encodeToString(java.util.Arrays.copyOfRange(bytes, skip, skip + groups * 3));
        String url = std.replace('+', '-').replace('/', '_');
        for (String text : List.of(compact, compactDecoded)) {
          if (text.contains(std) || text.contains(url)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** {@code s} percent-decoded ({@code +} as a space too), a stray {@code %} kept as it is. */
  private static String percentDecoded(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    try {
      return java.net.URLDecoder.decode(
          s.replaceAll("%(?![0-9A-Fa-f]{2})", "%25"), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  /**
   * A failure to send or receive, told without the key: a header value Vert.x refuses (a control
   * character in the key) is quoted whole in its message, which went to the logs and to every
   * pool's conditions (security review 2). Its cause is kept only when no message in its chain
   * holds the key.
   */
  private HerokuException.Transient transportFailure(String what, RuntimeException e) {
    if (!holdsKey(e)) {
      return new HerokuException.Transient(0, null, what + ": " + e.getMessage(), e);
    }
    return new HerokuException.Transient(
        0,
        null,
        what
            + ": the request could not be sent ("
            + String.valueOf(e.getMessage()).replace(endpoint.get().key().trim(), "***")
            + ")",
        null);
  }

  /** Whether a message in the chain of {@code e} quotes the key. */
  private boolean holdsKey(Throwable e) {
    String key = endpoint.get().key().trim();
    for (Throwable t = e;
        t != null && !key.isEmpty();
        t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains(key)) {
        return true;
      }
    }
    return false;
  }

  /** 12 hex of the SHA-256 of the key in use: tells two keys apart without telling either. */
  public String keyFingerprint() {
    try {
      byte[] d =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(
                  endpoint.get().key().trim().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d, 0, 6);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Platform API calls made so far (each HTTP request, retries and 304s included). */
  public long callCount() {
    return calls.get();
  }

  /** Platform API calls made so far by the calling thread (as {@link #callCount()} counts them). */
  public long callCountOfThread() {
    return threadCalls.get()[0];
  }

  /**
   * Calls {@code listener} with the failure, on the calling thread, each time an attempt fails
   * transiently (5xx, connect failure, timeout), before it is retried or given up: a caller that
   * waits for it (a GET retried after three 30 s timeouts) can say so at once.
   */
  public void onTransientFailure(java.util.function.Consumer<String> listener) {
    failureListeners.add(listener);
  }

  /**
   * How long after a call is begun Heroku may still carry it out: the call may wait for the rate
   * budget's read, be paced and wait out 429s before it leaves, connect, and wait for its answer up
   * to the read timeout; and Heroku may finish a request after its answer timed out (how late is
   * not documented: one more read timeout is allowed). About two and a half minutes with the
   * defaults.
   */
  public Duration sendWindow() {
    // its turns under the low watermark and its 429 pauses together wait at most
    // rate-limit-max-wait; two refill intervals more for sleeps that wake late; and before them it
    // may wait for the budget's read (GET /account/rate-limits, its own or another thread's: one
    // connect and one read timeout at most, review 26 #2)
    return RateBudget.REFILL_INTERVAL
        .multipliedBy(2)
        .plus(config.rateLimitMaxWait())
        .plus(config.connectTimeout().multipliedBy(2))
        .plus(config.readTimeout().multipliedBy(3));
  }

  /** The shared rate budget this client keeps current. */
  public RateBudget budget() {
    return budget;
  }

  /**
   * Calls left in the account's budget (estimated: {@link RateBudget#remaining()}), read from
   * Heroku first when {@link RateBudget#refreshDue()} says so (never read yet, or low and 30 s
   * old): a process that makes no call while its gates are shut would otherwise keep an old value.
   */
  public long rateRemaining() {
    readBudget();
    return budget.remaining();
  }

  /** Held while {@code GET /account/rate-limits} is read; the first read holds up every call. */
  private final java.util.concurrent.locks.ReentrantLock budgetRead =
      new java.util.concurrent.locks.ReentrantLock();

  /**
   * {@code GET /account/rate-limits} when due: before the first call, so that a new process does
   * not spend as if 4500 were left (audit 21 M1), and when a figure under the low watermark is 30 s
   * old (audit 21 L5). Free of the limit (Heroku's schema), so it takes no turn, is not counted in
   * {@link #callCount()} and is not retried: a failure keeps the value there is.
   */
  private void readBudget() {
    if (budget.wasRead()) {
      if (!budgetRead.tryLock()) {
        return; // another thread reads it
      }
    } else {
      budgetRead.lock(); // the first read: every call waits for it
    }
    try {
      if (!budget.refreshDue()) {
        return;
      }
      Exchange ex = exchange("GET", HerokuApi::rateLimits, false);
      if (ex.status() != 200) {
        budgetReadFailed("answered " + ex.status());
        return;
      }
      JsonNode left = json.readTree(ex.body()).path("remaining");
      if (left.canConvertToLong()) {
        budget.refreshed(left.asLong());
        if (budgetReadFailing) {
          budgetReadFailing = false;
          LOG.info("GET /account/rate-limits read again");
        }
      } else {
        budgetReadFailed("answered without a remaining count");
      }
    } catch (RuntimeException | JsonProcessingException e) {
      // whatever went wrong, the call it comes before goes on (its own failure is its own)
      budgetReadFailed(holdsKey(e) ? "the request could not be sent" : e.getMessage());
    } finally {
      budgetRead.unlock();
    }
  }

  private volatile boolean budgetReadFailing;

  /**
   * The budget's read failed: said once at WARN for a run of failures (a scoped key's 403, a proxy
   * in front: until it is read, every call of the process waits for one thread's try a minute),
   * then at DEBUG (review 26).
   */
  private void budgetReadFailed(String why) {
    if (!budgetReadFailing) {
      budgetReadFailing = true;
      LOG.warnf(
          "GET /account/rate-limits failed (%s): the rate budget stays %d, as the last answer"
              + " said plus the refill since, until it is read (tried again at most every 30 s)",
          why, budget.remaining());
    } else {
      LOG.debugf("GET /account/rate-limits failed again: %s", why);
    }
  }

  // ---------------------------------------------------------------- account and apps

  /** {@code GET /account}: who the key belongs to; a cheap auth check. */
  public Account account() {
    return read(get("/account", null, (a, e) -> a.account(e)), Account.class);
  }

  /**
   * {@code POST /apps}. A taken name fails with {@link HerokuException.Permanent#isNameTaken()}.
   */
  public App createApp(AppCreate request) {
    return read(send("POST", "/apps", false, a -> a.createApp(write(request))), App.class);
  }

  /**
   * {@code POST /teams/apps}: an app the team owns (billed to it, seen by its members, and the only
   * kind Heroku couples to the team's pipelines). A taken name fails as {@link #createApp} does.
   */
  public App createTeamApp(TeamAppCreate request) {
    return read(
        send("POST", "/teams/apps", false, a -> a.createTeamApp(write(request))), App.class);
  }

  /** {@code GET /addon-services/{id_or_name}}. */
  public AddOnService addonService(String service) {
    return read(
        get("/addon-services/" + service, null, (a, e) -> a.addonService(service, e)),
        AddOnService.class);
  }

  /** {@code GET /teams/{id_or_name}}. */
  public Team team(String team) {
    return read(get("/teams/" + team, null, (a, e) -> a.team(team, e)), Team.class);
  }

  /** {@code GET /apps/{id_or_name}}. */
  public App app(String app) {
    return read(get("/apps/" + app, null, (a, e) -> a.app(app, e)), App.class);
  }

  /** {@code GET /apps}, all pages. */
  public List<App> apps() {
    return list("/apps", "id", App.class, (a, r, e) -> a.apps(r, e));
  }

  /** {@code DELETE /apps/{id_or_name}}. */
  public App deleteApp(String app) {
    return read(send("DELETE", "/apps/" + app, true, a -> a.deleteApp(app)), App.class);
  }

  // ---------------------------------------------------------------- config vars

  /** {@code GET /apps/{app}/config-vars}. */
  public Map<String, String> configVars(String app) {
    return read(
        get("/apps/" + app + "/config-vars", null, (a, e) -> a.configVars(app, e)), STRING_MAP);
  }

  /** {@code GET /apps/{app}/releases/{id}/config-vars}: the config vars that release runs with. */
  public Map<String, String> releaseConfigVars(String app, String release) {
    return read(
        get(
            "/apps/" + app + "/releases/" + release + "/config-vars",
            null,
            (a, e) -> a.releaseConfigVars(app, release, e)),
        STRING_MAP);
  }

  /** {@code PATCH /apps/{app}/config-vars}: merges; a null value deletes that var. */
  public Map<String, String> updateConfigVars(String app, Map<String, String> changes) {
    return read(
        send(
            "PATCH",
            "/apps/" + app + "/config-vars",
            true,
            a -> a.patchConfigVars(app, write(changes))),
        STRING_MAP);
  }

  // ---------------------------------------------------------------- formation

  /** {@code GET /apps/{app}/formation}. */
  public List<Formation> formations(String app) {
    return list(
        "/apps/" + app + "/formation", "id", Formation.class, (a, r, e) -> a.formations(app, r, e));
  }

  /** {@code GET /apps/{app}/formation/{type}}. */
  public Formation formation(String app, String type) {
    return read(
        get("/apps/" + app + "/formation/" + type, null, (a, e) -> a.formation(app, type, e)),
        Formation.class);
  }

  /** {@code PATCH /apps/{app}/formation/{type}}; null quantity or size stays as it is. */
  public Formation updateFormation(String app, String type, Integer quantity, String size) {
    var body = write(FormationUpdate.of(null, quantity, size));
    return read(
        send(
            "PATCH",
            "/apps/" + app + "/formation/" + type,
            true,
            a -> a.updateFormation(app, type, body)),
        Formation.class);
  }

  /** {@code PATCH /apps/{app}/formation} with {@code {updates: [...]}}. */
  public List<Formation> updateFormations(String app, List<FormationUpdate> updates) {
    var body = write(Map.of("updates", updates));
    return readList(
        send("PATCH", "/apps/" + app + "/formation", true, a -> a.batchUpdateFormation(app, body)),
        Formation.class);
  }

  // ---------------------------------------------------------------- releases, slugs, builds

  /** {@code GET /apps/{app}/releases}, all pages, oldest first. */
  public List<Release> releases(String app) {
    return list(
        "/apps/" + app + "/releases", "version", Release.class, (a, r, e) -> a.releases(app, r, e));
  }

  /**
   * The newest {@code max} releases, newest first (one call: {@code Range: version ..;
   * order=desc}).
   */
  public List<Release> recentReleases(String app, int max) {
    String range = "version ..; order=desc, max=" + max;
    var ex = get("/apps/" + app + "/releases", range, (a, e) -> a.releases(app, range, e));
    return readList(ex, Release.class);
  }

  /**
   * The newest releases, newest first, {@code max} a page: the first page as {@link
   * #recentReleases}, then older pages (following {@code Next-Range}) until a page holds one {@code
   * wanted} accepts, or {@code pages} pages were read, or there are no more.
   */
  public List<Release> recentReleasesUntil(
      String app, int max, int pages, java.util.function.Predicate<Release> wanted) {
    var out = new ArrayList<Release>();
    String range = "version ..; order=desc, max=" + max;
    for (int page = 1; ; page++) {
      String r = range;
      var ex = get("/apps/" + app + "/releases", r, (a, e) -> a.releases(app, r, e));
      List<Release> items = readList(ex, Release.class);
      out.addAll(items);
      if (items.stream().anyMatch(wanted)
          || page >= pages
          || items.isEmpty()
          || ex.status() != 206
          || ex.nextRange() == null
          || ex.nextRange().isBlank()
          || ex.nextRange().equals(r)) {
        return out;
      }
      range = ex.nextRange();
    }
  }

  /** {@code GET /apps/{app}/releases/{id_or_version}}. */
  public Release release(String app, String idOrVersion) {
    return read(
        get(
            "/apps/" + app + "/releases/" + idOrVersion,
            null,
            (a, e) -> a.release(app, idOrVersion, e)),
        Release.class);
  }

  /**
   * {@code POST /apps/{app}/releases} with a slug id, possibly of another app of the account (how a
   * fork copies code). The release starts {@code pending}.
   */
  public Release createRelease(String app, String slugId, String description) {
    var body = new LinkedHashMap<String, String>();
    body.put("slug", slugId);
    if (description != null) {
      body.put("description", description);
    }
    return read(
        send("POST", "/apps/" + app + "/releases", false, a -> a.createRelease(app, write(body))),
        Release.class);
  }

  /**
   * How much of a release phase's output is read (its end is kept): a migration may print a lot.
   */
  static final int OUTPUT_MAX_BYTES = 64 * 1024;

  /** How long a release phase's output is read at most. */
  static final Duration OUTPUT_READ_TIME = Duration.ofSeconds(10);

  /**
   * One read; a stream closed by the read deadline ends it, as an end of stream, once some came.
   */
  private static int readSome(java.io.InputStream in, byte[] buf, boolean gotSome)
      throws java.io.IOException {
    try {
      return in.read(buf);
    } catch (java.io.IOException e) {
      if (gotSome) {
        return -1;
      }
      throw e;
    }
  }

  /**
   * The last {@code maxLines} non-blank lines of a release phase's output, from the release's
   * {@code output_stream_url} (a stream Heroku serves as {@code text/plain}, already complete for a
   * finished release). The URL is a capability of its own, on another host than the Platform API:
   * it is read without the API key, which never leaves for any host but the API's. Only the end of
   * a long output is kept ({@value #OUTPUT_MAX_BYTES} bytes are read at most, the rest dropped).
   */
  public List<String> releaseOutput(String outputStreamUrl, int maxLines) {
    byte[] tail = streamTail(outputStreamUrl, "release output", OUTPUT_MAX_BYTES, OUTPUT_READ_TIME);
    List<String> lines =
        new String(tail, java.nio.charset.StandardCharsets.UTF_8)
            .lines()
            .map(String::strip)
            .filter(l -> !l.isEmpty())
            .toList();
    return lines.subList(Math.max(0, lines.size() - maxLines), lines.size());
  }

  /**
   * {@code POST /apps/{app}/log-sessions} {@code {lines, source, tail}}: a session whose {@code
   * logplex_url} streams the app's last {@code lines} log lines of {@code source} ({@code app}: the
   * app's own dynos, its release phase included, and the API's lines about it; null: every source),
   * and, with {@code tail}, the lines to come. A POST: not retried (a session is cheap to ask again
   * for at the next pass).
   */
  public LogSession createLogSession(String app, int lines, String source, boolean tail) {
    var body = new LinkedHashMap<String, Object>();
    body.put("lines", lines);
    if (source != null) {
      body.put("source", source);
    }
    body.put("tail", tail);
    String json = write(body);
    return read(
        send("POST", "/apps/" + app + "/log-sessions", false, a -> a.createLogSession(app, json)),
        LogSession.class);
  }

  /** How much of a log session's stream is kept (its end): a tail for an event, not an archive. */
  static final int LOG_TAIL_MAX_BYTES = 8 * 1024;

  /** How long a log session's stream is read at most (one made with {@code tail} never ends). */
  static final Duration LOG_TAIL_READ_TIME = Duration.ofSeconds(5);

  /**
   * The last {@code maxLines} non-blank lines a log session's {@code logplex_url} streams, whole (a
   * caller that masks secrets in them cuts them after that: a line cut first could leave half a
   * password unmasked). Read as {@link #releaseOutput} reads (without the key, https or loopback
   * only, no redirect), for {@link #LOG_TAIL_READ_TIME} at most, keeping the last {@value
   * #LOG_TAIL_MAX_BYTES} bytes; the line those cut into is dropped.
   */
  public List<String> logTail(String logplexUrl, int maxLines) {
    byte[] tail = streamTail(logplexUrl, "log session", LOG_TAIL_MAX_BYTES, LOG_TAIL_READ_TIME);
    List<String> lines =
        new ArrayList<>(new String(tail, java.nio.charset.StandardCharsets.UTF_8).lines().toList());
    if (tail.length == LOG_TAIL_MAX_BYTES && !lines.isEmpty()) {
      lines.remove(0); // most likely the end of a line whose start was dropped
    }
    List<String> kept = lines.stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    return kept.subList(Math.max(0, kept.size() - maxLines), kept.size());
  }

  /**
   * The last {@code maxBytes} of a plain-text stream Heroku hands out as a URL of its own (a
   * release's output, a log session), read for {@code readTime} at most. {@code what} names it in
   * failures.
   */
  private byte[] streamTail(String url, String what, int maxBytes, Duration readTime) {
    URI uri;
    try {
      uri = URI.create(java.util.Objects.requireNonNull(url));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new HerokuException.Permanent(0, null, "not a " + what + " URL");
    }
    // https, or http to loopback (the simulator): the URL comes from Heroku, yet a plain-http or
    // redirected fetch could be pointed anywhere (review 13)
    boolean loopback =
        uri.getHost() != null
            && (uri.getHost().equals("localhost")
                || uri.getHost().startsWith("127.")
                || uri.getHost().equals("[::1]"));
    if (!"https".equals(uri.getScheme()) && !("http".equals(uri.getScheme()) && loopback)) {
      throw new HerokuException.Permanent(0, null, "not a " + what + " URL");
    }
    java.net.http.HttpClient http = outputClient();
    java.net.http.HttpRequest request =
        java.net.http.HttpRequest.newBuilder(uri)
            .timeout(readTime)
            .header("Accept", "text/plain")
            .GET()
            .build();
    try {
      java.net.http.HttpResponse<java.io.InputStream> response =
          http.send(request, java.net.http.HttpResponse.BodyHandlers.ofInputStream());
      java.io.InputStream in = response.body();
      // the request's timeout covers the headers only: a stream left open (a release still
      // running, a log session that tails) would hold a reconcile worker for ever, so it is
      // closed after a while, and what came until then is used
      var guard =
          java.util.concurrent.CompletableFuture.runAsync(
              () -> {
                try {
                  in.close();
                } catch (java.io.IOException ignored) {
                  // closing is all that is wanted
                }
              },
              java.util.concurrent.CompletableFuture.delayedExecutor(
                  readTime.toMillis(), TimeUnit.MILLISECONDS));
      try (in) {
        if (response.statusCode() >= 300) {
          // status 0: a 401 from the stream's host is not
          // Heroku refusing the key (never sent there)
          throw new HerokuException.Permanent(0, null, what + ": HTTP " + response.statusCode());
        }
        java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = readSome(in, buf, kept.size() > 0)) >= 0; ) {
          kept.write(buf, 0, n);
          if (kept.size() > 2 * maxBytes) { // keep the end only
            byte[] all = kept.toByteArray();
            kept.reset();
            kept.write(all, all.length - maxBytes, maxBytes);
          }
        }
        byte[] all = kept.toByteArray();
        return all.length > maxBytes
            ? java.util.Arrays.copyOfRange(all, all.length - maxBytes, all.length)
            : all;
      } finally {
        guard.cancel(false);
      }
    } catch (java.io.IOException e) {
      throw new HerokuException.Transient(0, null, what + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HerokuException.Transient(0, null, "interrupted", e);
    }
  }

  private volatile java.net.http.HttpClient outputClient;

  /**
   * One client for release outputs and log sessions (each one has a selector thread of its own), no
   * redirects.
   */
  private java.net.http.HttpClient outputClient() {
    java.net.http.HttpClient c = outputClient;
    if (c == null) {
      synchronized (this) {
        if (outputClient == null) {
          outputClient =
              java.net.http.HttpClient.newBuilder()
                  .connectTimeout(config.connectTimeout())
                  .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
                  .build();
        }
        c = outputClient;
      }
    }
    return c;
  }

  /** {@code GET /apps/{app}/slugs/{slug}}. */
  public Slug slug(String app, String slugId) {
    return read(
        get("/apps/" + app + "/slugs/" + slugId, null, (a, e) -> a.slug(app, slugId, e)),
        Slug.class);
  }

  /** {@code POST /apps/{app}/builds}. */
  public Build createBuild(String app, SourceBlob source) {
    var body = write(new BuildCreate(source));
    return read(
        send("POST", "/apps/" + app + "/builds", false, a -> a.createBuild(app, body)),
        Build.class);
  }

  /** {@code GET /apps/{app}/builds/{id}}. */
  public Build build(String app, String buildId) {
    return read(
        get("/apps/" + app + "/builds/" + buildId, null, (a, e) -> a.build(app, buildId, e)),
        Build.class);
  }

  /** {@code POST /app-setups}. */
  public AppSetup createAppSetup(AppSetupCreate request) {
    var body = write(request);
    return read(send("POST", "/app-setups", false, a -> a.createAppSetup(body)), AppSetup.class);
  }

  /** {@code GET /app-setups/{id}}. */
  public AppSetup appSetup(String id) {
    return read(get("/app-setups/" + id, null, (a, e) -> a.appSetup(id, e)), AppSetup.class);
  }

  // ---------------------------------------------------------------- pipelines

  /** {@code GET /pipelines/{id_or_name}}. */
  public Pipeline pipeline(String idOrName) {
    return read(
        get("/pipelines/" + idOrName, null, (a, e) -> a.pipeline(idOrName, e)), Pipeline.class);
  }

  /** {@code GET /pipelines/{id}/pipeline-couplings}, all pages. */
  public List<PipelineCoupling> pipelineCouplings(String pipelineId) {
    return list(
        "/pipelines/" + pipelineId + "/pipeline-couplings",
        "id",
        PipelineCoupling.class,
        (a, r, e) -> a.pipelineCouplings(pipelineId, r, e));
  }

  /**
   * {@code GET /apps/{app}/pipeline-couplings}: Heroku answers the app's single coupling (an app is
   * in at most one pipeline); empty when the app is not coupled.
   */
  public Optional<PipelineCoupling> appPipelineCoupling(String app) {
    try {
      return Optional.of(
          read(
              get(
                  "/apps/" + app + "/pipeline-couplings",
                  null,
                  (a, e) -> a.appPipelineCoupling(app, e)),
              PipelineCoupling.class));
    } catch (HerokuException.Permanent e) {
      // Heroku's words: the message also names the call, whose path says pipeline-couplings
      if (e.isNotFound()
          && "not_found".equals(e.id())
          && String.valueOf(e.herokuMessage()).contains("coupling")) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** {@code POST /pipeline-couplings}; stage is review, development, staging or production. */
  public PipelineCoupling createPipelineCoupling(String app, String pipeline, String stage) {
    var body = write(Map.of("app", app, "pipeline", pipeline, "stage", stage));
    return read(
        send("POST", "/pipeline-couplings", false, a -> a.createPipelineCoupling(body)),
        PipelineCoupling.class);
  }

  /** {@code DELETE /pipeline-couplings/{id}}. */
  public PipelineCoupling deletePipelineCoupling(String id) {
    return read(
        send("DELETE", "/pipeline-couplings/" + id, true, a -> a.deletePipelineCoupling(id)),
        PipelineCoupling.class);
  }

  // ---------------------------------------------------------------- add-ons

  /** {@code GET /apps/{app}/addons}: add-ons owned by or attached to the app. */
  public List<AddOn> addons(String app) {
    return list("/apps/" + app + "/addons", "id", AddOn.class, (a, r, e) -> a.addons(app, r, e));
  }

  /** {@code GET /apps/{app}/addon-attachments}. */
  public List<AddOnAttachment> addonAttachments(String app) {
    return list(
        "/apps/" + app + "/addon-attachments",
        "id",
        AddOnAttachment.class,
        (a, r, e) -> a.addonAttachments(app, r, e));
  }

  /**
   * {@code POST /addon-attachments}: attaches an add-on to an app, which sets its config vars there
   * and keeps them right across credential rotations. Name may be null (Heroku picks one).
   */
  public AddOnAttachment createAddonAttachment(String addon, String app, String name) {
    var body = new LinkedHashMap<String, String>();
    body.put("addon", addon);
    body.put("app", app);
    if (name != null) {
      body.put("name", name);
    }
    return read(
        send("POST", "/addon-attachments", false, a -> a.createAddonAttachment(write(body))),
        AddOnAttachment.class);
  }

  /** {@code DELETE /addon-attachments/{id}}. */
  public AddOnAttachment deleteAddonAttachment(String id) {
    return read(
        send("DELETE", "/addon-attachments/" + id, true, a -> a.deleteAddonAttachment(id)),
        AddOnAttachment.class);
  }

  // ---------------------------------------------------------------- app webhooks

  /** {@code GET /apps/{app}/webhooks}. */
  public List<AppWebhook> webhooks(String app) {
    return list(
        "/apps/" + app + "/webhooks", "id", AppWebhook.class, (a, r, e) -> a.webhooks(app, r, e));
  }

  /**
   * {@code POST /apps/{app}/webhooks}: subscribes {@code url} to the app's events of the given
   * entities ({@code api:release}, ...), each notification signed with {@code secret}. Level is
   * {@code notify} (one attempt) or {@code sync} (retried until it succeeds or a limit is reached).
   */
  public AppWebhook createWebhook(
      String app, List<String> include, String level, String url, String secret) {
    var body = new LinkedHashMap<String, Object>();
    body.put("include", include);
    body.put("level", level);
    body.put("url", url);
    body.put("secret", secret);
    return read(
        send("POST", "/apps/" + app + "/webhooks", false, a -> a.createWebhook(app, write(body))),
        AppWebhook.class);
  }

  /**
   * {@code PATCH /apps/{app}/webhooks/{id}}: sets the subscription's entities, level and secret.
   */
  public AppWebhook updateWebhook(
      String app, String id, List<String> include, String level, String secret) {
    var body = new LinkedHashMap<String, Object>();
    body.put("include", include);
    body.put("level", level);
    body.put("secret", secret);
    return read(
        send(
            "PATCH",
            "/apps/" + app + "/webhooks/" + id,
            true,
            a -> a.updateWebhook(app, id, write(body))),
        AppWebhook.class);
  }

  /** {@code DELETE /apps/{app}/webhooks/{id}}. */
  public AppWebhook deleteWebhook(String app, String id) {
    return read(
        send("DELETE", "/apps/" + app + "/webhooks/" + id, true, a -> a.deleteWebhook(app, id)),
        AppWebhook.class);
  }

  // ---------------------------------------------------------------- log drains, features

  /** {@code GET /apps/{app}/log-drains}: its users' drains and its add-ons'. */
  public List<LogDrain> logDrains(String app) {
    return list(
        "/apps/" + app + "/log-drains", "id", LogDrain.class, (a, r, e) -> a.logDrains(app, r, e));
  }

  /**
   * {@code POST /apps/{app}/log-drains}: Logplex sends the app's lines to {@code url} too. Heroku
   * answers 422 for a url the app has already. The url is in the body only, never in the path this
   * client logs.
   */
  public LogDrain createLogDrain(String app, String url) {
    var body = write(Map.of("url", url));
    return read(
        send("POST", "/apps/" + app + "/log-drains", false, a -> a.createLogDrain(app, body)),
        LogDrain.class);
  }

  /** {@code GET /apps/{app}/features}: every labs feature an app may have, enabled or not. */
  public List<AppFeature> appFeatures(String app) {
    return list(
        "/apps/" + app + "/features",
        "id",
        AppFeature.class,
        (a, r, e) -> a.appFeatures(app, r, e));
  }

  /** {@code PATCH /apps/{app}/features/{feature}}: enables or disables it (idempotent). */
  public AppFeature updateAppFeature(String app, String feature, boolean enabled) {
    var body = write(Map.of("enabled", enabled));
    return read(
        send(
            "PATCH",
            "/apps/" + app + "/features/" + feature,
            true,
            a -> a.updateAppFeature(app, feature, body)),
        AppFeature.class);
  }

  // ---------------------------------------------------------------- dynos

  /** {@code GET /apps/{app}/dynos}. */
  public List<Dyno> dynos(String app) {
    return list("/apps/" + app + "/dynos", "id", Dyno.class, (a, r, e) -> a.dynos(app, r, e));
  }

  /** {@code DELETE /apps/{app}/dynos}: restarts every dyno of the app. */
  public void restartAllDynos(String app) {
    send("DELETE", "/apps/" + app + "/dynos", true, a -> a.restartAllDynos(app));
  }

  // ---------------------------------------------------------------- plumbing

  @FunctionalInterface
  private interface PageCall {
    Response call(HerokuApi api, String range, String etag);
  }

  /**
   * Pages one list follows at most: a thousand items a page (Heroku's most), far beyond any
   * account's list. More is an answer going round, each page one call of the budget.
   */
  static final int MAX_PAGES = 50;

  /**
   * Follows 206 + Next-Range until the last page. An answer that would never end is a transient
   * failure naming the call: a {@code Next-Range} that repeats a range already asked for, a 206
   * page with nothing on it, or more than {@link #MAX_PAGES} pages. Followed as told, it held the
   * pool's lock and spent the account's budget until Heroku answered 429 (audit 19 #10).
   */
  private <T> List<T> list(String path, String rangeField, Class<T> type, PageCall call) {
    var out = new ArrayList<T>();
    var asked = new java.util.HashSet<String>();
    String range = rangeField + " ..; max=" + config.pageSize();
    for (int page = 1; ; page++) {
      String r = range;
      asked.add(r);
      var ex = get(path, r, (a, e) -> call.call(a, r, e));
      List<T> items = readList(ex, type);
      out.addAll(items);
      if (ex.status() != 206 || ex.nextRange() == null || ex.nextRange().isBlank()) {
        return out;
      }
      String endless =
          asked.contains(ex.nextRange())
              ? "Next-Range repeats a range already asked for (" + ex.nextRange() + ")"
              : items.isEmpty()
                  ? "a page with nothing on it asks for another"
                  : page >= MAX_PAGES ? "more than " + MAX_PAGES + " pages" : null;
      if (endless != null) {
        throw new HerokuException.Transient(
            ex.status(), null, "paging stopped: " + endless, "GET " + path, ex.requestId());
      }
      range = ex.nextRange();
    }
  }

  /** A conditional GET: sends the cached ETag and answers a 304 from the cache. */
  private Exchange get(String path, String range, BiFunction<HerokuApi, String, Response> call) {
    String key = range == null ? path : path + "|" + range;
    Exchange cached = etags.get(key);
    String etag = cached == null ? null : cached.etag();
    Exchange ex = send("GET", path, true, a -> call.apply(a, etag));
    if (ex.status() == 304 && cached != null) {
      return cached;
    }
    if (ex.etag() != null) {
      etags.put(key, ex);
    }
    return ex;
  }

  /**
   * One logical request: waits out 429 (any method: Heroku rejected it unprocessed) up to the
   * configured total, and retries transient failures only when {@code idempotent}.
   */
  private Exchange send(
      String method, String path, boolean idempotent, Function<HerokuApi, Response> call) {
    int attempt = 0;
    Duration rateWaited = Duration.ZERO;
    Duration rateDelay = config.rateLimitInitialDelay();
    readBudget();
    while (true) {
      // below the low watermark every attempt takes a turn of the process's limiter, before Heroku
      // answers 429 (the budget is the account's: the user's deploys and CLI share it)
      rateWaited = rateWaited.plus(awaitTurn(method, path, rateWaited));
      attempt++;
      HerokuException failure;
      Exchange ex = null;
      try {
        ex = exchange(method, call, true);
        if (ex.status() < 400 || ex.status() == 304) {
          return ex;
        }
        failure = error(method, path, ex);
      } catch (ProcessingException e) {
        failure = transportFailure(method + " " + path, e);
      } catch (IllegalArgumentException e) {
        // Vert.x refusing a header value before anything is sent: no retry mends that, and the
        // message quotes the value (the key, for the Authorization header)
        if (holdsKey(e)) {
          throw transportFailure(method + " " + path, e);
        }
        throw e;
      }
      if (failure instanceof HerokuException.RateLimited) {
        // Never hot-retry a 429: Heroku's Retry-After when it sends one (capped), else a doubling
        // delay. The account is empty for every thread of the process, so the pause is the
        // process's: the next turn of any thread comes after it (each thread found out by its own
        // 429 before, and waited up to 31 s holding its pass).
        Duration told = retryAfter(ex == null ? null : ex.retryAfter());
        Duration delay =
            told != null ? min(told, config.rateLimitMaxWait()) : max(rateDelay, budget.interval());
        budget.rateLimited(delay);
        if (rateWaited.plus(delay).compareTo(config.rateLimitMaxWait()) > 0) {
          throw new HerokuException.RateLimited(
              failure.id(), failure.herokuMessage(), failure.call(), failure.requestId(), delay);
        }
        LOG.debugf("heroku %s %s rate limited, waiting %s", method, path, delay);
        rateDelay = rateDelay.multipliedBy(2);
        attempt--; // a 429 does not use up a transient-retry attempt
        continue;
      }
      if (failure instanceof HerokuException.Transient) {
        for (var l : failureListeners) {
          try {
            l.accept(failure.getMessage());
          } catch (RuntimeException e) {
            // a listener's trouble must not fail the call it watches
            LOG.debugf("transient-failure listener failed: %s", e.toString());
          }
        }
      }
      if (failure instanceof HerokuException.Transient
          && idempotent
          && attempt < config.maxAttempts()) {
        Duration delay = backoff(attempt);
        LOG.debugf(
            "heroku %s %s transient failure (%s), retry %d in %s",
            method, path, failure.getMessage(), attempt, delay);
        pause(delay);
        continue;
      }
      throw failure;
    }
  }

  /**
   * Waits for the calling thread's turn under the rate limit ({@link RateBudget#turn}), again when
   * a 429 came meanwhile; how long it waited. Fails, unsent, when the turn would come after the
   * rest of {@link HerokuConfig#rateLimitMaxWait()}: a call must not hold its pass (and the pool's
   * lock) longer.
   */
  private Duration awaitTurn(String method, String path, Duration waited) {
    Duration total = Duration.ZERO;
    while (true) {
      Duration left = config.rateLimitMaxWait().minus(waited).minus(total);
      RateBudget.Turn turn = budget.turn(left.isNegative() ? Duration.ZERO : left);
      if (turn == null) {
        // unsent, so no "→ 429" and no count in the text: it becomes the pool's condition and
        // event, which changed at every retry (a new event row, a WARN line each time); and the
        // pool comes back once a turn within the wait can be had, not one interval later into
        // the same full line (review 26 #1), spread so the refused pools do not return together
        Duration interval = budget.interval();
        Duration beyond = budget.line().minus(config.rateLimitMaxWait());
        Duration back = beyond.compareTo(interval) > 0 ? beyond : interval;
        back =
            back.plusMillis(
                java.util.concurrent.ThreadLocalRandom.current()
                    .nextLong(Math.max(1, interval.toMillis())));
        throw new HerokuException.RateLimited(
            "rate_limit",
            method
                + " "
                + path
                + " not sent: its turn under the account's rate limit is more than "
                + config.rateLimitMaxWait().toSeconds()
                + " s away",
            back);
      }
      if (turn.delay().isZero()) {
        return total;
      }
      if (turn.paused()) {
        LOG.debugf("heroku %s %s waits out a 429: %s", method, path, turn.delay());
        budget.waiting(turn.delay());
      } else {
        LOG.debugf(
            "heroku %s %s paced %s: %d calls left", method, path, turn.delay(), budget.remaining());
      }
      Duration slept;
      try {
        // woken early when an answer or the budget's read finds it at or above the watermark
        slept = sleeper.awaitTurn(budget, turn.delay());
      } catch (InterruptedException e) {
        // stopping (SIGTERM's budget ran out): this call never left, so it must not count as one
        // that may have landed (Transient 0 did: a create's sentAt stayed, review 26 #3)
        Thread.currentThread().interrupt();
        throw new HerokuException.RateLimited(
            "rate_limit",
            method + " " + path + " not sent: interrupted while waiting for its turn",
            budget.interval());
      }
      total = total.plus(slept);
      if (!budget.paused()) {
        return total;
      }
    }
  }

  /** {@code Retry-After} in seconds (Heroku does not document one), or null. */
  static Duration retryAfter(String header) {
    if (header == null) {
      return null;
    }
    try {
      long seconds = Long.parseLong(header.trim());
      return seconds >= 0 ? Duration.ofSeconds(seconds) : null;
    } catch (NumberFormatException e) {
      return null; // an HTTP date, or garbage: the doubling delay
    }
  }

  private Exchange exchange(String method, Function<HerokuApi, Response> call, boolean counted) {
    if (counted) {
      calls.incrementAndGet();
      threadCalls.get()[0]++;
    }
    Response response;
    long began = System.nanoTime();
    try {
      response = call.apply(api());
    } catch (ProcessingException e) {
      count(method, "error", began);
      throw e;
    }
    try (response) {
      int status = response.getStatus();
      count(method, Integer.toString(status), began);
      String remaining = response.getHeaderString("RateLimit-Remaining");
      if (remaining != null) {
        try {
          budget.update(Long.parseLong(remaining.trim()));
        } catch (NumberFormatException ignored) {
          // a malformed header must not fail the call
        }
      }
      String body = status == 304 || !response.hasEntity() ? "" : response.readEntity(String.class);
      return new Exchange(
          status,
          body,
          response.getHeaderString("ETag"),
          response.getHeaderString("Next-Range"),
          response.getHeaderString(HeadersFilter.SENT_REQUEST_ID),
          response.getHeaderString("Retry-After"));
    }
  }

  /**
   * Heroku's error answer as an exception whose message names the call (audit 18 #6): {@code PATCH
   * /apps/shop-k2x9qa/config-vars → 503}. Paths hold app names and ids only, never a query string
   * or a body (config values, secrets).
   */
  private HerokuException error(String method, String path, Exchange ex) {
    String call = method + " " + path;
    String id = null;
    String message = null; // none: the status says it
    try {
      JsonNode node = json.readTree(ex.body());
      if (node != null && node.isObject()) {
        id = node.path("id").asText(null);
        message = node.path("message").asText(message);
      }
    } catch (JsonProcessingException ignored) {
      // not Heroku's error shape (a proxy in between): keep the status
    }
    if (ex.status() == 429) {
      Duration told = retryAfter(ex.retryAfter());
      return new HerokuException.RateLimited(
          id, message, call, ex.requestId(), told != null ? told : RateBudget.REFILL_INTERVAL);
    }
    if (ex.status() >= 500) {
      return new HerokuException.Transient(ex.status(), id, message, call, ex.requestId());
    }
    return new HerokuException.Permanent(ex.status(), id, message, call, ex.requestId());
  }

  /** Exponential backoff with full jitter over the upper half, capped. */
  private Duration backoff(int attempt) {
    long base = config.retryInitialDelay().toMillis() << Math.min(attempt - 1, 20);
    long capped = Math.min(base, config.retryMaxDelay().toMillis());
    long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
    return Duration.ofMillis(jittered);
  }

  private void pause(Duration d) {
    try {
      sleeper.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HerokuException.Transient(0, null, "interrupted", e);
    }
  }

  /**
   * One call: counted, and timed from sending to Heroku's answer (or the failure) under a name of
   * its own, so {@code dynofleet_heroku_calls_total} stays as documented (audit 18 #3).
   */
  private void count(String method, String status, long began) {
    long nanos = System.nanoTime() - began;
    meters.counter("dynofleet.heroku.calls", "method", method, "status", status).increment();
    Timer.builder("dynofleet.heroku.call")
        .description("Platform API call latency, by method and HTTP status (error: no answer)")
        .tags("method", method, "status", status)
        .serviceLevelObjectives(CALL_BUCKETS)
        .register(meters)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  private static final Duration[] CALL_BUCKETS = {
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30)
  };

  private HerokuApi api() {
    HerokuApi a = api;
    if (a == null) {
      synchronized (this) {
        if (api == null) {
          api = build(endpoint.get());
        }
        a = api;
      }
    }
    return a;
  }

  private HerokuApi build(ApiEndpoint endpoint) {
    String version =
        ConfigProvider.getConfig()
            .getOptionalValue("quarkus.application.version", String.class)
            .orElse("dev");
    var filter = new HeadersFilter(endpoint.key(), "dynofleet/" + version);
    return QuarkusRestClientBuilder.newBuilder()
        .baseUri(URI.create(endpoint.url()))
        .connectTimeout(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .readTimeout(config.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .disableDefaultMapper(true)
        .register(filter)
        .build(HerokuApi.class);
  }

  private String write(Object body) {
    try {
      return json.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot serialize " + body.getClass().getSimpleName(), e);
    }
  }

  private <T> T read(Exchange ex, Class<T> type) {
    try {
      return json.readValue(ex.body(), type);
    } catch (JsonProcessingException e) {
      throw new HerokuException.Transient(
          ex.status(), null, "unreadable response: " + e.getOriginalMessage(), e);
    }
  }

  private <T> T read(Exchange ex, TypeReference<T> type) {
    try {
      return json.readValue(ex.body(), type);
    } catch (JsonProcessingException e) {
      throw new HerokuException.Transient(
          ex.status(), null, "unreadable response: " + e.getOriginalMessage(), e);
    }
  }

  private <T> List<T> readList(Exchange ex, Class<T> type) {
    try {
      return json.readValue(
          ex.body(), json.getTypeFactory().constructCollectionType(List.class, type));
    } catch (JsonProcessingException e) {
      throw new HerokuException.Transient(
          ex.status(), null, "unreadable response: " + e.getOriginalMessage(), e);
    }
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
