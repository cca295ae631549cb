package io.dynofleet.reconcile;

import io.dynofleet.config.LogThrottle;
import io.dynofleet.config.ReconcileConfig;
import io.dynofleet.pool.model.HealthChanged;
import io.dynofleet.pool.model.PoolChanged;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Drives the reconciler: a scheduled pass over every pool, an immediate pass for a pool whose spec
 * changed, and the requeues passes ask for (in-flight work soon, failures with backoff). A work
 * queue keyed by pool, as in client-go: one pending entry per pool (the earliest wins) and never
 * two passes of one pool at once in this process (the advisory lock covers other processes).
 */
@ApplicationScoped
public class ReconcileLoop {
  private static final Logger LOG = Logger.getLogger(ReconcileLoop.class);

  private final Reconciler reconciler;
  private final ReconcileConfig config;
  private final PassMetrics metrics;
  private final ScheduledExecutorService executor;
  private final Map<String, ScheduledFuture<?>> pending = new ConcurrentHashMap<>();
  private final Map<String, Long> dueAt = new ConcurrentHashMap<>();

  /** The entry each pending pass runs: what asked for it (see {@link Entry}). */
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  /**
   * A queued pass of {@code pool}. {@code sweptAsOf} is set for a sweep's entry: when the sweep
   * found the pool due, by the database's clock (microseconds since the epoch). Such an entry is
   * moot once a pass of the pool by any dyno has ended since (audit 21 M2: a slow sweep and another
   * dyno's sweep 10 s later passed the same pools twice). {@code readAsOf} is set for a health
   * change's (at its turn, {@link #healthTurn}): when the turn read the pool, after the change's
   * verdict was written. Such an entry is moot only once a pass that began after that has ended, as
   * one that began before read the verdicts without the change (review 27 #2: another dyno's pass
   * under way at the turn, ending after it, made the change moot by its end, and a dead backend
   * waited for the pool's idle look). An entry with both is moot when both hold. A pass's own next
   * look (its requeue, an idle pool's turn) is kept as a sweep's entry found due at that pass's
   * recorded end: moot once a pass by any dyno has ended since, which keeps its own (audit 23 L1: a
   * dyno that took over while this one was away, or a change's pass). An entry of a spec change, a
   * webhook delivery or a failed pass's retry (neither set) always runs, as the change it stands
   * for may have come after that pass read the pool.
   */
  record Entry(String pool, Long sweptAsOf, Long readAsOf) {
    /** A sweep's entry (see {@link #sweptAsOf}). */
    Entry(String pool, Long sweptAsOf) {
      this(pool, sweptAsOf, null);
    }

    static Entry of(String pool) {
      return new Entry(pool, null, null);
    }

    /** A health change's entry (see {@link #readAsOf}). */
    static Entry health(String pool, long readAsOf) {
      return new Entry(pool, null, readAsOf);
    }

    /** Whether it runs whatever passed since: a change's or a requeue's entry. */
    boolean always() {
      return sweptAsOf == null && readAsOf == null;
    }

    /**
     * Two entries for one pool as one: one that always runs while either does; else moot only when
     * both would be: after a pass that ended after the earlier sweep and began after the later
     * health turn (a pass that began between two turns did not see the later change).
     */
    Entry merge(Entry other) {
      if (other == null) {
        return this;
      }
      if (always() || other.always()) {
        return of(pool);
      }
      return new Entry(
          pool, pick(sweptAsOf, other.sweptAsOf, true), pick(readAsOf, other.readAsOf, false));
    }

    private static Long pick(Long a, Long b, boolean earlier) {
      if (a == null || b == null) {
        return a == null ? b : a;
      }
      return earlier ? Math.min(a, b) : Math.max(a, b);
    }
  }

  private final Set<String> running = ConcurrentHashMap.newKeySet();

  /**
   * Per pool whose pass is under way, the entries that came meanwhile, merged: run after it. Kept
   * as entries, not names (review 25 #5): a sweep's entry that met a long pass came back as a
   * change's, never skipped, and the pool got a second full pass right after the one that had just
   * looked at everything.
   */
  private final Map<String, Entry> again = new ConcurrentHashMap<>();

  private volatile boolean stopping;

  /** When the stop began (SIGTERM), for the shared deadline; 0 before. */
  private volatile long stopBegan;

  private Thread signalHook;

  /**
   * Heroku kills a dyno 30 s after SIGTERM. The passes end in Quarkus's pre-shutdown phase, before
   * its HTTP drain: they get until {@link #HOLD_BUDGET} after the signal there, so that the drain
   * of the requests still in flight has at least 10 s before the kill (review 30 R30-3: with 27 s
   * there, a long step and a long request could take 27 s + 25 s), and until 27 s at the
   * ShutdownEvent of a shutdown that had no pre-shutdown phase (tests).
   */
  static final Duration STOP_BUDGET = Duration.ofSeconds(27);

  /** The passes' share of the 30 s while the listener still serves: see {@link #STOP_BUDGET}. */
  static final Duration HOLD_BUDGET = Duration.ofSeconds(20);

  /** A pool passed within this long (by any dyno) is left out of a sweep: 80 % of the interval. */
  private final Duration sweepQuiet;

  /** False until this process's first sweep, which takes every pool. */
  private volatile boolean swept;

  /** How recently passed a pool may be and still be left out: never in a process's first sweep. */
  Duration quietFor(boolean sweptBefore) {
    return sweptBefore ? sweepQuiet : Duration.ZERO;
  }

  static Duration sweepQuiet(String interval) {
    try {
      return io.quarkus.runtime.configuration.DurationConverter.parseDuration(interval)
          .multipliedBy(4)
          .dividedBy(5);
    } catch (RuntimeException e) {
      return Duration.ZERO; // "off", or a cron expression: every pool, every sweep
    }
  }

  @jakarta.inject.Inject
  ReconcileLoop(
      Reconciler reconciler,
      ReconcileConfig config,
      @org.eclipse.microprofile.config.inject.ConfigProperty(
              name = "quarkus.datasource.jdbc.max-size",
              defaultValue = "20")
          int dbPoolSize,
      MeterRegistry registry,
      Clock clock,
      io.dynofleet.db.SchemaMigration schema) {
    this(reconciler, config, registry, clock, executor(workers(config.workers(), dbPoolSize)));
    // and the route sync has loaded the table once: a pass before judges every backend with no
    // verdict, healthy (review 29 R29-2: an Unhealthy backend was told recovered, its repair clock
    // started over)
    this.schemaReady = () -> schema.migrated() && reconciler.routesLoaded();
  }

  /**
   * Whether the schema is known to be up to date and the routes loaded once: no sweep, health turn
   * or takeover reads the store or passes before (audit 23 L4, review 29 R29-2). Always, for a
   * test's own loop.
   */
  private java.util.function.BooleanSupplier schemaReady = () -> true;

  /** For tests: what {@link #schemaReady} asks. */
  void schemaReady(java.util.function.BooleanSupplier ready) {
    this.schemaReady = ready;
  }

  /**
   * A loop whose passes run on {@code executor} (null: none runs; the test profile's): a test's own
   * runs what was queued when it chooses, and shows with what delay.
   */
  ReconcileLoop(
      Reconciler reconciler,
      ReconcileConfig config,
      MeterRegistry registry,
      Clock clock,
      ScheduledExecutorService executor) {
    this.reconciler = reconciler;
    this.config = config;
    this.metrics = new PassMetrics(registry, clock);
    this.sweepQuiet = sweepQuiet(config.interval());
    this.executor = executor;
  }

  private static ScheduledExecutorService executor(int workers) {
    if (workers <= 0) {
      return null;
    }
    ScheduledThreadPoolExecutor pool =
        new ScheduledThreadPoolExecutor(
            workers,
            r -> {
              Thread t = new Thread(r, "dynofleet-reconcile");
              t.setDaemon(true);
              return t;
            });
    // on shutdown, queued passes are dropped (the next process picks the pools up again)
    pool.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    pool.setRemoveOnCancelPolicy(true);
    return pool;
  }

  /**
   * Database connections a process needs beyond its passes' locks: their own writes, the API, the
   * proxy.
   */
  static final int SPARE_CONNECTIONS = 2;

  /**
   * Each pass holds a connection for its pool's lock the whole pass: with no more connections than
   * workers, every store call waited out the acquisition timeout (review 3). Fewer workers then,
   * and an ERROR saying so; refusing to start would have taken the proxy down with it (review 4).
   */
  static int workers(int configured, int dbPoolSize) {
    int fit = Math.max(1, dbPoolSize - SPARE_CONNECTIONS);
    if (configured > fit) {
      LOG.errorf(
          "DYNOFLEET_DB_POOL_SIZE is %d: too few connections for %d reconcile workers (each pass holds one"
              + " for its pool's lock, and needs others); running %d. Raise DYNOFLEET_DB_POOL_SIZE to at least %d",
          dbPoolSize, configured, fit, configured + SPARE_CONNECTIONS);
      return fit;
    }
    return configured;
  }

  /** The periodic level-triggered sweep: every pool, whatever happened or did not. */
  @Scheduled(
      every = "${dynofleet.reconcile.interval}",
      delay = 2,
      delayUnit = TimeUnit.SECONDS,
      concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
      identity = "reconcile-all")
  void reconcileAll() {
    enqueueAll();
  }

  /**
   * How long past a pool's stored next look the dyno that stored it may still be about to pass it
   * (its timer has fired and its pass not yet begun or ended, its workers busy) before another
   * takes the pool over ({@link #takeOver}).
   */
  static final Duration TAKEOVER_GRACE = Duration.ofSeconds(5);

  /**
   * Every {@link #TAKEOVER_EVERY}: the pools whose stored next look is more than {@link
   * #TAKEOVER_GRACE} past, a look the dyno that stored it missed (killed, hung or stopped between
   * two passes), are passed here. A rollout whose rolling dyno died waited 24-54 s for another
   * dyno's sweep (its quiet window, then its next tick), while a step takes about 6 s (audit 23
   * L1). Safe as any pass is: the pool's advisory lock lets one pass at a time in (a pool whose
   * lock a pass holds is not overdue: review 29 R29-3; one taken between the read and this pass is
   * {@code BUSY}, and then moot when that one ends), and the owner's own next look, if it comes
   * after all, is moot once this pass has ended. Run on the loop's executor from the start, not
   * while the sweep is off (the test profile's loop has no executor).
   */
  static final Duration TAKEOVER_EVERY = Duration.ofSeconds(5);

  /** Queues a pass of every pool whose stored look was missed; their number. */
  int takeOver() {
    if (executor == null || stopping || !schemaReady.getAsBoolean()) {
      return 0; // not before the schema is migrated and the routes loaded (review 29 R29-2)
    }
    try {
      ReconcileStore.Due due = reconciler.overdue(TAKEOVER_GRACE);
      for (String pool : due.names()) {
        LOG.debugf("reconcile pool=%s its stored look is overdue: taken over here", pool);
        enqueue(new Entry(pool, due.asOfMicros()), Duration.ZERO);
      }
      return due.names().size();
    } catch (RuntimeException e) {
      // the store is away (the sweep says so), or the executor stopping: the next round tries
      LOG.debugf("reconcile takeover skipped: %s", e.getClass().getSimpleName());
      return 0;
    }
  }

  /** Whether the periodic sweep is off ({@code off}, {@code disabled}): no takeover either. */
  static boolean sweepOff(String interval) {
    String i = interval == null ? "" : interval.trim();
    return i.equalsIgnoreCase("off") || i.equalsIgnoreCase("disabled");
  }

  /** A spec change is acted on at once rather than at the next sweep. */
  void onChange(@Observes PoolChanged change) {
    enqueue(change.name(), Duration.ZERO);
  }

  /**
   * A backend's health moved in the local proxy: the pool may need marking, a restart or a
   * replacement. Its pass comes at most once per health debounce (the pool's health check interval
   * by default) for the fleet: a shared outage fails the pool's backends one by one as each crosses
   * its threshold, on each dyno, and each change was a pass at once, up to 10 per pool per dyno
   * within a probe interval (audit 21 M3). See {@link #healthDue}.
   */
  void onHealth(@Observes HealthChanged change) {
    healthDue(change.pool(), Duration.ZERO);
  }

  /**
   * Per pool, the health change's turn to come: one per pool, at once or at its debounce's end,
   * apart from the pool's queue entry (a requeue due later, a replacement's turn, keeps its time).
   */
  private final Map<String, ScheduledFuture<?>> healthTurns = new ConcurrentHashMap<>();

  /** The health change's turn recorded as to come for {@code pool}, or null (for tests). */
  ScheduledFuture<?> healthTurnPending(String pool) {
    return healthTurns.get(pool);
  }

  private void healthDue(String pool, Duration delay) {
    if (executor == null || stopping) {
      return;
    }
    synchronized (this) {
      if (stopping || healthTurns.containsKey(pool)) {
        return; // the turn to come is the one for this change too
      }
      healthTurns.put(
          pool,
          executor.schedule(
              () -> healthTurn(pool), Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS));
    }
  }

  /**
   * A health change's turn: a pass at once when no dyno passed the pool within its debounce, or
   * when a pass of it is under way here (which may have read the pool before the change) after that
   * one, at its debounce's end, never dropped. The pass is queued as one that is moot once a pass
   * by any dyno that began after this read has ended: two dynos whose turns came together made one
   * pass and then, finding the pool locked, a second 2 s later. Not one that ended after it, as a
   * sweep's is: a pass under way at the read may have read the verdicts before the change (review
   * 27 #2).
   */
  void healthTurn(String pool) {
    synchronized (this) {
      // under the lock healthDue holds from schedule to put: a turn due at once could run on a
      // worker before healthDue had put it, remove nothing, and leave the put behind it, a turn
      // that never comes, for which every later health change of the pool was dropped ("the turn
      // to come is the one for this change too") until a restart
      healthTurns.remove(pool);
    }
    if (!schemaReady.getAsBoolean()) {
      return; // the first sweep after the migration passes every pool
    }
    if (running.contains(pool)) {
      healthDue(pool, config.inFlightRequeue()); // its debounce is known once it ended
      return;
    }
    ReconcileStore.HealthTurn turn;
    try {
      turn = reconciler.healthTurn(pool);
    } catch (RuntimeException e) {
      enqueue(pool, Duration.ZERO); // the pass finds out what the database is up to
      return;
    }
    if (!turn.after().isZero()) {
      LOG.debugf(
          "reconcile pool=%s health change in %d ms: passed lately", pool, turn.after().toMillis());
      healthDue(pool, turn.after());
      return;
    }
    synchronized (this) {
      Entry queued = entries.get(pool);
      Long due = dueAt.get(pool);
      if (queued != null && queued.readAsOf() == null && due != null && due > System.nanoTime()) {
        // an entry due later (a replacement's turn, pending in a shared outage; an idle turn) keeps
        // its time: merged in, the turn's entry became one that always runs (or came at once and,
        // moot, dropped the later look), and two dynos' turns at one window's end were two passes.
        // It comes back, as it was, if the turn's entry is dropped
        heldRequeues.put(pool, new Held(queued, due));
        entries.remove(pool);
        dueAt.remove(pool);
        ScheduledFuture<?> old = pending.remove(pool);
        if (old != null) {
          old.cancel(false);
        }
      }
    }
    enqueue(Entry.health(pool, turn.asOfMicros()), Duration.ZERO);
  }

  /** A queued entry put aside for a health change's turn, and when it was due (nanoTime). */
  private record Held(Entry entry, long due) {}

  /**
   * Per pool, the entry due later (a requeue, the idle turn, a sweep's that met the pool locked)
   * put aside for a health change's turn: it comes back, as it was, if the turn's entry is dropped.
   */
  private final Map<String, Held> heldRequeues = new ConcurrentHashMap<>();

  void enqueueAll() {
    if (!schemaReady.getAsBoolean()) {
      LOG.debug("reconcile sweep skipped: the schema is not yet brought up to date");
      return;
    }
    try {
      // pools another dyno (or a requeue here) passed lately are skipped: a fleet of dynos sweeps
      // each pool about once an interval, not once per dyno (each pass costs Platform API calls).
      // Not in this process's first sweep: the requeues of the process it replaces (a drain's
      // end, work in flight) went with it, and a pass of its counts as a sweep
      // a pool whose last pass failed waits out its backoff here too (a spec change does not)
      for (Entry entry : sweepEntries()) {
        enqueue(entry, Duration.ZERO);
      }
      swept = true;
      reconciler.forgetGonePools();
      forgetGoneNames(Set.copyOf(reconciler.poolNames()));
      long skipped = sweepLog.clear(SWEEP);
      if (skipped > 0) {
        LOG.infof("reconcile sweep: the store answers again, after %d skipped sweeps", skipped);
      }
    } catch (RuntimeException e) {
      // once per outage, and once when it ends (audit 18 #7: a WARN every 30 s before)
      String what = e.getClass().getSimpleName();
      if (sweepLog.tell(SWEEP, what) >= 0) {
        LOG.warnf(
            "reconcile sweep skipped: store unavailable (%s); said again when it answers", what);
      } else {
        LOG.debugf("reconcile sweep skipped: store unavailable (%s)", what);
      }
    }
  }

  /**
   * The sweep's entries: the pools due, least recently passed first, each moot once a pass of it
   * ends after the sweep found it due.
   */
  List<Entry> sweepEntries() {
    ReconcileStore.Due due = reconciler.sweepDue(quietFor(swept), swept);
    watchHeld(due);
    return due.names().stream().map(n -> new Entry(n, due.asOfMicros())).toList();
  }

  /** How long a pool's lock may stay held with no pass of it ending before a WARN says so. */
  private volatile Duration heldTooLong = Duration.ofMinutes(10);

  /** The bound before that WARN, for a test; returns the one it replaces. */
  Duration heldTooLong(Duration bound) {
    Duration was = heldTooLong;
    heldTooLong = bound;
    return was;
  }

  /** Per pool whose lock the sweeps found held: what told that holding, and its first sweep. */
  private final Map<String, LockHolding> heldSeen = new java.util.concurrent.ConcurrentHashMap<>();

  private record LockHolding(String mark, long sinceMicros) {}

  private final LogThrottle heldLog = new LogThrottle(null);

  /**
   * Review 31 R31-10: the sweeps pass over a pool whose lock a pass holds, so a pass hung with its
   * database session alive (on any dyno) showed nowhere. A pool found held by the sweeps, by the
   * same holding all along, for longer than {@link #heldTooLong} gets one WARN per spell. The same
   * holding: the pool's swept_at unchanged (no pass of it ended with a write) and the same database
   * session holding the lock with its state unchanged ({@link PoolLocks#HOLDER_SQL}), because a
   * pass going on checks its lock before each step and passes cut short (a SIGTERM, a lost lock)
   * end with no write: taken for one holding, a run of those made a false alarm.
   */
  private void watchHeld(ReconcileStore.Due due) {
    heldSeen.keySet().retainAll(due.held().keySet());
    heldLog.retain(due.held().keySet());
    due.held()
        .forEach(
            (pool, mark) -> {
              LockHolding seen =
                  heldSeen.compute(
                      pool,
                      (k, v) ->
                          v == null || !v.mark().equals(mark)
                              ? new LockHolding(mark, due.asOfMicros())
                              : v);
              long heldMicros = due.asOfMicros() - seen.sinceMicros();
              if (heldMicros >= heldTooLong.toNanos() / 1000 && heldLog.tell(pool, "held") == 0) {
                LOG.warnf(
                    "pool %s: a pass has held its lock for at least %d s with no pass of it ending"
                        + " and no step of it begun: a pass hung with its database session alive?"
                        + " The pool changes no more until it ends (restart the dyno holding it:"
                        + " pg_locks/pg_stat_activity)",
                    pool, heldMicros / 1_000_000);
              }
            });
  }

  /**
   * A release webhook delivery for {@code pool} was heard: schedules a pass at once, clears its
   * stored next look, so that if this process stops before the pass (a deploy's SIGTERM), every
   * dyno's sweep takes the pool soon rather than at its idle turn (review 25 #1), and records for
   * the fleet that deliveries arrive (the longer idle turn trusts them only then, review 25 #3).
   */
  public void wake(String pool) {
    reconciler.heard(pool);
    enqueue(pool, Duration.ZERO);
  }

  /**
   * A release webhook delivery for {@code pool} was heard whose pass the hook defers by {@code
   * delay} (within {@code hook-pass-interval} of the last one): schedules it then, stores the look
   * then for every dyno (a takeover runs it if this process stops first, review 29 R29-12: it lived
   * only here) and records the delivery as heard, as {@link #wake} does.
   */
  public void wakeLater(String pool, Duration delay) {
    reconciler.heard(pool, delay);
    enqueue(pool, delay);
  }

  /** Schedules a pass for {@code pool} after {@code delay}, unless one is already due sooner. */
  public void enqueue(String pool, Duration delay) {
    enqueue(Entry.of(pool), delay);
  }

  private void enqueue(Entry entry, Duration delay) {
    if (executor == null || stopping) {
      return;
    }
    String pool = entry.pool();
    long due = System.nanoTime() + delay.toNanos();
    synchronized (this) {
      if (stopping) {
        return; // checked again under the lock beginStop takes: the executor may be shut down
      }
      Long current = dueAt.get(pool);
      // one entry per pool: a change's entry never becomes a sweep's, which may be skipped
      Entry merged = entry.merge(entries.get(pool));
      entries.put(pool, merged);
      if (current != null && current <= due) {
        return;
      }
      ScheduledFuture<?> old = pending.remove(pool);
      if (old != null) {
        old.cancel(false);
      }
      dueAt.put(pool, due);
      pending.put(
          pool,
          executor.schedule(() -> run(pool), Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS));
    }
  }

  /**
   * One pass of {@code pool}, as the executor runs it (tests call it directly): its result, null
   * when a pass of the pool was under way (it runs once more after it).
   */
  ReconcileResult run(String pool) {
    if (deferred(pool)) {
      return null;
    }
    Entry entry;
    synchronized (this) {
      entry = entries.remove(pool);
    }
    return run(entry == null ? Entry.of(pool) : entry);
  }

  /**
   * How long a deleting pool's pass steps aside at a time while a serving pool's repair waits
   * ({@link #deferred}).
   */
  static final Duration DEFER_STEP = Duration.ofSeconds(2);

  /**
   * The longest a deleting pool's pass is held back in a row ({@link #deferred}): it then runs,
   * whatever waits, so a fleet always short of workers for its repairs still deletes.
   */
  static final Duration DEFER_AT_MOST = Duration.ofMinutes(1);

  /** How old the priorities read may be ({@link ReconcileStore.Priorities}). */
  static final Duration PRIORITIES_FOR = Duration.ofSeconds(1);

  /** Per deleting pool held back, when it first was in this spell (nanoTime). */
  private final Map<String, Long> deferredSince = new ConcurrentHashMap<>();

  private record Read(ReconcileStore.Priorities priorities, long at) {}

  private volatile Read priorities;

  /**
   * Security review 7 S7-4: while calls are paced (the budget under the low watermark, a 429's
   * pause), the refill is one call every 800 ms × dynos for the whole fleet, and the passes took
   * the workers in the order they were due: a loop creating and deleting empty pools left 428
   * deletions queued, and a crashed backend of the pool serving the traffic was marked after 4 min
   * 25 s and replaced after 6 min 10 s, once they were done. Now a deleting pool's pass, when its
   * turn comes while calls are paced and a serving pool's pass with work that touches its traffic
   * waits for a worker (a health change's turn or pass of a pool with a host or the default route,
   * or a pass of such a pool with a backend Unhealthy or Failed or fewer ready than wanted), steps
   * aside for {@link #DEFER_STEP} and frees its worker for it. Bounded: a deleting pool is held
   * back at most {@link #DEFER_AT_MOST} in a row, and never when nothing of the kind waits. Whether
   * it was held back (its entry queued again).
   */
  private boolean deferred(String pool) {
    if (executor == null || stopping || running.contains(pool)) {
      return false;
    }
    ReconcileStore.Priorities p;
    try {
      if (!reconciler.paced()) {
        deferredSince.remove(pool);
        return false;
      }
      p = priorities();
    } catch (RuntimeException e) {
      LOG.debugf("reconcile pool=%s not ordered: %s", pool, e.getClass().getSimpleName());
      return false;
    }
    long now = System.nanoTime();
    if (!p.deleting().contains(pool) || !repairWaits(pool, p, now)) {
      deferredSince.remove(pool);
      return false;
    }
    long since = deferredSince.computeIfAbsent(pool, k -> now);
    if (now - since >= DEFER_AT_MOST.toNanos()) {
      deferredSince.remove(pool);
      return false;
    }
    Entry entry;
    synchronized (this) {
      if (stopping) {
        return false;
      }
      pending.remove(pool);
      dueAt.remove(pool);
      entry = entries.remove(pool);
    }
    LOG.debugf("reconcile pool=%s deletion steps aside for a serving pool's repair", pool);
    enqueue(entry == null ? Entry.of(pool) : entry, DEFER_STEP);
    return true;
  }

  /**
   * Whether a serving pool's traffic work waits for a worker: its health change's turn or its pass
   * due and not begun.
   */
  private boolean repairWaits(String pool, ReconcileStore.Priorities p, long now) {
    for (Map.Entry<String, ScheduledFuture<?>> t : healthTurns.entrySet()) {
      if (p.serving().contains(t.getKey()) && t.getValue().getDelay(TimeUnit.NANOSECONDS) <= 0) {
        return true;
      }
    }
    for (Map.Entry<String, Long> d : dueAt.entrySet()) {
      String other = d.getKey();
      if (other.equals(pool) || d.getValue() > now || running.contains(other)) {
        continue;
      }
      Entry e = entries.get(other);
      if (p.repairs().contains(other)
          || p.serving().contains(other) && e != null && e.readAsOf() != null) {
        return true;
      }
    }
    return false;
  }

  /** {@link ReconcileStore.Priorities}, read at most once per {@link #PRIORITIES_FOR}. */
  private ReconcileStore.Priorities priorities() {
    Read r = priorities;
    long now = System.nanoTime();
    if (r == null || now - r.at() >= PRIORITIES_FOR.toNanos()) {
      r = new Read(reconciler.priorities(), now);
      priorities = r;
    }
    return r.priorities();
  }

  /**
   * One pass for {@code entry}: its result; null when a pass of the pool was under way (it runs
   * once more after it), or when the entry is moot: a sweep's and a pass of the pool (by any dyno)
   * ended since the sweep found it due, or a health change's and one that began after its turn has
   * ended.
   */
  ReconcileResult run(Entry entry) {
    String pool = entry.pool();
    synchronized (this) {
      pending.remove(pool);
      dueAt.remove(pool);
      Entry queued = entries.remove(pool);
      entry = entry.merge(queued);
      if (!running.add(pool)) {
        // a pass is under way: run once more after it, as what asked (a sweep's entry stays one)
        again.merge(pool, entry, Entry::merge);
        return null;
      }
    }
    if (!entry.always() && passedSince(entry)) {
      Entry more;
      synchronized (this) {
        // with the remove from running: an entry merged in between would be left behind
        running.remove(pool);
        more = again.remove(pool);
      }
      if (more != null) {
        enqueue(more, Duration.ZERO);
      }
      Held held = heldRequeues.remove(pool);
      if (held != null) {
        enqueue(held.entry(), Duration.ofNanos(Math.max(0, held.due() - System.nanoTime())));
      }
      LOG.debugf(
          "reconcile pool=%s skipped: passed since the %s found it due",
          pool, entry.sweptAsOf() == null ? "health change's turn" : "sweep");
      return null;
    }
    ReconcileResult r;
    boolean threw = false;
    long began = System.nanoTime();
    Entry more;
    try {
      r = reconciler.reconcile(new PoolKey(pool));
      thrown.remove(pool);
    } catch (Throwable t) {
      // audit 18 L7: an Error (StackOverflowError, NoClassDefFoundError) or anything else the pass
      // let out went into a future nobody reads: no line, no requeue until the next sweep
      r = thrown(pool, t);
      threw = true;
    } finally {
      synchronized (this) {
        // what came during the pass, taken with the remove from running under the lock that
        // merges it (review 26: a merge between a remove and a take outside it was left behind
        // until the pool's next pass)
        running.remove(pool);
        more = again.remove(pool);
      }
    }
    metrics.record(r, System.nanoTime() - began);
    if (r.outcome() != ReconcileResult.Outcome.BUSY) {
      heldRequeues.remove(pool); // this pass asked for its own
    }
    if (stopping) {
      LOG.debugf("reconcile pool=%s outcome=%s while stopping", pool, r.outcome());
      return r;
    }
    if (threw) {
      // said at ERROR already
    } else if (r.outcome() == ReconcileResult.Outcome.FAILED) {
      logFailure(pool, r);
    } else {
      if (r.outcome() != ReconcileResult.Outcome.BUSY) {
        long failed = failureLog.clear(pool);
        if (failed > 0) {
          LOG.infof("reconcile pool=%s recovered after %d failed passes", pool, failed);
        }
      }
      LOG.debugf("reconcile pool=%s outcome=%s calls=%d", pool, r.outcome(), r.platformCalls());
    }
    if (more != null && more.always()) {
      // a change (a spec change, a webhook) came during the pass, perhaps after it read the pool
      enqueue(more, Duration.ZERO);
    } else if (r.outcome() == ReconcileResult.Outcome.BUSY) {
      // another dyno holds the pool: looked at again after its pass, as what asked for this one
      // (a spec change, a webhook) may have come after that pass read the pool. A sweep's entry
      // stays one, and is skipped then: that pass was the look it asked for (audit 21 M2); a
      // health change's only if that pass began after its turn, else it read the verdicts before
      enqueue(entry.merge(more), r.requeueAfter());
    } else if (r.outcome() == ReconcileResult.Outcome.FAILED && r.requeueAfter() != null) {
      // the backoff's retry; a sweep's entry that came meanwhile goes with it
      enqueue(pool, r.requeueAfter());
    } else if (r.requeueAfter() != null || r.nextLook() != null) {
      // this pass's next look (work in flight, an idle pool's turn), kept here at its time: the
      // sweep took an idle look at its first tick after the stored turn, up to an interval late
      // (audit 23 L8). Moot once a pass by any dyno ends after this one, which keeps its own: a
      // dyno that took the pool over while this one was away, or a change's pass. A sweep's entry
      // that came meanwhile goes with it: this pass, or the look's, is its look
      enqueue(followUp(pool, r), r.requeueAfter() != null ? r.requeueAfter() : r.nextLook());
      if (more != null && more.readAsOf() != null) {
        enqueue(more, Duration.ZERO); // a health change's turn: this pass may have read before it
      }
    } else if (more != null) {
      // a sweep's entry that came meanwhile: skipped when this pass was recorded (review 25 #5)
      enqueue(more, Duration.ZERO);
    }
    return r;
  }

  /**
   * The entry of a pass's own next look: moot once a pass of the pool by any dyno ended after it;
   * one that always runs when the pass's end was not recorded.
   */
  private static Entry followUp(String pool, ReconcileResult r) {
    return r.endedMicros() > 0 ? new Entry(pool, r.endedMicros()) : Entry.of(pool);
  }

  /**
   * Whether the entry is moot: a pass of its pool (by any dyno) ended since the sweep, and one that
   * began after the health change's turn has ended, as the entry has each; false when unknown.
   */
  private boolean passedSince(Entry entry) {
    try {
      return (entry.sweptAsOf() == null || reconciler.sweptSince(entry.pool(), entry.sweptAsOf()))
          && (entry.readAsOf() == null || reconciler.passedSince(entry.pool(), entry.readAsOf()));
    } catch (RuntimeException e) {
      return false; // the pass finds out what the database is up to
    }
  }

  /**
   * Drops the log spell and thrown-pass backoff of pools no longer in the store: a pool deleted
   * while it failed kept them for the life of the process, and one made again under its name
   * inherited them (its first failure a DEBUG line, its first thrown pass's backoff doubled; review
   * 23 #6). A pass that ends well clears them too; this is for the pools that never get one.
   */
  void forgetGoneNames(Set<String> live) {
    failureLog.retain(live);
    thrown.keySet().retainAll(live);
    deferredSince.keySet().retainAll(live);
  }

  /** Per pool, passes in a row that threw out of the reconciler: their backoff. */
  private final Map<String, Integer> thrown = new ConcurrentHashMap<>();

  /**
   * A pass that threw: retried after a backoff doubled per such pass in a row, from {@code
   * base-backoff} up to {@code max-backoff}, stored for every dyno as a failed pass's (review 29
   * R29-1: the takeovers passed it every 5 s). Logged as a failed pass is: at ERROR with its stack
   * when it is new for the pool, then a one-line WARN at most once per {@link #FAILURE_LOG_EVERY}
   * with how many went untold, DEBUG between (an ERROR and its stack at every backoff filled the
   * log through a spell of a bug).
   */
  private ReconcileResult thrown(String pool, Throwable t) {
    int n = thrown.merge(pool, 1, Integer::sum);
    Duration after = config.baseBackoff().multipliedBy(1L << Math.min(n - 1, 16));
    if (after.compareTo(config.maxBackoff()) > 0) {
      after = config.maxBackoff();
    }
    String error = "internal: " + t.getClass().getName();
    long untold = failureLog.tell(pool, error);
    String line = "reconcile pool=%s failed: the pass threw %s; retry_in=%ss";
    if (untold == 0) {
      LOG.errorf(t, line, pool, t.getClass().getName(), seconds(after));
    } else if (untold > 0) {
      LOG.warnf(
          line + " (still failing: %d more passes threw the same since the last line)",
          pool,
          t.getClass().getName(),
          seconds(after),
          untold);
    } else {
      LOG.debugf(line, pool, t.getClass().getName(), seconds(after));
    }
    reconciler.thrown(pool, after);
    return ReconcileResult.failed(error, after, 0);
  }

  /**
   * A failed pass at WARN when its error is new for the pool, then at most once per {@link
   * #FAILURE_LOG_EVERY} with how many went untold; DEBUG between (audit 18 #7: two WARN lines per
   * pool and pass through a whole outage, with the event's).
   */
  private void logFailure(String pool, ReconcileResult r) {
    long untold = failureLog.tell(pool, r.error());
    // the delay the requeue below waits (audit 22 L5: an operator who fixed a missing pipeline
    // and read a wrong retry_in concluded the fix did not work); a fix of a spec error outside
    // Dynofleet is seen at that retry, and sooner with the levers named
    String retry =
        "retry_in="
            + seconds(r.requeueAfter())
            + "s"
            + (Reconciler.waitsForAHuman(r.error())
                ? " (a spec change or a restart retries at once)"
                : "");
    // escaped as an event's message is: Heroku's text (or a backend's) with a quote in it ended
    // the field, and what followed read as fields of this line (pool=... reason=...)
    String error = io.dynofleet.pool.model.PoolEvents.logged(r.error());
    if (untold < 0) {
      LOG.debugf("reconcile pool=%s failed error=\"%s\" %s", pool, error, retry);
    } else if (untold == 0) {
      LOG.warnf("reconcile pool=%s failed error=\"%s\" %s", pool, error, retry);
    } else {
      LOG.warnf(
          "reconcile pool=%s failed error=\"%s\" %s (still failing: %d more passes"
              + " failed the same since the last line)",
          pool, error, retry, untold);
    }
  }

  /** Whole seconds, rounded up: a jittered 600 ms backoff said {@code retry_in=0s}. */
  static long seconds(Duration d) {
    return (d.toMillis() + 999) / 1000;
  }

  /** How often a pool failing the same way is said again at WARN. */
  static final Duration FAILURE_LOG_EVERY = Duration.ofMinutes(10);

  private static final String SWEEP = "sweep";
  private final LogThrottle failureLog = new LogThrottle(FAILURE_LOG_EVERY);
  private final LogThrottle sweepLog = new LogThrottle(null);

  /**
   * Quarkus fires its ShutdownEvent only after the HTTP drain (up to 25 s), and a pass went on
   * creating apps all that time. A JVM shutdown hook of our own runs at SIGTERM, beside Quarkus's.
   */
  void onStart(@Observes StartupEvent e) {
    if (executor != null && !sweepOff(config.interval())) {
      executor.scheduleWithFixedDelay(
          this::takeOver,
          TAKEOVER_EVERY.toMillis(),
          TAKEOVER_EVERY.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    Thread hook = new Thread(this::beginStop, "dynofleet-reconcile-stop");
    try {
      Runtime.getRuntime().addShutdownHook(hook);
      signalHook = hook;
    } catch (IllegalStateException alreadyStopping) {
      beginStop();
    }
  }

  /** At SIGTERM: no new pass, and each pass under way stops after the step it is in. */
  void beginStop() {
    synchronized (this) {
      if (stopping) {
        return;
      }
      stopping = true;
      stopBegan = System.nanoTime();
    }
    LOG.info(
        "stopping: no new reconcile pass or step; passes under way finish the step they are in");
    try {
      reconciler.stopTakingSteps();
    } catch (RuntimeException gone) {
      // the container is already down: so are its passes
    }
    if (executor != null) {
      executor.shutdown();
    }
  }

  /**
   * Quarkus's pre-shutdown phase ({@code quarkus.shutdown.delay-enabled}), before its HTTP drain:
   * the passes end here, while the listener and its event loops still serve. Waited for after the
   * drain (at the ShutdownEvent), they ran while Quarkus had closed the listener, so for up to 27 s
   * the process lived on answering nothing, and connections accepted as it closed were dropped with
   * a stack trace each (audit 25 F2). Readiness turns 503 ({@code Graceful Shutdown}) only if
   * Quarkus tells its own pre-shutdown listener before this observer blocks: that order is
   * Quarkus's build-step order, not a promise of its API, so an upgrade of Quarkus may change it;
   * LiveFleetIT's SIGTERM-during-a-pass test sees the 503 (review 30 R30-I6).
   */
  void holdHttpForPasses(@Observes ShutdownDelayInitiatedEvent e) {
    beginStop();
    awaitPasses(HOLD_BUDGET);
  }

  /** After the HTTP drain: the passes are over (else waited for within the budget left). */
  void stop(@Observes ShutdownEvent e) {
    Thread hook = signalHook;
    if (hook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook); // a shutdown without a signal (tests)
      } catch (IllegalStateException signalled) {
        // the hook is running or ran: SIGTERM
      }
    }
    beginStop();
    awaitPasses(STOP_BUDGET);
  }

  /** Whether the passes were interrupted already (their step outlasted a budget). */
  private volatile boolean interrupted;

  /**
   * Waits for the passes until {@code budget} after the stop began, then interrupts them. Said
   * once: a step still running after the pre-shutdown phase's interrupt was said again at the
   * ShutdownEvent.
   */
  void awaitPasses(Duration budget) {
    if (executor == null || executor.isTerminated()) {
      return;
    }
    long left = budget.toNanos() - (System.nanoTime() - stopBegan);
    try {
      if (!executor.awaitTermination(
              Math.max(TimeUnit.SECONDS.toNanos(1), left), TimeUnit.NANOSECONDS)
          && !interrupted) {
        interrupted = true;
        LOG.warn(
            "stopping: a reconcile step outlasted the budget and is interrupted; the next process resumes it");
        executor.shutdownNow();
        executor.awaitTermination(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }
}
