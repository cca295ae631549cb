package io.dynofleet.api;

import io.dynofleet.config.ApiConfig;
import io.dynofleet.config.DynofleetConfig;
import io.dynofleet.config.ReconcileConfig;
import io.dynofleet.config.StartRefused;
import io.dynofleet.proxy.LingeringClose;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.Json;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.impl.RoutingContextInternal;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Bearer-token authentication of everything under the reserved prefix except health and metrics
 * (which load balancers and scrapers read) and the dashboard's static files ({@code /}, {@code
 * /index.html}, {@code /ui/**}), which hold no data. Runs as a Vert.x filter, before routing, so
 * unknown paths under the API are also refused without a token. The compare hashes both sides
 * first, so its time depends neither on the length nor on the matching prefix of what was sent.
 */
@ApplicationScoped
public class ApiAuth {
  static final int PRIORITY = 500;
  private static final Logger LOG = Logger.getLogger(ApiAuth.class);

  /** What the read-only token may do. */
  private static final Set<io.vertx.core.http.HttpMethod> READS =
      Set.of(
          io.vertx.core.http.HttpMethod.GET,
          io.vertx.core.http.HttpMethod.HEAD,
          io.vertx.core.http.HttpMethod.OPTIONS);

  /** Shorter tokens get a warning at start: guessable online, a throttled guess at a time. */
  static final int STRONG_LENGTH = 32;

  /**
   * Routing-context key set on requests made with the read-only token ({@link ReadOnlyRedaction}).
   */
  static final String READER = "dynofleet.reader";

  /** Why the read-only token may not read a pool's webhook secret (here and in the resource). */
  static final String NO_WEBHOOK_SECRET_FOR_READER =
      "this token (DYNOFLEET_READ_TOKEN) may not read a pool's webhook secret; that needs"
          + " DYNOFLEET_API_TOKEN";

  private final String prefix;
  private final ApiConfig config;
  private final Config rawConfig;

  /** Whether pools subscribe their source apps ({@code dynofleet.reconcile.webhooks}). */
  private final boolean subscribing;

  private volatile byte[] tokenDigest;

  /** Digest of {@code DYNOFLEET_API_TOKEN_PREVIOUS}; null when none is configured. */
  private final byte[] previousDigest;

  /**
   * Digest of the read-only token; null when none is configured, or when it is one of the API
   * tokens (then it is one, and no read-only token is in force: S7-2).
   */
  private final byte[] readDigest;

  /** Digest of {@code DYNOFLEET_READ_TOKEN_PREVIOUS}; null as {@link #readDigest} is. */
  private final byte[] previousReadDigest;

  /** Read-only tokens dropped because they equal an API token, by variable name. */
  private final List<String> readTokensIgnored;

  /** On a Heroku dyno, where the router's {@code X-Forwarded-Proto} says how the client came. */
  private final boolean onDyno;

  private volatile boolean generated;
  private volatile String sandboxToken;

  /** The webhook secret once resolved; empty when there is none. */
  private volatile String hookSecret;

  private final io.dynofleet.config.AdminHosts adminHosts;
  private final AuthThrottle throttle;

  ApiAuth(
      DynofleetConfig dynofleet,
      ApiConfig config,
      ReconcileConfig reconcile,
      Config rawConfig,
      io.dynofleet.config.AdminHosts adminHosts,
      AuthThrottle throttle) {
    this.prefix = dynofleet.prefix();
    this.adminHosts = adminHosts;
    this.throttle = throttle;
    this.config = config;
    this.rawConfig = rawConfig;
    this.subscribing = reconcile.webhooks();
    this.previousDigest = digestOf(config.tokenPrevious());
    // a read-only token equal to an API token would make its holders admins (the admin check
    // comes first), silently (security review 7 S7-2): it is dropped, and the start, /info and
    // the dashboard say that no read-only token is in force
    List<byte[]> apiDigests = new java.util.ArrayList<>();
    java.util.Optional.ofNullable(digestOf(config.token())).ifPresent(apiDigests::add);
    java.util.Optional.ofNullable(previousDigest).ifPresent(apiDigests::add);
    List<String> ignored = new java.util.ArrayList<>();
    this.readDigest = readOnly("DYNOFLEET_READ_TOKEN", config.readToken(), apiDigests, ignored);
    this.previousReadDigest =
        readOnly("DYNOFLEET_READ_TOKEN_PREVIOUS", config.readTokenPrevious(), apiDigests, ignored);
    this.readTokensIgnored = List.copyOf(ignored);
    this.onDyno =
        rawConfig.getOptionalValue("DYNO", String.class).filter(d -> !d.isBlank()).isPresent();
  }

  /**
   * Right after the sandbox check, before any other start work (the scheduler starts its jobs at
   * the default priority): a refusal here tore down a start whose route-sync job had begun, and its
   * NullPointerException came first in the log, above the one line that said what to set (audit
   * 12).
   */
  void start(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 1) StartupEvent e) {
    digest();
    warnAboutConfig();
  }

  /** Digest of a configured token, trimmed as a presented one is; null for none. */
  private static byte[] digestOf(Optional<String> token) {
    return token.map(String::trim).filter(t -> !t.isBlank()).map(ApiAuth::sha256).orElse(null);
  }

  /** A read-only token's digest, or null when unset or equal to one of {@code api}. */
  private static byte[] readOnly(
      String name, Optional<String> token, List<byte[]> api, List<String> ignored) {
    byte[] d = digestOf(token);
    if (d != null && api.stream().anyMatch(a -> MessageDigest.isEqual(a, d))) {
      ignored.add(name);
      return null;
    }
    return d;
  }

  /** The start's warnings about this configuration, each once. */
  void warnAboutConfig() {
    configWarnings(true).forEach(LOG::warn);
  }

  /**
   * While a previous token is set, once a day (and at start, {@link #warnAboutConfig}): a rotation
   * left half done keeps the old token working.
   */
  @io.quarkus.scheduler.Scheduled(every = "24h", delayed = "24h")
  void warnAboutPreviousTokens() {
    previousTokensSet().forEach(LOG::warn);
  }

  /**
   * What is amiss in this configuration, for the start's log, {@code GET /api/v1/info} and the
   * dashboard: weak tokens, a read-only token that is an API token, previous tokens still set, an
   * own host not served. Never a token's text. {@code detailed} false (the read-only token's {@code
   * /info}, which Prometheus, viewers and CI hold): a weak token's length and the admin hosts are
   * left out (review 32 R32-1: they narrowed the guess of the token warned of, and named the hosts
   * serving the admin API); the start's log and the API token's {@code /info} have them.
   */
  public List<String> configWarnings(boolean detailed) {
    List<String> w = new java.util.ArrayList<>();
    weakness("DYNOFLEET_API_TOKEN", config.token(), detailed).ifPresent(w::add);
    weakness("DYNOFLEET_API_TOKEN_PREVIOUS", config.tokenPrevious(), detailed).ifPresent(w::add);
    weakness("DYNOFLEET_READ_TOKEN", config.readToken(), detailed).ifPresent(w::add);
    weakness("DYNOFLEET_READ_TOKEN_PREVIOUS", config.readTokenPrevious(), detailed)
        .ifPresent(w::add);
    for (String name : readTokensIgnored) {
      w.add(
          name
              + " is the same as an API token (DYNOFLEET_API_TOKEN or DYNOFLEET_API_TOKEN_PREVIOUS)"
              + " and is ignored: its holders have the API token, which can change and delete"
              + " everything"
              + (readOnlyToken() ? "" : ", and no read-only token is in force")
              + ". Give the read-only holders a token of their own: heroku config:set "
              + name
              + "=$(openssl rand -hex 32)");
    }
    w.addAll(previousTokensSet());
    ownHostNotServed(
            adminHosts,
            rawConfig.getOptionalValue("HEROKU_APP_DEFAULT_DOMAIN_NAME", String.class),
            detailed)
        .ifPresent(w::add);
    return w;
  }

  /** True when a read-only token (current or previous) is in force. */
  public boolean readOnlyToken() {
    return readDigest != null || previousReadDigest != null;
  }

  private List<String> previousTokensSet() {
    List<String> w = new java.util.ArrayList<>();
    if (previousDigest != null) {
      w.add(
          "DYNOFLEET_API_TOKEN_PREVIOUS is set: the previous API token still works. Once every"
              + " client uses DYNOFLEET_API_TOKEN, end the rotation: heroku config:unset"
              + " DYNOFLEET_API_TOKEN_PREVIOUS");
    }
    if (previousReadDigest != null) {
      w.add(
          "DYNOFLEET_READ_TOKEN_PREVIOUS is set: the previous read-only token still works. Once"
              + " every scraper and viewer uses DYNOFLEET_READ_TOKEN, end the rotation: heroku"
              + " config:unset DYNOFLEET_READ_TOKEN_PREVIOUS");
    }
    return w;
  }

  /**
   * A warning when admin hosts are set and the app's own herokuapp host (Heroku's dyno metadata,
   * {@code HEROKU_APP_DEFAULT_DOMAIN_NAME}) is not among them: the dashboard, the API and the CLI
   * then get 404 there, the host a user reaches first and the one heroku.md derives, and the
   * example host pasted instead locked them out with no clue (audit 20 L1).
   */
  static Optional<String> ownHostNotServed(
      io.dynofleet.config.AdminHosts hosts, Optional<String> defaultDomain) {
    return ownHostNotServed(hosts, defaultDomain, true);
  }

  /** {@code detailed} false: the same without the admin hosts' names (for the read-only token). */
  static Optional<String> ownHostNotServed(
      io.dynofleet.config.AdminHosts hosts, Optional<String> defaultDomain, boolean detailed) {
    return defaultDomain
        .map(String::trim)
        .filter(d -> !d.isEmpty() && hosts.restricted() && !hosts.admin(d))
        .map(
            d ->
                !detailed
                    ? "DYNOFLEET_ADMIN_HOSTS does not include this app's own host "
                        + d
                        + " (HEROKU_APP_DEFAULT_DOMAIN_NAME): the dashboard and the API are not"
                        + " served there. The API token's /info and the start's log say more."
                    : "DYNOFLEET_ADMIN_HOSTS ("
                        + String.join(", ", new java.util.TreeSet<>(hosts.names()))
                        + ") does not include this app's own host "
                        + d
                        + " (HEROKU_APP_DEFAULT_DOMAIN_NAME): the dashboard, the API, the CLI and the"
                        + " release webhooks get 404 there and are served on those hosts only. Unless"
                        + " that is meant, add it: heroku config:set DYNOFLEET_ADMIN_HOSTS="
                        + String.join(",", new java.util.TreeSet<>(hosts.names()))
                        + ","
                        + d);
  }

  /** A warning for a configured token short enough to guess; empty for none or a long one. */
  static Optional<String> weakness(String name, Optional<String> token) {
    return weakness(name, token, true);
  }

  /** {@code detailed} false: the same without the token's length (for the read-only token). */
  static Optional<String> weakness(String name, Optional<String> token, boolean detailed) {
    return token
        .map(String::trim)
        .filter(t -> !t.isEmpty() && t.length() < STRONG_LENGTH)
        .map(
            t ->
                name
                    + (detailed
                        ? " has " + t.length() + " characters"
                        : " is shorter than " + STRONG_LENGTH + " characters")
                    + ": guessable despite the throttling of failed attempts, so use "
                    + STRONG_LENGTH
                    + " or more random ones (openssl rand -hex 32)");
  }

  /**
   * Every token configured is {@link #STRONG_LENGTH} characters or more (a generated one is): too
   * long to guess through the throttle, so the throttle need not refuse it unchecked.
   */
  boolean strongTokens() {
    digest();
    return (generated || weakness("", config.token()).isEmpty() && config.token().isPresent())
        && weakness("", config.readToken()).isEmpty()
        && weakness("", config.tokenPrevious()).isEmpty()
        && weakness("", config.readTokenPrevious()).isEmpty();
  }

  /** True when the API token was generated for this sandbox run (and may be shown to its user). */
  public boolean generatedToken() {
    digest();
    return generated;
  }

  /**
   * The token generated for this sandbox run, so the sandbox banner can show its user where to sign
   * in; empty when the token came from configuration (it is then never shown anywhere).
   */
  public java.util.Optional<String> sandboxToken() {
    digest();
    return java.util.Optional.ofNullable(sandboxToken);
  }

  void register(@Observes Filters filters) {
    filters.register(this::filter, PRIORITY);
  }

  private void filter(RoutingContext rc) {
    String path = rc.normalizedPath();
    if (adminHosts.restricted()
        && path != null
        && (path.equals(prefix) || path.startsWith(prefix + "/"))
        && !adminHosts.servesPrefix(rc.request().getHeader(HttpHeaders.HOST))) {
      // Dynofleet's own pages only on its admin hosts: elsewhere they would share the origin of
      // the backends served there (security review 1)
      endsConnection(
          rc,
          () ->
              problem(
                  rc,
                  Problem.of(
                      404,
                      "not-found",
                      "Not found",
                      "Dynofleet's API and dashboard are not served on this host")));
      return;
    }
    if (onDyno && plainHttp(rc, path)) {
      return;
    }
    if (!protectedPath(path)) {
      rc.next();
      return;
    }
    String header = rc.request().getHeader(HttpHeaders.AUTHORIZATION);
    String client = header == null ? null : client(rc);
    Optional<java.time.Duration> wait = throttle.retryAfter(client);
    // with strong tokens a throttled client's right token still works: a guess cannot
    // hit, and everyone behind one address (an office, a VPN, a CI runner's egress)
    // would otherwise be locked out by one of them sending 20 wrong tokens (review
    // 13). With a weak one, refused unchecked: a guess that hit must not tell
    if (wait.isPresent() && !(strongTokens() && (bearerMatches(header) || readerMatches(header)))) {
      rc.response()
          .putHeader(HttpHeaders.RETRY_AFTER, Long.toString(AuthThrottle.seconds(wait.get())));
      endsConnection(
          rc,
          () ->
              problem(
                  rc,
                  Problem.of(
                      429,
                      "auth-throttled",
                      "Too many failed attempts",
                      "too many requests with a wrong token came from this client: try again in "
                          + AuthThrottle.seconds(wait.get())
                          + " s")));
      return;
    }
    boolean admin = bearerMatches(header);
    boolean reader = !admin && readerMatches(header);
    if (header != null && !admin && !reader) {
      // a credential that matched nothing: a guess, or a stale token. Also on a hook that claims a
      // signature: its answer (401 there whatever the token) must not make guesses free there
      throttle.failed(client);
    }
    if (!admin && !reader && !signedHook(rc, path)) {
      rc.response().putHeader("WWW-Authenticate", "Bearer realm=\"dynofleet\"");
      endsConnection(
          rc,
          () ->
              problem(
                  rc,
                  Problem.of(
                      401,
                      "unauthorized",
                      "Unauthorized",
                      hookPath(rc, path) ? HooksResource.UNSIGNED : refused(header))));
      return;
    }
    if (reader && !READS.contains(rc.request().method())) {
      readOnlyRefused(
          rc,
          "this token (DYNOFLEET_READ_TOKEN) may only read: GET, HEAD and OPTIONS; changes need"
              + " DYNOFLEET_API_TOKEN");
      return;
    }
    if (reader && webhookSecretPath(path)) {
      // a pool's webhook secret signs notifications that call up passes: the read-only token is
      // handed to Prometheus and viewers, so it reads the pool but never this
      readOnlyRefused(rc, NO_WEBHOOK_SECRET_FOR_READER);
      return;
    }
    if (reader) {
      rc.put(READER, Boolean.TRUE);
    }
    String length = rc.request().getHeader(HttpHeaders.CONTENT_LENGTH);
    boolean body =
        rc.request().headers().contains(HttpHeaders.TRANSFER_ENCODING)
            || (length != null && !length.trim().equals("0"));
    if (body && isApi(path) && !rc.request().headers().contains(HttpHeaders.CONTENT_TYPE)) {
      // RESTEasy took a body without a type as JSON; the docs promise 415 for anything else
      endsConnection(
          rc,
          () ->
              problem(
                  rc,
                  Problem.of(
                      415,
                      "unsupported-media-type",
                      "Unsupported media type",
                      "send Content-Type: application/json (or application/merge-patch+json for PATCH)")));
      return;
    }
    // a notification let through on its say-so of a signature: its body is read here under the
    // hook's own small limit, a bounded number at a time and within a deadline (security review 4
    // S4-1: bodies of up to the API's 1 MiB, held open unsigned, without bound in number, took a
    // 256 MB dyno's heap and left it answering nothing)
    boolean hook = !admin && !reader && hookPath(rc, path);
    int max = hook ? HOOK_MAX_BODY_BYTES : config.maxBodyBytes();
    if (length != null && isApi(path)) {
      long n;
      try {
        n = Long.parseLong(length.trim());
      } catch (NumberFormatException ex) {
        n = Long.MAX_VALUE;
      }
      if (n > max) {
        tooLarge(rc, hook, max);
        return;
      }
    }
    if (hook && body) {
      String from = client(rc);
      boolean own = hookReadsTaken(from);
      if (!own || !hookReads.tryAcquire()) {
        if (own) {
          hookReadsGiven(from);
        }
        rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
        endsConnection(
            rc,
            () ->
                problem(
                    rc,
                    Problem.of(
                        503,
                        "hook-busy",
                        "Too many notifications at once",
                        own
                            ? "more than "
                                + HOOK_READS
                                + " webhook notifications are being read at once: try again in 5 s"
                            : "this client has "
                                + HOOK_READS_PER_CLIENT
                                + " webhook notifications being read already, the most one client"
                                + " may: try again in 5 s")));
        return;
      }
      readBody(rc, max, from);
      return;
    }
    if (length == null
        && isApi(path)
        && rc.request().headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
      readBody(rc, max, null);
      return;
    }
    rc.next();
  }

  /**
   * The largest webhook notification read, in bytes: Heroku's release notifications are a few KB.
   */
  static final int HOOK_MAX_BODY_BYTES = 64 * 1024;

  /** Webhook notifications whose bodies may be read at once (each at most the limit above). */
  static final int HOOK_READS = 16;

  /** A webhook notification's body must arrive whole within this, from its headers. */
  static final long HOOK_BODY_DEADLINE_MS = 10_000;

  /**
   * Of {@link #HOOK_READS}, those one client ({@link #client}: on a dyno the router's last {@code
   * X-Forwarded-For} entry, else the connection's address) may hold: 16 trickling connections from
   * one client held every slot, and every real notification got 503 (review 29 R29-11).
   */
  static final int HOOK_READS_PER_CLIENT = 4;

  private final java.util.concurrent.Semaphore hookReads =
      new java.util.concurrent.Semaphore(HOOK_READS);

  /**
   * The slots each client holds; an entry goes with its last slot, so there are at most {@link
   * #HOOK_READS} entries and a few more in passing.
   */
  private final java.util.concurrent.ConcurrentHashMap<String, Integer> hookReaders =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Takes one of the client's own slots; false when it holds all it may. */
  private boolean hookReadsTaken(String client) {
    boolean[] taken = {false};
    hookReaders.compute(
        client,
        (k, n) -> {
          int held = n == null ? 0 : n;
          if (held >= HOOK_READS_PER_CLIENT) {
            return n;
          }
          taken[0] = true;
          return held + 1;
        });
    return taken[0];
  }

  /** Gives one of the client's own slots back. */
  private void hookReadsGiven(String client) {
    hookReaders.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
  }

  /** Webhook bodies being read now (for tests). */
  int hookReadsInUse() {
    return HOOK_READS - hookReads.availablePermits();
  }

  /** Clients holding a slot now (for tests: the entries go with the slots). */
  int hookReadersHeld() {
    return hookReaders.size();
  }

  private void tooLarge(RoutingContext rc, boolean hook, int max) {
    endsConnection(
        rc,
        () ->
            problem(
                rc,
                Problem.of(
                    413,
                    "body-too-large",
                    "Body too large",
                    (hook ? "the webhook accepts notifications" : "the API accepts bodies")
                        + " up to "
                        + max
                        + " bytes")));
  }

  /**
   * An answer given before the request's body was read: the connection ends after it (the rest of
   * the body read and dropped), as for a chunked body. Kept open, a client that writes its whole
   * body before it reads (Python's urllib) waited for its own timeout.
   */
  private static void endsConnection(
      RoutingContext rc, java.util.function.Supplier<io.vertx.core.Future<Void>> answer) {
    HttpServerRequest req = rc.request();
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    boolean body =
        !req.isEnded()
            && (req.headers().contains(HttpHeaders.TRANSFER_ENCODING)
                || (length != null && !length.trim().equals("0")));
    if (!body) {
      answer.get();
      return;
    }
    rc.response().putHeader(HttpHeaders.CONNECTION, "close");
    answer.get().onComplete(ar -> LingeringClose.after(rc.vertx(), req));
  }

  /**
   * An API body read here up to {@code max} and handed to RESTEasy whole (it takes a body already
   * read): a chunked one (left to RESTEasy, it was buffered up to Quarkus's server-wide limit, the
   * proxy's 100 MB, and past it answered a bare 413), and every webhook notification's. A hook's
   * (its {@code hookClient} not null) holds one of {@link #hookReads}, and one of that client's,
   * until its body is read or given up, and is answered 408 if the body is not whole within {@link
   * #HOOK_BODY_DEADLINE_MS}.
   */
  private void readBody(RoutingContext rc, int max, String hookClient) {
    boolean hook = hookClient != null;
    HttpServerRequest req = rc.request();
    Buffer body = Buffer.buffer();
    boolean[] done = {false};
    Runnable release =
        hook
            ? new Runnable() {
              private boolean released;

              @Override
              public void run() {
                if (!released) {
                  released = true;
                  hookReads.release();
                  hookReadsGiven(hookClient);
                }
              }
            }
            : () -> {};
    long deadline =
        hook
            ? rc.vertx()
                .setTimer(
                    HOOK_BODY_DEADLINE_MS,
                    id -> {
                      if (done[0]) return;
                      done[0] = true;
                      release.run();
                      rc.response().putHeader(HttpHeaders.CONNECTION, "close");
                      problem(
                              rc,
                              Problem.of(
                                  408,
                                  "body-timeout",
                                  "Body not received in time",
                                  "a webhook notification's body must arrive whole within "
                                      + HOOK_BODY_DEADLINE_MS / 1000
                                      + " s"))
                          .onComplete(ar -> req.connection().close());
                    })
            : -1;
    if (hook) {
      // a client gone before its body ended gives its slot back (through the routing context's
      // end handlers: a close handler of the response's own replaced vertx-web's, review 29 R29-10)
      rc.addEndHandler(v -> release.run());
    }
    req.exceptionHandler(
        e -> {
          done[0] = true;
          release.run();
          rc.vertx().cancelTimer(deadline);
        });
    req.handler(
        chunk -> {
          if (done[0]) return;
          if (body.length() + chunk.length() > max) {
            done[0] = true;
            release.run();
            rc.vertx().cancelTimer(deadline);
            // once the answer is out, the rest of the body
            // is read and dropped, then the connection ends
            tooLarge(rc, hook, max);
            return;
          }
          body.appendBuffer(chunk);
        });
    req.endHandler(
        v -> {
          if (done[0]) return;
          done[0] = true;
          release.run();
          rc.vertx().cancelTimer(deadline);
          ((RoutingContextInternal) rc).setBody(body);
          // the 100 is answered: RESTEasy would send a second one after the body
          req.headers().remove(HttpHeaders.EXPECT);
          rc.next();
        });
    if (req.version() != io.vertx.core.http.HttpVersion.HTTP_1_0
        && req.headers().contains(HttpHeaders.EXPECT, HttpHeaders.CONTINUE, true)) {
      rc.response().writeContinue(); // RFC 9110 10.1.1: not to HTTP/1.0
    }
    req.resume();
  }

  /**
   * On a dyno, a request under the prefix that reached Heroku's router over plain http (its {@code
   * X-Forwarded-Proto}, which the router sets): the dashboard's pages are redirected to https, and
   * a request carrying a token refused, since it travelled in clear (security review 1). Requests
   * without one go on: health for uptime checks, a signed webhook, public metrics, or a 401 (review
   * 10: a signed hook to an http public URL got 403). True when answered here.
   */
  private boolean plainHttp(RoutingContext rc, String path) {
    if (path == null
        || !(path.equals(prefix) || path.startsWith(prefix + "/"))
        || path.startsWith(prefix + "/q/health")
        || !reachedOverHttp(rc.request())) {
      return false;
    }
    String host = rc.request().getHeader(HttpHeaders.HOST);
    boolean page =
        path.equals(prefix + "/")
            || path.equals(prefix + "/index.html")
            || path.startsWith(prefix + "/ui/")
            || path.equals(prefix);
    io.vertx.core.http.HttpMethod m = rc.request().method();
    if (page
        && host != null
        && (m == io.vertx.core.http.HttpMethod.GET || m == io.vertx.core.http.HttpMethod.HEAD)) {
      rc.response()
          .setStatusCode(308)
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
          .putHeader(HttpHeaders.LOCATION, httpsLocation(rc.request()))
          .end();
      return true;
    }
    if (rc.request().getHeader(HttpHeaders.AUTHORIZATION) == null) {
      return false;
    }
    endsConnection(
        rc,
        () ->
            problem(
                rc,
                Problem.of(
                    403,
                    "https-required",
                    "HTTPS required",
                    "the management API takes its token over https only: call https://"
                        + (host == null ? "<this app>" : host)
                        + prefix
                        + " (and rotate the token if it was sent over http)")));
    return true;
  }

  /**
   * Whether the request reached Heroku's router over plain http. Only on a dyno, where {@code
   * X-Forwarded-Proto} is the router's (it replaces a client's); elsewhere nothing says how the
   * client came, and a client's own header is no proof. The dashboard's redirect and the token's
   * refusal here, and a pool's {@code httpsRedirect} in the proxy, all go by it.
   */
  public boolean reachedOverHttp(HttpServerRequest req) {
    return onDyno && "http".equalsIgnoreCase(req.getHeader(X_FORWARDED_PROTO));
  }

  private static final CharSequence X_FORWARDED_PROTO =
      HttpHeaders.createOptimized("X-Forwarded-Proto");

  /**
   * The request's address at https: {@code https://<Host><path>?<query>}, the path and query as
   * received. The path, not the request target: an absolute-form one carries a scheme and host
   * (audit 11). Null without a Host.
   */
  public static String httpsLocation(HttpServerRequest req) {
    String host = req.getHeader(HttpHeaders.HOST);
    if (host == null) {
      return null;
    }
    String query = req.query();
    return "https://" + host + req.path() + (query == null ? "" : "?" + query);
  }

  /** On a Heroku dyno ({@code DYNO} is set). */
  public boolean onDyno() {
    return onDyno;
  }

  /**
   * Who a request came from, for the throttling of failed attempts: on a dyno the last address of
   * {@code X-Forwarded-For}, the one Heroku's router appends (what comes before it is the client's
   * to choose); elsewhere, or without one, the connection's address.
   */
  String client(RoutingContext rc) {
    List<String> lines = rc.request().headers().getAll("X-Forwarded-For");
    io.vertx.core.net.SocketAddress remote = rc.request().remoteAddress();
    return clientAddress(
        lines.isEmpty() ? null : String.join(",", lines),
        remote == null ? "unknown" : remote.hostAddress());
  }

  /**
   * The client's address as {@link #client} decides it, from a request's {@code X-Forwarded-For}
   * (its lines joined by commas; null for none) and its connection's address: the proxy tells it
   * the backends in {@code X-Dynofleet-Client-Ip} (audit 20 H2).
   */
  public String clientAddress(String forwardedFor, String peer) {
    if (onDyno && forwardedFor != null) {
      String last = lastEntry(forwardedFor);
      if (last != null) {
        return last;
      }
    }
    return peer;
  }

  /** The last non-blank entry of a comma-separated list, trimmed; null if none. */
  static String lastEntry(String list) {
    int end = list.length();
    while (end > 0) {
      int comma = list.lastIndexOf(',', end - 1);
      String part = list.substring(comma + 1, end).trim();
      if (!part.isEmpty()) {
        return part;
      }
      end = comma < 0 ? 0 : comma;
    }
    return null;
  }

  /**
   * Why a request's credential was refused, without the token sent or any hint of the one that
   * would do: a wrong token, a token without {@code Bearer} and none at all were all told "send
   * Authorization: Bearer", which left a stale token looking like a missing one (audit 22 L6).
   */
  static String refused(String authorization) {
    if (authorization == null || authorization.isBlank()) {
      return "send Authorization: Bearer <DYNOFLEET_API_TOKEN>";
    }
    String sent = authorization.strip();
    if (sent.equalsIgnoreCase("Bearer")
        || (sent.regionMatches(true, 0, "Bearer ", 0, 7) && sent.substring(7).isBlank())) {
      return "the token is empty: send Authorization: Bearer <DYNOFLEET_API_TOKEN>";
    }
    if (!sent.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return "the Authorization header is not a Bearer one: send Authorization: Bearer"
          + " <DYNOFLEET_API_TOKEN> (add \"Bearer \" before the token)";
    }
    return "the token was not accepted: it is not this Dynofleet's API token (rotated? another"
        + " Dynofleet's?)";
  }

  /**
   * {@code Authorization: Bearer <the read-only token>} (or its previous value while a rotation
   * runs), when one is in force.
   */
  private boolean readerMatches(String authorization) {
    if (!readOnlyToken()
        || authorization == null
        || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] presented = sha256(authorization.substring(7).trim());
    return either(presented, readDigest, previousReadDigest);
  }

  /** Whether {@code presented} is {@code a} or {@code b} (either may be null), both compared. */
  private static boolean either(byte[] presented, byte[] a, byte[] b) {
    boolean first = a != null && MessageDigest.isEqual(presented, a);
    boolean second = b != null && MessageDigest.isEqual(presented, b);
    return first | second;
  }

  /**
   * {@code Authorization: Bearer} with the API token or the read-only one (or a previous value of
   * either while a rotation runs): Dynofleet's own, which the proxy never passes on to a backend.
   */
  public boolean ownBearer(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] presented = sha256(authorization.substring(7).trim()); // once, for every token
    boolean api = either(presented, digest(), previousDigest);
    boolean read = either(presented, readDigest, previousReadDigest);
    return api | read; // all compared, whichever matched
  }

  /** {@code Authorization: Bearer <the API token>}. */
  public boolean bearerMatches(String authorization) {
    return authorization != null
        && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
        && matches(authorization.substring(7).trim());
  }

  /**
   * A webhook notification that says it is signed, where a webhook secret is configured: it goes on
   * without a token, and {@link HooksResource} checks the signature against the body (which is not
   * read yet here) before it does anything.
   */
  private boolean signedHook(RoutingContext rc, String path) {
    return webhookSecret() != null
        && hookPath(rc, path)
        && rc.request().getHeader(HooksResource.SIGNATURE) != null;
  }

  /** A 403 {@code read-only-token} problem saying why, and the connection ends after it. */
  private void readOnlyRefused(RoutingContext rc, String detail) {
    endsConnection(
        rc, () -> problem(rc, Problem.of(403, "read-only-token", "Read-only token", detail)));
  }

  /** {@code .../v1/pools/NAME/webhook-secret}: the admin token's only, whatever the method. */
  private boolean webhookSecretPath(String path) {
    String pools = prefix + "/api/v1/pools/";
    // matrix parameters (;x=1) are dropped by RESTEasy before it matches a route: drop them here
    // too, so no spelling of the path routes there unrefused (review 27 #1)
    String p = path.indexOf(';') < 0 ? path : path.replaceAll(";[^/]*", "");
    p = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    return p.startsWith(pools) && p.endsWith("/" + PoolsResource.WEBHOOK_SECRET);
  }

  /**
   * A POST to the webhook: it takes signed notifications only (never the API token), so a refusal
   * says how to sign rather than which token to send.
   */
  private boolean hookPath(RoutingContext rc, String path) {
    return path.equals(prefix + HooksResource.PATH)
        && rc.request().method() == io.vertx.core.http.HttpMethod.POST;
  }

  /**
   * The body's Heroku webhook signature (base64 of its HMAC-SHA256 under the configured secret),
   * compared in constant time; false when no secret is configured.
   */
  public boolean signatureMatches(byte[] body, String signature) {
    return signatureMatches(body, signature, webhookSecret());
  }

  /** The body's Heroku webhook signature under {@code secret}; false when it is null. */
  static boolean signatureMatches(byte[] body, String signature, String secret) {
    if (secret == null || signature == null) {
      return false;
    }
    byte[] presented;
    try {
      presented = Base64.getDecoder().decode(signature.trim());
    } catch (IllegalArgumentException e) {
      return false;
    }
    return MessageDigest.isEqual(hmac(secret, body), presented);
  }

  /**
   * Heroku's signature of a webhook notification: base64 of its body's HMAC-SHA256 under the
   * secret.
   */
  public static String signature(String secret, byte[] body) {
    return Base64.getEncoder().encodeToString(hmac(secret, body));
  }

  /**
   * The pool's own webhook secret, derived from {@code DYNOFLEET_WEBHOOK_SECRET}: the one its
   * subscription ({@code ?pool=NAME}) is given and checked against, and the only one to hand to
   * whoever subscribes an app Dynofleet's key may not touch. It signs for that pool alone, and the
   * master secret cannot be worked back from it (security review 3 #4); null without a webhook
   * secret.
   */
  public String poolWebhookSecret(String pool) {
    String master = webhookSecret();
    return master == null ? null : derive(master, pool);
  }

  /**
   * Hex of HMAC-SHA256({@code master}, "hook:" + {@code pool}): 64 characters Heroku takes as a
   * webhook secret, as it takes the hex of {@code openssl rand -hex 32}.
   */
  static String derive(String master, String pool) {
    return java.util.HexFormat.of()
        .formatHex(hmac(master, ("hook:" + pool).getBytes(StandardCharsets.UTF_8)));
  }

  private static byte[] hmac(String secret, byte[] body) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(
          new javax.crypto.spec.SecretKeySpec(
              secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac.doFinal(body);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The webhook secret: the configured one; in sandbox mode without one, a random one made for this
   * run when pools subscribe their source apps ({@code dynofleet.reconcile.webhooks}: the
   * simulator's notifications are signed with it); otherwise null.
   */
  public String webhookSecret() {
    String s = hookSecret;
    if (s != null) {
      return s.isEmpty() ? null : s;
    }
    synchronized (this) {
      if (hookSecret == null) {
        String configured = config.webhookSecret().filter(x -> !x.isBlank()).orElse(null);
        if (configured == null && sandbox() && subscribing) {
          byte[] random = new byte[32];
          new SecureRandom().nextBytes(random);
          configured = java.util.HexFormat.of().formatHex(random);
        }
        hookSecret = configured == null ? "" : configured;
      }
      return hookSecret.isEmpty() ? null : hookSecret;
    }
  }

  boolean protectedPath(String path) {
    if (path == null || !(path.equals(prefix) || path.startsWith(prefix + "/"))) {
      return false;
    }
    if (path.equals(prefix + "/")
        || path.equals(prefix + "/index.html")
        || path.startsWith(prefix + "/ui/")) {
      // The dashboard's static files hold no data; everything they show comes from the API.
      return false;
    }
    if (path.equals(prefix + "/q/openapi")
        || path.equals(prefix + "/q/swagger-ui")
        || path.startsWith(prefix + "/q/swagger-ui/")) {
      // The API's description and Swagger UI's files hold no data either (the same as docs/api.md):
      // behind the token a browser, which sends no header, could use neither (audit 13). Swagger
      // UI's Authorize takes the token for the calls it makes.
      return false;
    }
    // health is public (Heroku and uptime checks);
    // metrics only when DYNOFLEET_METRICS_PUBLIC says so
    return !path.startsWith(prefix + "/q/health")
        && !(config.metricsPublic() && path.startsWith(prefix + "/q/metrics"));
  }

  private boolean isApi(String path) {
    return path.startsWith(prefix + "/api");
  }

  /** Constant-time check of a presented token: the API token, or its previous value if set. */
  public boolean matches(String presented) {
    return either(sha256(presented), digest(), previousDigest);
  }

  private byte[] digest() {
    byte[] d = tokenDigest;
    if (d != null) {
      return d;
    }
    synchronized (this) {
      if (tokenDigest == null) {
        // trimmed as the presented one is: a stray newline from $(cat file) locked everyone out
        String token = config.token().map(String::trim).filter(t -> !t.isBlank()).orElse(null);
        if (token == null) {
          if (!sandbox() || onDyno) {
            // on a dyno the generated token would be printed into the app's logs and their drains
            throw new StartRefused(
                "DYNOFLEET_API_TOKEN is not set: outside a local sandbox the"
                    + " management API refuses to run unauthenticated (a token is generated only for a sandbox off"
                    + " Heroku). Set it (e.g. heroku config:set DYNOFLEET_API_TOKEN=$(openssl rand -hex 32)).");
          }
          byte[] random = new byte[24];
          new SecureRandom().nextBytes(random);
          token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
          generated = true;
          // Printed once by the sandbox banner (SandboxDemo): a generated, sandbox-only token.
          sandboxToken = token;
        }
        tokenDigest = sha256(token);
      }
      return tokenDigest;
    }
  }

  private boolean sandbox() {
    return rawConfig
        .getOptionalValue("dynofleet.heroku.api-key", String.class)
        .or(() -> rawConfig.getOptionalValue("HEROKU_API_KEY", String.class))
        .filter(k -> !k.isBlank())
        .isEmpty();
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static io.vertx.core.Future<Void> problem(RoutingContext rc, Problem p) {
    return rc.response()
        .setStatusCode(p.status())
        .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
        .end(
            Json.encode(
                new Problem(
                    p.type(), p.title(), p.status(), p.detail(), rc.normalizedPath(), p.errors())));
  }
}
