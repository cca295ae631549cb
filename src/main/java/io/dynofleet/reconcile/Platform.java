package io.dynofleet.reconcile;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What the reconciler needs from Heroku, and nothing more: the seam between the reconcile logic and
 * the Platform API (as {@code PodControlInterface} is for the ReplicaSet controller). The
 * production implementation is {@link HerokuPlatform}; unit tests use an in-memory fake. Failures
 * are {@link PlatformException}s classified for the reconciler's decisions.
 */
public interface Platform {

  /**
   * An app; {@code region}, {@code stack} and {@code generation} ({@code cedar}, or {@code fir}
   * whose releases are OCI images, not slugs) by name, null when not known. {@code ownerId}: the id
   * of the account that owns it ({@code owner.id}: a user's, or a team's for a team app); {@code
   * team}: the name of the team that owns it, null for a user's app; both null when not known.
   */
  record App(
      String id,
      String name,
      String webUrl,
      Instant createdAt,
      String region,
      String stack,
      String generation,
      boolean maintenance,
      String ownerId,
      String team) {
    public App(
        String id,
        String name,
        String webUrl,
        Instant createdAt,
        String region,
        String stack,
        String generation,
        boolean maintenance) {
      this(id, name, webUrl, createdAt, region, stack, generation, maintenance, null, null);
    }

    public App(
        String id,
        String name,
        String webUrl,
        Instant createdAt,
        String region,
        String stack,
        String generation) {
      this(id, name, webUrl, createdAt, region, stack, generation, false);
    }

    public App(String id, String name, String webUrl, Instant createdAt) {
      this(id, name, webUrl, createdAt, null, null, null);
    }
  }

  /**
   * A release of an app; {@code slugId} is null for config-only releases without code; {@code
   * outputStreamUrl} is where its release phase's output streams (null when none).
   */
  record Release(
      String id,
      int version,
      String slugId,
      String status,
      String description,
      String outputStreamUrl) {
    public Release(String id, int version, String slugId, String status, String description) {
      this(id, version, slugId, status, description, null);
    }

    public boolean succeeded() {
      return "succeeded".equals(status);
    }

    public boolean failed() {
      return "failed".equals(status) || "expired".equals(status);
    }
  }

  record Coupling(String id, String appId, String stage) {}

  /** An app webhook subscription (its secret is never shown again once set). */
  record Webhook(String id, String url, List<String> include) {}

  /**
   * An add-on the app sees, and the names it is attached under there ({@code DATABASE} gives {@code
   * DATABASE_URL}): a backend is attached under the same ones, so a leader and a follower database
   * keep their roles. {@code shareable}: its service lets it be attached to other apps (many
   * partner add-ons do not).
   */
  record Addon(
      String id, String name, List<String> configVars, List<String> attachedAs, boolean shareable) {
    public Addon(String id, String name, List<String> configVars) {
      this(id, name, configVars, List.of(), true);
    }

    public Addon(String id, String name, List<String> configVars, List<String> attachedAs) {
      this(id, name, configVars, attachedAs, true);
    }
  }

  /**
   * A pipeline: its id, and the name of the team that owns it (null when a user does). Heroku
   * couples only apps of the pipeline's owner.
   */
  record Pipeline(String id, String team) {}

  /** The pipeline for an id or name. */
  Pipeline pipeline(String idOrName);

  /**
   * Creates an app, owned by {@code team} when not null (else by the key's user); {@link
   * PlatformException.Kind#NAME_TAKEN} when the name is in use.
   */
  App createApp(String name, String region, String stack, String team);

  /** The app, or empty when it does not exist. */
  Optional<App> app(String idOrName);

  /**
   * The id of the user the API key belongs to ({@code GET /account}, read once), or null when not
   * known. Abstract on purpose: a wrapper that forgot to delegate would make every unmarked app
   * look foreign, and every lost create a {@code NameTaken} plus an orphaned app (review 30
   * R30-I1).
   */
  String accountId();

  /**
   * The id of the user who made the app: the user of its release v1, Heroku's initial release,
   * which the app's create makes; null when not known (none, or no user on it). Abstract for the
   * reason {@link #accountId} is.
   */
  String madeBy(String app);

  /**
   * Every app the key sees ({@code GET /apps}, paged: one call per page of up to 1,000 apps): read
   * once for many backends at a time rather than {@link #app} for each.
   */
  List<App> apps();

  /** Deletes an app; an app already gone is not an error. */
  void deleteApp(String idOrName);

  Map<String, String> configVars(String app);

  /**
   * The config vars a release of the app runs with (a failed newer one may have changed the app's).
   */
  Map<String, String> releaseConfigVars(String app, String releaseId);

  /** Merges vars into the app's config (a null value deletes). */
  void patchConfigVars(String app, Map<String, String> vars);

  /** The newest release of an app, or empty when it has none (conditional GET where possible). */
  /**
   * The app's newest releases, newest first (a few: enough to find the last good one behind failed
   * ones).
   */
  List<Release> recentReleases(String app);

  /**
   * The app's newest releases, newest first: the page {@link #recentReleases} reads, then older
   * pages until a page holds one {@code wanted} accepts, at most {@code pages} pages in all (the
   * last good release behind more failed ones than a page holds; audit 19 #2).
   */
  List<Release> recentReleasesUntil(
      String app, java.util.function.Predicate<Release> wanted, int pages);

  Release release(String app, String releaseId);

  /**
   * The last lines of a release phase's output, read from the release's {@code outputStreamUrl} (at
   * most {@code maxLines}); empty when there is none to read.
   */
  default List<String> releaseOutput(String outputStreamUrl, int maxLines) {
    return List.of();
  }

  /**
   * The app's last log lines of its own (Logplex's {@code app} source: its dynos, its release
   * phase, the API's lines about it), at most {@code maxLines}, oldest first; each is one Platform
   * API call and a bounded read of the stream it hands out. Read before a failed backend's app is
   * deleted: its logs go with it. Empty when there is none to read.
   */
  default List<String> logTail(String app, int maxLines) {
    return List.of();
  }

  /** Releases a slug (built for any app of the account) onto {@code app}. */
  Release createRelease(String app, String slugId, String description);

  /** Scales the web process type. */
  void scaleWeb(String app, int quantity, String size);

  /** An app's web process: how many dynos, of which size (0 and null when it has none). */
  record Web(int quantity, String size) {}

  /** The app's web process as Heroku runs it now. */
  Web web(String app);

  /** Every app coupled to the pipeline (paged to the end). */
  List<Coupling> couplings(String pipelineId);

  Coupling couple(String app, String pipelineId, String stage);

  /** Restarts all dynos of an app. */
  void restart(String app);

  List<Addon> addons(String app);

  /**
   * Attaches an existing add-on to another app (it sets the add-on's config vars there), under
   * {@code name} ({@code name_URL}, ...), or Heroku's choice when null.
   */
  void attachAddon(String addonId, String app, String name);

  /** An attachment of an add-on to an app, by the add-on's id and the attachment's name. */
  record Attachment(String addonId, String name) {}

  /** The add-on attachments of an app. */
  List<Attachment> attachments(String app);

  /**
   * A log drain of an app; {@code addon}: a logging add-on made it (it goes with the add-on). The
   * url may hold a secret (a token in it): it is never logged nor put in events or status.
   */
  record LogDrain(String url, boolean addon) {
    @Override
    public String toString() {
      return addon ? "LogDrain[add-on's]" : "LogDrain[user's]";
    }
  }

  /** The app's log drains, its users' and its add-ons'. */
  List<LogDrain> logDrains(String app);

  /**
   * Adds a log drain to the app; {@link PlatformException.Kind#INVALID} when Heroku refuses it, as
   * it does a url the app has already (a retried step).
   */
  void addLogDrain(String app, String url);

  /** The names of the app's enabled labs features ({@code heroku labs:enable}). */
  java.util.Set<String> features(String app);

  /** Enables a labs feature of the app (already enabled is no error). */
  void enableFeature(String app, String feature);

  /** The app's webhook subscriptions. */
  List<Webhook> webhooks(String app);

  /**
   * Subscribes {@code url} to the app's {@code api:release} events, each notification signed with
   * {@code secret} (one delivery attempt: the notification is only a hint to look now).
   */
  Webhook subscribe(String app, String url, String secret);

  /** Sets an existing subscription to release events signed with {@code secret}. */
  void resubscribe(String app, String webhookId, String secret);

  /** Removes a subscription; one (or an app) already gone is not an error. */
  void unsubscribe(String app, String webhookId);

  /**
   * Platform API calls made so far by the calling thread (for calls-per-pass accounting: passes of
   * other pools run at the same time on other threads and must not be counted in this one).
   */
  long calls();

  /**
   * Whether a value holds the Platform API key Dynofleet itself uses (as it is, URL- or
   * base64-encoded, alone or inside a longer text: {@code HerokuClient.holdsKey}): a source app
   * that holds it is not copied. A search, not a constant-time comparison (the comment said one):
   * the values are the source app's config vars, read by a pass whose time nobody outside sees per
   * var, not guesses someone submits and times.
   */
  default boolean isOwnKey(String value) {
    return false;
  }

  /**
   * The simulated Platform API's base URL ({@code http://127.0.0.1:41929/}) in sandbox mode, where
   * advice names its {@code /__sandbox} routes instead of the {@code heroku} CLI; null on Heroku.
   */
  default String simulatorUrl() {
    return null;
  }

  /** A short fingerprint of the key in use (never the key), to tell two processes' keys apart. */
  default String keyFingerprint() {
    return "none";
  }

  /** Requests left in the rate-limit window, as last reported by the API. */
  int rateRemaining();

  /**
   * Whether a call sent now would wait for a turn of the rate limiter (the budget under the low
   * watermark, or a 429's pause): what a pass can do without a call is then done first. Platforms
   * without a budget never pace.
   */
  default boolean paced() {
    return false;
  }

  /**
   * How long after a request is begun Heroku may still carry it out: it may wait (pacing, 429s)
   * before it leaves, its answer may take the read timeout, and Heroku may finish it after that. A
   * POST that may have been carried out ({@link PlatformException#mayLand()}: no answer, or a 5xx)
   * is neither taken for never made nor sent again before this is over (audit 19 #6, #11; review 24
   * #1).
   */
  Duration sendWindow();

  /**
   * Registers {@code listener} to run on the calling thread whenever a call is about to wait out a
   * 429 (with how long it waits). Platforms that never wait need not call it.
   */
  default void onRateLimitWait(Consumer<Duration> listener) {}

  /**
   * Tells the platform how many Dynofleet dynos share the account's budget ({@code dynos}, this one
   * included, read at each paced call: it must be cheap), so that its calls under the low watermark
   * take this process's share of the refill. Platforms without a budget ignore it.
   */
  default void shareBudget(java.util.function.IntSupplier dynos) {}

  /**
   * Registers {@code listener} to run on the calling thread whenever a call fails transiently (5xx,
   * connect failure, timeout), retried or not, with the failure's message.
   */
  default void onTransientFailure(Consumer<String> listener) {}

  /** Failure of a Platform call, classified for the reconciler. */
  final class PlatformException extends RuntimeException {
    /** BILLING: 402, the account must be verified or have a payment method (review 6). */
    public enum Kind {
      NOT_FOUND,
      NAME_TAKEN,
      UNAUTHORIZED,
      FORBIDDEN,
      BILLING,
      INVALID,
      RATE_LIMITED,
      TRANSIENT
    }

    private final Kind kind;
    private final Duration retryAfter;
    private final String reason;
    private final boolean mayLand;

    public PlatformException(Kind kind, String message, Duration retryAfter, Throwable cause) {
      this(kind, message, retryAfter, cause, null, false);
    }

    private PlatformException(
        Kind kind,
        String message,
        Duration retryAfter,
        Throwable cause,
        String reason,
        boolean mayLand) {
      super(message, cause);
      this.kind = kind;
      this.retryAfter = retryAfter;
      this.reason = reason;
      this.mayLand = mayLand;
    }

    /**
     * A transient failure after which what was sent may have been carried out, or may still be (see
     * {@link Platform#sendWindow()}): no answer at all (a timeout, a reset, no connection), or a
     * 5xx. A gateway in front of the API service answers 502, 503 or 504 for a request it stopped
     * waiting for, which the service may finish all the same (review 24 #1: such an answer was
     * taken for "not done", a second release was sent, and a drained create's late app was left an
     * orphan).
     */
    public static PlatformException mayHaveLanded(String message, Throwable cause) {
      return new PlatformException(Kind.TRANSIENT, message, null, cause, null, true);
    }

    /**
     * The same failure told as {@code message}, and given the Degraded {@code reason} (null: the
     * kind's) where the kind's would mislead: a refused app create is {@code CreateFailed}, not
     * {@code InvalidSpec} (audit 18 #6). The kind, which decides the retry, stays.
     */
    public PlatformException as(String reason, String message) {
      return new PlatformException(kind, message, retryAfter, this, reason, mayLand);
    }

    /**
     * No answer came, or a 5xx did: the request may have reached Heroku and may have been carried
     * out, or may still be. False for any other answer (a 4xx: Heroku refused it and is done with
     * it).
     */
    public boolean mayLand() {
      return mayLand;
    }

    /** The Degraded reason this failure asks for, or null for its kind's. */
    public String reason() {
      return reason;
    }

    public PlatformException(Kind kind, String message) {
      this(kind, message, null, null);
    }

    public Kind kind() {
      return kind;
    }

    public Duration retryAfter() {
      return retryAfter;
    }

    /** Worth retrying later without any change of spec or credentials. */
    public boolean transientFailure() {
      return kind == Kind.TRANSIENT || kind == Kind.RATE_LIMITED;
    }
  }
}
