package io.dynofleet.reconcile;

import io.dynofleet.api.HookTarget;
import io.dynofleet.config.ReconcileConfig;
import io.dynofleet.pool.model.Backend;
import io.dynofleet.pool.model.Backend.Phase;
import io.dynofleet.pool.model.Backend.Step;
import io.dynofleet.pool.model.Pool;
import io.dynofleet.pool.model.PoolEvents;
import io.dynofleet.pool.model.PoolSpec;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.pool.model.PoolStatus.BackendStatus;
import io.dynofleet.pool.model.PoolStatus.Condition;
import io.dynofleet.pool.model.SpecDefaults;
import io.dynofleet.reconcile.Platform.PlatformException;
import io.dynofleet.reconcile.Platform.PlatformException.Kind;
import io.dynofleet.reconcile.ReconcileStore.FailedStreak;
import io.dynofleet.reconcile.ReconcileStore.FleetTimers;
import io.dynofleet.text.SafeText;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.jboss.logging.Logger;

/**
 * Converges one pool to its spec through the Platform API, one safe step at a time. Level-triggered
 * and idempotent: every pass reads the world (cheaply), computes what to do, does it, and records
 * status. Each backend app is made in resumable steps, and the database knows the app's name before
 * Heroku does, so a crash at any point is resolved by adopting what exists, never by creating a
 * twin; only apps recorded as ours are ever deleted.
 */
@ApplicationScoped
public class Reconciler {
  /** A config var's name as the drift text writes it unquoted. */
  private static final java.util.regex.Pattern PLAIN_VAR_NAME =
      java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  /** The config var that marks every app Dynofleet creates with the pool's uid. */
  public static final String OWNER_VAR = "DYNOFLEET_POOL";

  /**
   * The pool's proxy secret on every backend app (audit 20 H2): set with the marker at the config
   * step, outside the target's fingerprint, so its coming rolls no pool.
   */
  public static final String PROXY_SECRET_VAR = io.dynofleet.api.PoolValidator.PROXY_SECRET_VAR;

  /**
   * The labs feature that gives dynos {@code HEROKU_APP_NAME}, {@code HEROKU_SLUG_COMMIT} and the
   * like: enabled on each new backend of a source that has it, so an app that reads them at boot
   * starts (on a backend they name the backend's own app and release, the slug's commit is the
   * source's). Not part of the target: backends made before keep what they have.
   */
  static final String DYNO_METADATA = "runtime-dyno-metadata";

  /** The router's cookie affinity, which a pool of apps cannot give: warned about. */
  static final String SESSION_AFFINITY = "http-session-affinity";

  /** Heroku refills its 4500 calls an hour gradually: one call every 800 ms. */
  static final Duration REFILL_PER_CALL = Duration.ofMillis(800);

  /** The shortest time an idle pool goes unlooked at while the budget is under the reserve. */
  static final Duration IDLE_LOOK_MIN = Duration.ofSeconds(30);

  /** Joins a stalled target and the spec generation it stalled under (status.stalledRelease). */
  private static final String STALL_AT = "@g";

  /** {@link Pass#replacementBlocked}'s answer when the rate reserve holds a replacement back. */
  private static final String BUDGET_LOW = "the Platform API budget is low";

  private static final Logger LOG = Logger.getLogger(Reconciler.class);
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ReconcileStore store;
  private final PoolLocks locks;
  private final Platform platform;
  private final DataPlane dataPlane;

  /** Whether this process's proxy has loaded its routes once ({@link DataPlane#loaded}). */
  boolean routesLoaded() {
    return dataPlane.loaded();
  }

  private final PoolEvents events;
  private final ReconcileConfig config;
  private final Clock clock;
  private final Costs costs;
  private final SourceHooks hooks;
  private final ExecutorService workers;
  private final DistributionSummary callsPerPass;

  /** Per pool: the source snapshot last read (re-read only when the source release changes). */
  private final Map<UUID, Source> sources = new ConcurrentHashMap<>();

  /**
   * Per pool: the release config and the app the snapshot in {@link #sources} was made from, so a
   * re-read of the add-ons alone can make it again.
   */
  private final Map<UUID, SourceRead> sourceReads = new ConcurrentHashMap<>();

  private record SourceRead(String releaseId, Map<String, String> vars, Platform.App app) {
    @Override
    public String toString() {
      return "SourceRead[" + releaseId + "]"; // never the vars
    }
  }

  /**
   * Per source app (lower case): this process's last read of its newest releases, shared by the
   * passes of every pool that copies it. A pool waiting for its backends or for another pool's
   * release phase passes every 2 to 5 s, and each pass of each pool read them: the cost of a shared
   * source's rollout grew with the pools sharing it times its length (audit 25 F1).
   */
  private final Map<String, ReleasesLook> releasesLooked = new ConcurrentHashMap<>();

  private record ReleasesLook(Instant at, List<Platform.Release> recent) {}

  /**
   * While a coupled backend stays not ready or failing, the couplings are read again every this
   * many release polls (30 s by default): one deleted or decoupled by hand meanwhile is found.
   */
  private static final int TROUBLED_COUPLINGS = 6;

  /**
   * Per pool: the generation its last pass looked at the source's releases at (read, or a look of
   * {@link #releasesLooked} reused): a spec change reads them again.
   */
  private final Map<UUID, Long> releasesLookedAt = new ConcurrentHashMap<>();

  /**
   * Per pool: when its last pass on this process only waited (work in flight, no app made or drain
   * begun). Only the pass after such a one reuses a look at the source's releases: one after a
   * decision, an idle look or a change reads them (a new release is seen at the next pass).
   */
  private final Map<UUID, Instant> waited = new ConcurrentHashMap<>();

  /**
   * Per pool: the newest release id of the source read when its pin was last checked with no usable
   * release read (review 30 R30-8): the same list is of the same app, not checked again.
   */
  private final Map<UUID, String> pinCheckedAt = new ConcurrentHashMap<>();

  /** Per pool name, reads of the pool that failed in a row (the database away): their backoff. */
  private final Map<String, Integer> databaseFailures = new ConcurrentHashMap<>();

  /** Per source app (lower case): held while a pool checks for and starts a release from it. */
  private final Map<String, Object> sourceLocks = new ConcurrentHashMap<>();

  /** The reason (and the start of a pass's error) when the Platform API refused the key. */
  static final String KEY_REFUSED = "HerokuUnauthorized";

  /**
   * The reason when the source app's name now answers with another app than the one the pool copies
   * (its id pinned: {@link ReconcileStore#pinSource}): nothing is made or rolled out from it until
   * a human confirms it (security review 5, S5-6).
   */
  static final String SOURCE_REPLACED = "SourceReplaced";

  /**
   * The Warning when the source's release to roll out is lower than one the pool's backends were
   * made at by the same app (see {@code Pass#rolledOutFrom}).
   */
  static final String SOURCE_RELEASE_LOWER = "SourceReleaseLower";

  /**
   * The reasons of failures only a human mends ({@code Pass#needsHuman}): retried at max-backoff.
   * CreateFailed is a refused app create's (a 422: the account's app limit), of that kind too; its
   * line lacked the levers that retry sooner (audit 22 L6).
   */
  private static final List<String> HUMAN_REASONS =
      List.of(
          "InvalidSpec",
          "CreateFailed",
          KEY_REFUSED,
          "HerokuForbidden",
          "HerokuBilling",
          SOURCE_REPLACED);

  /**
   * Whether a failed pass's error ({@code "InvalidSpec: ..."}) waits for a human: retried at
   * max-backoff, at once after a spec change or at a restart's first sweep.
   */
  static boolean waitsForAHuman(String error) {
    return error != null && HUMAN_REASONS.stream().anyMatch(h -> error.startsWith(h + ":"));
  }

  /** A coupled backend's message while Heroku has given its app no web URL (audit 19 #8). */
  static final String NO_WEB_URL = "no web URL yet";

  private static final String WAITING_FOR_HEALTH = "waiting for health checks";

  /** A backend's release id while its release is sent and its answer not yet recorded. */
  static final String RELEASE_SENT = "sent";

  /** How the releases Dynofleet makes on a backend begin their description. */
  static final String RELEASE_DESCRIPTION = "Dynofleet: ";

  /**
   * Pages of the source's releases (ten each) read at most to find its last good one when none is
   * remembered: fifty releases, the last good one behind 49 failed.
   */
  static final int RELEASE_PAGES = 5;

  /** A release that runs a slug: one the backends can be made from. */
  private static boolean usable(Platform.Release r) {
    return r.succeeded() && r.slugId() != null;
  }

  /** Heroku ends a release phase after an hour: a release older than that holds no one up. */
  static final Duration RELEASE_PHASE_LIMIT = Duration.ofHours(1);

  /**
   * A backend's release still pending this long after it was sent is taken as failed: Heroku's hour
   * and a margin for its clock and ours. Heroku's end of the phase was all that bounded it, and a
   * release it left pending (an incident, a lost state) held the pool's other releases for good
   * (audit 19 #7).
   */
  static final Duration RELEASE_PENDING_LIMIT = RELEASE_PHASE_LIMIT.plusMinutes(5);

  /**
   * Added to a pool's routing timeout for the drain of a serving backend when {@code drain-time} is
   * not set: the time the other dynos' proxies take to hear of the drain (their sync, 2 s, on a
   * loaded dyno more) and the request's way there and back; the old fixed drain time.
   */
  static final Duration DRAIN_MARGIN = Duration.ofSeconds(10);

  /** {@code routing.timeoutSeconds} when a stored spec has none (SpecDefaults' default). */
  private static final int DEFAULT_ROUTING_TIMEOUT = 30;

  /**
   * How the drain of a backend whose release still ran ends its "drain until" (the bound, {@link
   * #RELEASE_PENDING_LIMIT} after the release was sent): its app is deleted once the release ends.
   */
  static final String AFTER_RELEASE = " or once its release ends";

  /** A backend drained while its release ran, whose app waits for that release to end. */
  static boolean waitsForRelease(Backend b) {
    return b.step == Step.DRAINING && b.message != null && b.message.endsWith(AFTER_RELEASE);
  }

  /**
   * Per pool, a target whose release is known to run no release phase: its apps release at once.
   */
  private final Map<UUID, String> noReleasePhase = new ConcurrentHashMap<>();

  /**
   * Releases of paused pools' backends read as ended ({@link ReconcileStore.ReleaseHolder#key}),
   * and when: they hold no other pool's release turn (audit 24 H1). Kept while such a row could
   * still be counted ({@link #RELEASE_PHASE_LIMIT}).
   */
  private final Map<String, Instant> releasesOver = new ConcurrentHashMap<>();

  /** When a paused pool's release was last read as still running: read again after a while. */
  private final Map<String, Instant> releasesRunning = new ConcurrentHashMap<>();

  /** How long a paused pool's release read as running is not read again by a waiting pool. */
  static final Duration RELEASE_LOOK_INTERVAL = Duration.ofSeconds(30);

  private final Map<String, Platform.Pipeline> pipelines = new ConcurrentHashMap<>();
  private final Map<String, Instant> pipelinesRead = new ConcurrentHashMap<>();
  private final Map<UUID, Integer> failures = new ConcurrentHashMap<>();

  /** Backends whose maintenance mode was told (once per spell, per process); gone when healthy. */
  private final Set<UUID> maintenanceTold = ConcurrentHashMap.newKeySet();

  /** Releases whose slow release phase was told (one event each per process), bounded. */
  private final Set<String> slowReleasesTold =
      java.util.Collections.newSetFromMap(
          java.util.Collections.synchronizedMap(
              new java.util.LinkedHashMap<String, Boolean>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > 1000;
                }
              }));

  /**
   * A backend's ejection as the passes saw it, by backend id: told only after a probe later than
   * the pass that first saw it passed (see repairReady). Spells readmitted and ejected again within
   * {@code replaceAfterSeconds} of the last pass that saw one are one ejection (review 28 #2).
   */
  private final Map<UUID, Ejection> ejections = new ConcurrentHashMap<>();

  /**
   * One backend's ejection, spells within a replace window of each other together. {@code spell}:
   * when a pass first saw the current spell (or the last, once {@code over}); {@code until}: a
   * replace window after the last pass that saw it ejected, when it is forgotten; {@code over}: a
   * pass saw it readmitted since; {@code passed}: a probe that passed after one of its spells began
   * was seen.
   */
  record Ejection(Instant spell, Instant until, boolean over, boolean passed) {}

  /** When a dead backend in a shared failure was last read anew for a rename, by backend id. */
  private final Map<UUID, Instant> renameLooked = new ConcurrentHashMap<>();

  /**
   * Pages of 1,000 apps the account's last {@code GET /apps} took (1 before any): a list costs that
   * many calls, so it replaces the reads of more backends than that only.
   */
  private volatile int appListPages = 1;

  /** Below this many backends due for a look, each is read by itself (a list costs at least 1). */
  static final int LIST_LOOKS_ABOVE = 2;

  /**
   * Pools whose creation waits for the rate budget to refill (their waits share the refill): the
   * budget left at their last look, and how many times the base wait they waited then.
   */
  private final Map<UUID, BudgetWait> budgetWaits = new ConcurrentHashMap<>();

  private record BudgetWait(int left, int factor, Instant at) {}

  /**
   * Per pool, the source app's newest release while it is pending, and when this process first saw
   * it so: how long it has been pending (see {@link Pass#releaseWait}).
   */
  private final Map<UUID, SourcePending> sourcePending = new ConcurrentHashMap<>();

  private record SourcePending(String releaseId, Instant since) {}

  /**
   * Pools whose last pass found nothing to do (every backend ready at the target, nothing in
   * flight): the generation it saw, when, and when such a pool looks again while the rate budget is
   * under the reserve (see {@link Pass#quietWhileBudgetLow}).
   */
  private final Map<UUID, IdleLook> idle = new ConcurrentHashMap<>();

  private record IdleLook(long generation, Instant at, Instant lookAgain) {}

  /**
   * Pools whose new source release a look found while subscribed with no delivery heard since the
   * release before was read (review 25 #3), not yet told: the delivery may be a moment behind the
   * look, so a pass at least {@link #HEARD_GRACE} later decides. Per process (the passes that roll
   * the release out come to this one); a restart forgets it, which only says nothing.
   */
  private final Map<UUID, Unheard> unheard = new ConcurrentHashMap<>();

  /**
   * @param since when the release before was read: a delivery heard after it may be this one's
   * @param foundAt when the look found it
   * @param version the release found
   */
  private record Unheard(Instant since, Instant foundAt, int version) {}

  /**
   * How long after a look found a release its delivery may still come before the pool is said
   * {@code WebhookSilent}: Heroku delivers within seconds; a look seldom lands in between, and then
   * must not say a working subscription is silent.
   */
  static final Duration HEARD_GRACE = Duration.ofMinutes(1);

  /**
   * Per pool, the last read of the pipeline's couplings this process knows of, its own or another
   * dyno's newer one (see {@link Pass#couplingsDue}): when, under which generation and pipeline,
   * the coupled backends' apps then, and the stage then of the source app {@code sourceApp} (null:
   * none known; a null stage: not coupled).
   */
  private final Map<UUID, CouplingsLook> couplingsLooked = new ConcurrentHashMap<>();

  private record CouplingsLook(
      Instant at,
      long generation,
      String pipelineId,
      Set<String> apps,
      String sourceApp,
      String sourceStage,
      // the database's stamp of this read as stored (null: not stored, or another's adopted)
      Instant stamp,
      // the apps of those not ready or failing when it was read (empty: another's adopted)
      Set<String> troubled) {}

  /**
   * A release command's output with what looks secret masked ({@link SecretMask}): it goes to the
   * pool's events and status, which the read-only token and every log drain read, and a failed
   * migration often prints a database URL with its password (review 13).
   */
  static String masked(String text, Map<String, String> vars) {
    return SecretMask.of(vars).apply(text);
  }

  /**
   * A failed backend's log lines as its event tells them: each masked ({@link #masked}), then cut
   * at {@link #LOG_TAIL_LINE_CHARS} (after masking: a line cut first could leave half a password
   * unmasked), joined by {@code " | "}; the last lines that fit {@code maxChars}, led by {@code "…
   * | "} when earlier ones were left out.
   */
  static String logTailText(List<String> lines, Map<String, String> secrets, int maxChars) {
    java.util.ArrayDeque<String> kept = new java.util.ArrayDeque<>();
    int length = 0;
    int left = lines.size();
    SecretMask mask = SecretMask.of(secrets);
    for (int i = lines.size() - 1; i >= 0; i--) {
      String line = mask.apply(PoolEvents.printable(lines.get(i)));
      if (line.length() > LOG_TAIL_LINE_CHARS) {
        line = line.substring(0, LOG_TAIL_LINE_CHARS) + "…";
      }
      int more = line.length() + (kept.isEmpty() ? 0 : 3);
      if (length + more > maxChars - 4) {
        break;
      }
      kept.addFirst(line);
      length += more;
      left = i;
    }
    return (left > 0 ? "… | " : "") + String.join(" | ", kept);
  }

  /** The last lines of a failed release phase's output told in its event and condition. */
  static final int RELEASE_OUTPUT_LINES = 5;

  /** At most this much of them (a stack trace's lines can be long). */
  static final int RELEASE_OUTPUT_CHARS = 600;

  /**
   * Log lines asked of Logplex for a failed backend before its app is deleted (audit 20 M1): a boot
   * crash's error and the lines before it. The event keeps as many of the last as fit.
   */
  static final int LOG_TAIL_LINES = 50;

  /** A log line of the tail is cut at this length (after masking), so more lines fit the event. */
  static final int LOG_TAIL_LINE_CHARS = 240;

  /**
   * Said in a failed backend's message: where its app's last log lines will be kept. The event is
   * written just before the app is deleted, a pass or more after the failure (a paused pool's, once
   * resumed): "event BackendLogTail" sent a reader to an event not there yet (audit 24 L7).
   */
  static final String LOG_TAIL_POINTER =
      "; its app's last log lines go into event BackendLogTail when its app is deleted";

  /** New apps failing in a row at a release that works elsewhere before the pool stalls. */
  static final int FAILED_APPS_BEFORE_STALL = 3;

  /**
   * Backend apps Heroku refused to couple again, and when: tried again after the drift interval. An
   * entry goes when the app is coupled (by us or by hand), deleted, or found gone.
   */
  private final Map<String, Instant> uncouplable = new ConcurrentHashMap<>();

  /** The pass a thread works for (the pass's own thread and its platform workers). */
  private final ThreadLocal<Pass> current = new ThreadLocal<>();

  Reconciler(
      ReconcileStore store,
      PoolLocks locks,
      Platform platform,
      DataPlane dataPlane,
      PoolEvents events,
      ReconcileConfig config,
      Clock clock,
      MeterRegistry registry,
      HookTarget hookTarget) {
    this.store = store;
    this.locks = locks;
    this.platform = platform;
    this.dataPlane = dataPlane;
    this.events = events;
    this.config = config;
    this.clock = clock;
    this.costs = new Costs(config.prices());
    this.hooks =
        new SourceHooks(
            platform,
            new SourceHooks.Targets() {
              @Override
              public Optional<HookTarget.Target> of(String pool) {
                return hookTarget.of(pool);
              }

              @Override
              public String missing() {
                return hookTarget.missing();
              }
            },
            config.webhooks(),
            config.webhookCheckInterval(),
            new SourceHooks.Shared() {
              @Override
              public SourceHooks.Check last(UUID pool) {
                Pass pass = current.get();
                FleetTimers t;
                try {
                  t =
                      pass != null && pass.pool.id.equals(pool)
                          ? pass.timers()
                          : store.fleetTimers(pool);
                } catch (RuntimeException e) {
                  return null; // this process's own timer decides
                }
                return new SourceHooks.Check(t.webhookCheckedAt(), t.webhookSigned());
              }

              @Override
              public void checked(UUID pool, Instant at, String signed) {
                try {
                  store.webhookChecked(pool, at, signed);
                } catch (RuntimeException e) {
                  LOG.debugf("webhook check not recorded: %s", e.getClass().getSimpleName());
                }
              }
            });
    this.workers =
        Executors.newFixedThreadPool(
            Math.max(1, config.parallelism()),
            r -> {
              Thread t = new Thread(r, "dynofleet-platform");
              t.setDaemon(true);
              return t;
            });
    this.callsPerPass =
        DistributionSummary.builder("dynofleet.reconcile.platform.calls")
            .description("Platform API calls per reconcile pass")
            .register(registry);
    platform.onRateLimitWait(this::rateLimitWait);
    // the account's refill is shared by every Dynofleet dyno: those whose proxies wrote verdicts
    platform.shareBudget(dataPlane::dynosSeen);
    platform.onTransientFailure(this::transientFailure);
  }

  /**
   * A call of some pass failed transiently (a 5xx, a timeout): that pool says so now. A GET is
   * retried (three 30 s timeouts on a slow day), and the status said Ready/Stable the whole ~90 s
   * the pass hung (audit 9); the pass's own end replaces it.
   */
  private void transientFailure(String message) {
    Pass pass = current.get();
    if (pass != null) {
      pass.showDegraded(
          "HerokuUnavailable", "Platform API failing or slow (" + message + "): retrying");
    }
  }

  /**
   * A call of some pass is about to wait out a 429: that pool says so now, not when it gives up.
   */
  private void rateLimitWait(Duration wait) {
    Pass pass = current.get();
    if (pass != null) {
      pass.showRateLimited(wait);
    }
  }

  @PreDestroy
  void stop() {
    workers.shutdownNow();
  }

  /** Set at SIGTERM: passes under way stop at their next step; what each step did is recorded. */
  private volatile boolean stopping;

  /**
   * The process is going (SIGTERM): each pass under way finishes the step it is in (a Platform API
   * call and its record) and starts no other. A pass cut short so is not a failure of the pool:
   * nothing goes into its status or events; the next process picks it up from the records.
   */
  public void stopTakingSteps() {
    stopTakingSteps(true);
  }

  /** Tests take the stop back: one Reconciler serves every test of a Quarkus application. */
  void stopTakingSteps(boolean stop) {
    stopping = stop;
  }

  /** Thrown at a step boundary once {@link #stopTakingSteps} was called. */
  static class Stopping extends RuntimeException {
    Stopping() {
      this("the process is stopping");
    }

    Stopping(String why) {
      super(why, null, false, false);
    }
  }

  /**
   * The pass's lock went with its database session (review 3): another dyno may now pass the pool,
   * so this one stops at the step it is in, as at SIGTERM, and records nothing more.
   */
  static final class LockLost extends Stopping {
    LockLost() {
      super(LOCK_LOST);
    }
  }

  static final String LOCK_LOST = "lost the pool's lock: its database session ended";

  /** Before each step: the process is not stopping, and the pass still holds its pool's lock. */
  private void checkStopping() {
    if (stopping) {
      throw new Stopping();
    }
    Pass p = current.get();
    if (p != null && p.lock != null && !p.lock.stillHeld()) {
      throw new LockLost();
    }
  }

  /** A pass cut short by the stop: no failure of the pool, and no sweep time recorded for it. */
  private ReconcileResult stopped() {
    return ReconcileResult.failed(STOPPED, config.baseBackoff(), 0);
  }

  static final String STOPPED = "stopped: the process is going";

  /**
   * See {@link ReconcileStore#webhookHeard}: best effort (the database may be away), never failing
   * the hook that heard it.
   */
  void heard(String pool) {
    heard(pool, Duration.ZERO);
  }

  /**
   * A delivery heard whose pass comes {@code after} (see {@link ReconcileStore#webhookHeard}), best
   * effort as {@link #heard(String)}.
   */
  void heard(String pool, Duration after) {
    try {
      store.webhookHeard(pool, clock.instant(), after);
    } catch (RuntimeException e) {
      LOG.debugf("pool=%s webhook delivery not recorded: %s", pool, e.getClass().getSimpleName());
    }
  }

  /**
   * A pass of {@code pool} threw out of {@link #reconcile} (an {@link Error}: the loop's {@code
   * thrown}): its backoff stored as any failed pass's, which every dyno's sweep and takeover wait
   * out; without it the stored look stayed where the pass found it, in the past, and every dyno's
   * takeover passed the pool again, an ERROR with its stack each time, every 5 s (review 29 R29-1).
   * Best effort: the loop's own retry comes after {@code wait} anyway.
   */
  void thrown(String pool, Duration wait) {
    try {
      store.pool(pool).ifPresent(p -> store.swept(p.id, wait, null, null, 0));
    } catch (RuntimeException | Error e) {
      // the database away, or the same bug again: the loop's requeue still holds here
      LOG.debugf("pool=%s backoff not recorded: %s", pool, e.getClass().getSimpleName());
    }
  }

  /** Names of every pool in the store, for the scheduled pass over all of them. */
  public List<String> poolNames() {
    return store.poolNames();
  }

  /**
   * Pools no pass of any dyno has looked at for {@code quiet} (see {@link
   * ReconcileStore#poolNamesDue}); with {@code honourBackoff}, not those whose last pass failed and
   * whose backoff runs (a new process's first sweep takes them all).
   */
  public List<String> poolNamesDue(Duration quiet, boolean honourBackoff) {
    return store.poolNamesDue(quiet, honourBackoff, platform.keyFingerprint());
  }

  /**
   * The pools whose stored next look is more than {@code grace} past (see {@link
   * ReconcileStore#overdue}): a look the dyno that stored it missed.
   */
  ReconcileStore.Due overdue(Duration grace) {
    return store.overdue(grace, platform.keyFingerprint());
  }

  /** What the loop orders passes by while calls are paced ({@link ReconcileStore.Priorities}). */
  ReconcileStore.Priorities priorities() {
    return store.priorities();
  }

  /** Whether a Platform API call sent now would wait for a turn of the rate limiter. */
  boolean paced() {
    return platform.paced();
  }

  /** {@link #poolNamesDue}, with when the sweep found them due (see {@link ReconcileStore.Due}). */
  ReconcileStore.Due sweepDue(Duration quiet, boolean honourBackoff) {
    return store.sweepDue(quiet, honourBackoff, platform.keyFingerprint());
  }

  /**
   * When a change in the pool's healthy backends may bring a pass: after what is left of {@code
   * health-debounce} (the pool's health check interval by default) since any dyno last passed it,
   * or at the end of a failed pass's backoff when Heroku refused that pass for the rate limit or
   * did not answer ({@link ReconcileStore#BACKOFF_HOLDS_HEALTH}); other backoffs do not hold it.
   */
  ReconcileStore.HealthTurn healthTurn(String pool) {
    return store.healthTurn(pool, config.healthDebounce().orElse(null));
  }

  /** Whether a pass of the pool (by any dyno) ended after {@code asOfMicros} (the database's). */
  boolean sweptSince(String pool, long asOfMicros) {
    return store.sweptSince(pool, asOfMicros);
  }

  /**
   * Whether a pass of the pool (by any dyno) that began after {@code asOfMicros} (the database's
   * clock) has ended: it read the verdicts after a health change made before.
   */
  boolean passedSince(String pool, long asOfMicros) {
    return store.passedSince(pool, asOfMicros);
  }

  /** The database's clock as a pass begins; 0 when unknown (no health change is moot by it). */
  private long startedMicros(String pool) {
    try {
      return store.nowMicros();
    } catch (RuntimeException e) {
      LOG.debugf("pool=%s pass start not read: %s", pool, e.getClass().getSimpleName());
      return 0;
    }
  }

  /**
   * One pass over one pool. Never throws: failures come back as a result the loop backs off from,
   * and are written to the pool's status and events.
   */
  public ReconcileResult reconcile(PoolKey key) {
    long calls0 = platform.calls();
    Optional<Pool> seen;
    try {
      seen = store.pool(key.name());
    } catch (RuntimeException e) {
      // doubled per failure in a row, up to the transient cap: at a flat second every pool with a
      // pass due tried a database that was down, or out of connections, each second (audit 14)
      int n = databaseFailures.merge(key.name(), 1, Integer::sum);
      Duration after = config.baseBackoff().multipliedBy(1L << Math.min(n - 1, 16));
      return ReconcileResult.failed(
          "database: " + e.getClass().getSimpleName(),
          min(after, min(config.maxTransientBackoff(), config.maxBackoff())),
          0);
    }
    databaseFailures.remove(key.name());
    if (seen.isEmpty()) {
      return ReconcileResult.done(0);
    }
    try (PoolLocks.Held lock = locks.tryLock(seen.get().id)) {
      if (lock == null) {
        // another process (or thread) is on this pool; look again soon rather than wait
        return ReconcileResult.busy(config.inFlightRequeue());
      }
      Optional<Pool> pool = store.pool(key.name());
      if (pool.isEmpty()) {
        return ReconcileResult.done(0);
      }
      if (!pool.get().id.equals(seen.get().id)) {
        // deleted and made again under this name between the two reads: the lock held is the
        // old pool's, not this one's
        return ReconcileResult.requeue(Duration.ZERO, 0);
      }
      // before the pass reads the fleet's verdicts: a health change's entry is moot only after a
      // pass that began after its turn (review 27 #2)
      long started = startedMicros(key.name());
      Pass pass = new Pass(pool.get());
      pass.lock = lock;
      ReconcileResult r;
      current.set(pass);
      try {
        r = pass.run();
      } finally {
        current.remove();
      }
      if (r.outcome() == ReconcileResult.Outcome.REQUEUE && !pass.decided) {
        waited.put(pool.get().id, pass.now);
      } else {
        waited.remove(pool.get().id);
      }
      Duration nextLook = null;
      long ended = 0;
      try {
        if (!STOPPED.equals(r.error()) && !LOCK_LOST.equals(r.error())) {
          // a pass cut short did not look at everything: the next process must not skip the pool
          boolean failed = r.outcome() == ReconcileResult.Outcome.FAILED;
          // a refused key holds back only the dynos with that key: after a rotation, preboot's old
          // dynos (the revoked key) held the new ones off the pool for 5 minutes (audit 14)
          nextLook = nextLook(r, pass);
          ended =
              store.swept(
                  pool.get().id,
                  failed ? r.requeueAfter() : null,
                  failed && r.error() != null && r.error().startsWith(KEY_REFUSED)
                      ? platform.keyFingerprint()
                      : null,
                  nextLook,
                  started);
        } else {
          // cut short: whatever brought it (a webhook, a health change) is not done; the next
          // process, or another dyno, takes the pool at its next sweep, not at a stored turn
          store.lookSoon(key.name());
        }
      } catch (RuntimeException e) {
        LOG.debugf("pool=%s pass time not recorded: %s", key.name(), e.getClass().getSimpleName());
      }
      long calls = platform.calls() - calls0 + pass.workerCalls.get();
      callsPerPass.record(calls);
      outsideStep.clear(key.name());
      return new ReconcileResult(
          r.outcome(),
          r.requeueAfter(),
          r.error(),
          calls,
          r.outcome() == ReconcileResult.Outcome.DONE ? nextLook : null,
          ended);
    } catch (SQLException | RuntimeException e) {
      // said at WARN when new for the pool, then every 10 min (the loop's line says each failure
      // too, throttled alike): a stack on every pass of an outage buried the rest (review 23)
      boolean tell = outsideStep.tell(key.name(), e.getClass().getName() + e.getMessage()) >= 0;
      if (!tell) {
        LOG.debugf("reconcile pool=%s failed outside a step: %s", key.name(), e);
      } else if (e instanceof SQLException) {
        // the database (the lock's connection): its message says enough, a stack each time did not
        LOG.warnf("reconcile pool=%s failed outside a step: %s", key.name(), e.getMessage());
      } else {
        LOG.warnf(e, "reconcile pool=%s failed outside a step", key.name());
      }
      Duration wait = backoff(seen.get().id);
      try {
        // stored as any failed pass's backoff is: without it the stored look stayed in the past,
        // and every dyno's takeover passed the pool again every 5 s (review 29 R29-1)
        store.swept(seen.get().id, wait, null, null, 0);
      } catch (RuntimeException stored) {
        LOG.debugf(
            "pool=%s backoff not recorded: %s", key.name(), stored.getClass().getSimpleName());
      }
      return ReconcileResult.failed(
          e.getClass().getSimpleName() + ": " + e.getMessage(), wait, platform.calls() - calls0);
    }
  }

  /**
   * When every dyno's sweep may look at the pool again (audit 21 H1, M3): a pass that waits (for
   * the rate budget, a release, a drain) after its wait, an idle pool at its turn ({@link
   * IdleLooks}); null for at once (the sweep's quiet window still holds). This dyno's loop keeps
   * the look itself (the requeue, the idle turn: audit 23 L8, the sweep's tick took an idle look up
   * to one interval late); the stored time is what the others' sweeps and takeovers, and a process
   * started after this one, go by.
   */
  private static Duration nextLook(ReconcileResult r, Pass pass) {
    if (r.outcome() == ReconcileResult.Outcome.REQUEUE) {
      return r.requeueAfter();
    }
    return r.outcome() == ReconcileResult.Outcome.DONE ? pass.idleFor : null;
  }

  /** Failures outside a step, said once per pool and error, then every 10 minutes. */
  private final io.dynofleet.config.LogThrottle outsideStep =
      new io.dynofleet.config.LogThrottle(Duration.ofMinutes(10));

  /**
   * This process's last read of each pool's source; tests put an older one back (a dyno behind).
   */
  Map<UUID, Source> sourceCache() {
    return sources;
  }

  /** Forgets what this process remembers between passes, as a restart would. */
  public void forgetCaches() {
    sources.clear();
    sourceReads.clear();
    releasesLooked.clear();
    releasesLookedAt.clear();
    waited.clear();
    pinCheckedAt.clear();
    noReleasePhase.clear();
    releasesOver.clear();
    releasesRunning.clear();
    pipelines.clear();
    pipelinesRead.clear();
    failures.clear();
    databaseFailures.clear();
    renameLooked.clear();
    ejections.clear();
    uncouplable.clear();
    budgetWaits.clear();
    idle.clear();
    couplingsLooked.clear();
    sourcePending.clear();
    unheard.clear();
    hooks.forgetAll();
  }

  /** Drops what this process remembers of a pool whose row is gone. */
  private void forgetPool(UUID id) {
    sources.remove(id);
    sourceReads.remove(id);
    releasesLookedAt.remove(id);
    waited.remove(id);
    pinCheckedAt.remove(id);
    noReleasePhase.remove(id);
    templateSeen.remove(id);
    budgetWaits.remove(id);
    idle.remove(id);
    couplingsLooked.remove(id);
    failures.remove(id);
    sourcePending.remove(id);
    unheard.remove(id);
    hooks.deleted(id);
  }

  /**
   * Drops what this process remembers of pools deleted elsewhere (the last pass of a pool runs on
   * one dyno; every other kept its entries for good: review 3, review 15). Run with the sweep.
   */
  public void forgetGonePools() {
    Set<UUID> live = Set.copyOf(store.poolIds());
    for (UUID id : rememberedPools()) {
      if (!live.contains(id)) {
        forgetPool(id);
      }
    }
    // a look is reused for release-poll only: one of a source no pool copies any more is not
    Instant stale = clock.instant().minus(config.releasePoll());
    releasesLooked.values().removeIf(l -> l.at().isBefore(stale));
  }

  /** The pools this process remembers anything of (each cache {@link #forgetPool} empties). */
  Set<UUID> rememberedPools() {
    Set<UUID> known = new HashSet<>(hooks.pools());
    for (Map<UUID, ?> m :
        List.of(
            sources,
            sourceReads,
            releasesLookedAt,
            waited,
            noReleasePhase,
            templateSeen,
            budgetWaits,
            idle,
            couplingsLooked,
            failures,
            sourcePending,
            unheard)) {
      known.addAll(m.keySet());
    }
    return known;
  }

  /** Whether Heroku's refusal to couple the app is remembered (for tests). */
  boolean remembersUncouplable(String appId) {
    return uncouplable.containsKey(appId);
  }

  private Duration backoff(UUID pool) {
    return backoff(pool, config.maxBackoff());
  }

  /**
   * How Platform API calls name a backend's app: by its id once known, which a rename outside
   * Dynofleet ({@code heroku apps:rename}) does not change; by the intent's name only before the
   * app exists (review 15: calls by name failed on every pass after a rename).
   */
  /**
   * What a failing backend met, between {@code before} and {@code after}, for an event; nothing
   * when no proxy said (a verdict of a dyno of the release before). The events said that a backend
   * fails, not how: a refused connection (a crash loop), a timeout (a dead or overloaded dyno) and
   * an HTTP 503 call for different fixes (audit 18 L5).
   */
  static String met(String lastFailure, String before, String after) {
    return lastFailure == null ? "" : before + lastFailure + after;
  }

  static String ref(Backend b) {
    return b.appId != null ? b.appId : b.appName;
  }

  /**
   * The Ready condition's message: "5/2 backends ready" (a paused pool scaled down) read as a
   * fraction (audit 22 L6).
   */
  static String readyOfWanted(int ready, int wanted) {
    return ready + (ready == 1 ? " backend" : " backends") + " ready, " + wanted + " wanted";
  }

  /**
   * {@link #readyOfWanted}, and the backends there are beyond those wanted ({@code active} counts
   * them, ready or not, draining ones left out): "4 backends ready, 3 wanted (1 more than wanted
   * until the rollout or scale-down drains it)".
   */
  static String readyOfWanted(int ready, int wanted, int active) {
    int extra = active - wanted;
    return readyOfWanted(ready, wanted)
        + (extra <= 0
            ? ""
            : " ("
                + extra
                + " more than wanted until the rollout or scale-down drains "
                + (extra == 1 ? "it" : "them")
                + ")");
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private Duration backoff(UUID pool, Duration max) {
    int n = failures.merge(pool, 1, Integer::sum);
    long base = config.baseBackoff().toMillis() << Math.min(n - 1, 16);
    long capped = Math.min(base, max.toMillis());
    // full jitter in [capped/2, capped]: many failing pools do not retry in lockstep
    return Duration.ofMillis(capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1));
  }

  /** One pass: the state it reads, the decisions it takes and the status it writes. */
  private final class Pass {
    private final Pool pool;
    private final PoolSpec spec;
    private final Instant now;
    private final List<Backend> backends;
    private final Map<String, Condition> conditions = new HashMap<>();
    private Map<String, DataPlane.Health> health = Map.of();
    private Source source;

    /** This pass failed ({@link #fail}): what it did not see, its status does not claim. */
    private boolean failedPass;

    /** The source app or the pipeline could not be read (see {@link #withoutSource}). */
    private boolean unreadable;

    /** A backend's release started in this pass (see {@link #mayRelease}). */
    private boolean releaseStarted;

    /** This pass made intents for new apps or began a drain (see {@link #waited}). */
    private boolean decided;

    /** The app under the source's name may not be the pinned one: no webhook is synced on it. */
    private boolean pinDoubt;

    /** No release starts in this pass: its target stalled, or new apps at it failed lately. */
    private volatile boolean holdReleases;

    /** Backends whose name changed in this pass (a rename followed, or a name given up to one). */
    private final Set<Backend> followed =
        java.util.Collections.synchronizedSet(
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));

    private String pipelineId;

    /** The team that owns the pipeline (its apps must be the team's), or null for a user's. */
    private String team;

    private boolean routesChanged;
    private boolean inFlight;

    /**
     * Why this pass made an intent, for its AppCreated event (audit 18 #2): in memory only, so an
     * app made in a later pass (creation paused, a failed step) says no more than its release.
     */
    private final Map<UUID, String> madeFor = new ConcurrentHashMap<>();

    /** Apps this pass drained as dead or failed, not yet named by a replacement's intent. */
    private final java.util.ArrayDeque<String> replacing = new java.util.ArrayDeque<>();

    /** This pass found nothing to do: how long until the sweep looks at the pool again. */
    private Duration idleFor;

    /** This pass held back creating apps because the rate budget is under the reserve. */
    private boolean creationPaused;

    /** A paused pool's pass: health is observed and said, nothing is repaired. */
    private boolean observing;

    /** The source app's newest release is still pending. */
    private boolean sourceReleasing;

    /** The Platform API calls this thread had made when the pass began. */
    private final long callsAtStart = platform.calls();

    private Instant recheck;
    private List<String> drift;

    /** The target a create or rollout stalled at, and the generation: {@code target@gN}. */
    private String stalledTarget;

    /** The pool's failed-app streak as read or written in this pass ({@link #streak()}). */
    private FailedStreak streak;

    private boolean streakRead;
    private final Object streakLock = new Object();

    /** The drift found in this pass that is about web dynos (a FormationDrift). */
    private final Set<String> formationDrift = new HashSet<>();

    /** {@link #timers()}: read at the first need. */
    private FleetTimers timers;

    private PoolStatus.Webhook webhook;

    /** This pass recorded a new subscription: no delivery of it is heard yet. */
    private boolean heardReset;

    /** The pool is {@code WebhookSilent} as this pass writes its status. */
    private boolean silent;

    /**
     * Calls made on the platform worker threads for this pass (the pass's thread counts its own).
     */
    private final java.util.concurrent.atomic.AtomicLong workerCalls =
        new java.util.concurrent.atomic.AtomicLong();

    /**
     * Orders the pass's own status writes with the one {@link #showRateLimited} makes from a
     * worker.
     */
    private final Object statusLock = new Object();

    /** The status written mid-pass to show a 429 wait, if any. */
    private PoolStatus shown;

    /** The Degraded reasons this pass wrote mid-pass ({@link #showDegraded}). */
    private final Set<String> shownReasons = new HashSet<>();

    private boolean statusWritten;

    /** The source app's id this pass found pinned ({@link #pinSource}), null before. */
    private String pinnedNow;

    /** The pool was marked for deletion after this pass read it (see {@link #deletionMarked}). */
    private boolean deletionSeen;

    /** The pool's lock, checked before each step ({@link #checkStopping}). */
    PoolLocks.Held lock;

    Pass(Pool pool) {
      this.pool = pool;
      this.spec = pool.spec;
      this.now = clock.instant();
      this.backends = new ArrayList<>(store.backends(pool.id));
      PoolStatus old = pool.status;
      this.stalledTarget = old == null ? null : old.stalledRelease();
      this.webhook = old == null ? null : old.webhook();
      this.drift = old == null ? null : old.drift();
    }

    ReconcileResult run() {
      try {
        ReconcileResult r;
        if (pool.terminating()) {
          r = finalizeDeletion();
        } else if (!spec.managed()) {
          health = dataPlane.health(pool.name, pool.id);
          syncWebhook(null, null);
          writeStatus();
          r = ReconcileResult.done(0);
        } else {
          r = converge();
        }
        if (r.outcome() != ReconcileResult.Outcome.FAILED) {
          failures.remove(pool.id);
        }
        return r;
      } catch (PlatformException e) {
        return stopping ? stopped() : fail(e);
      } catch (LockLost e) {
        LOG.warnf(
            "pool=%s %s; the pass stops here, another dyno or the next pass goes on",
            pool.name, LOCK_LOST);
        return ReconcileResult.failed(LOCK_LOST, config.baseBackoff(), 0);
      } catch (Stopping e) {
        return stopped();
      } finally {
        if (routesChanged) {
          dataPlane.refresh();
        }
      }
    }

    // ---- managed pools ---------------------------------------------------------------------

    private ReconcileResult converge() {
      PoolSpec.Template t = spec.template();
      if (quietWhileBudgetLow()) {
        // its stored turn stays what this process knows it to be: stored as none, every dyno's
        // sweep took the pool every 30 s just while the budget was low (review 25 #4)
        IdleLook look = idle.get(pool.id);
        if (look != null && now.isBefore(look.lookAgain())) {
          idleFor = Duration.between(now, look.lookAgain());
        }
        return ReconcileResult.done(0);
      }
      idle.remove(pool.id);
      if (!Boolean.TRUE.equals(spec.paused())) {
        markFailingFirst();
      }
      try {
        observe(t);
      } catch (PlatformException e) {
        if (e.kind() == Kind.INVALID || e.kind() == Kind.NOT_FOUND || e.kind() == Kind.FORBIDDEN) {
          withoutSource();
        }
        throw e;
      }
      if (Boolean.TRUE.equals(spec.paused())) {
        condition(
            "Progressing",
            "False",
            "Paused",
            "paused: Dynofleet observes this pool but takes no action");
        // observing is not acting (audit 27 F4): a dead backend is still marked Unhealthy, with
        // its event and ManyUnhealthy, and a stall is still said; none is restarted, replaced or
        // looked up. Skipped, the status claimed dead backends Ready and "no errors" right after
        // a pause, the runbook's first lever, and wiped the stall's condition
        observing = true;
        checkHealthOfReady();
        sayStalledWhilePaused();
        // but apps already drained before the pause are
        // deleted: kept, they would bill until it ends
        finishDrains();
        writeStatus();
        return inFlight ? ReconcileResult.requeue(inFlightWait(), 0) : ReconcileResult.done(0);
      }
      String confirmed = pinDoubt ? null : confirmedSource();
      if (confirmed != null) {
        // by the pinned id, never the name: not on an app under the name this pass has not
        // confirmed as the source (review 30 R30-2, R30-8)
        syncWebhook(t.sourceApp(), confirmed);
      }
      checkHealthOfReady();
      planReplicas();
      try {
        advanceInFlight();
      } catch (PlatformException e) {
        if (!stopping && !deletionSeen) {
          // one backend's failure does not keep the pool's drained apps alive (and billed)
          try {
            finishDrains();
          } catch (LockLost lost) {
            throw lost; // no status, no sweep time without the lock
          } catch (PlatformException | Stopping again) {
            LOG.debugf("pool=%s drains not finished: %s", pool.name, again.toString());
          }
        }
        throw e;
      }
      if (deletionSeen) {
        // deleted while this pass ran: nothing more is made, the finalizer takes the pool now
        return ReconcileResult.requeue(Duration.ZERO, 0);
      }
      finishDrains();
      checkDrift();
      writeStatus();
      if (inFlight) {
        return ReconcileResult.requeue(inFlightWait(), 0);
      }
      if (recheck != null) {
        Duration wait = Duration.between(now, recheck);
        return ReconcileResult.requeue(
            notPastIdleTurn(wait.isNegative() ? Duration.ZERO : wait.plusMillis(50)), 0);
      }
      if (nothingToDo()) {
        idle.put(pool.id, new IdleLook(pool.generation, now, now.plus(idleLookInterval())));
        idleFor = idleLookTurn();
      }
      return ReconcileResult.done(0);
    }

    /**
     * What a pass can still do when the source app or the pipeline cannot be read (deleted, another
     * spec error there: a condition until a human acts), none of which needs them: dead backends
     * are restarted (not replaced: nothing can be made), a scale-down drains the extras, and
     * drained apps are deleted. The pass failed before all of it, so a deleted source kept every
     * app billing, a scale to 0 included, and drained apps were never deleted (review 15).
     */
    private void withoutSource() {
      if (stopping || deletionSeen) {
        return;
      }
      source = null; // nothing is made: the pipeline may be what is gone
      unreadable = true;
      try {
        if (!Boolean.TRUE.equals(spec.paused())) {
          checkHealthOfReady();
          planReplicas(); // no source: scale-down only (see there)
        }
        finishDrains();
      } catch (LockLost lost) {
        throw lost; // no status, no sweep time without the lock
      } catch (PlatformException | Stopping again) {
        LOG.debugf("pool=%s nothing done without the source: %s", pool.name, again.toString());
      }
    }

    /**
     * A pool with nothing to do (its last look found every backend ready at the target and nothing
     * in flight, its spec unchanged since, its backends as they were and none failing here) is not
     * looked at while the rate budget is under the reserve, until its turn comes again (see {@link
     * #idleLookInterval}). Its sweep cost two reads every 30 s, four calls a minute: twenty idle
     * pools outspent Heroku's refill (75 a minute) by themselves, and pools waiting for the budget
     * to make apps never got it (2026-11-24). What such a look could find (a new source release, an
     * app deleted by hand) needs apps made, which waits for the budget anyway; a spec change or a
     * backend failing its checks still gets a full pass.
     */
    private boolean quietWhileBudgetLow() {
      IdleLook look = idle.get(pool.id);
      if (look == null
          || look.generation() != pool.generation
          || !now.isBefore(look.lookAgain())
          || platform.rateRemaining() >= config.rateLimitReserve()
          || Boolean.TRUE.equals(spec.paused())
          || !nothingToDo()) {
        return false;
      }
      health = dataPlane.health(pool.name, pool.id);
      for (Backend b : backends) {
        DataPlane.Health h = health.get(b.appName);
        if (h != null && h.known() && !h.healthy()) {
          return false;
        }
      }
      LOG.debugf(
          "pool=%s idle and the rate budget under the reserve: not looked at until %s",
          pool.name, look.lookAgain());
      return true;
    }

    /** Every backend ready and serving at the pool's size, none leaving or being made. */
    private boolean nothingToDo() {
      if (backends.size() != spec.replicas() || stalledTarget != null) {
        return false;
      }
      Source known = sources.get(pool.id);
      for (Backend b : backends) {
        if (b.step != Step.READY
            || b.phase != Phase.Ready
            || b.unhealthySince != null
            || known == null
            || !known.target().equals(b.target)) {
          return false;
        }
      }
      return true;
    }

    /**
     * How long an idle pool goes unlooked at while the budget is under the reserve: long enough
     * that the idle pools of this process spend at most a quarter of the refill between them (two
     * reads each, 800 ms of refill a call), at least the sweep's 30 s; each pool's turn drawn at
     * random over half as long again, so they do not all look at the same sweep.
     */
    private Duration idleLookInterval() {
      // entries of pools deleted or passed on other dynos since: their turn is long past
      Instant stale = now.minus(config.maxBackoff());
      idle.values().removeIf(l -> l.lookAgain().isBefore(stale));
      long pools = idle.size() + 1;
      long calls = Math.max(2, platform.calls() - callsAtStart);
      Duration base = REFILL_PER_CALL.multipliedBy(pools * calls * 4);
      if (base.compareTo(IDLE_LOOK_MIN) < 0) {
        base = IDLE_LOOK_MIN;
      }
      return base.plusMillis(ThreadLocalRandom.current().nextLong(base.toMillis() / 2 + 1));
    }

    /**
     * When every dyno's sweep looks at this idle pool again: its share of the fleet's looks ({@link
     * IdleLooks}), longer while its release webhook is subscribed and its deliveries are heard (the
     * subscription alone did: deliveries failing, a release waited four turns, unseen, review 25
     * #3). Null (at the sweep's pace) when the pools cannot be counted.
     */
    private Duration idleLookTurn() {
      boolean heard =
          webhook != null
              && !silent
              && !unheard.containsKey(pool.id)
              && IdleLooks.heard(heardAt(), now);
      try {
        return IdleLooks.jittered(
            IdleLooks.every(
                store.poolCount(), IdleLooks.sweep(config.interval()), config.sweepShare(), heard));
      } catch (RuntimeException e) {
        LOG.debugf("pool=%s pools not counted: %s", pool.name, e.getClass().getSimpleName());
        return null;
      }
    }

    /**
     * The id of the source app this pass copies, as pinned ({@link #pinSource}) for the source the
     * spec names: this pass's pin, else the one stored; null when none is (a source never read with
     * a released slug, a spec naming another source not read yet): no webhook is then synced,
     * rather than one on whatever app the name answers with.
     */
    private String confirmedSource() {
      if (pinnedNow != null) {
        return pinnedNow;
      }
      try {
        return store.sourcePinFor(pool.id, pinnedFor(spec.template()));
      } catch (RuntimeException e) {
        LOG.debugf("pool=%s source pin not read: %s", pool.name, e.getClass().getSimpleName());
        return null;
      }
    }

    /**
     * The pool's release webhook on its source app, by the app's id (see {@link SourceHooks});
     * skipped while the rate budget is low, like every optional call.
     */
    private void syncWebhook(String sourceApp, String sourceAppId) {
      if (platform.rateRemaining() < config.rateLimitReserve()) {
        return;
      }
      SourceHooks.Outcome o = hooks.sync(pool.id, pool.name, sourceApp, sourceAppId, webhook, now);
      if (o.webhook() != null && !o.webhook().sameSubscription(webhook)) {
        // a new subscription (made, adopted, moved): its deliveries are not known to arrive until
        // one is heard, whatever the one before did
        heardReset = true;
        fleetTimer(() -> store.webhookUnheard(pool.id));
      }
      if (!Objects.equals(o.webhook(), webhook)) {
        // recorded at once, not at the end of the pass: a crash while this pass creates apps must
        // not lose which subscription is the pool's (found again by URL only if the URL stayed)
        synchronized (statusLock) {
          PoolStatus recorded = lastWritten().withWebhook(o.webhook());
          try {
            store.writeStatus(pool.id, recorded);
            shown = recorded;
          } catch (RuntimeException e) {
            // the database may be away: the pass's own write records it, or the next pass adopts it
            LOG.debugf(
                "pool=%s webhook not recorded mid-pass: %s",
                pool.name, e.getClass().getSimpleName());
          }
        }
      }
      webhook = o.webhook();
      if (o.reason() != null) {
        boolean warning = o.reason().equals("WebhookFailed") || o.reason().equals("WebhookLeft");
        event(warning ? PoolEvents.WARNING : PoolEvents.NORMAL, o.reason(), o.message());
      }
    }

    /**
     * When a delivery for the pool was last heard (by any dyno), null if none since its
     * subscription was recorded.
     */
    private Instant heardAt() {
      return heardReset ? null : timers().webhookHeardAt();
    }

    /** The status stored last: this pass's mid-pass write, else the one the pass started from. */
    private PoolStatus lastWritten() {
      return shown != null ? shown : pool.status == null ? PoolStatus.empty() : pool.status;
    }

    /** Asks for another pass of this pool no later than {@code at}. */
    private void recheckAt(Instant at) {
      if (recheck == null || at.isBefore(recheck)) {
        recheck = at;
      }
    }

    /**
     * The pipeline named is not there: many single-app Heroku users have none, and the message did
     * not say whether the name was wrong or how to make one (audit 20 L6).
     */
    private PlatformException pipelineNotFound() {
      String sim = platform.simulatorUrl();
      if (sim != null) {
        // the sandbox has no heroku CLI to follow: its simulator makes pipelines (audit 22 L6)
        String base = sim.endsWith("/") ? sim : sim + "/";
        return new PlatformException(
            Kind.INVALID,
            "pipeline '"
                + spec.pipeline()
                + "' not found in the sandbox (make it on the simulator: curl -X POST "
                + base
                + "__sandbox/pipelines/"
                + spec.pipeline()
                + ", and a source app with POST "
                + base
                + "__sandbox/source-apps/{name}; or check the name: pipeline demo is there)");
      }
      return new PlatformException(
          Kind.INVALID,
          "pipeline '"
              + spec.pipeline()
              + "' not found (create it with heroku pipelines:create, or check the name: heroku"
              + " pipelines)");
    }

    /** The cheap reads of every pass: the source's latest release and the pipeline's couplings. */
    private void observe(PoolSpec.Template t) {
      health = dataPlane.health(pool.name, pool.id);
      Platform.Pipeline pipeline = pipelines.get(spec.pipeline());
      Instant pipelineRead = pipelinesRead.get(spec.pipeline());
      FleetTimers stored = timers();
      if (spec.pipeline().equals(stored.pipelineName())
          && stored.pipelineReadAt() != null
          && stored.pipelineId() != null
          && (pipelineRead == null || stored.pipelineReadAt().isAfter(pipelineRead))) {
        // another dyno (or this one before a restart) looked it up since: no read of our own
        // (audit 21 H3: each process read it once per interval, and again at each start)
        pipeline = new Platform.Pipeline(stored.pipelineId(), stored.pipelineTeam());
        pipelineRead = stored.pipelineReadAt();
        pipelines.put(spec.pipeline(), pipeline);
        pipelinesRead.put(spec.pipeline(), pipelineRead);
      }
      if (pipeline != null
          && (pipelineRead == null
              || !now.isBefore(pipelineRead.plus(config.driftCheckInterval())))) {
        // read again now and then: after `heroku pipelines:transfer` the next app was made under
        // the old owner, could never be coupled, and stayed, billed (audit 14)
        pipeline = null;
      }
      if (pipeline == null) {
        try {
          pipeline = platform.pipeline(spec.pipeline());
        } catch (PlatformException e) {
          if (e.kind() == Kind.NOT_FOUND) {
            throw pipelineNotFound();
          }
          throw e;
        }
        pipelines.put(spec.pipeline(), pipeline);
        pipelinesRead.put(spec.pipeline(), now);
        pipelineRead = now;
      }
      if (!spec.pipeline().equals(stored.pipelineName())
          || !pipelineRead.equals(stored.pipelineReadAt())
          || !pipeline.id().equals(stored.pipelineId())
          || !Objects.equals(pipeline.team(), stored.pipelineTeam())) {
        // this process's read (just now, or of another pool of the same pipeline) for the fleet
        final Platform.Pipeline read = pipeline;
        final Instant at = pipelineRead;
        fleetTimer(() -> store.pipelineRead(pool.id, at, spec.pipeline(), read.id(), read.team()));
      }
      pipelineId = pipeline.id();
      team = pipeline.team();
      if (team != null && "eco".equalsIgnoreCase(t.dynoSize())) {
        // Heroku refuses the formation only after the app is made, configured and released (its
        // release phase run on the shared database): said before any is (audit 20 L4)
        throw new PlatformException(
            Kind.INVALID,
            "eco dynos are not available to team apps (pipeline "
                + spec.pipeline()
                + " belongs to team "
                + team
                + "): use basic");
      }
      // the pipeline's couplings, when due (audit 21 H1: every drift interval for the fleet,
      // after a change, while a backend is not ready or fails), and read before the source: the
      // source's own coupling is the backends' stage with "source"
      Source cached = sources.get(pool.id);
      List<Platform.Coupling> couplings = couplingsDue(t, cached) ? readCouplings() : null;
      List<Platform.Release> recent;
      String sourceKey = t.sourceApp().toLowerCase(Locale.ROOT);
      ReleasesLook looked = releasesLooked.get(sourceKey);
      if (cached != null && fresh(looked)) {
        // read by a pass of this pool or of another of the same source less than release-poll
        // ago, and no delivery heard nor spec change since: a pool waiting for its backends or for
        // another's release phase passes every 2 to 5 s, and each pass of each pool of a source
        // read it (audit 25 F1). A new release is still seen within release-poll, and at once
        // after its notification
        recent = looked.recent();
      } else {
        try {
          // with no source remembered (a restarted process, a new pool) the last good release
          // may be behind more failed ones than a page holds: older pages are read until one is
          // found. A process that remembers one has it already (releases only come in on top):
          // one page (audit 19 #2: a restarted dyno said SourceAppHasNoRelease, the others did
          // not)
          recent =
              cached == null
                  ? platform.recentReleasesUntil(t.sourceApp(), Reconciler::usable, RELEASE_PAGES)
                  : platform.recentReleases(t.sourceApp());
        } catch (PlatformException e) {
          if (e.kind() == Kind.NOT_FOUND) {
            throw sourceNotFound(t);
          }
          throw e;
        }
        releasesLooked.put(sourceKey, new ReleasesLook(now, List.copyOf(recent)));
      }
      releasesLookedAt.put(pool.id, pool.generation);
      // the newest release that runs a slug: a failed release (its release phase) leaves the one
      // before it running on the source, and a slug-less one (config set before the first deploy)
      // has nothing to copy. A pending newest one is in flight: look again soon.
      Optional<Platform.Release> latest = recent.stream().findFirst();
      Optional<Platform.Release> usable = recent.stream().filter(Reconciler::usable).findFirst();
      if (usable.isEmpty()
          && cached != null
          && latest.isPresent()
          && recent.stream().map(Platform.Release::id).noneMatch(cached.releaseId()::equals)
          && !latest.get().id().equals(pinCheckedAt.get(pool.id))) {
        // none of the releases read is the one copied, and none runs a slug: perhaps another app,
        // made under a deleted or renamed source's name, not deployed yet. Its pin is checked
        // before the old target is kept and a webhook synced on it (review 30 R30-8); once per
        // newest release (its id is the app's)
        pinDoubt = true;
        pinSource(t, platform.app(t.sourceApp()).orElseThrow(() -> sourceNotFound(t)));
        pinCheckedAt.put(pool.id, latest.get().id());
        pinDoubt = false;
      }
      if (usable.isPresent()) {
        Platform.Release rel = usable.get();
        boolean addons = Boolean.TRUE.equals(t.shareAddons());
        SourceRead read = sourceReads.get(pool.id);
        boolean full =
            cached == null
                || !cached.releaseId().equals(rel.id())
                || !sameTemplate(cached)
                || read == null
                || !read.releaseId().equals(rel.id())
                || stageMoved(t, cached, couplings);
        if (full || addons && addonsDue(cached)) {
          // a new release (code or config: Heroku makes one for every config change) or a new
          // template: read the source's config once and derive the new target
          // that release's own config: the app's may be a newer, failed release's (review 4), and
          // two dynos, one restarted since, would each build their own target and flap.
          // The add-ons are the app's state now, not the release's: they are read again every
          // drift interval (by one dyno of the fleet; another whose own read gave another target
          // reads them too), so dynos that read them at different times agree within it. Only
          // they: the other five reads are of the release, which has not changed (audit 21 H1)
          Source before = cached;
          Platform.App app =
              !full ? read.app() : platform.app(t.sourceApp()).orElseThrow(() -> sourceNotFound(t));
          if (full) {
            // before anything is read from it: the app the name answers with now is the one the
            // pool copies, or nothing is made from it (security review 5, S5-6)
            pinSource(t, app);
            if (cached != null
                && !cached.releaseId().equals(rel.id())
                && webhook != null
                && app.id().equals(webhook.appId())
                && !unheard.containsKey(pool.id)) {
              // a new release of the subscribed app (not a move to another source: the webhook is
              // on the pinned app, by its id), by this look: heard of if a delivery came since the
              // one before was read (decided at a pass after HEARD_GRACE, see webhookSilent)
              Instant heard = heardAt();
              if (heard == null || !heard.isAfter(cached.readAt())) {
                unheard.put(pool.id, new Unheard(cached.readAt(), now, rel.version()));
              }
            }
          }
          // every read of the source after its pin goes by the pinned id, not the name: a name
          // that changed hands between two calls of the pass would mix one app's release with
          // another's config vars, add-ons, drains or features (review 30 R30-2). A pass that
          // reuses the last read re-reads the add-ons of the app that read pinned
          String pinned = app.id();
          Map<String, String> vars =
              full ? platform.releaseConfigVars(pinned, rel.id()) : read.vars();
          if ("fir".equalsIgnoreCase(app.generation())) {
            // its releases are OCI images, not slugs: the
            // pool waited for a slug for ever (review 6)
            throw new PlatformException(
                Kind.INVALID,
                "source app '"
                    + t.sourceApp()
                    + "' is a Fir-generation"
                    + " app: Dynofleet copies Cedar apps (their slugs) only");
          }
          Optional<String> key =
              vars.entrySet().stream()
                  .filter(v -> platform.isOwnKey(v.getValue()))
                  .map(Map.Entry::getKey)
                  .findFirst();
          if (key.isPresent()) {
            // Dynofleet itself, or an app given its key: every backend would
            // hold the account's key, and whoever may set the pool's config
            // vars (HEROKU_API_URL) could send it elsewhere (security review 1)
            throw new PlatformException(
                Kind.INVALID,
                "source app '"
                    + t.sourceApp()
                    + "' holds Dynofleet's own"
                    + " Heroku API key (config var "
                    + key.get()
                    + "): Dynofleet does not copy its key to other apps"
                    + " (backends made from it before hold the key: rotate it)");
          }
          // the source's own coupling, the backends' stage with "source": as read in this pass,
          // else as the last read known gave it (this process's or the fleet's: the couplings are
          // read every drift interval, audit 21 H1), else as before
          CouplingsLook look = couplings == null ? stageRead(app.id(), before) : null;
          if (full
              && couplings == null
              && look == null
              && (before == null || !app.id().equals(before.appId()))
              && SpecDefaults.SOURCE_STAGE.equals(t.stage())) {
            // no read known gave this source app's stage: read now, with the source (not before
            // it on every pass: a source never released read them on each, review 25 #9)
            couplings = readCouplings();
          }
          String sourceStage =
              couplings != null
                  ? coupledStage(couplings, app.id())
                  : look != null ? look.sourceStage() : before != null ? before.stage() : null;
          Source of =
              Source.of(
                  rel,
                  vars,
                  addons ? platform.addons(pinned) : List.of(),
                  t,
                  now,
                  app,
                  sourceStage);
          cached =
              !full
                  // the drains and features as read with the release: a change there comes with no
                  // rollout, only to the backends made after the next read (heroku.md)
                  ? of.withDrains(
                          before.drains().stream()
                              .map(u -> new Platform.LogDrain(u, false))
                              .toList())
                      .withFeatures(before.features())
                  : of
                      // its own log drains, read with its add-ons (not per backend): each new
                      // backend gets them, so its lines go where the source's do (audit 20 M2)
                      .withDrains(platform.logDrains(pinned))
                      // and its labs features, one call: the dyno metadata an app reads at boot,
                      // and the session affinity the proxy cannot give (audit 20 M5)
                      .withFeatures(platform.features(pinned));
          refuseAttachmentVars(t, cached, vars);
          Map<String, String> onBackend = new HashMap<>(cached.config());
          onBackend.put(OWNER_VAR, pool.id.toString());
          onBackend.put(
              PROXY_SECRET_VAR, "0".repeat(io.dynofleet.api.PoolValidator.PROXY_SECRET_LENGTH));
          // the shared add-ons' vars come with their attachments, made before the config step
          cached.addonVars().forEach(k -> onBackend.put(k, vars.getOrDefault(k, "")));
          long bytes = io.dynofleet.api.PoolValidator.configBytes(onBackend);
          if (bytes > io.dynofleet.api.PoolValidator.CONFIG_LIMIT) {
            // Heroku refuses it at the config step, after the app is made: said before any is
            throw new PlatformException(
                Kind.INVALID,
                "the backends' config vars (the source app's, its add-ons'"
                    + " and spec.template.configVars, with "
                    + OWNER_VAR
                    + " and "
                    + PROXY_SECRET_VAR
                    + ") come to "
                    + bytes
                    + " bytes, over Heroku's "
                    + io.dynofleet.api.PoolValidator.CONFIG_LIMIT
                    + " per app: shorten or remove some in"
                    + " spec.template.configVars, or on the source app");
          }
          boolean newTarget = before == null || !before.target().equals(cached.target());
          int rolledOut = rolledOutFrom(cached.appId());
          boolean wentBack = cached.version() < rolledOut;
          // never for "source": the backends are made where the source is
          String region = Source.regionFor(t, cached.region());
          boolean regionDiffers =
              region != null && cached.region() != null && !region.equals(cached.region());
          // a cause found gone is said again when it comes back (see PoolEvents#recordOnce)
          List<String> gone = new ArrayList<>();
          if (!regionDiffers && cached.region() != null) {
            gone.add("RegionDiffers");
          }
          if (cached.copied().isEmpty()) {
            gone.add("AddonNotShared");
          }
          if (cached.drains().isEmpty()) {
            gone.add("LogDrainsCopied");
          }
          // "source" for a source outside the pipeline: coupled to production, as before
          boolean stageUnknown =
              SpecDefaults.SOURCE_STAGE.equals(t.stage()) && cached.stage() == null;
          if (!stageUnknown) {
            gone.add("SourceNotInPipeline");
          }
          boolean affinity = cached.features().contains(SESSION_AFFINITY);
          if (!affinity) {
            gone.add("SessionAffinityIgnored");
          }
          if (!wentBack) {
            gone.add(SOURCE_RELEASE_LOWER);
          }
          events.cleared(pool.id, gone);
          if (wentBack && newTarget) {
            // Heroku numbers an app's releases upward, a rollback included (a new release of an
            // old slug): a lower one is another app under the name, or a pin taken after the name
            // changed hands (security review 5, S5-6). Said; the rollout goes on
            eventOnce(
                PoolEvents.WARNING,
                SOURCE_RELEASE_LOWER,
                "source app "
                    + t.sourceApp()
                    + "'s release to roll out, v"
                    + cached.version()
                    + ", is lower than v"
                    + rolledOut
                    + ", which backends of the pool were made from by the same app: Heroku numbers"
                    + " an app's releases upward (heroku rollback makes a new one), so the app under"
                    + " that name may not be the one they came from. Check heroku releases -a "
                    + t.sourceApp()
                    + " and heroku apps:info -a "
                    + t.sourceApp()
                    + "; pause the pool (dynofleet pause pool "
                    + pool.name
                    + ") while you do");
          }
          if (newTarget && regionDiffers) {
            // review 6: an eu source's backends in us, an ocean from its database and its users
            eventOnce(
                PoolEvents.WARNING,
                "RegionDiffers",
                "backends are made in "
                    + t.region()
                    + " but the source app "
                    + t.sourceApp()
                    + " (its database, its users) is in "
                    + cached.region()
                    + ": set spec.template.region to "
                    + cached.region()
                    + " unless that is meant");
          }
          if (stageUnknown && newTarget) {
            // the backends must be coupled somewhere; production is where every pool's went
            // before "source", and a promotion into it releases onto them (audit 20 L5)
            eventOnce(
                PoolEvents.WARNING,
                "SourceNotInPipeline",
                "source app "
                    + t.sourceApp()
                    + " is not coupled to pipeline "
                    + spec.pipeline()
                    + ", so spec.template.stage source cannot take its stage: the backends are"
                    + " coupled to "
                    + SpecDefaults.FALLBACK_STAGE
                    + ". Couple the source (heroku pipelines:add "
                    + spec.pipeline()
                    + " -a "
                    + t.sourceApp()
                    + " --stage staging), or name the stage in spec.template.stage");
          }
          if (!cached.copied().isEmpty() && newTarget) {
            eventOnce(
                PoolEvents.WARNING,
                "AddonNotShared",
                "add-on(s) "
                    + cached.copied().stream()
                        .map(Platform.Addon::name)
                        .collect(java.util.stream.Collectors.joining(", "))
                    + " of "
                    + t.sourceApp()
                    + " cannot be attached to other apps (their service allows no sharing):"
                    + " their config vars are copied to the backends, and a credential change rolls the pool");
          }
          if (affinity && newTarget) {
            // the app relies on the router's cookie to keep a client on one dyno (in-memory
            // sessions, Socket.IO/SockJS long polling); nothing fails loudly without it
            eventOnce(
                PoolEvents.WARNING,
                "SessionAffinityIgnored",
                "source app "
                    + t.sourceApp()
                    + " has "
                    + SESSION_AFFINITY
                    + " enabled, but the pool has no session affinity: requests of one client go to"
                    + " different backends (each backend is an app of its own). Keep sessions in a"
                    + " shared store (the database, Redis), or use a transport that needs none"
                    + " (WebSockets only)");
          }
          if (!cached.drains().isEmpty() && newTarget) {
            // how many only: a drain's url may hold its service's token
            eventOnce(
                PoolEvents.NORMAL,
                "LogDrainsCopied",
                cached.drains().size()
                    + " log drain(s) of "
                    + t.sourceApp()
                    + " (heroku drains -a "
                    + t.sourceApp()
                    + ") are added to each new backend: the backends' log lines go there too");
          }
          sources.put(pool.id, cached);
          sourceReads.put(pool.id, new SourceRead(rel.id(), Map.copyOf(vars), app));
          templateSeen.put(pool.id, t);
          // for the fleet, once read and checked: with shareAddons the next re-read is due an
          // interval from now; and another dyno that finds a newer read than its own with another
          // target at this release reads the couplings (its stage may be behind: review 25 #2)
          final Source done = cached;
          fleetTimer(() -> store.sourceRead(pool.id, now, rel.id(), done.target()));
        }
      }
      if (latest.isPresent() && !latest.get().succeeded() && !latest.get().failed()) {
        inFlight = true; // the source is mid-release: keep the last known target, look again soon
        sourceReleasing = true;
        String id = latest.get().id();
        SourcePending seen = sourcePending.get(pool.id);
        if (seen == null || !seen.releaseId().equals(id)) {
          sourcePending.put(pool.id, new SourcePending(id, now));
        }
      } else {
        sourcePending.remove(pool.id);
      }
      source = cached;
      if (source == null) {
        condition(
            "Degraded",
            "True",
            "SourceAppHasNoRelease",
            "source app '"
                + t.sourceApp()
                + "' has no released slug yet: deploy it, Dynofleet waits");
      }
      if (couplings == null) {
        return;
      }
      Set<String> coupled = new HashSet<>();
      for (Platform.Coupling c : couplings) {
        coupled.add(c.appId());
      }
      for (Backend b : List.copyOf(backends)) {
        if (!coupledStep(b)) {
          continue;
        }
        if (coupled.contains(b.appId)) {
          uncouplable.remove(b.appId); // coupled again by hand meanwhile
        } else if (source == null && SpecDefaults.SOURCE_STAGE.equals(t.stage())) {
          continue; // the source's stage is not known yet: never coupled to the fallback by guess
        } else {
          Instant refused = uncouplable.get(b.appId);
          if (refused != null && now.isBefore(refused.plus(config.driftCheckInterval()))) {
            continue; // Heroku refused to couple it lately: not two calls every pass (review 4)
          }
          checkStopping();
          Optional<Platform.App> found = platform.app(b.appId);
          found.ifPresent(a -> followRename(b, a));
          if (found.isEmpty()) {
            vanished(b, "");
            backends.remove(b);
          } else {
            // decoupled by hand (or one answer missed it): coupled again where it stands; a
            // coupling has nothing to do with serving, so a ready backend keeps its traffic
            try {
              platform.couple(ref(b), pipelineId, stageOf(t));
              uncouplable.remove(b.appId);
              LOG.infof(
                  "pool=%s app=%s was not in pipeline %s: coupled again",
                  pool.name, b.appName, spec.pipeline());
            } catch (PlatformException e) {
              if (e.kind() != Kind.INVALID) {
                throw e;
              }
              uncouplable.put(b.appId, now);
              event(
                  PoolEvents.WARNING,
                  "CouplingRefused",
                  "app "
                      + b.appName
                      + " is not in pipeline "
                      + spec.pipeline()
                      + " and Heroku refused to couple it ("
                      + e.getMessage()
                      + "); it keeps serving; tried again in "
                      + config.driftCheckInterval().toMinutes()
                      + " min");
            }
          }
        }
      }
      // for this process and the fleet: the source's stage as read, for the next passes of every
      // dyno (review 25 #2: each kept its own for up to an interval, and they undid each other's
      // new apps)
      String sourceApp = source != null ? source.appId() : null;
      String sourceStage = sourceApp != null ? coupledStage(couplings, sourceApp) : null;
      // stamped by the database, not with now (review 26: a clock ahead kept an older read); the
      // stamp kept, so that this read, stored, is known as this process's own at the next pass
      Instant[] stamp = new Instant[1];
      fleetTimer(
          () ->
              stamp[0] =
                  store.couplingsRead(
                      pool.id, pool.generation, pipelineId, sourceApp, sourceStage));
      couplingsLooked.put(
          pool.id,
          new CouplingsLook(
              now,
              pool.generation,
              pipelineId,
              coupledApps(),
              sourceApp,
              sourceStage,
              stamp[0],
              troubledApps()));
    }

    /**
     * Whether a look at the source's releases (of any pool of this process) is young enough to
     * reuse: this pool's last pass here, less than release-poll ago, only waited, the look was read
     * less than release-poll ago, after the last delivery heard for this pool and after the fleet's
     * last read of the pool's source, its newest usable release is not below the pool's target, and
     * this pool's last look was at its spec as it is now.
     */
    private boolean fresh(ReleasesLook looked) {
      Instant wait = waited.get(pool.id);
      if (looked == null
          || wait == null
          || wait.isAfter(now)
          || !now.isBefore(wait.plus(config.releasePoll()))
          || looked.at().isAfter(now)
          || !now.isBefore(looked.at().plus(config.releasePoll()))) {
        return false; // the wait was this process's pass just before, not one minutes ago
      }
      Long generation = releasesLookedAt.get(pool.id);
      if (generation == null || generation != pool.generation) {
        return false;
      }
      // another dyno read the source since (the pool's passes moved: sweep, takeover), perhaps a
      // release this look has not, and made apps for it: taken for off-target ones, they were
      // drained and the rollout stepped back (review 30 R30-1)
      FleetTimers stored = timers();
      if (stored.sourceReadAt() != null && stored.sourceReadAt().isAfter(looked.at())) {
        return false;
      }
      int newest =
          looked.recent().stream()
              .filter(Reconciler::usable)
              .mapToInt(Platform.Release::version)
              .findFirst()
              .orElse(-1);
      if (pool.status != null && releaseNumber(pool.status.targetRelease()) > newest) {
        return false;
      }
      Instant heard = heardAt();
      return heard == null || heard.isBefore(looked.at());
    }

    /** The pipeline's couplings, read now. */
    private List<Platform.Coupling> readCouplings() {
      try {
        return platform.couplings(pipelineId);
      } catch (PlatformException e) {
        if (e.kind() != Kind.NOT_FOUND) {
          throw e;
        }
        // the pipeline was deleted, perhaps made again under its name (a sandbox started again on
        // a kept database, whose stored id is of the last simulator): look the name up anew, in
        // this pass, rather than fail it as InvalidSpec and wait out the backoff
        String gone = pipelineId;
        forgetPipeline();
        Platform.Pipeline again;
        try {
          again = platform.pipeline(spec.pipeline());
        } catch (PlatformException notThere) {
          if (notThere.kind() == Kind.NOT_FOUND) {
            throw pipelineNotFound();
          }
          throw notThere;
        }
        if (again.id().equals(gone)) {
          throw pipelineNotFound(); // there by name, yet its couplings are not: say so, no loop
        }
        pipelines.put(spec.pipeline(), again);
        pipelinesRead.put(spec.pipeline(), now);
        fleetTimer(
            () -> store.pipelineRead(pool.id, now, spec.pipeline(), again.id(), again.team()));
        pipelineId = again.id();
        team = again.team();
        try {
          return platform.couplings(pipelineId);
        } catch (PlatformException stillGone) {
          if (stillGone.kind() == Kind.NOT_FOUND) {
            forgetPipeline();
            throw pipelineNotFound();
          }
          throw stillGone;
        }
      }
    }

    /**
     * Whether this pass reads the pipeline's couplings, which find a backend decoupled or deleted
     * by hand, and the source's stage: every drift interval for the fleet, after a change (the
     * spec, the pipeline, which backends are coupled), when a coupled backend became not ready or
     * began failing its checks here since the last read (a deleted app fails the proxies' probes
     * within seconds) and every 6 release polls while one stays so, while one was refused its
     * coupling, and when another dyno read the source since and found another target at the same
     * release (with "source", its stage may be newer). Not on a steady pass: they were a second
     * call on every look at every pool, half the sweep's cost (audit 21 H1); nor at a start within
     * the interval (review 25 #9: P calls per dyno per restart).
     */
    private boolean couplingsDue(PoolSpec.Template t, Source cached) {
      CouplingsLook last = lastCouplingsLook();
      if (last == null
          || last.generation() != pool.generation
          || !last.pipelineId().equals(pipelineId)
          || !now.isBefore(last.at().plus(config.driftCheckInterval()))
          || !last.apps().equals(coupledApps())) {
        return true;
      }
      FleetTimers stored = timers();
      if (SpecDefaults.SOURCE_STAGE.equals(t.stage())
          && cached != null
          && stored.sourceReadAt() != null
          && stored.sourceReadAt().isAfter(cached.readAt())
          && stored.sourceReadAt().isAfter(last.at())
          && cached.releaseId().equals(stored.sourceRelease())
          && !cached.target().equals(stored.sourceTarget())) {
        return true; // a dyno whose read of the couplings did not reach the store (its pass failed)
      }
      for (Backend b : backends) {
        if (coupledStep(b) && uncouplable.containsKey(b.appId)) {
          return true; // coupled by hand meanwhile? (its next try waits the drift interval)
        }
      }
      // a backend not ready or failing: read when one became so since the last read, then again
      // every TROUBLED_COUPLINGS release polls while any stays so. Not on every pass: a pool
      // waiting for its new backends' health passes every 2 s, and each pass read them (audit 25
      // F1); a backend coupled or deleted by the pool since changes the apps above
      Set<String> troubled = troubledApps();
      return !troubled.isEmpty()
          && (!last.troubled().containsAll(troubled)
              || !now.isBefore(
                  last.at().plus(config.releasePoll().multipliedBy(TROUBLED_COUPLINGS))));
    }

    /**
     * The apps of the coupled backends that are not ready, or fail their checks here (a deleted app
     * fails the proxies' probes within seconds).
     */
    private Set<String> troubledApps() {
      Set<String> apps = new HashSet<>();
      for (Backend b : backends) {
        if (!coupledStep(b)) {
          continue;
        }
        DataPlane.Health h = health.get(b.appName);
        if (b.phase != Phase.Ready
            || b.unhealthySince != null
            || h != null && h.known() && !h.healthy()) {
          apps.add(b.appId);
        }
      }
      return apps;
    }

    /**
     * This process's last read of the couplings, or the fleet's when it is newer and of the same
     * pipeline (another dyno, or this one before a restart): adopted, the source's stage with it,
     * so dynos agree on the target at the next pass of each, not at each one's own read up to an
     * interval apart (review 25 #2).
     */
    private CouplingsLook lastCouplingsLook() {
      CouplingsLook own = couplingsLooked.get(pool.id);
      ReconcileStore.CouplingsRead fleet = timers().couplings();
      // its time on this process's clock: its age by the database's, which stamped it
      Instant fleetAt = fleet == null ? null : now.minus(fleet.age());
      if (fleet == null
          || !fleet.pipelineId().equals(pipelineId)
          || own != null && (fleet.at().equals(own.stamp()) || !fleetAt.isAfter(own.at()))) {
        return own;
      }
      CouplingsLook adopted =
          new CouplingsLook(
              fleetAt,
              fleet.generation(),
              fleet.pipelineId(),
              coupledApps(),
              fleet.sourceApp(),
              fleet.sourceStage(),
              fleet.at(),
              Set.of());
      couplingsLooked.put(pool.id, adopted);
      return adopted;
    }

    /** The apps of the backends that should be in the pipeline (those the couplings check). */
    private Set<String> coupledApps() {
      Set<String> apps = new HashSet<>();
      for (Backend b : backends) {
        if (coupledStep(b)) {
          apps.add(b.appId);
        }
      }
      return apps;
    }

    private static boolean coupledStep(Backend b) {
      return !b.leaving() && b.appId != null && (b.step == Step.COUPLED || b.step == Step.READY);
    }

    /**
     * Template config vars that an add-on shared with the backends sets through its attachment:
     * Heroku refuses to set those ("Cannot overwrite attachment values"), so every backend would
     * stop at its config step (audit 12). Said before any app is made, naming the var and the
     * add-on, and how to do it instead.
     */
    private void refuseAttachmentVars(
        PoolSpec.Template t, Source src, Map<String, String> releaseVars) {
      List<String> clashes = new ArrayList<>();
      for (String k : new java.util.TreeSet<>(t.configVars().keySet())) {
        if (!src.addonVars().contains(k)) {
          continue;
        }
        String owner =
            src.addons().stream()
                .filter(a -> Source.varsOf(a, releaseVars).contains(k))
                .map(
                    a ->
                        a.name()
                            + (a.attachedAs().isEmpty()
                                ? ""
                                : " (attached as " + String.join(", ", a.attachedAs()) + ")"))
                .findFirst()
                .orElse("an add-on");
        clashes.add(k + " is set by add-on " + owner);
      }
      if (!clashes.isEmpty()) {
        throw new PlatformException(
            Kind.INVALID,
            "spec.template.configVars sets a config var an add-on attachment"
                + " owns on the source app '"
                + t.sourceApp()
                + "': "
                + String.join("; ", clashes)
                + ". The backends share"
                + " the source's add-ons (spec.template.shareAddons), and Heroku refuses to overwrite attachment values;"
                + " remove it from spec.template.configVars, or set spec.template.shareAddons to false (the add-ons' vars"
                + " are then copied, and the template's win)");
      }
    }

    /**
     * The source app pinned by its id (see {@link ReconcileStore#pinSource}): pinned now when the
     * spec names the source anew ({@link #pinnedFor}), else the app the name answers with must be
     * the pinned one. Heroku app names are global and free again once an app is deleted or renamed:
     * whoever took the name would have its slug, config vars, add-ons and log drains released onto
     * the backends, with the template's config vars (secrets among them) and the pool's traffic
     * (security review 5, S5-6). Another app is {@link #SOURCE_REPLACED}: a spec error, so the pass
     * does what needs no source ({@link #withoutSource}: the backends keep serving) and is retried
     * at max-backoff, at once after a spec change.
     */
    private void pinSource(PoolSpec.Template t, Platform.App app) {
      String pinned =
          store.pinSource(
              pool.id, pinnedFor(t), app.id(), saidReplaced(), this::messageSaidReplacedBy);
      if (pinned == null || pinned.equals(app.id())) {
        pinnedNow = pinned;
        return;
      }
      String message =
          "source app '"
              + t.sourceApp()
              + "' is now another app (id "
              + app.id()
              + (app.createdAt() == null ? "" : ", created " + app.createdAt())
              + ") than the one the pool copies (id "
              + pinned
              + "): an app's name is free for anyone to take once it is deleted or renamed, so"
              + " nothing is made or rolled out from it, and the backends keep serving. Check"
              + " heroku apps:info -a "
              + app.id()
              + " (and heroku apps:info -a "
              + pinned
              + " for the one copied); if the new app is the source, confirm it with dynofleet"
              + " rollout restart "
              + pool.name
              + " or by naming it by its id in spec.template.sourceApp";
      // the app said, for a rollout restart to confirm (review 30 R30-6): a failed write leaves
      // the one said before, which a restart then does not confirm for this app
      try {
        store.sourceReplacedBy(pool.id, app.id());
      } catch (RuntimeException e) {
        LOG.debugf(
            "pool=%s replacing app not recorded: %s", pool.name, e.getClass().getSimpleName());
      }
      throw new PlatformException(Kind.INVALID, message).as(SOURCE_REPLACED, message);
    }

    /**
     * Whether the pool's last pass was {@link #SOURCE_REPLACED}: a rollout restart then confirms
     * the app it named (review 30 R30-6), as stored ({@link ReconcileStore#sourceReplacedBy}).
     */
    private boolean saidReplaced() {
      return replacedCondition().isPresent();
    }

    /**
     * Whether the pool's {@link #SOURCE_REPLACED} condition's message names the app {@code id}
     * first: the app said by a pass before the upgrade that stores it (V29).
     */
    private boolean messageSaidReplacedBy(String id) {
      return replacedCondition()
          .map(PoolStatus.Condition::message)
          .filter(
              m ->
                  m.contains("is now another app (id " + id + ")")
                      || m.contains("is now another app (id " + id + ", "))
          .isPresent();
    }

    private Optional<PoolStatus.Condition> replacedCondition() {
      if (pool.status == null || pool.status.conditions() == null) {
        return Optional.empty();
      }
      return pool.status.conditions().stream()
          .filter(
              c ->
                  "Degraded".equals(c.type())
                      && "True".equals(c.status())
                      && SOURCE_REPLACED.equals(c.reason())
                      && c.message() != null)
          .findFirst();
    }

    /**
     * The highest source release the pool's backends were made at by the app {@code appId}: those
     * released from it ({@code sourceAppId}), and those released before the id was kept (null), as
     * the pool's rows older processes wrote are. 0 when none is.
     */
    private int rolledOutFrom(String appId) {
      int highest = 0;
      for (Backend b : backends) {
        boolean same =
            b.sourceAppId == null
                ? b.releaseId != null && !RELEASE_SENT.equals(b.releaseId)
                : b.sourceAppId.equals(appId);
        if (same && b.releaseVersion != null && b.releaseVersion > highest) {
          highest = b.releaseVersion;
        }
      }
      return highest;
    }

    /**
     * What the source was pinned for: {@code sourceApp} as the spec names it (any case) and {@code
     * restartedAt} (a rollout restart confirms the app the name answers with then, if the last pass
     * said {@link #SOURCE_REPLACED} for it: {@link #saidReplaced}).
     */
    private static String pinnedFor(PoolSpec.Template t) {
      return t.sourceApp().toLowerCase(java.util.Locale.ROOT)
          + "\n"
          + (t.restartedAt() == null ? "" : t.restartedAt());
    }

    /**
     * The source app's name answers with no app: an {@code InvalidSpec} saying whether the app the
     * pool copies (its pinned id) was deleted or renamed, read by that id (one call, only then; a
     * failure of it tells neither), and that the name is free for anyone to take, whose app is not
     * copied without a confirmation (S5-6). Without a pin (the source never read: a typo, an app
     * not made yet), only that it is not found, as before.
     */
    private PlatformException sourceNotFound(PoolSpec.Template t) {
      String base = "source app '" + t.sourceApp() + "' not found";
      String pinned = null;
      try {
        pinned = store.sourcePin(pool.id);
      } catch (RuntimeException e) {
        LOG.debugf("pool=%s source pin not read: %s", pool.name, e.getClass().getSimpleName());
      }
      String taken =
          ": an app that takes the name (anyone may) is not copied unless confirmed ("
              + SOURCE_REPLACED
              + ")";
      if (pinned != null && !pinned.equalsIgnoreCase(t.sourceApp())) {
        try {
          checkStopping();
          Optional<Platform.App> copied = platform.app(pinned);
          if (copied.isPresent()) {
            return new PlatformException(
                Kind.INVALID,
                base
                    + ": the app the pool copies (id "
                    + pinned
                    + ") is now named '"
                    + copied.get().name()
                    + "', and its old name is free for anyone to take. Set"
                    + " spec.template.sourceApp to "
                    + copied.get().name()
                    + " or to its id");
          }
          return new PlatformException(
              Kind.INVALID,
              base
                  + ": the app the pool copies (id "
                  + pinned
                  + ") was deleted, and its name is free for anyone to take"
                  + taken);
        } catch (PlatformException e) {
          LOG.debugf("pool=%s pinned source not read: %s", pool.name, e.getMessage());
        }
      }
      if (pinned == null) {
        // never read (a typo, a new pool's source not made yet): an app made under the name is
        // the one pinned
        return new PlatformException(Kind.INVALID, base);
      }
      return new PlatformException(
          Kind.INVALID,
          base + " (deleted or renamed? its name is then free for anyone to take" + taken + ")");
    }

    /** The pool's periodic work as the fleet last did it, read once per pass. */
    private FleetTimers timers() {
      if (timers == null) {
        try {
          timers = store.fleetTimers(pool.id);
        } catch (RuntimeException e) {
          // an optimisation: without it, this process's own timers decide
          LOG.debugf("pool=%s fleet timers not read: %s", pool.name, e.getClass().getSimpleName());
          timers = FleetTimers.NONE;
        }
      }
      return timers;
    }

    /**
     * Whether the source's add-ons are to be read again: no dyno read them within the drift
     * interval, or one read them after this process did and found another target at the same
     * release (an add-on attached or detached since: this process's target is behind).
     */
    private boolean addonsDue(Source cached) {
      FleetTimers stored = timers();
      Instant last = cached.readAt();
      Instant fleet = stored.sourceReadAt();
      if (fleet != null
          && fleet.isAfter(last)
          && cached.releaseId().equals(stored.sourceRelease())
          && !cached.target().equals(stored.sourceTarget())) {
        return true;
      }
      if (fleet != null && fleet.isAfter(last)) {
        last = fleet;
      }
      return !now.isBefore(last.plus(config.driftCheckInterval()));
    }

    /** The pipeline is to be looked up by name again, by this process and the fleet. */
    private void forgetPipeline() {
      pipelines.remove(spec.pipeline());
      pipelinesRead.remove(spec.pipeline());
      timers = FleetTimers.NONE;
      fleetTimer(() -> store.pipelineRead(pool.id, null, null, null, null));
    }

    /**
     * Records a fleet timer: an optimisation, so a failed write (the database away) costs a read
     * more later, not the pass.
     */
    private void fleetTimer(Runnable write) {
      try {
        write.run();
      } catch (RuntimeException e) {
        LOG.debugf("pool=%s fleet timer not written: %s", pool.name, e.getClass().getSimpleName());
      }
    }

    /**
     * The template takes the source's stage and the source's coupling moved since the target was
     * derived ({@code heroku pipelines:update -s}, or coupled or decoupled): derived again in this
     * pass. Known when the couplings are read in this pass ({@code all} not null: every drift
     * interval, after a change, or while a backend is not ready, audit 21 H1), or from the last
     * read known of this source app, another dyno's newer one included (review 25 #2).
     */
    private boolean stageMoved(PoolSpec.Template t, Source cached, List<Platform.Coupling> all) {
      if (cached == null
          || cached.appId() == null
          || !SpecDefaults.SOURCE_STAGE.equals(t.stage())) {
        return false;
      }
      if (all != null) {
        return !Objects.equals(coupledStage(all, cached.appId()), cached.stage());
      }
      CouplingsLook look = stageRead(cached.appId(), cached);
      return look != null && !Objects.equals(look.sourceStage(), cached.stage());
    }

    /**
     * The last read of the couplings known (this process's, or another dyno's adopted) when it gave
     * the stage of the source app {@code appId} and is newer than {@code derived} (null: any), the
     * snapshot whose stage it would replace; else null. An older one never does: a pass whose
     * couplings check failed after the source was derived from a newer read keeps that one.
     */
    private CouplingsLook stageRead(String appId, Source derived) {
      CouplingsLook look = couplingsLooked.get(pool.id);
      return look != null
              && appId.equals(look.sourceApp())
              && (derived == null || look.at().isAfter(derived.readAt()))
          ? look
          : null;
    }

    /** The stage to couple this pool's backends to (see {@link Source#stageFor}). */
    private String stageOf(PoolSpec.Template t) {
      return Source.stageFor(t, source == null ? null : source.stage());
    }

    private boolean sameTemplate(Source cached) {
      return Objects.equals(templateSeen.get(pool.id), spec.template());
    }

    /**
     * Ready backends that fail their health checks are restarted once, then replaced: a few at a
     * time (at most {@code max(1, maxUnavailable)} restarted and still failing), and none while
     * most of the pool fails at once. That is a shared cause (the source's database, an add-on, an
     * API the backends call), which new apps would fail just the same: replacing every backend
     * during a 20-minute database outage deleted apps that would have recovered by themselves, and
     * their replacements, unable to pass either, stalled the pool at none. The proxy does the like
     * (panic mode: all unhealthy, all tried).
     *
     * <p>With a health check, only its probes count here: a backend the proxies eject for failed
     * requests while its probes pass is routed around (phase {@code Ejected}) and left alone. Any
     * client could eject one by asking for a route that answers 500, again each time it came back,
     * and had it restarted, then deleted and made again, release phase and all (security review 2).
     * Without a health check, ejections would be the only sign of a dead backend, and they count (a
     * managed pool always has one today: SpecDefaults fills in the path "/").
     */
    private void checkHealthOfReady() {
      Duration replaceAfter = Duration.ofSeconds(spec.healthCheck().replaceAfterSeconds());
      boolean probed = spec.healthCheck().path() != null;
      int judged = 0;
      int failing = 0;
      int restarted = 0;
      int ready = 0;
      for (Backend b : backends) {
        if (b.step == Step.READY) {
          ready++;
        }
        DataPlane.Health h = b.step == Step.READY ? health.get(b.appName) : null;
        if (h != null && h.known()) {
          judged++;
          if (!h.healthy() && !(probed && h.ejected())) {
            failing++;
            if (b.restartedAt != null) {
              restarted++;
            }
          }
        }
      }
      boolean shared = judged >= 2 && failing * 2 > judged;
      if (shared) {
        condition(
            "Degraded",
            "True",
            "ManyUnhealthy",
            failing
                + " of "
                + judged
                + " ready backends fail their health checks: a shared cause is likely (a database, an add-on);"
                + " none is restarted or replaced until most pass again");
      }
      // in a shared failure each dead backend is read anew once per replace window (a bulk rename
      // looks like one): with more than a few due, one paged list of the account's apps instead of
      // a read each (audit 21 M3: 300 backends failing together cost 60 reads a minute per dyno
      // for as long as the outage lasted)
      listed = shared && !observing ? listForLooks(replaceAfter, probed) : null;
      try {
        repairReady(replaceAfter, probed, shared, failing, restarted, ready);
      } finally {
        listed = null; // a read of this check's: any later look reads the app anew
      }
    }

    /**
     * Notes what this pass sees of a backend's ejection ({@link Ejection}) and says whether it is
     * to be told: ejected, its last probe not failed, and a probe that passed after one of its
     * spells began seen (by this pass, or by an earlier one of the same ejection).
     */
    private boolean ejection(UUID id, DataPlane.Health h, boolean ejected, Duration replaceAfter) {
      spellEnded = false;
      Ejection e = ejections.get(id);
      if (e != null && now.isAfter(e.until())) {
        ejections.remove(id, e);
        e = null;
      }
      if (h == null || e == null && !ejected) {
        return false;
      }
      if (ejected) {
        e =
            e == null
                ? new Ejection(now, now.plus(replaceAfter), false, false)
                : new Ejection(
                    e.over() ? now : e.spell(), now.plus(replaceAfter), false, e.passed());
      }
      boolean lastPassed = !Boolean.FALSE.equals(h.probePassed());
      boolean passedSince = h.lastProbe() != null && h.lastProbe().isAfter(e.spell()) && lastPassed;
      // the spell this pass sees end (readmitted since the last pass): told now if a probe after
      // it began passed, so a spell shorter than the look a probe interval later is told too
      spellEnded = !ejected && !e.over();
      e = new Ejection(e.spell(), e.until(), !ejected, e.passed() || passedSince);
      ejections.put(id, e);
      // a backend long gone leaves no entry behind: any pass forgets those out of their window
      ejections.forEach(
          (k, v) -> {
            if (now.isAfter(v.until())) {
              ejections.remove(k, v);
            }
          });
      // a probe that passed after *this* spell began, not after an earlier one: a backend that
      // crashed within the window of a short client-caused spell was told "its health check
      // passes" before any probe after the crash had run (review 29 R29-4)
      return (ejected || spellEnded) && passedSince;
    }

    /** Whether the last {@link #ejection} saw its backend's spell end (readmitted since). */
    private boolean spellEnded;

    /** The account's apps by id, read in this check for its looks; null: each is read alone. */
    private Map<String, Platform.App> listed;

    /**
     * The account's apps by id ({@code GET /apps}, paged) when more backends are due for a look in
     * this shared failure ({@link #checkHealthOfReady}'s rule) than the list takes calls; else
     * null.
     */
    private Map<String, Platform.App> listForLooks(Duration replaceAfter, boolean probed) {
      int due = 0;
      for (Backend b : backends) {
        if (b.step != Step.READY
            || followed.contains(b)
            || b.appId == null
            || b.unhealthySince == null) {
          continue;
        }
        DataPlane.Health h = health.get(b.appName);
        if (h == null || !h.known() || h.healthy() || probed && h.ejected()) {
          continue;
        }
        Instant repair =
            (b.restartedAt == null ? b.unhealthySince : b.restartedAt).plus(replaceAfter);
        Instant looked = renameLooked.get(b.id);
        if (!now.isBefore(repair) && (looked == null || !now.isBefore(looked.plus(replaceAfter)))) {
          due++;
        }
      }
      if (due <= Math.max(LIST_LOOKS_ABOVE, appListPages)) {
        return null;
      }
      checkStopping();
      List<Platform.App> all = platform.apps();
      appListPages = Math.max(1, (all.size() + 999) / 1000);
      Map<String, Platform.App> byId = new HashMap<>();
      for (Platform.App a : all) {
        byId.put(a.id(), a);
      }
      return byId;
    }

    /** Marks a ready backend whose checks fail {@code Unhealthy}, and says so. */
    private void markUnhealthy(Backend b, DataPlane.Health h, Duration replaceAfter) {
      b.unhealthySince = now;
      b.phase = Phase.Unhealthy;
      store.save(b);
      event(
          PoolEvents.WARNING,
          "BackendUnhealthy",
          "app "
              + b.appName
              + (h.ejected()
                  ? " is ejected by the proxy: its requests failed in a row"
                      + met(h.lastFailure(), ", the last: ", "")
                      + " (the pool has no health check)"
                  : " fails its health checks" + met(h.lastFailure(), ": ", "")));
      recheckAt(now.plus(replaceAfter));
    }

    /**
     * While calls are paced (the budget under the low watermark, a 429's pause), the ready backends
     * whose checks fail are marked {@code Unhealthy} before the pass makes any call: the fleet's
     * verdicts need none, and behind the pass's paced reads (the source, the app's own look) the
     * mark waited minutes while the budget went to other pools (security review 7 S7-4: 4 min 25
     * s). The look that tells an app deleted or renamed by hand comes later, at its restart ({@link
     * #renamed}), not before the mark. The pool's status says it when the pass writes it, at its
     * end or at its failure.
     */
    private void markFailingFirst() {
      if (!platform.paced()) {
        return;
      }
      health = dataPlane.health(pool.name, pool.id);
      boolean probed = spec.healthCheck().path() != null;
      Duration replaceAfter = Duration.ofSeconds(spec.healthCheck().replaceAfterSeconds());
      for (Backend b : backends) {
        DataPlane.Health h = b.step == Step.READY ? health.get(b.appName) : null;
        if (h == null
            || !h.known()
            || h.healthy()
            || probed && h.ejected()
            || b.unhealthySince != null) {
          continue;
        }
        ejections.remove(b.id);
        markUnhealthy(b, h, replaceAfter);
      }
    }

    /** {@link #checkHealthOfReady}'s marks, restarts and replacements, backend by backend. */
    private void repairReady(
        Duration replaceAfter,
        boolean probed,
        boolean shared,
        int failing,
        int restarted,
        int ready) {
      // while nothing can replace a dead one, each is only restarted, again and again: a kept one
      // holding its slot for good left a second dead one never restarted at all (review 16)
      String blocked = failing > 0 && !observing ? replacementBlocked() : null;
      int restartBudget =
          blocked != null
              ? Integer.MAX_VALUE
              : Math.max(1, spec.rollout().maxUnavailable()) - restarted;
      for (Backend b : backends) {
        if (b.step != Step.READY || followed.contains(b)) {
          continue; // (renamed in this pass: the proxies have no verdict under its new name yet)
        }
        DataPlane.Health h = health.get(b.appName);
        if (h != null && !h.known()) {
          // no proxy of the fleet has a verdict yet (another dyno made it ready, or a swap just
          // added it): no news either way, not a failure
          continue;
        }
        if (h == null || h.healthy() || probed && h.ejected()) {
          renameLooked.remove(b.id);
          maintenanceTold.remove(b.id);
          boolean ejected = h != null && h.ejected();
          // the backend row's, for the fleet: kept per dyno, a flapping backend was told once per
          // window by each dyno its passes came to (review 29 R29-5)
          Instant told = b.ejectionToldAt;
          // said only once a probe since the ejection was seen passed (audit 22 M1): a crashed
          // backend is ejected by its first failed requests, before its probes fail, and was told
          // to have a passing health check, to be pointed elsewhere, seconds before it was
          // Unhealthy. Passed, not only ran: an ejected backend counts as failing only once its
          // probes failed to the threshold (review 28 #1), so a probe that failed below it must not
          // tell it (a verdict of the release before does not say: a probe that ran, as there)
          //
          // A backend ejected and readmitted again and again had its seen mark reset at each
          // readmit, and a spell shorter than a probe interval and the pass's look was never told
          // (review 28 #2). Spells within a replace window of each other are one ejection: a
          // probe that passed after a spell began, seen by a pass while it was out or by the pass
          // that sees it back, tells it (review 29 R29-4: not one after an earlier spell)
          boolean passed = ejection(b.id, h, ejected, replaceAfter);
          boolean due = told == null || !now.isBefore(told.plus(replaceAfter));
          if (ejected && due && !passed) {
            // back a probe interval later to look (its state stays "ejected": no health change)
            recheckAt(now.plus(Duration.ofSeconds(spec.healthCheck().intervalSeconds())));
          }
          if ((ejected || spellEnded) && due && passed) {
            // left alone, but not unsaid (review 19): a backend whose requests fail while "/"
            // answers stays out for good otherwise, with nothing but its phase to show it. Once per
            // replace window, so a client ejecting it again and again writes no flood of events
            b.ejectionToldAt = now;
            store.ejectionTold(b.id, now);
            event(
                PoolEvents.WARNING,
                "BackendEjected",
                "app "
                    + b.appName
                    + (ejected
                        ? ": the proxies route around it, its requests failing in a row ("
                            + h.consecutiveFailures()
                            + ")"
                        : ": the proxies routed around it for a while, its requests failing in a"
                            + " row,")
                    + " while its health check ("
                    + spec.healthCheck().path()
                    + ") passes; it is neither restarted nor replaced for failed requests,"
                    + " which a client can cause: if it stays, read its logs, or point the health check at what its"
                    + " requests need");
          }
          if (b.unhealthySince != null || b.phase != Phase.Ready) {
            if (b.unhealthySince != null) {
              event(
                  PoolEvents.NORMAL,
                  "BackendRecovered",
                  "app "
                      + b.appName
                      + (ejected
                          ? " passes its health checks again (still ejected by the proxies for failed requests)"
                          : " is healthy again"));
            }
            b.unhealthySince = null;
            b.restartedAt = null;
            b.phase = Phase.Ready;
            store.save(b);
          }
          continue;
        }
        ejections.remove(b.id); // failing: an ejection after it is seen anew
        if (b.unhealthySince == null) {
          if (!shared && !observing && look(b) == Look.GONE_OR_MOVED) {
            // deleted or renamed by hand: forgotten and replaced, or followed, now rather than at
            // the restart a replace window later (audit 14: the proxies met the router's 404s)
            continue;
          }
          markUnhealthy(b, h, replaceAfter);
          continue;
        }
        if (observing) {
          // paused: marked and said, neither looked up, restarted nor replaced, and its repair
          // clock does not run: each paused pass moves it on, so a resume gives it a whole
          // replaceAfterSeconds from about then (review 32 R32-2: one marked during a long pause
          // was restarted by the resume's first pass, with no grace)
          if (b.restartedAt != null) {
            b.restartedAt = now;
          } else {
            b.unhealthySince = now;
          }
          store.save(b);
          continue;
        }
        if (b.restartedAt != null && BUDGET_LOW.equals(blocked) && !shared && ready > 1) {
          // still failing after its restart: its replacement, due now or at its next turn, waits
          // for the budget. Said on every pass meanwhile, not only by the one restarting it again:
          // the pool said Degraded False "no errors" while its repair waited (audit 27 F1)
          sayRateLimited();
        }
        Instant due = (b.restartedAt == null ? b.unhealthySince : b.restartedAt).plus(replaceAfter);
        if (now.isBefore(due)) {
          recheckAt(due); // come back exactly when the restart or the replacement is due
          continue;
        }
        if (maintenanceTold.contains(b.id)) {
          Instant looked = renameLooked.get(b.id);
          if (looked != null && now.isBefore(looked.plus(replaceAfter))) {
            // in maintenance mode at the last look: looked at again once per replace window
            continue;
          }
        }
        if (shared) {
          // a bulk rename ends every address at once and looks like a shared cause: each is read
          // anew once per replace window (review 17)
          Instant looked = renameLooked.get(b.id);
          if (looked == null || !now.isBefore(looked.plus(replaceAfter))) {
            renameLooked.put(b.id, now);
            renamed(b);
          }
          continue; // a health change brings the next pass
        }
        if (b.restartedAt == null) {
          if (restartBudget <= 0) {
            continue; // another one is being restarted or replaced: this one waits its turn
          }
          if (renamed(b)) {
            continue; // its new address gets its own checks first
          }
          restartBudget--;
          checkStopping();
          platform.restart(ref(b));
          b.restartedAt = now;
          store.save(b);
          recheckAt(now.plus(replaceAfter));
          event(
              PoolEvents.WARNING,
              "BackendRestarted",
              "app "
                  + b.appName
                  + " unhealthy for "
                  + replaceAfter.toSeconds()
                  + "s: dynos restarted");
        } else if (ready <= 1) {
          // the pool's only ready backend (replicas 1): a replacement, the same release on the
          // same add-ons, would most likely fail the same (a database down), and meanwhile there
          // would be none; it stays, and the pool says so (review 4: such a pool ended at no app)
          condition(
              "Degraded",
              "True",
              "ManyUnhealthy",
              "app "
                  + b.appName
                  + ", the pool's only ready backend, still fails its health checks after a restart; it is not"
                  + " replaced (a new app would likely fail the same); scale up or fix the cause");
        } else if (blocked != null) {
          // nothing would be made in its place (a stalled rollout made none at the old release
          // either): deleting it shrank the pool one app at a time while the stall lasted (review
          // 15). It stays, restarted again every replaceAfterSeconds, until a successor can be made
          if (renamed(b)) {
            continue;
          }
          checkStopping();
          platform.restart(ref(b));
          b.restartedAt = now;
          store.save(b);
          recheckAt(now.plus(replaceAfter));
          event(
              PoolEvents.WARNING,
              "BackendRestarted",
              "app "
                  + b.appName
                  + " still unhealthy after a restart;"
                  + " not replaced while "
                  + blocked
                  + ": dynos restarted again");
        } else if (!renamed(b)) {
          event(
              PoolEvents.WARNING,
              "BackendReplaced",
              "app " + b.appName + " still unhealthy after a restart: replacing it");
          ready--;
          drain(b, Duration.ZERO, "replaced (still unhealthy after a restart)");
          replacing.add(b.appName);
        }
      }
      backends.removeIf(b -> b.step == null); // apps found deleted (renamed): forgotten, replaced
    }

    /** Scale up, scale down and rolling update, within maxSurge / maxUnavailable. */
    private void planReplicas() {
      for (Backend b : backends) {
        if (b.phase == Phase.Failed && !b.leaving()) {
          keepLogTail(b);
          drain(b, Duration.ZERO, "failed");
          replacing.add(b.appName);
        }
      }
      int replicas = spec.replicas();
      List<Backend> active = backends.stream().filter(b -> !b.leaving()).toList();
      String target = source == null ? null : source.target();
      List<Backend> current =
          target == null ? active : active.stream().filter(b -> b.target.equals(target)).toList();
      List<Backend> old =
          target == null
              ? List.of()
              : active.stream().filter(b -> !b.target.equals(target)).toList();
      // a stall holds for its target at the spec it failed under: a new release, a new config or
      // any spec change (a fixed health check path, a scale) tries again
      boolean stalled =
          target != null
              && stalledTarget != null
              && stalledTarget.equals(target + STALL_AT + pool.generation);
      if (target != null && !stalled) {
        stalledTarget = null;
      }
      // a release waiting its turn (mayRelease) does not start at a stalled target, nor while new
      // apps at it failed lately: each would fail as the first did (review 16)
      holdReleases = stalled || target != null && failedAppWait(target);
      if (stalled) {
        for (Backend b : current) {
          if (b.step.compareTo(Step.RELEASING) < 0) {
            // never released: made again once the stall clears
            drain(
                b,
                Duration.ZERO,
                "release v" + source.version() + " stalled, made again once it clears");
          }
        }
        // keep saying so on every pass until the source app or the spec moves on, with the reason
        // the failure gave (its release phase's output, or the health checks), not a guess
        sayStalled(!old.isEmpty());
      }
      if (old.isEmpty()) {
        if (active.size() < replicas && target != null && !stalled && !failedAppWait(target)) {
          int missing = replicas - active.size() - reclaim(replicas - active.size(), target);
          if (missing > 0) {
            create(missing, "to reach " + replicas + (replicas == 1 ? " replica" : " replicas"));
          }
        } else if (active.size() > replicas) {
          active.stream()
              .sorted(victimOrder())
              .limit(active.size() - replicas)
              .forEach(b -> drain(b, drainTimeFor(b), "scale-down to " + replicas));
        }
        return;
      }
      // rolling update: new apps at the target replace old ones, one safe step per pass
      int maxTotal = replicas + spec.rollout().maxSurge();
      int minAvailable = Math.max(0, replicas - spec.rollout().maxUnavailable());
      if (current.size() > replicas) {
        current.stream()
            .sorted(victimOrder())
            .limit(current.size() - replicas)
            .forEach(b -> drain(b, drainTimeFor(b), "scale-down to " + replicas));
        drainConfiguredForOldTargets(old);
        return;
      }
      int creates = stalled ? 0 : Math.min(replicas - current.size(), maxTotal - active.size());
      if (creates > 0 && failedAppWait(target)) {
        creates = 0;
      }
      if (creates > 0) {
        // reclaimed ones serve at once; this pass still counts only the backends it started with as
        // available, so old ones leave no sooner for it
        creates -= reclaim(creates, target);
      }
      if (creates > 0 && !deletionMarked()) {
        int made = create(creates, "rollout to v" + source.version());
        // not while creation waits for the rate budget (audit 9: 35 such events, no app)
        if (made > 0) {
          event(
              PoolEvents.NORMAL,
              "RolloutStep",
              "creating "
                  + made
                  + " backend(s) at release v"
                  + source.version()
                  + " ("
                  + current.size()
                  + "/"
                  + replicas
                  + " updated)");
        }
      }
      // old backends leave only while enough stay available (maxUnavailable); a stalled rollout
      // keeps every old backend, so a bad release never takes the pool down
      int available = (int) active.stream().filter(this::available).count();
      if (stalled) {
        drainConfiguredForOldTargets(old);
        return;
      }
      // ready old ones, even those failing their checks now (an ejection after three 503s: they
      // may still serve, and may be back in a minute), leave within Kubernetes' maxScaledDown:
      // what stays covers minAvailable once the new ones still starting are ready. Without it a
      // brief ejection of the old ones mid-rollout deleted them all in one pass, no drain.
      int newUnavailable = (int) current.stream().filter(b -> !available(b)).count();
      // old ones not yet ready go first, whatever the victim order, and use the budget first
      int scaleDown =
          active.size()
              - minAvailable
              - newUnavailable
              - (int) old.stream().filter(o -> o.step != Step.READY).count();
      for (Backend o : old.stream().sorted(victimOrder()).toList()) {
        if (o.step != Step.READY) {
          // not ready: dropped now (counted above), deleted after the drain time if a proxy may
          // route it, or once its release ends if one runs
          drain(o, drainTimeFor(o), "rollout to v" + source.version());
        } else if (scaleDown > 0 && (!available(o) || available - 1 >= minAvailable)) {
          if (available(o)) {
            available--;
          }
          scaleDown--;
          drain(o, drainTimeFor(o), "rollout to v" + source.version());
        }
      }
    }

    /**
     * The stall's conditions: Degraded with the reason the failure gave, and Progressing False with
     * the same reason, as Kubernetes turns a Deployment's Progressing False past its deadline
     * (ProgressDeadlineExceeded): nothing more is tried until the source app or the spec changes,
     * and a stalled rollout said {@code True RollingUpdate} on every later pass (audit 27 F5).
     */
    private void sayStalled(boolean rollout) {
      String reason = rollout ? "RolloutStalled" : "CreateFailed";
      String said = stalledBecause();
      condition(
          "Degraded",
          "True",
          reason,
          said != null
              ? said
              : "release v"
                  + source.version()
                  + " failed on a new backend (its release phase, or health checks within"
                  + " the progress deadline); "
                  + (rollout
                      ? "the rollout stopped and the previous release keeps serving"
                      : "creation waits for a new release or spec"));
      condition(
          "Progressing",
          "False",
          reason,
          "release v"
              + source.version()
              + " stalled: nothing more is tried until the source app or the spec changes");
    }

    /**
     * A paused pool's stall is still said (audit 27 F4: a pause wiped {@code RolloutStalled} at
     * once). The pause itself changed the spec, so the stall is one at the source's current release
     * under any generation; the resume, a spec change too, tries it again as any spec change does.
     */
    private void sayStalledWhilePaused() {
      String target = source == null ? null : source.target();
      if (target == null || stalledTarget == null || !stalledTarget.startsWith(target + STALL_AT)) {
        return;
      }
      boolean rollout = backends.stream().anyMatch(b -> !b.leaving() && !b.target.equals(target));
      sayStalled(rollout);
    }

    /**
     * Old backends whose app was configured (or being configured) for a target the source has left
     * go when planReplicas returns before its old-backend loop (a stall, or a scale-down leaving
     * more at the target than replicas): re-targeted in place, such an app kept the vars and
     * attachments the new target dropped (a config PATCH merges), and got ready with them under a
     * target that says otherwise (audit 19 #3). An intent has no config yet and is re-targeted
     * (advanceSteps); a releasing one finishes its release first.
     */
    private void drainConfiguredForOldTargets(List<Backend> old) {
      for (Backend o : old) {
        if (!o.leaving() && (o.step == Step.CREATED || o.step == Step.CONFIGURED)) {
          drain(o, Duration.ZERO, "rollout to v" + source.version());
        }
      }
    }

    /**
     * Why no app could be made this pass to replace a dead one, or null: planReplicas makes apps
     * only at the source's current release, and none while that stalled, while new apps at it
     * failed lately, or under the rate reserve.
     */
    private String replacementBlocked() {
      String target = source == null ? null : source.target();
      if (unreadable) {
        return "the source app or the pipeline cannot be read";
      }
      if (target == null) {
        return "the source app has no release to make one from";
      }
      if (stalledTarget != null && stalledTarget.equals(target + STALL_AT + pool.generation)) {
        return "the rollout of release v" + source.version() + " is stalled";
      }
      if (failedAppWait(target)) {
        return "new apps at release v" + source.version() + " failed lately";
      }
      if (platform.rateRemaining() < config.rateLimitReserve()) {
        return BUDGET_LOW;
      }
      return null;
    }

    /**
     * The message the stall was recorded with (Degraded CreateFailed or RolloutStalled), if any.
     */
    private String stalledBecause() {
      if (pool.status == null || pool.status.conditions() == null) {
        return null;
      }
      return pool.status.conditions().stream()
          .filter(
              c ->
                  c.type().equals("Degraded")
                      && "True".equals(c.status())
                      && (c.reason().equals("CreateFailed") || c.reason().equals("RolloutStalled")))
          .map(Condition::message)
          .findFirst()
          .orElse(null);
    }

    /** The pool's failed-app streak, read once per pass and only when asked for. */
    private FailedStreak streak() {
      synchronized (streakLock) {
        if (!streakRead) {
          streak = store.failedStreak(pool.id).orElse(null);
          streakRead = true;
        }
        return streak;
      }
    }

    /**
     * Records the pool's failed-app streak (null: none) in the database, so every dyno, and one
     * restarted, waits the same turn (it was each process's: another dyno replaced at once).
     */
    private void streak(FailedStreak s) {
      synchronized (streakLock) {
        store.failedStreak(pool.id, s);
        streak = s;
        streakRead = true;
      }
    }

    /**
     * A new app failed lately at this target though another got ready on it (see {@link
     * #markFailed}): the next waits its turn, and the pool says so. Before, each was replaced at
     * once: a release phase that failed on every new app (a migration gone wrong) made, failed and
     * deleted an app every few seconds, ten Platform API calls each, for ever.
     */
    private boolean failedAppWait(String target) {
      FailedStreak streak = streak();
      if (streak == null
          || target == null
          || !streak.target().equals(target)
          || !now.isBefore(streak.retryAt())) {
        return false;
      }
      condition(
          "Degraded",
          "True",
          "BackendFailed",
          streak.count()
              + " new app(s) in a row failed at release v"
              + source.version()
              + " (its release phase, or health checks) though another app got ready on it;"
              + " the next is made at "
              + streak.retryAt()
              + " (the pool stalls after "
              + FAILED_APPS_BEFORE_STALL
              + ")");
      recheckAt(streak.retryAt());
      return true;
    }

    /**
     * Takes back up to {@code n} backends still draining after a scale-down, instead of making new
     * apps while their twins are being deleted (a scale flapping 6 → 1 → 5 made 12 apps). Only
     * those at {@code target} that left in good health: ready, never unhealthy or restarted,
     * drained with a drain time (not a failure's or a replacement's drain, which has none), before
     * the drain's deadline. They take traffic again once their health checks pass. Returns how
     * many.
     */
    private int reclaim(int n, String target) {
      if (deletionMarked()) {
        return 0;
      }
      List<Backend> leaving =
          backends.stream()
              .filter(
                  b ->
                      b.step == Step.DRAINING
                          && b.appId != null
                          && b.target.equals(target)
                          && b.failures == 0
                          && b.readyAt != null
                          && b.unhealthySince == null
                          && b.restartedAt == null
                          && drainUntil(b).isAfter(b.updatedAt)
                          && now.isBefore(drainUntil(b)))
              .sorted(Comparator.comparing((Backend b) -> b.updatedAt).reversed())
              .limit(n)
              .toList();
      for (Backend b : leaving) {
        // back through its health checks, as a new app: it may have broken while it drained
        b.updatedAt = now;
        awaitHealth(b);
        event(
            PoolEvents.NORMAL,
            "Reclaimed",
            "app "
                + b.appName
                + " was draining and is kept: no new app needed;"
                + " it serves again once its health checks pass");
      }
      return leaving.size();
    }

    /**
     * Coupled: the proxy starts probing it, and it takes traffic once healthy (a new or a reclaimed
     * app).
     */
    private void awaitHealth(Backend b) {
      b.step = Step.COUPLED;
      b.phase = Phase.Releasing;
      b.message = b.webUrl == null ? NO_WEB_URL : WAITING_FOR_HEALTH;
      store.save(b);
      routesChanged = true;
    }

    /** Unhealthy first, then not ready, then newest: what a scale-down gives up. */
    private Comparator<Backend> victimOrder() {
      return Comparator.comparingInt(
              (Backend b) -> {
                DataPlane.Health h = health.get(b.appName);
                if (b.step == Step.READY && h != null && h.known() && !h.healthy()) {
                  return 0;
                }
                return b.step != Step.READY ? 1 : 2;
              })
          .thenComparing((Backend b) -> b.createdAt, Comparator.reverseOrder());
    }

    private boolean available(Backend b) {
      if (b.step != Step.READY) {
        return false;
      }
      DataPlane.Health h = health.get(b.appName);
      // no verdict yet (a proxy that has just started, see RouteSync.route): the fleet's last one,
      // Unhealthy, stands for the counts too (review 15)
      return h == null || h.healthy() || !h.known() && b.phase != Phase.Unhealthy;
    }

    /**
     * A backend a proxy may route gets the drain time: a ready one, and a coupled one with a
     * healthy verdict (published, its probes pass: a proxy routes it before a pass promotes it).
     * Deleted in the pass that drained it, its requests in flight were cut and other dynos sent
     * requests to a deleted app until their next refresh (audit 19 #4).
     */
    private Duration drainTimeFor(Backend b) {
      if (b.step == Step.READY) {
        return servingDrain();
      }
      if (b.step == Step.RELEASING && b.phase == Phase.Releasing) {
        // its release phase runs (a migration, perhaps): deleted at once, the app's release was
        // cut (audit 19 #4). It is deleted once the release ends (finishDrains), or at the bound
        Duration left = Duration.between(now, b.updatedAt.plus(RELEASE_PENDING_LIMIT));
        return left.isNegative() ? Duration.ZERO : left;
      }
      DataPlane.Health h = health.get(b.appName);
      return b.step == Step.COUPLED && h != null && h.healthy() ? servingDrain() : Duration.ZERO;
    }

    /**
     * The drain of a backend a proxy may route: {@code drain-time} when the operator set it, else
     * the pool's routing timeout + {@link #DRAIN_MARGIN}. A request a proxy sent it may wait that
     * timeout for its answer's head; a fixed 10 s cut every request of 10 to 30 s (the default
     * timeout, Heroku's router's) in flight on a backend scaled or rolled away (audit 27).
     */
    private Duration servingDrain() {
      return config
          .drainTime()
          .orElseGet(
              () -> {
                Integer t = spec.routing() == null ? null : spec.routing().timeoutSeconds();
                return Duration.ofSeconds(t == null ? DEFAULT_ROUTING_TIMEOUT : t)
                    .plus(DRAIN_MARGIN);
              });
    }

    /**
     * The pool was read at the start of the pass, and observing takes Platform API calls (seconds
     * on a slow day): a DELETE may have landed since. Read the mark again (one primary-key query)
     * before apps are made, so a pool the user deleted gets no app it would only delete again. Only
     * passes that make apps pay for it.
     */
    private boolean deletionMarked() {
      if (!deletionSeen && store.markedForDeletion(pool.id)) {
        deletionSeen = true;
        LOG.infof("pool=%s deleted during the pass: no apps made", pool.name);
      }
      return deletionSeen;
    }

    /**
     * When to look again at work in flight: soon, unless creation is paused because the rate budget
     * is under the reserve. Then every pass spends calls the refill should be restoring (its reads,
     * at least two), and a pool that only waited for the budget, looked at every 2 s, used most of
     * Heroku's refill (75 calls a minute) itself: the budget never came back and the pool never
     * scaled. It waits until the refill alone would have restored the reserve (at most {@code
     * maxBackoff}); a spec change or the sweep still brings a pass sooner, and so does what this
     * pass knows to be due earlier (a drain's end, a restart or a replacement).
     */
    private Duration inFlightWait() {
      Duration wait = config.inFlightRequeue();
      if (onlyHealthPending()) {
        // the verdict is the proxy's, after a probe: looking every 2 s cost two Platform
        // API calls a time, 60 a minute per pool, for nothing the API could tell (audit 9)
        Duration probe = Duration.ofSeconds(spec.healthCheck().intervalSeconds());
        wait = probe.compareTo(wait) > 0 ? probe : wait;
      }
      Duration release = releaseWait();
      if (release != null && release.compareTo(wait) > 0) {
        wait = release;
      }
      if (source == null && !sourceReleasing && !unreadable) {
        // no release on the source to make or finish apps from: nothing moves before a deploy (the
        // webhook or the sweep brings it); looking every 2 s cost 60 calls a minute (review 16)
        Duration none = config.maxTransientBackoff();
        wait = none.compareTo(wait) > 0 ? none : wait;
      }
      int left = platform.rateRemaining();
      int reserve = config.rateLimitReserve();
      if (left < reserve) {
        // under the reserve any work in flight waits so, not creation only: a release phase
        // or a source release polled every 2 s (2-3 calls a look) spent more than the
        // refill, and the budget is the account's (review 15). The refill must cover the
        // deficit and what every pool waiting so in this process spends each time it looks
        // (its reads): with each pool waiting only its own deficit, five of them spent the
        // whole refill, the budget stayed at the reserve minus two per pool, and nothing was
        // made (audit 9). Others spend too (other dynos' pools, the sweeps, the user's CLI):
        // when the budget did not rise since this pool last looked, it waits twice as long
        // as then (review 8: two dynos with a waiting pool each held it under the reserve)
        Instant stale = now.minus(config.maxBackoff().multipliedBy(2));
        // pools deleted or passed elsewhere
        budgetWaits.values().removeIf(w -> w.at().isBefore(stale));
        long waiting = budgetWaits.keySet().stream().filter(id -> !id.equals(pool.id)).count() + 1;
        long spend = waiting * Math.max(2, platform.calls() - callsAtStart);
        BudgetWait before = budgetWaits.get(pool.id);
        int factor =
            before != null && left <= before.left() ? Math.min(before.factor() * 2, 64) : 1;
        budgetWaits.put(pool.id, new BudgetWait(left, factor, now));
        Duration refill =
            REFILL_PER_CALL.multipliedBy((reserve - (long) Math.max(0, left) + spend) * factor);
        refill = refill.compareTo(config.maxBackoff()) > 0 ? config.maxBackoff() : refill;
        // never sooner than above the reserve (a release polled every 30 s by then, audit 19 #1)
        wait = refill.compareTo(wait) > 0 ? refill : wait;
      }
      if (recheck != null) {
        Duration due = Duration.between(now, recheck).plusMillis(50);
        if (due.compareTo(wait) < 0) {
          wait = due.isNegative() ? Duration.ZERO : due;
        }
      }
      return notPastIdleTurn(wait);
    }

    /**
     * The earlier of {@code wait} and the pool's idle turn ({@link #idleLookTurn}), unless the rate
     * budget is under the reserve (then the wait is the budget's, and idle pools are not looked at
     * either). A pool waiting for a backend's restart or replacement (up to {@code
     * replaceAfterSeconds}), or for a probe interval longer than the turn, had no pass meanwhile,
     * so no look at its source: a rename, a deletion, a release whose webhook was lost or config
     * drift was seen only when the repair came due, 5.5 minutes late in audit 26 F2, and the pool
     * already in trouble was the one looked at least. A look before the repair is due only reads
     * (the repair itself still waits for its time).
     */
    private Duration notPastIdleTurn(Duration wait) {
      if (wait.compareTo(IdleLooks.sweep(config.interval())) <= 0
          || platform.rateRemaining() < config.rateLimitReserve()) {
        return wait; // never longer than the turn (at least the sweep's interval); or the budget's
      }
      Duration turn = idleLookTurn();
      return turn != null && turn.compareTo(wait) < 0 ? turn : wait;
    }

    /**
     * When all that is in flight is a pending release (a backend's release phase, or a release of
     * the source app) and what waits for it (new apps waiting their release turn, or their health
     * checks): the wait before the next look, growing with how long the release has been pending
     * ({@link ReconcileConfig#releasePoll()}: 5 s, 15 s after a minute, 30 s after five). Else
     * null. At 2 s and three calls a look, one release phase (up to an hour) spent more than
     * Heroku's refill (audit 19 #1). The shortest-pending release sets it: a new one is looked at
     * soon. A webhook of the source's release still brings a pass at once, a health change at its
     * turn ({@link ReconcileLoop#healthTurn}).
     */
    private Duration releaseWait() {
      if (creationPaused) {
        return null;
      }
      Instant since = null;
      SourcePending src = sourceReleasing ? sourcePending.get(pool.id) : null;
      if (src != null) {
        since = src.since();
      }
      boolean health = false;
      for (Backend b : backends) {
        if (b.step == null || b.leaving() && !waitsForRelease(b)) {
          return null; // a drain ends at its deadline: looked at as before
        }
        switch (b.step) {
          case READY -> {}
          case COUPLED -> health = true;
          case RELEASING, CONFIGURED, DRAINING -> {
            // RELEASING: saved when its release started; CONFIGURED: since it waits its turn;
            // DRAINING: drained while its release runs, since its drain
            since = since == null || b.updatedAt.isAfter(since) ? b.updatedAt : since;
          }
          default -> {
            return null; // an app being made moves on at the next pass
          }
        }
      }
      if (since == null) {
        return null;
      }
      Duration wait = releasePollAfter(Duration.between(since, now));
      if (health) {
        // a backend waiting for its health checks: looked at no later than its next probe
        Duration probe = Duration.ofSeconds(spec.healthCheck().intervalSeconds());
        wait = probe.compareTo(wait) < 0 ? probe : wait;
      }
      return wait;
    }

    /** How long to wait before looking again at a release pending for {@code pending}. */
    private Duration releasePollAfter(Duration pending) {
      Duration wait = config.releasePoll();
      if (pending.compareTo(Duration.ofMinutes(5)) >= 0) {
        return wait.multipliedBy(6);
      }
      return pending.compareTo(Duration.ofMinutes(1)) >= 0 ? wait.multipliedBy(3) : wait;
    }

    /** All that is in flight is new backends waiting for their health checks to pass. */
    private boolean onlyHealthPending() {
      if (sourceReleasing || creationPaused) {
        return false;
      }
      boolean waiting = false;
      for (Backend b : backends) {
        if (b.leaving() || b.step != Step.READY && b.step != Step.COUPLED) {
          return false;
        }
        waiting |= b.step == Step.COUPLED;
      }
      return waiting;
    }

    /**
     * Degraded {@code RateLimited}: the budget under the reserve holds back creating backends, new
     * ones or replacements of dead ones. Said by every path the reserve holds back: a repair said
     * {@code False "no errors"} while its replacement waited (audit 27 F1). The message names the
     * reserve, not the calls left: the status is rewritten only when it changes, and "0 calls left"
     * stood while the budget refilled (audit 27 I1).
     */
    private void sayRateLimited() {
      condition(
          "Degraded",
          "True",
          "RateLimited",
          "Platform API budget under the reserve of "
              + config.rateLimitReserve()
              + " calls: creating backends (new ones, replacements) paused until it refills");
    }

    /**
     * Records intents for up to {@code n} new backends (advanceInFlight makes them); how many. An
     * intent stands in for an app this pass drained as dead or failed first, else it is made for
     * {@code purpose} (said in its AppCreated event).
     */
    private int create(int n, String purpose) {
      // intents and drains are rows only, but a pass whose lock went (its session cut) would write
      // them beside the new holder's: apps made for one gap twice, then scaled away (review 3, 15)
      checkStopping();
      decided = true;
      if (deletionMarked()) {
        return 0;
      }
      if (platform.rateRemaining() < config.rateLimitReserve()) {
        sayRateLimited();
        inFlight = true;
        creationPaused = true;
        return 0;
      }
      budgetWaits.remove(pool.id);
      int batch = Math.min(n, config.createBatch());
      for (int i = 0; i < batch; i++) {
        Backend b = new Backend();
        b.id = UUID.randomUUID();
        b.poolId = pool.id;
        b.appName = appName(spec.template().namePrefix());
        b.step = Step.INTENDED;
        b.phase = Phase.Creating;
        b.target = source.target();
        b.releaseVersion = source.version();
        b.createdAt = now;
        b.updatedAt = now;
        // the intent is durable before Heroku hears of the app: a crash cannot orphan it
        store.save(b);
        backends.add(b);
        String gone = purpose.startsWith("rollout") ? null : replacing.poll();
        madeFor.put(b.id, gone != null ? "replacing app " + gone : purpose);
      }
      inFlight = true;
      return batch;
    }

    /** {@code cause}: why it leaves, said in the Draining event (audit 18 #2). */
    private void drain(Backend b, Duration drainTime, String cause) {
      checkStopping();
      decided = true;
      boolean afterRelease = b.step == Step.RELEASING && !drainTime.isZero();
      b.step = Step.DRAINING;
      b.phase = Phase.Draining;
      b.updatedAt = now;
      // from now, not from the pass's start: a pass that waited out 429s first would write a
      // deadline already past, and the app would go before other dynos heard of the drain. A drain
      // of none (a failure, a replacement) stays at the pass's start: due in this very pass, and
      // "drained with no drain time" as reclaim reads it
      Instant start = clock.instant();
      b.message =
          "drain until "
              + (drainTime.isZero() || !start.isAfter(now) ? now : start).plus(drainTime)
              + (afterRelease ? AFTER_RELEASE : "");
      store.save(b);
      routesChanged = true;
      inFlight = true;
      event(
          PoolEvents.NORMAL,
          "Draining",
          b.appId == null
              ? "a new app whose create has not answered is not made after all: "
                  + cause
                  + "; deleted if Heroku makes it still"
              : "app "
                  + b.appName
                  + " leaves the data plane: "
                  + cause
                  + (afterRelease ? "; its app is deleted once its release phase ends" : ""));
    }

    /**
     * Whether {@code b}'s release may start now. A release phase (the Procfile's {@code release:})
     * runs against the add-ons the backends share, the database included, and Rails' {@code
     * db:migrate} does not wait for another run's lock, it fails: a batch of apps released at once
     * failed each other, and at a release no app had got ready on, each failure stalled the pool
     * (review 15). So a pool runs one release at a time, unless a release at this target is known
     * to have no release phase (no {@code output_stream_url}). A backend drained while its release
     * runs holds the turn until it ends: it still runs against them.
     */
    private synchronized boolean mayRelease(Backend b) {
      if (holdReleases) {
        return false;
      }
      if (b.target.equals(noReleasePhase.get(pool.id))) {
        return true;
      }
      if (releaseStarted
          || backends.stream()
              .anyMatch(
                  o ->
                      o != b
                          && (waitsForRelease(o)
                              || !o.leaving()
                                  && (o.step == Step.RELEASING
                                      || RELEASE_SENT.equals(o.releaseId))))) {
        return false;
      }
      releaseStarted = true;
      return true;
    }

    /**
     * The release an earlier pass sent to {@code b}'s app and never heard back about: the newest of
     * the app's releases Dynofleet made (its description), or null when the request never arrived.
     */
    private Platform.Release sentBefore(Backend b) {
      // of the slug wanted now: one sent for an older target (the source deployed since) is not it
      // (review 18: adopted, the backend was Ready and counted updated on the old code)
      Optional<Platform.Release> sent =
          platform.recentReleases(ref(b)).stream()
              .filter(
                  r ->
                      r.description() != null
                          && r.description().startsWith(RELEASE_DESCRIPTION)
                          && source.slugId().equals(r.slugId()))
              .findFirst();
      sent.ifPresent(
          r ->
              event(
                  PoolEvents.NORMAL,
                  "Adopted",
                  "release v"
                      + r.version()
                      + " on "
                      + b.appName
                      + " was Dynofleet's own earlier request (its answer was lost, or a 5xx):"
                      + " not sent again"));
      return sent.orElse(null);
    }

    /** Moves every backend being made forward as far as it can go now, in parallel. */
    private void advanceInFlight() {
      List<Backend> todo =
          backends.stream().filter(b -> !b.leaving() && b.step != Step.READY).toList();
      if (todo.isEmpty()
          || deletionSeen
          || todo.stream().anyMatch(b -> b.step == Step.INTENDED) && deletionMarked()) {
        return;
      }
      inFlight = true;
      List<Future<?>> futures = new ArrayList<>();
      for (Backend b : todo) {
        futures.add(
            workers.submit(
                () -> {
                  long c0 = platform.calls();
                  current.set(this);
                  try {
                    advance(b);
                  } finally {
                    current.remove();
                    workerCalls.addAndGet(platform.calls() - c0);
                  }
                }));
      }
      // every worker is waited for before the pass goes on or fails: returning while one still
      // acts would release the pool's lock under it
      PlatformException first = null;
      RuntimeException other = null;
      Stopping stopped = null;
      boolean interrupted = false;
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof PlatformException pe) {
            first = first == null ? pe : first;
          } else if (e.getCause() instanceof Stopping st) {
            stopped = stopped == null ? st : stopped; // the others finish their step first
          } else if (e.getCause() instanceof RuntimeException re) {
            other = other == null ? re : other;
          } else if (e.getCause() instanceof Error err) {
            throw err;
          }
        } catch (InterruptedException e) {
          interrupted = true; // still wait for the rest
          try {
            f.get();
          } catch (InterruptedException | ExecutionException ignored) {
            // counted above or below
          }
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
        throw new PlatformException(Kind.TRANSIENT, "interrupted", null, null);
      }
      if (other != null) {
        throw other;
      }
      backends.removeIf(b -> b.step == null);
      if (stopped != null) {
        throw stopped;
      }
      if (first != null) {
        throw first;
      }
    }

    /**
     * {@link #advanceSteps}; an app deleted behind our back while it was being made (a 404 on its
     * own steps) is forgotten, and another made in its place, as for a ready one. Before, every
     * pass failed on it for ever, the pool's drained apps with it.
     */
    private void advance(Backend b) {
      try {
        advanceSteps(b);
      } catch (PlatformException e) {
        if (e.kind() != Kind.NOT_FOUND || b.appId == null || b.step == Step.INTENDED) {
          throw e;
        }
        checkStopping();
        if (platform.app(b.appId).isPresent()) {
          throw e; // something else was not found (an add-on, the pipeline): not the app
        }
        vanished(b, " while it was being made"); // dropped from the pass after the workers
      }
    }

    /**
     * Adds the source's own log drains to a new backend, before its release, so its first boot's
     * lines (the release phase's too) reach them: the app and Logplex's short buffer go at the next
     * rollout (audit 20 M2). A url may hold a token: none is logged or said, only how many.
     */
    private void addLogDrains(Backend b) {
      List<String> drains = source.drains();
      for (int i = 0; i < drains.size(); i++) {
        String url = drains.get(i);
        try {
          platform.addLogDrain(ref(b), url);
        } catch (PlatformException e) {
          if (e.kind() != Kind.INVALID) {
            throw e;
          }
          // already there (a retried step: Heroku answers 422 for a url the app has), or refused:
          // only a drain that is there lets the step go on, as for the attachments
          if (platform.logDrains(ref(b)).stream().noneMatch(d -> url.equals(d.url()))) {
            // Heroku's words without the url, and not the failure as the cause: its message may
            // echo the url, and the cause is logged with the pass's failure
            throw new PlatformException(
                Kind.INVALID,
                "Heroku refused log drain "
                    + (i + 1)
                    + " of "
                    + drains.size()
                    + " of "
                    + spec.template().sourceApp()
                    + " on "
                    + b.appName
                    + " (see heroku drains -a "
                    + spec.template().sourceApp()
                    + "): "
                    + String.valueOf(e.getMessage()).replace(url, "<drain url>"));
          }
        }
      }
      if (!drains.isEmpty()) {
        LOG.debugf("pool=%s app=%s: %d log drain(s) added", pool.name, b.appName, drains.size());
      }
    }

    /**
     * A backend whose app was deleted outside Dynofleet: its row goes, so a replacement is made.
     * Its step is cleared: the loop it was found in drops it from the pass.
     */
    private void vanished(Backend b, String when) {
      uncouplable.remove(b.appId);
      event(
          PoolEvents.WARNING,
          "BackendVanished",
          "app "
              + b.appName
              + " was deleted outside Dynofleet"
              + when
              + "; a replacement will be created");
      store.forget(b);
      b.step = null;
      routesChanged = true;
    }

    /** The steps of making one app; each is idempotent and recorded before the next. */
    private void advanceSteps(Backend b) {
      PoolSpec.Template t = spec.template();
      checkStopping();
      boolean intent = b.step == Step.INTENDED;
      if (intent) {
        if (!createOrAdopt(b, t)) {
          return;
        }
      }
      if ((b.step == Step.CREATED || b.step == Step.CONFIGURED)
          && (source == null || !b.target.equals(source.target()) && !intent)) {
        // none is known after a restart (review 15: an NPE on every pass); or an app configured
        // (or being configured) for a target that moved: planReplicas drains it and makes a new
        // one, as a config PATCH merges and would keep what the new target dropped (audit 19 #3)
        return;
      }
      if (b.step == Step.CREATED) {
        checkStopping();
        if (!b.target.equals(source.target())) {
          // an intent, made into an app just now: its config is not set yet, so it is finished
          // at the target that moved meanwhile
          b.target = source.target();
          b.releaseVersion = source.version();
        }
        for (Platform.Addon addon : source.addons()) {
          // under the source's names: unnamed, Heroku picks them, and with a leader and a
          // follower database DATABASE_URL could name either (review 3); each name on its own, so
          // a retried step that finds the first attached still makes the second (review 4)
          for (String as :
              addon.attachedAs().isEmpty()
                  ? java.util.Collections.<String>singletonList(null)
                  : addon.attachedAs()) {
            try {
              platform.attachAddon(addon.id(), ref(b), as);
            } catch (PlatformException e) {
              if (e.kind() != Kind.INVALID) {
                throw e;
              }
              // already attached (a retried step), or refused: Heroku answers both with a 4xx,
              // and a refusal taken for the first left the backend without the add-on, silently
              // (review 6). Only an attachment that is really there lets the step go on
              boolean there =
                  platform.attachments(ref(b)).stream()
                      .anyMatch(
                          a ->
                              a.addonId().equals(addon.id())
                                  && (as == null || as.equalsIgnoreCase(a.name())));
              if (!there) {
                throw new PlatformException(
                    Kind.INVALID,
                    "Heroku refused to attach add-on "
                        + addon.name()
                        + (as == null ? "" : " as " + as)
                        + " to "
                        + b.appName
                        + ": "
                        + e.getMessage(),
                    null,
                    e);
              }
            }
          }
        }
        addLogDrains(b);
        if (source.features().contains(DYNO_METADATA)) {
          // before the release: Heroku sets the vars from the next release on (audit 20 M5).
          // Enabling it twice is no error, so a retried step needs no look first
          platform.enableFeature(ref(b), DYNO_METADATA);
        }
        Map<String, String> vars = new HashMap<>(source.config());
        vars.put(OWNER_VAR, pool.id.toString());
        // made for the pool's first backend configured since the secret existed (a pool made
        // before gets it here, not by a rollout: it is no part of the target)
        String secret = store.proxySecret(pool.id);
        if (secret != null) {
          vars.put(PROXY_SECRET_VAR, secret);
        }
        platform.patchConfigVars(ref(b), vars);
        // recorded with the step: the proxy sends this app the secret it holds, also once the
        // pool's is rotated (it would distrust the new one until replaced). A crash before the
        // save repeats the step, which sets and records the secret of then
        b.proxySecret = secret;
        b.step = Step.CONFIGURED;
        store.save(b);
      }
      if (b.step == Step.CONFIGURED) {
        if (!mayRelease(b)) {
          return; // another's release phase runs: next pass
        }
        boolean phaseless = b.target.equals(noReleasePhase.get(pool.id));
        // one release phase at a time per source app, across pools and dynos: two pools copied
        // from one app share its add-ons, its database (review 16 #4). The turn is claimed in the
        // database (the look and the mark in one transaction, locked per source app); in this
        // process the claim and the release are one step
        synchronized (
            sourceLocks.computeIfAbsent(
                t.sourceApp().toLowerCase(java.util.Locale.ROOT), k -> new Object())) {
          checkStopping();
          Platform.Release r = RELEASE_SENT.equals(b.releaseId) ? sentBefore(b) : null;
          if (r == null && RELEASE_SENT.equals(b.releaseId) && mayStillLand(b)) {
            // sent by a pass that heard no answer or a 5xx, or that lost its lock while the POST
            // was on its way (another dyno's, perhaps): not there yet, it may still land. Sent
            // again now, a second release phase would run beside the first on this app (audit 19
            // #11, review 24 #1)
            LOG.debugf(
                "pool=%s app=%s release sent at %s not found yet: waited for, not sent again",
                pool.name, b.appName, b.sentAt);
            return;
          }
          if (r == null) {
            // marked before it is sent: an answer lost (a timeout, a reset, the dyno killed while
            // it waited) made the next pass send a second release, whose release phase ran beside
            // the first and failed on its lock, and the pool stalled (audit 14)
            if (phaseless) {
              // no release phase to wait for (a mark of its own, sent but not made, is claimed
              // again: older than Heroku's hour, it held no one, and another may have the turn)
              b.releaseId = RELEASE_SENT;
              b.sentAt = clock.instant();
              b.sourceAppId = source.appId();
              store.save(b);
            } else {
              Optional<ReconcileStore.ReleaseHolder> other = claimReleaseTurn(b, t);
              if (other.isPresent()) {
                String waits =
                    "new apps wait for the release phase of app "
                        + other.get().app()
                        + " (pool "
                        + other.get().pool()
                        + "), made from the same source app "
                        + t.sourceApp()
                        + ": one release phase at a time runs against the add-ons they share";
                eventOnce(PoolEvents.NORMAL, "ReleaseWaits", waits);
                // said by Progressing too: WaitingForHealth hid that nothing was probed (audit 24)
                condition("Progressing", "True", "ReleaseWaits", waits);
                return;
              }
            }
            try {
              r =
                  platform.createRelease(
                      ref(b),
                      source.slugId(),
                      RELEASE_DESCRIPTION + "v" + source.version() + " of " + t.sourceApp());
            } catch (PlatformException e) {
              if (e.kind() != Kind.TRANSIENT) {
                // refused (4xx, 429): no release was made; the mark held other pools' releases
                // for as long as the refusal lasted, renewed at every try (review 18)
                b.releaseId = null;
                b.sentAt = null;
                store.save(b);
              } else if (!e.mayLand()) {
                // transient, yet answered and no 5xx (no answer to a POST is so today): the mark
                // stays (the next pass looks for the release), with nothing on its way to wait for
                b.sentAt = null;
                store.save(b);
              } else {
                // no answer, or a 5xx: a gateway's 502/503/504 may come while the API service
                // still makes the release. The mark and its time stay: the next pass looks for it
                // and sends none before it could no longer land. Cleared here, a second release
                // phase ran beside the first on this app (review 24 #1, as audit 19 #11)
                throw e.as(
                    null,
                    e.getMessage()
                        + " (the release may have been made all the same: it is looked for before"
                        + " it is sent again)");
              }
              throw e;
            }
          }
          b.releaseId = r.id();
          b.sentAt = null;
          b.step = Step.RELEASING;
          b.phase = Phase.Releasing;
          store.save(b);
        }
        events.cleared(pool.id, List.of("ReleaseWaits"));
        event(
            PoolEvents.NORMAL,
            "Releasing",
            "app " + b.appName + ": releasing v" + source.version() + " of " + t.sourceApp());
      }
      if (b.step == Step.RELEASING) {
        checkStopping();
        Platform.Release r = platform.release(ref(b), b.releaseId);
        if (r.failed()) {
          markFailed(b, releaseFailed(b, r));
          return;
        }
        if (!r.succeeded()) {
          if (!now.isBefore(b.updatedAt.plus(RELEASE_PENDING_LIMIT))) {
            markFailed(b, pendingPastTheLimit(b));
            return;
          }
          releasePending(b);
          return; // still pending: next pass
        }
        if (r.outputStreamUrl() == null) {
          noReleasePhase.put(pool.id, b.target);
        }
        platform.scaleWeb(ref(b), 1, t.dynoSize());
        b.step = Step.SCALED;
        store.save(b);
      }
      if ((b.step == Step.SCALED || b.step == Step.COUPLED) && b.webUrl == null) {
        readWebUrl(b);
        if (b.step == null) {
          return; // its app is gone
        }
      }
      if (b.step == Step.SCALED) {
        checkStopping();
        try {
          Platform.Coupling c = platform.couple(ref(b), pipelineId, stageOf(t));
          b.couplingId = c.id();
        } catch (PlatformException e) {
          if (e.kind() != Kind.INVALID) {
            throw e;
          }
          // already coupled (a retried step), or refused (an app owned by another account or
          // team than the pipeline, coupled to another pipeline): only a coupling that is there
          // lets the step go on (review 6)
          Optional<Platform.Coupling> there =
              platform.couplings(pipelineId).stream()
                  .filter(c -> c.appId().equals(b.appId))
                  .findFirst();
          if (there.isEmpty()) {
            forgetPipeline(); // its owner may have changed: read it again
            throw new PlatformException(
                Kind.INVALID,
                "Heroku refused to couple "
                    + b.appName
                    + " to pipeline "
                    + spec.pipeline()
                    + ": "
                    + e.getMessage(),
                null,
                e);
          }
          b.couplingId = there.get().id();
        }
        awaitHealth(b);
        return;
      }
      if (b.step == Step.COUPLED) {
        if (b.webUrl == null) {
          noWebUrlYet(b);
          return;
        }
        DataPlane.Health h = health.get(b.appName);
        if (h != null && h.healthy()) {
          b.step = Step.READY;
          b.phase = Phase.Ready;
          b.readyAt = now;
          b.message = null;
          store.save(b);
          routesChanged = true;
          FailedStreak streak = streak();
          if (streak != null && streak.target().equals(b.target)) {
            streak(null);
          }
          event(
              PoolEvents.NORMAL,
              "BackendReady",
              "app " + b.appName + " is healthy and takes traffic");
        } else if (now.isAfter(b.updatedAt.plus(healthDeadline())) && !renamed(b)) {
          markFailed(
              b,
              "release v"
                  + b.releaseVersion
                  + " released on "
                  + b.appName
                  + " but the app was not healthy"
                  + " within the progress deadline ("
                  + healthDeadline().toSeconds()
                  + " s of health checks on "
                  + spec.healthCheck().path()
                  + (h == null ? "" : met(h.lastFailure(), ", the last: ", ""))
                  + ")");
        }
      }
    }

    /**
     * How long a coupled backend has to pass its health checks before it has failed: {@code
     * progress-deadline}, or what the pool's health check needs when that is longer: {@code
     * healthyThreshold} passes in a row, {@code intervalSeconds} apart, the first a probe's
     * interval at most after the app is published, the last within its timeout, and one interval
     * more for the route to reach every dyno's prober. A check within its limits (300 s × 4) could
     * never pass within the fixed 10 min: a healthy app was failed "not healthy", the last check
     * HTTP 200 (audit 24 M3).
     */
    private Duration healthDeadline() {
      PoolSpec.HealthCheck hc = spec.healthCheck();
      if (hc == null || hc.intervalSeconds() == null || hc.healthyThreshold() == null) {
        return config.progressDeadline();
      }
      Duration needed =
          Duration.ofSeconds(
              (long) hc.intervalSeconds() * (hc.healthyThreshold() + 1)
                  + (hc.timeoutSeconds() == null ? 0 : hc.timeoutSeconds()));
      return needed.compareTo(config.progressDeadline()) > 0 ? needed : config.progressDeadline();
    }

    /**
     * Heroku may answer a create (or the read that adopts an app) with {@code web_url} null: its
     * schema allows it. A backend without one is not published, so never probed: at the progress
     * deadline it was failed as not healthy, or, the URL there by then, called renamed outside
     * Dynofleet (audit 19 #8). Its app is read (one call) before it is coupled, and at each pass
     * while it has none; a URL found so is no rename.
     */
    private void readWebUrl(Backend b) {
      checkStopping();
      Optional<Platform.App> app = platform.app(ref(b));
      if (app.isEmpty()) {
        vanished(b, " while it was being made");
      } else {
        followRename(b, app.get());
      }
    }

    /**
     * A coupled backend still without a web URL says so; failed only at the progress deadline, for
     * that, not for a health check that never ran.
     */
    private void noWebUrlYet(Backend b) {
      if (now.isAfter(b.updatedAt.plus(config.progressDeadline()))) {
        markFailed(
            b,
            "app "
                + b.appName
                + " still has no web URL "
                + config.progressDeadline().toMinutes()
                + " min after it was coupled (Heroku's app gives none): it could not be probed");
        return;
      }
      condition(
          "Progressing",
          "True",
          "NoWebUrl",
          "app "
              + b.appName
              + ": "
              + NO_WEB_URL
              + "; it is probed once Heroku gives one (read again at each pass)");
    }

    /**
     * A release still pending past the progress deadline: its release phase runs on (a migration
     * that takes long, or one that hangs until Heroku ends it after an hour), and while it does the
     * pool's other new apps wait for their own release (one at a time). Nothing said so (review
     * 16): the backend just showed Releasing. Progressing names it and since when it has run, and a
     * warning event is said once per release (per process).
     */
    private void releasePending(Backend b) {
      Duration running = Duration.between(b.updatedAt, now);
      if (running.compareTo(config.progressDeadline()) < 0) {
        return;
      }
      // others wait only where releases go one at a time (a release phase was seen at this target)
      boolean others =
          !b.target.equals(noReleasePhase.get(pool.id))
              && backends.stream()
                  .anyMatch(
                      o ->
                          o != b
                              && !o.leaving()
                              && (o.step == Step.CREATED
                                  || o.step == Step.CONFIGURED
                                  || o.step == Step.INTENDED));
      String what =
          "the release phase of v"
              + b.releaseVersion
              + " on "
              + b.appName
              + " has run since "
              + b.updatedAt.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
              + ", longer than the progress deadline ("
              + config.progressDeadline().toMinutes()
              + " min); Heroku ends a release phase after 1 hour, and Dynofleet takes one still"
              + " pending after "
              + RELEASE_PENDING_LIMIT.toMinutes()
              + " min as failed";
      // the same words on every pass (no minutes): a status that changed each minute made every
      // dyno reload its pools (review 17)
      condition(
          "Progressing",
          "True",
          "ReleasePhaseSlow",
          what + (others ? "; the pool's other new apps wait for it" : ""));
      if (slowReleasesTold.add(b.releaseId)) {
        event(PoolEvents.WARNING, "ReleasePhaseSlow", what);
      }
    }

    /** Why a release still pending past {@link #RELEASE_PENDING_LIMIT} is taken as failed. */
    private String pendingPastTheLimit(Backend b) {
      return "release of v"
          + b.releaseVersion
          + " on "
          + b.appName
          + " still pending after Heroku's one-hour limit (sent "
          + b.updatedAt.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
          + "): taken as failed";
    }

    /**
     * Why a backend's release failed, in a Heroku user's words: its release phase (the slug's
     * {@code release:} command) failed, and the end of that command's output, read from the
     * release's output stream. The app is deleted soon after, and with it {@code heroku
     * releases:output}, the only other place the output lives (audit 12: the pool said "did not
     * become healthy" and nothing told why). Reading the output is best effort: the failure is
     * reported without it.
     */
    private String releaseFailed(Backend b, Platform.Release r) {
      String what =
          "failed".equals(r.status())
              ? "release phase of v" + b.releaseVersion + " failed on " + b.appName
              : "release of v" + b.releaseVersion + " on " + b.appName + " ended " + r.status();
      if (r.outputStreamUrl() == null) {
        return what;
      }
      Map<String, String> secrets;
      try {
        secrets = secretsToMask(b);
      } catch (PlatformException e) {
        LOG.debugf(
            "pool=%s app=%s release output not read: %s", pool.name, b.appName, e.getMessage());
        return what
            + " (its output is not shown: its app's own config vars, which it would be masked with,"
            + " could not be read: "
            + e.getMessage()
            + ")";
      }
      try {
        List<String> tail = platform.releaseOutput(r.outputStreamUrl(), RELEASE_OUTPUT_LINES);
        if (tail.isEmpty()) {
          return what + " (its release command printed nothing)";
        }
        String text = masked(PoolEvents.printable(String.join(" | ", tail)), secrets);
        if (text.length() > RELEASE_OUTPUT_CHARS) {
          text = "..." + text.substring(text.length() - RELEASE_OUTPUT_CHARS);
        }
        return what + "; its output ended: " + text;
      } catch (PlatformException e) {
        LOG.debugf(
            "pool=%s app=%s release output not read: %s", pool.name, b.appName, e.getMessage());
        return what + " (its output could not be read: " + e.getMessage() + ")";
      }
    }

    /**
     * The values masked in what a backend printed (its release phase's output, its log lines): the
     * shared add-ons' vars too, not copied (their attachments set them), but a client error may
     * print a password bare, which the URL rule does not catch (review 15); the pool's proxy secret
     * (the backend has it too: {@code env} prints it); the source's drain urls (a token in them).
     * For a backend made at another target than the source's now (or with no source read), its
     * app's own config vars too, one Platform API call: it holds those of the release it was made
     * from, and the common reason an old app crash-loops is a credential rotated on the source
     * since, which it prints bare and the source's new value does not mask (review 25 #6).
     *
     * @throws PlatformException when the app's own vars could not be read: nothing it printed is
     *     kept then, as a value only they hold would go out bare
     */
    private Map<String, String> secretsToMask(Backend b) {
      // the shared add-ons' vars too: not copied (their attachments set them), but a client
      // error may print a password bare, which the URL rule does not catch (review 15)
      Map<String, String> secrets = new HashMap<>(source == null ? Map.of() : source.secrets());
      // the backend's own (`env` prints it), and the pool's, which differs after a rotation
      String proxySecret = store.existingProxySecret(pool.id);
      if (proxySecret != null) {
        secrets.put(PROXY_SECRET_VAR, proxySecret);
      }
      if (b.proxySecret != null && !b.proxySecret.equals(proxySecret)) {
        secrets.put(PROXY_SECRET_VAR + " (the app's own)", b.proxySecret);
      }
      if (source != null) {
        for (int i = 0; i < source.drains().size(); i++) {
          secrets.put("drain " + i, source.drains().get(i));
        }
      }
      if (source == null || !source.target().equals(b.target)) {
        // under names of their own: the source's new value and the app's old one are both masked
        platform.configVars(ref(b)).forEach((k, v) -> secrets.put(k + " (the app's own)", v));
      }
      return secrets;
    }

    /**
     * Before a failed backend's app is deleted, its last log lines are read (a log session: one
     * Platform API call, and a stream read for a few seconds at most) and kept in a {@code
     * BackendLogTail} event, masked as release output is: the app's logs go with it, and a boot
     * crash's stack trace, or the 404 an API-only app gave its health check, was evidence nobody
     * could read any more ({@code heroku logs -a}: "Couldn't find that app"; audit 20 M1). Best
     * effort: a failure to read is said in the event, and the app is deleted all the same. Not
     * under the rate reserve (an optional read), nor without the source (whose config vars the
     * lines are masked with), nor, for an app made at an earlier target, without its own vars (see
     * {@link #secretsToMask}). Read before the drain is stored: a pass stopped between the two
     * reads again; one stopped after the drain deletes the app without it. Either way no app is
     * left behind.
     */
    private void keepLogTail(Backend b) {
      checkStopping();
      String not = "app " + b.appName + ": its last log lines were not read before its deletion ";
      String said;
      if (source == null) {
        said = not + "(the source app could not be read, nor its config vars to mask them with)";
      } else if (platform.rateRemaining() < config.rateLimitReserve()) {
        said = not + "(the Platform API budget is low)";
      } else {
        said = maskedLogTail(b, not);
      }
      event(PoolEvents.WARNING, "BackendLogTail", said);
    }

    /**
     * The event's text of {@code b}'s last log lines, masked; {@code not} and why, when they are
     * not read.
     */
    private String maskedLogTail(Backend b, String not) {
      Map<String, String> secrets;
      try {
        // first: lines that could not be masked with all the app may print are not read at all
        secrets = secretsToMask(b);
      } catch (PlatformException e) {
        LOG.debugf("pool=%s app=%s log lines not read: %s", pool.name, b.appName, e.getMessage());
        return not
            + "(its app's own config vars, which they would be masked with, could not be read: "
            + e.getMessage()
            + ")";
      }
      if (platform.rateRemaining() < config.rateLimitReserve()) {
        return not + "(the Platform API budget is low)"; // the vars' read took it under the reserve
      }
      try {
        List<String> tail = platform.logTail(ref(b), LOG_TAIL_LINES);
        String lead = "app " + b.appName + "'s last log lines before its deletion: ";
        return tail.isEmpty()
            ? "app " + b.appName + " had no log lines of its own left to read before its deletion"
            : lead + logTailText(tail, secrets, PoolEvents.MAX_MESSAGE - lead.length());
      } catch (PlatformException e) {
        LOG.debugf("pool=%s app=%s log lines not read: %s", pool.name, b.appName, e.getMessage());
        return not + "(" + e.getMessage() + ")";
      }
    }

    /** Creates the app; on a taken name, adopts it only if it is our own earlier create. */
    private boolean createOrAdopt(Backend b, PoolSpec.Template t) {
      // marked sent first: a create whose answer never came (or was a 5xx) may be carried out
      // later, and a drain of this intent must not take the name's 404 for "never made" while it
      // still can be: the app made after that was an orphan (audit 19 #6, review 24 #1)
      Instant before = b.sentAt; // an earlier try's, unanswered or a 5xx: it may land still
      b.sentAt = clock.instant();
      store.save(b);
      try {
        // a team's pipeline couples only the team's apps (review 6: they were the key holder's own,
        // billed to them and refused by the pipeline)
        // no stack in the template: the source app's (a heroku-22 slug got an app of Heroku's
        // default stack; review 6); a region is always stored: the source's for "source" (the
        // default since audit 20 M4) and for a pool stored without one
        Platform.App app =
            platform.createApp(
                b.appName,
                Source.regionFor(t, source == null ? null : source.region()),
                t.stack() != null || source == null ? t.stack() : source.stack(),
                team);
        b.appId = app.id();
        b.webUrl = app.webUrl();
      } catch (PlatformException e) {
        if (e.kind() != Kind.NAME_TAKEN) {
          if (!e.mayLand()) {
            b.sentAt = before; // refused (a 4xx): this one is not on its way
            store.save(b);
          }
          // no answer or a 5xx (a gateway's, while the API service may still make the app): the
          // time stays, and a drain of this intent looks for the app until it could no longer
          // land; with the time cleared, an app made late was an orphan (review 24 #1)
          throw createRefused(b, e);
        }
        b.sentAt = null; // the name is taken: no create of ours can land under it any more
        Optional<Platform.App> existing;
        try {
          existing = platform.app(b.appName);
        } catch (PlatformException forbidden) {
          if (forbidden.kind() != Kind.FORBIDDEN) {
            throw forbidden;
          }
          // names are unique across Heroku: another account's app answers 403, not 404 (review 6);
          // the intent kept the name and every pass failed the same way
          existing = Optional.empty();
        }
        if (existing.isEmpty() || !ours(b, existing.get(), before)) {
          // someone else's app: never touch it; this intent is dropped and a new name chosen
          event(
              PoolEvents.WARNING,
              "NameTaken",
              "app name " + b.appName + " is taken by another app");
          store.forget(b);
          b.step = null;
          return false;
        }
        b.appId = existing.get().id();
        b.webUrl = existing.get().webUrl();
        b.step = Step.CREATED;
        store.save(b);
        // one event: an AppCreated too read like a second app (audit 9)
        event(
            PoolEvents.NORMAL,
            "Adopted",
            "app "
                + b.appName
                + " was made by an earlier attempt (before a restart, or its answer was lost): adopted");
        return true;
      }
      b.sentAt = null;
      b.step = Step.CREATED;
      store.save(b);
      event(
          PoolEvents.NORMAL,
          "AppCreated",
          "app "
              + b.appName
              + " created for release v"
              + b.releaseVersion
              + Optional.ofNullable(madeFor.get(b.id)).map(w -> " (" + w + ")").orElse(""));
      return true;
    }

    /**
     * A failed create names the step and the app (audit 18 #6). Refused for what it asked (422: the
     * account's app limit, most often) it is CreateFailed, not InvalidSpec: the spec may be fine.
     */
    private PlatformException createRefused(Backend b, PlatformException e) {
      // not named: the message goes into the status and the events, which the read-only token
      // reads, and the name of a create not answered yet is withheld there (security review 5
      // S5-1); the operator's log has it
      LOG.infof("pool=%s app=%s create failed: %s", pool.name, b.appName, e.getMessage());
      String message = "create a new app: " + e.getMessage();
      if (e.mayLand()) {
        // a 5xx or no answer is no "not made": the next try adopts an app made meanwhile
        message += " (the app may have been made all the same: it is looked for by its name)";
      }
      if (e.kind() != Kind.INVALID) {
        return e.as(null, message);
      }
      if (e.getMessage() != null
          && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("limit")) {
        message +=
            "; delete apps the account no longer needs, or ask Heroku for a higher limit (the account's other apps count too)";
      }
      return e.as("CreateFailed", message);
    }

    /**
     * Whether the app under {@code b}'s name is ours: it carries the pool's marker, or, unmarked,
     * it can only be {@code b}'s own create whose answer was lost (a crash, a timeout, a 5xx):
     *
     * <ul>
     *   <li>a create of ours for the name may have landed ({@code sent}: its send time, kept while
     *       it went unanswered or was answered 5xx), and the app was made between the intent and
     *       the end of that create's send window (a minute of clock slack either side);
     *   <li>the key's user made it (the user of its release v1, which Heroku makes with the app),
     *       and the key's account owns it, or a team (the pipeline's, when this pass has read it);
     *   <li>nothing was done to it since: no config var, no release with code.
     * </ul>
     *
     * Until security review 5 (S5-1) any unmarked app made after the intent was adopted: whoever
     * made one under the intended name, where the key could read it, was given the source app's
     * config vars, the template's and the proxy secret, then the pool's traffic.
     */
    private boolean ours(Backend b, Platform.App app, Instant sent) {
      try {
        Map<String, String> vars = platform.configVars(app.id());
        String marker = vars.get(OWNER_VAR);
        if (marker != null) {
          return marker.equals(pool.id.toString());
        }
        if (sent == null
            || app.createdAt() == null
            || app.createdAt().isBefore(b.createdAt.minus(CLOCK_SLACK))
            || app.createdAt().isAfter(sent.plus(platform.sendWindow()).plus(CLOCK_SLACK))
            || !vars.isEmpty()) {
          return false;
        }
        String account = platform.accountId();
        boolean owned =
            app.team() != null
                ? team == null || team.equalsIgnoreCase(app.team()) || team.equals(app.ownerId())
                : account != null && account.equals(app.ownerId());
        return owned
            && platform.recentReleases(app.id()).stream().allMatch(r -> r.slugId() == null)
            && account != null
            && account.equals(platform.madeBy(app.id()));
      } catch (PlatformException e) {
        if (e.kind() == Kind.FORBIDDEN || e.kind() == Kind.NOT_FOUND) {
          return false;
        }
        throw e;
      }
    }

    /**
     * On a platform worker: the pass state it writes is shared with the other workers. {@code
     * reason} may carry outside text (a release's output, a Heroku error message): made printable
     * here, for the backend's row as for the condition and the event (a NUL cannot be stored).
     */
    private synchronized void markFailed(Backend b, String reason) {
      // its logs are read before its app goes (keepLogTail): the message says where they are
      String why = PoolEvents.printable(reason) + LOG_TAIL_POINTER;
      b.phase = Phase.Failed;
      b.failures++;
      b.message = why;
      store.save(b);
      boolean rollout = backends.stream().anyMatch(o -> !o.leaving() && !o.target.equals(b.target));
      boolean proven =
          backends.stream().anyMatch(o -> o != b && o.target.equals(b.target) && o.readyAt != null);
      if (proven) {
        // another backend of this very release got ready: the release works, this app did not
        // (a replacement during an outage, a bad dyno). No stall: another is made, after a wait
        // that doubles with each failure in a row; the third stalls (a release phase failing on
        // every new app made, failed and deleted one every few seconds, for ever)
        FailedStreak before = streak();
        if (before != null && before.target().equals(b.target) && now.isBefore(before.retryAt())) {
          // made in the same window as the failure that started this wait (a scale-up, several
          // replacements at once): one failure of the release, not several in a row (review 10: a
          // batch failing together stalled the pool at once)
          recheckAt(before.retryAt());
          event(
              PoolEvents.WARNING,
              "BackendFailed",
              why
                  + "; another app of this release got ready, so a new one is"
                  + " made at "
                  + before.retryAt()
                  + " ("
                  + before.count()
                  + " of "
                  + FAILED_APPS_BEFORE_STALL
                  + " failed in a row)");
          return;
        }
        int n = before != null && before.target().equals(b.target) ? before.count() + 1 : 1;
        if (n < FAILED_APPS_BEFORE_STALL) {
          Duration wait = config.failedAppRetry().multipliedBy(1L << (n - 1));
          streak(new FailedStreak(b.target, n, now.plus(wait)));
          recheckAt(now.plus(wait));
          event(
              PoolEvents.WARNING,
              "BackendFailed",
              why
                  + "; another app of this release got ready, so a new one is"
                  + " made in "
                  + wait.toSeconds()
                  + " s ("
                  + n
                  + " of "
                  + FAILED_APPS_BEFORE_STALL
                  + " failed in a row)");
          return;
        }
        streak(null);
        why =
            why
                + " ("
                + n
                + " new apps in a row failed at this release, though another got ready on it)";
      }
      stalledTarget = b.target + STALL_AT + pool.generation;
      String said =
          why
              + (rollout
                  ? "; the rollout stops here and the old release keeps serving"
                  : "; creation stops until the source app or the spec changes");
      condition("Degraded", "True", rollout ? "RolloutStalled" : "CreateFailed", said);
      // written at once, not only with the pass's status at its end: a pass stopped after this
      // (SIGTERM, a lost lock, a kill) forgot the stall, and the next made another app at the
      // failing release, its release phase run once more against the shared database (audit 19 #5)
      showDegraded(
          rollout ? "RolloutStalled" : "CreateFailed", PoolEvents.printable(said), stalledTarget);
      event(PoolEvents.WARNING, rollout ? "RolloutStalled" : "CreateFailed", why);
    }

    /** Deletes the apps of drained backends whose drain time is over. */
    private void finishDrains() {
      for (Backend b : List.copyOf(backends)) {
        if (!b.leaving()) {
          continue;
        }
        checkStopping();
        Instant until = drainUntil(b);
        if (now.isBefore(until) && !(waitsForRelease(b) && releaseEnded(b))) {
          inFlight = true;
          continue;
        }
        if (!deleteOwnedApp(b)) {
          inFlight = true; // looked for again at the next pass
          continue;
        }
        store.forget(b);
        backends.remove(b);
        event(PoolEvents.NORMAL, "AppDeleted", "app " + b.appName + " deleted");
      }
    }

    /**
     * {@link ReconcileStore#claimRelease} for {@code b}; a holder of the turn in a paused pool has
     * its release read (one call, at most every {@link #RELEASE_LOOK_INTERVAL} per release): the
     * paused pool's pass does not move its row on, so a release phase that ended there held every
     * other pool of the source app until Heroku's hour was over, 65 min (audit 24 H1). Reading it
     * is observing, not acting: nothing of the paused pool changes. One that ended (or whose app or
     * release is gone) is passed over, by every claim of this process; one still pending, or not
     * read (an error: the turn is not given on a guess), holds the turn as before. A pool that is
     * not paused moves its own row on at its next pass.
     */
    private Optional<ReconcileStore.ReleaseHolder> claimReleaseTurn(
        Backend b, PoolSpec.Template t) {
      releasesOver.values().removeIf(at -> at.isBefore(now.minus(RELEASE_PENDING_LIMIT)));
      releasesRunning.values().removeIf(at -> !now.isBefore(at.plus(RELEASE_LOOK_INTERVAL)));
      for (int i = 0; ; i++) {
        Optional<ReconcileStore.ReleaseHolder> other =
            store.claimRelease(
                b,
                source.appId(),
                t.sourceApp(),
                now.minus(RELEASE_PHASE_LIMIT),
                releasesOver.keySet());
        if (other.isEmpty() || i >= 3) {
          return other;
        }
        ReconcileStore.ReleaseHolder h = other.get();
        if (!h.paused()
            || !"RELEASING".equals(h.step())
            || h.releaseId() == null
            || releasesRunning.containsKey(h.key())) {
          return other;
        }
        checkStopping();
        boolean over;
        try {
          Platform.Release r =
              platform.release(h.appId() != null ? h.appId() : h.app(), h.releaseId());
          over = r.succeeded() || r.failed();
        } catch (PlatformException e) {
          if (e.kind() != Kind.NOT_FOUND) {
            LOG.debugf(
                "pool=%s release of app %s (paused pool %s) not read: %s",
                pool.name, h.app(), h.pool(), e.getMessage());
            return other;
          }
          over = true; // its app or its release is gone: no release phase runs there
        }
        if (!over) {
          releasesRunning.put(h.key(), now);
          return other;
        }
        releasesOver.put(h.key(), now);
        LOG.debugf(
            "pool=%s release of app %s (paused pool %s) has ended: it holds no turn",
            pool.name, h.app(), h.pool());
      }
    }

    /**
     * Whether the release of {@code b}, drained while it ran, has ended: one read. An app or a
     * release gone leaves nothing to wait for.
     */
    private boolean releaseEnded(Backend b) {
      checkStopping();
      try {
        Platform.Release r = platform.release(ref(b), b.releaseId);
        return r.succeeded() || r.failed();
      } catch (PlatformException e) {
        if (e.kind() != Kind.NOT_FOUND) {
          throw e;
        }
        return true;
      }
    }

    private Instant drainUntil(Backend b) {
      if (b.message != null && b.message.startsWith("drain until ")) {
        try {
          String rest = b.message.substring("drain until ".length());
          int end = rest.indexOf(' '); // AFTER_RELEASE
          return Instant.parse(end < 0 ? rest : rest.substring(0, end));
        } catch (RuntimeException ignored) {
          // fall through
        }
      }
      return b.updatedAt;
    }

    /**
     * Deletes the backend's app if it exists and is ours (by recorded id, or by marker); whether
     * its row may go. Not while an intent's create, sent and never answered (or answered with a
     * 5xx), may still make the app: Heroku may carry it out after the client gave up, and with the
     * row gone that app was an orphan nobody found again (audit 19 #6, review 24 #1). The next pass
     * looks again.
     */
    private boolean deleteOwnedApp(Backend b) {
      if (b.appId != null) {
        uncouplable.remove(b.appId);
        platform.deleteApp(b.appId);
        return true;
      }
      // only an intent: the create may or may not have happened before a crash
      Optional<Platform.App> app = platform.app(b.appName);
      if (app.isPresent()) {
        if (ours(b, app.get(), b.sentAt)) {
          platform.deleteApp(app.get().id());
        }
        return true;
      }
      if (mayStillLand(b)) {
        LOG.debugf(
            "pool=%s app=%s not there (yet): its create, sent at %s and unanswered or answered"
                + " with a 5xx, may still land; looked for again",
            pool.name, b.appName, b.sentAt);
        return false;
      }
      return true;
    }

    /**
     * Whether a POST of {@code b}'s whose answer never came, or was a 5xx ({@link Backend#sentAt}),
     * may still be carried out by Heroku; if so the pass comes back when it no longer can, at the
     * latest.
     */
    private synchronized boolean mayStillLand(Backend b) {
      if (b.sentAt == null) {
        return false;
      }
      Instant until = b.sentAt.plus(platform.sendWindow());
      if (!now.isBefore(until)) {
        return false;
      }
      recheckAt(until);
      return true;
    }

    /**
     * Whether the backend's app was renamed outside Dynofleet (or deleted), read anew by its id. A
     * rename ends the old address, so a renamed backend fails its health checks: a dead backend is
     * looked at before it is restarted or replaced (in a shared failure once per replace window, as
     * a bulk rename looks like one), and a new one before it is failed at the progress deadline. A
     * renamed one follows ({@link #followRename}); one whose app is gone is forgotten, and
     * replaced, as anywhere else (review 17: restarted by id, a 404 failed the pass). Both answer
     * true: nothing more is done to it in this pass.
     */
    private boolean renamed(Backend b) {
      return look(b) != Look.SAME;
    }

    /** What a new read of a backend's app found. */
    private enum Look {
      SAME,
      GONE_OR_MOVED,
      IN_MAINTENANCE
    }

    /**
     * Reads {@code b}'s app again: gone (forgotten, replaced), renamed (followed), in maintenance
     * mode (left alone: said once), or the same.
     */
    private Look look(Backend b) {
      if (b.appId == null) {
        return Look.SAME;
      }
      checkStopping();
      // from this check's list when it has the app (one not in it, made or renamed while it was
      // paged, or gone, is read by itself: a list is not a 404)
      Platform.App got = listed == null ? null : listed.get(b.appId);
      Optional<Platform.App> app = got != null ? Optional.of(got) : platform.app(b.appId);
      if (app.isEmpty()) {
        vanished(b, ""); // dropped from the pass: after the health check, or after the workers
        return Look.GONE_OR_MOVED;
      }
      if (followRename(b, app.get())) {
        return Look.GONE_OR_MOVED;
      }
      if (app.get().maintenance()) {
        // `heroku maintenance:on` by someone looking into it: the router answers its requests
        // with 503s, and it was restarted and then deleted, with whatever they were doing on it,
        // and nothing said maintenance (audit 14). Out of traffic by its checks, and kept
        if (maintenanceTold.add(b.id)) {
          event(
              PoolEvents.WARNING,
              "BackendInMaintenance",
              "app "
                  + b.appName
                  + " is in maintenance mode,"
                  + " set outside Dynofleet: it gets no traffic and is neither restarted nor replaced while it is"
                  + " (heroku maintenance:off -a "
                  + b.appName
                  + " brings it back)");
        }
        renameLooked.put(b.id, now);
        return Look.IN_MAINTENANCE;
      }
      return Look.SAME;
    }

    /**
     * Takes the app's name and {@code web_url} as Heroku now has them, when they changed (a
     * rename): the routes go to the new address, and the repair clock of a dead backend starts
     * again there (its phase stays Unhealthy, so the proxies probe the new address before any
     * traffic). A name another backend row still holds (two apps' names swapped by hand; names are
     * unique among the rows) is first taken from that row, which follows its own app when it is
     * next looked at.
     */
    private boolean followRename(Backend b, Platform.App app) {
      if (app.name() == null
          || app.name().equals(b.appName) && Objects.equals(app.webUrl(), b.webUrl)) {
        return false;
      }
      if (b.webUrl == null && app.name().equals(b.appName)) {
        // no rename: the URL Heroku did not give at the create (audit 19 #8)
        b.webUrl = app.webUrl();
        if (NO_WEB_URL.equals(b.message)) {
          b.message = WAITING_FOR_HEALTH;
        }
        store.save(b);
        routesChanged = true;
        return false;
      }
      event(
          PoolEvents.WARNING,
          "BackendRenamed",
          "app "
              + b.appName
              + " was renamed to "
              + app.name()
              + " outside Dynofleet; it is served at its new address");
      LOG.infof("pool=%s app=%s renamed to %s outside Dynofleet", pool.name, b.appName, app.name());
      if (!app.name().equals(b.appName)) {
        for (Backend o : backends) {
          if (o != b && app.name().equals(o.appName)) {
            o.appName = ReconcileStore.placeholderName(o.id);
            followed.add(o);
          }
        }
        store.releaseName(app.name(), b.id);
      }
      b.appName = app.name();
      b.webUrl = app.webUrl();
      followed.add(b);
      if (b.unhealthySince != null) {
        b.unhealthySince = now;
        b.restartedAt = null;
      }
      store.save(b);
      routesChanged = true;
      return true;
    }

    /**
     * Every now and then: do the backends' config vars and web dynos still match what we set? Each
     * backend is compared once per drift interval for the whole fleet ({@link
     * Backend#driftCheckedAt}, written after its two reads), at most {@code driftChecksPerPass} of
     * them per pass, those compared longest ago first, and each call only while the rate budget is
     * above the reserve: the whole pool at once, on each dyno and after each start, cost two calls
     * per backend every 10 minutes per process, and once begun ran to its end under the reserve
     * (audit 21 H1, H3).
     */
    private void checkDrift() {
      if (source == null) {
        return;
      }
      if (config.driftChecksPerPass() <= 0) {
        drift = null; // off (review 25 #9: 0 still checked one a pass), and nothing said of it
        return;
      }
      List<Backend> at = new ArrayList<>();
      for (Backend b : backends) {
        if (b.step == Step.READY && b.target.equals(source.target())) {
          at.add(b);
        }
      }
      List<Backend> due =
          at.stream()
              .filter(b -> !now.isBefore(driftCheckedAt(b).plus(config.driftCheckInterval())))
              .sorted(Comparator.comparing(this::driftCheckedAt))
              .limit(config.driftChecksPerPass())
              .toList();
      Map<String, List<String>> checked = new HashMap<>();
      for (Backend b : due) {
        List<String> found = driftOf(b);
        if (found == null) {
          break; // the budget is under the reserve: the rest waits for a later pass
        }
        checked.put(b.appName, found);
        b.driftCheckedAt = now;
        final UUID id = b.id;
        fleetTimer(() -> store.driftChecked(id, now));
      }
      // what earlier checks (this pass's or another dyno's) found on backends not compared now
      // stands while they are still here, ready at the target
      List<String> merged = new ArrayList<>();
      List<String> news = new ArrayList<>();
      for (Backend b : at) {
        List<String> found = checked.get(b.appName);
        if (found == null) {
          String prefix = b.appName + ": ";
          if (drift != null) {
            drift.stream().filter(d -> d.startsWith(prefix)).forEach(merged::add);
          }
        } else {
          merged.addAll(found);
          found.stream().filter(d -> drift == null || !drift.contains(d)).forEach(news::add);
        }
      }
      if (!news.isEmpty()) {
        boolean formationOnly = formationDrift.containsAll(news);
        event(
            PoolEvents.WARNING,
            formationOnly ? "FormationDrift" : "ConfigDrift",
            String.join("; ", news));
      }
      drift = merged.isEmpty() ? null : merged;
    }

    /** When the backend was last compared for drift; its start of service when never. */
    private Instant driftCheckedAt(Backend b) {
      return b.driftCheckedAt != null
          ? b.driftCheckedAt
          : b.readyAt != null ? b.readyAt : b.createdAt;
    }

    /**
     * A config var's name as the drift text says it: as it is when it reads as a plain name,
     * otherwise quoted as a JSON string with every line break, control and bidi character escaped
     * ({@code "X\\n7s Normal ..."}): a name set by hand on a backend (any collaborator of the app)
     * went raw into the {@code ConfigDrift} event and {@code status.drift}, and its newline forged
     * rows of the CLI's tables (security review 6 S6-2).
     */
    private String varName(String k) {
      if (PLAIN_VAR_NAME.matcher(k).matches()) {
        return k;
      }
      return "\"" + SafeText.visible(k.replace("\\", "\\\\").replace("\"", "\\\""), true) + "\"";
    }

    /**
     * The drift of one backend (empty: none), or null when the rate budget fell under the reserve
     * before its reads were done: each call is gated, not the check as a whole.
     */
    private List<String> driftOf(Backend b) {
      if (platform.rateRemaining() < config.rateLimitReserve()) {
        return null;
      }
      List<String> found = new ArrayList<>();
      checkStopping();
      Map<String, String> actual = platform.configVars(ref(b));
      Set<String> addonVars = source.addonVars();
      for (Map.Entry<String, String> e : actual.entrySet()) {
        String k = e.getKey();
        if (k.equals(OWNER_VAR) || k.equals(PROXY_SECRET_VAR) || addonVars.contains(k)) {
          continue;
        }
        String want = source.config().get(k);
        if (want == null) {
          found.add(b.appName + ": " + varName(k) + " set by hand");
        } else if (!want.equals(e.getValue())) {
          found.add(b.appName + ": " + varName(k) + " differs from the source app");
        }
      }
      for (String k : source.config().keySet()) {
        if (!actual.containsKey(k)) {
          found.add(b.appName + ": " + varName(k) + " missing");
        }
      }
      if (platform.rateRemaining() < config.rateLimitReserve()) {
        return null;
      }
      // the web dynos, scaled or resized by hand (ps:scale, the dashboard's slider):
      // the bill was a multiple of the status's estimate and nothing said so (audit
      // 14). Reported, as config drift is, not set back: undone on every backend in
      // one pass (an upgrade's first pass, or ten minutes into an incident's ps:scale)
      // it took capacity away at once, and a resize restarts the app (review 18)
      checkStopping();
      Platform.Web web = platform.web(ref(b));
      String size = SpecDefaults.normaliseSize(spec.template().dynoSize());
      if (web.quantity() != 1
          || web.size() == null
          || !SpecDefaults.normaliseSize(web.size()).equals(size)) {
        found.add(
            b.appName
                + ": web "
                + web.quantity()
                + " x "
                + (web.size() == null ? "none" : web.size())
                + " set by hand (made as 1 x "
                + size
                + ")");
        formationDrift.add(found.get(found.size() - 1));
      }
      return found;
    }

    // ---- deletion ----------------------------------------------------------------------------

    /**
     * Finalizer: every app this pool owns leaves traffic, drains as a scale-down does (a serving
     * backend gets the drain time, so its in-flight requests finish), and is deleted once drained;
     * then the release webhook on the source app is removed, and the pool row goes. The drain
     * deadline is stored on the backend row, so a pass after a crash or on another process waits
     * for the same deadline rather than starting a new one.
     */
    private ReconcileResult finalizeDeletion() {
      // the verdicts drainTimeFor reads: without them a coupled backend a proxy routes was deleted
      // in this very pass (review 23)
      health = dataPlane.health(pool.name, pool.id);
      for (Backend b : List.copyOf(backends)) {
        if (!b.leaving()) {
          drain(b, drainTimeFor(b), "pool deleted");
        }
      }
      if (routesChanged) {
        dataPlane.refresh();
        routesChanged = false;
      }
      Instant nextDrained = null;
      for (Backend b : List.copyOf(backends)) {
        Instant until = drainUntil(b);
        if (now.isBefore(until) && !(waitsForRelease(b) && releaseEnded(b))) {
          if (waitsForRelease(b)) {
            // the bound is up to an hour away: its release is looked at as a pending one is
            Instant look = now.plus(releasePollAfter(Duration.between(b.updatedAt, now)));
            until = look.isBefore(until) ? look : until;
          }
          nextDrained = nextDrained == null || until.isBefore(nextDrained) ? until : nextDrained;
          continue;
        }
        if (!deleteOwnedApp(b)) {
          // its create may still land: looked for again soon, not at the last drain's end
          Instant again = now.plus(config.inFlightRequeue());
          nextDrained = nextDrained == null || again.isBefore(nextDrained) ? again : nextDrained;
          continue;
        }
        store.forget(b);
        backends.remove(b);
        event(
            PoolEvents.NORMAL,
            "AppDeleted",
            "app " + b.appName + " deleted (pool is being deleted)");
      }
      // after the deletes (audit 19 #9: a webhook endpoint failing, or a 429 given up, kept every
      // drained app running and billing): tried on every pass while the pool waits for its apps;
      // a refusal now (a key being rotated) may be gone at the next; given up only when the pool
      // goes (below). A transient failure only holds the pool's row: while apps still drain the
      // pass waits for them as usual, after that it fails and is retried with backoff
      String left;
      try {
        left =
            hooks.remove(
                pool.id, pool.name, spec.managed() ? spec.template().sourceApp() : null, webhook);
      } catch (PlatformException e) {
        if (nextDrained == null || !e.transientFailure()) {
          throw e;
        }
        left = null;
        LOG.infof(
            "pool=%s release webhook not removed yet (%s); tried again at the next pass",
            pool.name, e.getMessage());
      }
      if (left != null) {
        LOG.infof("pool=%s %s; tried again at the next pass", pool.name, left);
      }
      if (nextDrained != null) {
        // what a reader of the pool sees meanwhile: its backends draining, not its last live state
        writeStatus();
        // come back when the first drain is over, not at the next sweep: a deleted pool should go
        return ReconcileResult.requeue(Duration.between(now, nextDrained).plusMillis(50), 0);
      }
      if (left != null) {
        // the last pass: the pool's events go with it, and the event's log line (WARN) keeps what
        // to remove by hand
        event(PoolEvents.WARNING, "WebhookLeft", left);
      }
      if (store.deletePool(pool.id)) {
        forgetPool(pool.id);
        LOG.infof(
            "event pool=%s type=Normal reason=Deleted message=\"pool and its apps deleted\"",
            pool.name);
        routesChanged = true;
        return ReconcileResult.done(0);
      }
      return ReconcileResult.requeue(config.inFlightRequeue(), 0);
    }

    // ---- failures and status -----------------------------------------------------------------

    private ReconcileResult fail(PlatformException e) {
      String reason =
          switch (e.kind()) {
            case UNAUTHORIZED -> KEY_REFUSED;
            case FORBIDDEN -> "HerokuForbidden";
            case BILLING -> "HerokuBilling";
            case RATE_LIMITED -> "RateLimited";
            case INVALID, NOT_FOUND, NAME_TAKEN -> "InvalidSpec";
            case TRANSIENT -> "HerokuUnavailable";
          };
      if (e.reason() != null) {
        reason = e.reason(); // a refused create: CreateFailed (audit 18 #6)
      }
      String message = e.getMessage() == null ? reason : e.getMessage();
      condition("Degraded", "True", reason, message);
      if (needsHuman(e.kind())) {
        // nothing moves until a human fixes the spec or the key (Kubernetes: Progressing False)
        condition("Progressing", "False", reason, message);
      }
      event(PoolEvents.WARNING, reason, message);
      Duration after;
      if (e.kind() == Kind.RATE_LIMITED && e.retryAfter() != null) {
        after = e.retryAfter(); // wait the limit out, never retry hot
      } else if (needsHuman(e.kind())) {
        after = config.maxBackoff(); // needs a human: no crash loop, look again now and then
      } else if (e.kind() == Kind.TRANSIENT) {
        // a 5xx or a timeout: Heroku is back within minutes, and a pool backed off 5 min stayed
        // Degraded and idle up to 5 min after (audit 9); a retry costs what a sweep does. Not
        // under the rate reserve: twenty failing pools retrying every 30 s spent twice the refill
        // (5xx answers count), the budget the idle pools' sweeps leave alone (review 10)
        boolean budgetLow = platform.rateRemaining() < config.rateLimitReserve();
        after =
            backoff(
                pool.id,
                budgetLow
                    ? config.maxBackoff()
                    : min(config.maxTransientBackoff(), config.maxBackoff()));
      } else {
        after = backoff(pool.id);
      }
      failedPass = true;
      try {
        writeStatus();
      } catch (RuntimeException ignored) {
        // the database may be the problem too; the next pass writes status
      }
      return ReconcileResult.failed(reason + ": " + message, after, 0);
    }

    private static boolean needsHuman(Kind kind) {
      // the reasons these give are HUMAN_REASONS
      return kind == Kind.UNAUTHORIZED
          || kind == Kind.FORBIDDEN
          || kind == Kind.BILLING
          || kind == Kind.INVALID;
    }

    private synchronized void condition(String type, String status, String reason, String message) {
      Condition existing = conditions.get(type);
      if (existing == null || "True".equals(status)) {
        conditions.put(
            type, new Condition(type, status, reason, PoolEvents.printable(message), now));
      }
    }

    /**
     * Shows at once that this pass waits out a 429: the status last written, with Degraded set to
     * RateLimited. The pass's own status write at its end replaces it (AsExpected if the wait paid
     * off). Once per pass, and never after the pass wrote its own status.
     */
    void showRateLimited(Duration wait) {
      if (showDegraded(
          "RateLimited",
          "Platform API rate limit reached (HTTP 429): waiting for the budget to refill")) {
        LOG.infof(
            "pool=%s waiting out the Platform API rate limit (429), next try in %sms",
            pool.name, wait.toMillis());
      }
    }

    /**
     * Writes the status last written with Degraded set to {@code reason}, at once, mid-pass: once
     * per pass and reason, never after the pass wrote its own status. True when written.
     */
    boolean showDegraded(String reason, String message) {
      return showDegraded(reason, message, null);
    }

    /** As {@link #showDegraded(String, String)}, recording {@code stalled} too when not null. */
    private boolean showDegraded(String reason, String message, String stalled) {
      synchronized (statusLock) {
        if (!shownReasons.add(reason) || statusWritten) {
          return false;
        }
        PoolStatus base = lastWritten();
        Instant at = clock.instant();
        List<Condition> conds = new ArrayList<>();
        boolean found = false;
        for (Condition c : base.conditions() == null ? List.<Condition>of() : base.conditions()) {
          if (c.type().equals("Degraded")) {
            found = true;
            conds.add(
                new Condition(
                    "Degraded",
                    "True",
                    reason,
                    message,
                    "True".equals(c.status()) ? c.lastTransitionTime() : at));
          } else {
            conds.add(c);
          }
        }
        if (!found) {
          conds.add(new Condition("Degraded", "True", reason, message, at));
        }
        PoolStatus status =
            new PoolStatus(
                base.observedGeneration(),
                base.replicas(),
                base.readyReplicas(),
                base.updatedReplicas(),
                base.targetRelease(),
                conds,
                base.backends(),
                base.estimatedMonthlyCost(),
                base.equivalentDynoCost(),
                base.drift(),
                stalled != null ? stalled : base.stalledRelease(),
                base.webhook());
        try {
          store.writeStatus(pool.id, status);
        } catch (RuntimeException e) {
          // the database may be down too; the pass's own write (or the next pass) says it
          LOG.debugf(
              "pool=%s %s status not written: %s", pool.name, reason, e.getClass().getSimpleName());
          shownReasons.remove(reason);
          return false;
        }
        shown = status;
        return true;
      }
    }

    /**
     * The phase shown (not stored) for a backend the proxy ejected for failed requests while its
     * health checks have not failed to the threshold: {@code Unhealthy} said its checks failed
     * (review 16). Once they fail to it too, it is {@code Unhealthy} (audit 22 M1, review 28 #1:
     * see DataPlane.Health#ejected).
     */
    private static final String EJECTED = "Ejected";

    /** The number of a status's {@code targetRelease} ("v42"), or -1 when there is none. */
    private static int releaseNumber(String release) {
      if (release == null || release.length() < 2 || release.charAt(0) != 'v') {
        return -1;
      }
      try {
        return Integer.parseInt(release.substring(1));
      } catch (NumberFormatException e) {
        return -1;
      }
    }

    private void writeStatus() {
      int ready = 0;
      int updated = 0;
      int active = 0;
      int oldLeaving = 0; // draining backends not at the target: a rollout's, still present
      List<BackendStatus> list = new ArrayList<>();
      // a pass that failed before it read the source counted every backend updated, and with
      // maxSurge 0 said Progressing False/Stable mid-rollout, which `rollout status` took for done
      // (review 15): the release last seen is the target; none seen, the last count stands
      Source known = source != null ? source : sources.get(pool.id);
      if (source == null
          && known != null
          && pool.status != null
          && releaseNumber(pool.status.targetRelease()) > known.version()) {
        // this dyno's cached source is behind the release another dyno rolled to: counted against
        // it, the backends already on the newer one looked out of date (review 16 #3)
        known = null;
      }
      String target = known == null ? null : known.target();
      Map<String, BackendStatus> before = storedBackends();
      for (Backend b : backends) {
        DataPlane.Health h = health.get(b.appName);
        BackendStatus was = before.get(b.appName);
        if (h != null
            && !h.known()
            && b.phase == Phase.Unhealthy
            && was != null
            && was.failedChecks()) {
          // no verdict since this process started: the last one stands until its probes say
          h =
              new DataPlane.Health(
                  false,
                  was.consecutiveFailures() == null ? 0 : was.consecutiveFailures(),
                  was.lastProbe(),
                  false,
                  false,
                  null,
                  was.lastFailure());
        }
        boolean isActive = !b.leaving();
        if (isActive) {
          active++;
        } else if (target != null && !b.target.equals(target)) {
          oldLeaving++;
        }
        if (isActive && available(b)) {
          ready++;
        }
        if (isActive && (target == null || b.target.equals(target))) {
          updated++;
        }
        // kept out only by the proxy's passive ejection (its checks not failed to the threshold):
        // Ejected, not Unhealthy
        boolean ejected =
            h != null && h.ejected() && (b.phase == Phase.Ready || b.phase == Phase.Unhealthy);
        // where its app runs (audit 24 I1: after a region or stack change nothing said where the
        // backends were): one at the target runs where the target says (its region and stack are
        // in it); an older one keeps what an earlier status said, when one did
        boolean current = known != null && b.target.equals(known.target());
        String region = current ? known.backendRegion() : was == null ? null : was.region();
        String stack = current ? known.backendStack() : was == null ? null : was.stack();
        list.add(
            new BackendStatus(
                shownName(b),
                b.webUrl,
                b.releaseVersion == null ? null : "v" + b.releaseVersion,
                ejected ? EJECTED : b.phase.name(),
                h == null ? null : h.healthy(),
                h == null ? null : h.lastProbe(),
                h == null ? null : h.consecutiveFailures(),
                h == null ? null : h.lastFailure(),
                h == null ? null : h.failingOn(),
                b.createdAt,
                null,
                region,
                stack));
      }
      if (target == null && failedPass && pool.status != null) {
        updated = Math.min(updated, pool.status.updatedReplicas());
      }
      if (!spec.managed()) {
        List<String> failing = new ArrayList<>();
        // a backend's id is its URL's authority; its webUrl is the URL as given (audit 13: it
        // showed the authority, "127.0.0.1:1", where describe prints URLs)
        Map<String, String> urls = new HashMap<>();
        if (spec.staticBackends() != null) {
          io.dynofleet.proxy.RouteSync.targets(spec.staticBackends())
              .forEach(x -> urls.put(x.id(), x.url().toString()));
        }
        for (Map.Entry<String, DataPlane.Health> e : new java.util.TreeMap<>(health).entrySet()) {
          active++;
          BackendStatus was = before.get(e.getKey());
          if (!e.getValue().known() && was != null && was.failedChecks()) {
            // no verdict since this process started (its proxy waits for probes on a backend the
            // fleet found failing): the last one stands; no news is not a recovery
            updated++;
            list.add(was);
            failing.add(e.getKey());
            continue;
          }
          if (e.getValue().healthy()) {
            ready++;
          }
          updated++;
          // no proxy has probed it yet: Ready as the proxy assumes it, and said so (audit 22 L6)
          boolean unprobed = e.getValue().healthy() && e.getValue().lastProbe() == null;
          list.add(
              new BackendStatus(
                  e.getKey(),
                  urls.getOrDefault(e.getKey(), e.getKey()),
                  null,
                  e.getValue().healthy() ? "Ready" : e.getValue().ejected() ? EJECTED : "Unhealthy",
                  e.getValue().healthy(),
                  e.getValue().lastProbe(),
                  e.getValue().consecutiveFailures(),
                  e.getValue().lastFailure(),
                  e.getValue().failingOn(),
                  null,
                  unprobed ? Boolean.FALSE : null));
          if (e.getValue().known() && !e.getValue().healthy()) {
            failing.add(e.getKey());
          }
        }
        staticHealth(failing);
      }
      int desired =
          spec.managed()
              ? spec.replicas()
              // what the proxy serves: a skipped link-local URL is not wanted ready
              : io.dynofleet.proxy.RouteSync.served(spec.staticBackends()).size();
      if (pool.terminating()) {
        // the finalizer: nothing is desired any more; the backends left drain, then go
        desired = 0;
        condition("Ready", "False", "Deleting", "the pool is being deleted");
        condition(
            "Progressing",
            "True",
            "Deleting",
            list.size() + " backends draining before their apps are deleted");
      } else {
        // enough ready backends, as Kubernetes' Available: extra ones (a rollout's surge, a
        // scale-down's drain, a paused pool scaled down) are Progressing's. Counted against
        // active == desired too, Ready went False at every surge step of a healthy rollout, "4
        // backends ready, 3 wanted", and an alert on Ready=False fired on long rollouts (audit 24)
        boolean allReady = ready >= desired;
        condition(
            "Ready",
            allReady ? "True" : "False",
            allReady ? "AllReplicasReady" : "ReplicasNotReady",
            readyOfWanted(ready, desired, active));
      }
      // the rollout lasts while a backend of an older target is there, draining included: counted
      // from the active ones only, its last step (the last old app draining) read ScalingDown "3
      // backends, 3 desired", and a maxUnavailable step ScalingUp, a scale nobody asked (audit 24)
      boolean rolling = spec.managed() && (updated < active || oldLeaving > 0);
      boolean moving =
          spec.managed()
              && (rolling
                  || active != desired
                  || ready < desired
                  || backends.stream().anyMatch(Backend::leaving));
      if (!conditions.containsKey("Progressing")) {
        String reason =
            rolling
                ? "RollingUpdate"
                : active < desired
                    ? "ScalingUp"
                    : active > desired || backends.stream().anyMatch(Backend::leaving)
                        ? "ScalingDown"
                        : ready < desired ? "WaitingForHealth" : "Stable";
        condition(
            "Progressing",
            moving ? "True" : "False",
            reason,
            rolling
                ? updated
                    + "/"
                    + active
                    + " backends at release "
                    + (known == null ? "?" : "v" + known.version())
                    + (oldLeaving == 0 ? "" : ", " + oldLeaving + " old draining")
                : active + " backends, " + desired + " desired");
      }
      if (!conditions.containsKey("Degraded")) {
        condition("Degraded", "False", "AsExpected", "no errors");
      }
      synchronized (statusLock) {
        statusWritten = true;
        writeStatus(desired, active, ready, updated, list, shown != null ? shown : pool.status);
      }
    }

    /**
     * A static pool's URLs are nobody's to restart or replace, but a dead one must show (audit 12:
     * Degraded False "no errors" for minutes, no event): Degraded {@code BackendUnhealthy} while
     * any fails its checks, and an event when one starts failing and when it passes again. Whether
     * it failed before is the stored status's (healthy false after a probe), so a restart neither
     * repeats nor loses the news.
     */
    private void staticHealth(List<String> failing) {
      Map<String, BackendStatus> before = storedBackends();
      for (Map.Entry<String, DataPlane.Health> e : new java.util.TreeMap<>(health).entrySet()) {
        BackendStatus was = before.get(e.getKey());
        boolean wasFailing = was != null && was.failedChecks();
        boolean known = e.getValue().known();
        // ejected first, its probes failing to the threshold since: news of its own (v23: the
        // event said it was ejected, and nothing came when its checks failed)
        boolean nowFailsChecks =
            known
                && !e.getValue().healthy()
                && !e.getValue().ejected()
                && was != null
                && EJECTED.equals(was.phase());
        // and the other way: failing its checks, then passing them and ejected by its requests
        // before a pass saw it back (it had no event, unlike a managed backend's BackendEjected)
        boolean nowEjected =
            known
                && !e.getValue().healthy()
                && e.getValue().ejected()
                && was != null
                && "Unhealthy".equals(was.phase());
        if (known && !e.getValue().healthy() && (!wasFailing || nowFailsChecks || nowEjected)) {
          // an ejection is the proxy's verdict on live traffic, not the health checks' (review 13);
          // what its probes said is told as it is: a URL ejected before its first probe, or whose
          // last probe failed (below the threshold), was told that its checks passed (v23)
          Boolean passed = e.getValue().probePassed();
          event(
              PoolEvents.WARNING,
              "BackendUnhealthy",
              "static backend "
                  + e.getKey()
                  + (e.getValue().ejected()
                      ? " was ejected for failed requests"
                          + met(e.getValue().lastFailure(), " (the last: ", ")")
                          + (e.getValue().lastProbe() == null
                              ? ", before any health check of it"
                              : Boolean.FALSE.equals(passed)
                                  ? ", and its last health check failed too (below"
                                      + " unhealthyThreshold)"
                                  // (unknown: rows of the release before, which call a backend
                                  // ejected only while its last probe did not fail)
                                  : ", while its last health check passed")
                          + ": it gets no traffic until the ejection ends"
                      : " fails its health checks on "
                          + spec.healthCheck().path()
                          + met(e.getValue().lastFailure(), " (", ")")
                          + ": it gets no traffic while it fails"));
        } else if (known && e.getValue().healthy() && wasFailing) {
          event(
              PoolEvents.NORMAL,
              "BackendRecovered",
              "static backend " + e.getKey() + " is healthy again");
        }
      }
      if (!failing.isEmpty()) {
        condition(
            "Degraded",
            "True",
            "BackendUnhealthy",
            failing.size()
                + " of "
                + health.size()
                + " static backends fail their health checks or were ejected: "
                + String.join(", ", failing)
                + (failing.size() == health.size()
                    ? " (the proxy tries them all: panic mode)"
                    : ""));
      }
      // nothing for Dynofleet to make or move: the URLs are the pool (WaitingForHealth said
      // Progressing False, which that reason never means)
      condition(
          "Progressing",
          "False",
          "Stable",
          health.size()
              + " static backends, "
              + (spec.staticBackends() == null ? 0 : spec.staticBackends().size())
              + " listed");
    }

    /** The backends of the stored status, by app (static backends: by id). */
    private Map<String, BackendStatus> storedBackends() {
      Map<String, BackendStatus> out = new HashMap<>();
      if (pool.status != null && pool.status.backends() != null) {
        pool.status.backends().stream()
            .filter(b -> b.app() != null) // a backend whose create has not answered: no verdicts
            .forEach(b -> out.put(b.app(), b));
      }
      return out;
    }

    private void writeStatus(
        int desired,
        int active,
        int ready,
        int updated,
        List<BackendStatus> list,
        PoolStatus previous) {
      List<Condition> conds = new ArrayList<>();
      for (String type : List.of("Ready", "Progressing", "Degraded")) {
        Condition c = conditions.get(type);
        Condition before =
            previous == null || previous.conditions() == null
                ? null
                : previous.conditions().stream()
                    .filter(x -> x.type().equals(type))
                    .findFirst()
                    .orElse(null);
        // lastTransitionTime moves only when the condition's status flips
        Instant since =
            before != null && before.status().equals(c.status())
                ? before.lastTransitionTime()
                : now;
        conds.add(new Condition(c.type(), c.status(), c.reason(), c.message(), since));
      }
      maintenance(previous).ifPresent(conds::add);
      webhookSilent(previous).ifPresent(conds::add);
      String size = spec.managed() ? spec.template().dynoSize() : null;
      // a deleting pool's apps bill until they are gone: $0.00 while they drain hid that (audit 12)
      int billed = pool.terminating() ? list.size() : desired;
      PoolStatus status =
          new PoolStatus(
              pool.generation,
              active,
              ready,
              updated,
              source == null
                  ? (previous == null ? null : previous.targetRelease())
                  : "v" + source.version(),
              conds,
              list,
              size == null ? null : costs.pool(billed, size),
              size == null ? null : costs.oneApp(billed, size),
              drift,
              stalledTarget,
              webhook);
      // after a mid-pass write (a 429 wait) always: the stored status is that one, not pool.status
      if (shown != null || !status.sameAs(previous)) {
        store.writeStatus(pool.id, status);
        shown = null;
        routesChanged = true;
      }
    }

    /**
     * Condition {@code Maintenance} True while the pool is in maintenance ({@code
     * spec.routing.maintenance}), none otherwise: the proxy answers its requests with 503, which
     * describe, the dashboard and {@code dynofleet_pool_condition} must show (the other conditions
     * say nothing of traffic). The proxy acts on the spec itself, as every dyno loads it; this only
     * reports it, and the pass goes on as ever (the backends keep running, as dynos do under
     * Heroku's maintenance). Since when: the last write's, while it stays on.
     */
    private java.util.Optional<Condition> maintenance(PoolStatus previous) {
      if (spec.routing() == null || !Boolean.TRUE.equals(spec.routing().maintenance())) {
        return java.util.Optional.empty();
      }
      Instant since =
          previous == null || previous.conditions() == null
              ? now
              : previous.conditions().stream()
                  .filter(x -> x.type().equals("Maintenance") && "True".equals(x.status()))
                  .map(Condition::lastTransitionTime)
                  .findFirst()
                  .orElse(now);
      return java.util.Optional.of(
          new Condition(
              "Maintenance",
              "True",
              "MaintenanceOn",
              spec.routing().maintenancePageUrl() == null
                  ? "every request gets 503 and the built-in maintenance page; the backends keep"
                      + " running"
                  : "every request gets 503 and the pool's maintenance page; the backends keep"
                      + " running",
              since));
    }

    /**
     * Condition {@code WebhookSilent} True while the pool's release webhook is subscribed but a new
     * release was found by a look, with no delivery heard for it (review 25 #3): the subscription
     * exists, the deliveries do not arrive (a wrong public URL, DYNOFLEET_ADMIN_HOSTS without the
     * app's host, a CDN in front), and each release waited for the sweep. Raised, with a warning
     * event, once at least {@link #HEARD_GRACE} has passed since the look; cleared (with a normal
     * event) when a delivery is heard from the time it was raised on, when the subscription is made
     * anew, or when the pool has no subscription.
     */
    private java.util.Optional<Condition> webhookSilent(PoolStatus previous) {
      Condition before =
          previous == null || previous.conditions() == null
              ? null
              : previous.conditions().stream()
                  .filter(x -> x.type().equals("WebhookSilent") && "True".equals(x.status()))
                  .findFirst()
                  .orElse(null);
      silent = false;
      if (webhook == null) {
        unheard.remove(pool.id); // nothing subscribed, nothing silent
        return java.util.Optional.empty();
      }
      Instant heard = heardAt();
      if (before != null && heardReset) {
        // a new subscription (made again once its URL was fixed, as the condition asks): the
        // silence was the old one's; a release this one does not deliver says so again (review 26)
        unheard.remove(pool.id);
        event(
            PoolEvents.NORMAL,
            "WebhookResubscribed",
            "the release webhook on "
                + webhook.named()
                + " was subscribed anew ("
                + webhook.url()
                + "): the silence of the one before no longer stands");
        return java.util.Optional.empty();
      }
      if (before != null) {
        if (heard != null && !heard.isBefore(before.lastTransitionTime())) {
          unheard.remove(pool.id);
          event(
              PoolEvents.NORMAL,
              "WebhookHeard",
              "a release webhook delivery from "
                  + webhook.named()
                  + " was heard: its releases are rolled out at once again");
          return java.util.Optional.empty();
        }
        silent = true;
        return java.util.Optional.of(before);
      }
      Unheard u = unheard.get(pool.id);
      if (u == null) {
        return java.util.Optional.empty();
      }
      if (heard != null && heard.isAfter(u.since())) {
        unheard.remove(pool.id); // it came, a moment after the look
        return java.util.Optional.empty();
      }
      if (now.isBefore(u.foundAt().plus(HEARD_GRACE))) {
        return java.util.Optional.empty();
      }
      unheard.remove(pool.id);
      silent = true;
      String message =
          "release v"
              + u.version()
              + " of "
              + webhook.named()
              + " was found by the sweep's look, not by a webhook delivery, though the pool's release"
              + " webhook is subscribed: releases wait for the sweep (up to four idle turns while"
              + " deliveries were heard lately). Check that DYNOFLEET_PUBLIC_URL is where Heroku"
              + " reaches this app (the webhook's URL is "
              + webhook.url()
              + "), that DYNOFLEET_ADMIN_HOSTS includes its host, that nothing in front (a CDN,"
              + " a proxy) refuses it, and the webhook's delivery log: heroku webhooks:deliveries -a "
              + webhook.app();
      event(PoolEvents.WARNING, "WebhookSilent", message);
      return java.util.Optional.of(
          new Condition("WebhookSilent", "True", "NoDeliveryHeard", message, now));
    }

    private void event(String type, String reason, String message) {
      events.record(pool.id, pool.name, type, reason, message);
    }

    /**
     * A standing cause, found again after each process start: said once (see
     * PoolEvents#recordOnce).
     */
    private void eventOnce(String type, String reason, String message) {
      events.recordOnce(pool.id, pool.name, type, reason, message);
    }
  }

  private final Map<UUID, PoolSpec.Template> templateSeen = new ConcurrentHashMap<>();

  /** The stage {@code appId} is coupled at among a pipeline's {@code couplings}, or null. */
  static String coupledStage(List<Platform.Coupling> couplings, String appId) {
    return couplings.stream()
        .filter(c -> appId != null && appId.equals(c.appId()))
        .map(Platform.Coupling::stage)
        .findFirst()
        .orElse(null);
  }

  /** A Heroku-valid app name: prefix, dash, 6 random characters (3-30 chars in all). */
  /**
   * A backend's app name as the status shows it: null until its create has answered (no app id), as
   * the name of an app not made yet told anyone who reads the status (the read-only token, the
   * dashboard) which name to take on Heroku before Dynofleet did (security review 5 S5-1).
   */
  static String shownName(Backend b) {
    return b.appId == null ? null : b.appName;
  }

  /** Slack between Heroku's clock and ours, for when an app was made. */
  private static final Duration CLOCK_SLACK = Duration.ofSeconds(60);

  static String appName(String prefix) {
    StringBuilder sb =
        new StringBuilder(prefix.length() > 23 ? prefix.substring(0, 23) : prefix).append('-');
    for (int i = 0; i < 6; i++) {
      sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }
}
