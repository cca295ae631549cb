package io.dynofleet.reconcile;

import io.dynofleet.pool.model.Backend;
import io.dynofleet.pool.model.Pool;
import io.dynofleet.pool.model.PoolRepository;
import io.dynofleet.pool.model.PoolStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The reconciler's short transactions: one per read or per step recorded, never held across a
 * Platform API call, so a pass costs the database little and a crash loses at most one step.
 */
@ApplicationScoped
class ReconcileStore {
  /**
   * The first key of the two-int advisory locks on release turns (the second is the source app's
   * hash): a key space apart from the routing claims' (1685221998) and the pools' bigint locks.
   */
  static final int RELEASE_TURN_LOCKS = 1685221999;

  private final PoolRepository pools;
  private final Clock clock;

  ReconcileStore(PoolRepository pools, Clock clock) {
    this.pools = pools;
    this.clock = clock;
  }

  @Transactional
  Optional<Pool> pool(String name) {
    Optional<Pool> p = pools.findByName(name);
    p.ifPresent(pools.getEntityManager()::detach);
    return p;
  }

  /** True when the pool has been marked for deletion (or is gone): one primary-key read. */
  @Transactional
  boolean markedForDeletion(UUID poolId) {
    return pools
            .getEntityManager()
            .createQuery(
                "select count(p) from Pool p where p.id = :id and p.deletionTimestamp is null",
                Long.class)
            .setParameter("id", poolId)
            .getSingleResult()
        == 0;
  }

  /**
   * Pools no pass (of any dyno) has looked at for {@code quiet}, by the database's clock: what a
   * sweep still has to do. Not those whose next look (an idle pool's turn, a budget or release
   * wait: {@link #swept}) is still to come, with {@code honourBackoff} not those whose failed
   * pass's backoff runs, and not those whose lock a pass holds ({@link PoolLocks#HELD_SQL}: it
   * stores the next look at its end; a dyno that dies mid-pass loses the lock with its session).
   * Least recently passed first (never passed before all), so no pool is always the last of a sweep
   * (audit 21 H2: by name, the {@code zeta-*} pools rolled hours after the {@code api-*} ones under
   * a tight budget).
   */
  List<String> poolNamesDue(
      java.time.Duration quiet, boolean honourBackoff, String keyFingerprint) {
    return sweepDue(quiet, honourBackoff, keyFingerprint).names();
  }

  /**
   * The pools a sweep takes ({@link #poolNamesDue}, in that order), and when it found them due by
   * the database's clock ({@code asOfMicros}, microseconds since the epoch; 0 when none is): a pass
   * of the pool that ends after that makes the sweep's entry moot ({@link #sweptSince}). {@code
   * held}: the pools left out because a pass holds their lock, each with what tells this holding
   * from another (its swept_at and the holding session: {@link PoolLocks#HOLDER_SQL}).
   */
  record Due(List<String> names, long asOfMicros, Map<String, String> held) {
    Due(List<String> names, long asOfMicros) {
      this(names, asOfMicros, Map.of());
    }
  }

  /**
   * What the loop orders passes by while calls are paced ({@link ReconcileLoop}): {@code deleting},
   * the pools being deleted (their passes delete apps nobody routes to); {@code serving}, the pools
   * that are not, with a host or the default route; {@code repairs}, those of them with work that
   * touches their traffic (a backend {@code Unhealthy} or {@code Failed}, or fewer ready than
   * wanted). One read over the pools and their backends.
   */
  record Priorities(Set<String> deleting, Set<String> serving, Set<String> repairs) {
    static final Priorities NONE = new Priorities(Set.of(), Set.of(), Set.of());
  }

  @Transactional
  @SuppressWarnings("unchecked")
  Priorities priorities() {
    List<Object[]> rows =
        pools
            .getEntityManager()
            .createNativeQuery(
                "select p.name, p.deletion_timestamp is not null,"
                    + " (jsonb_typeof(p.spec -> 'routing' -> 'hosts') = 'array'"
                    + " and jsonb_array_length(p.spec -> 'routing' -> 'hosts') > 0)"
                    + " or coalesce(p.spec -> 'routing' ->> 'default', '') = 'true',"
                    + " exists (select 1 from backends b where b.pool_id = p.id"
                    + " and b.phase in ('Unhealthy', 'Failed'))"
                    + " or (jsonb_typeof(p.spec -> 'replicas') = 'number'"
                    + " and coalesce(cast(p.status ->> 'readyReplicas' as bigint), 0)"
                    + " < cast(p.spec ->> 'replicas' as bigint))"
                    + " from pools p")
            .getResultList();
    Set<String> deleting = new java.util.HashSet<>();
    Set<String> serving = new java.util.HashSet<>();
    Set<String> repairs = new java.util.HashSet<>();
    for (Object[] r : rows) {
      String name = (String) r[0];
      if (Boolean.TRUE.equals(r[1])) {
        deleting.add(name);
      } else if (Boolean.TRUE.equals(r[2])) {
        serving.add(name);
        if (Boolean.TRUE.equals(r[3])) {
          repairs.add(name);
        }
      }
    }
    return new Priorities(Set.copyOf(deleting), Set.copyOf(serving), Set.copyOf(repairs));
  }

  @Transactional
  @SuppressWarnings("unchecked")
  Due sweepDue(java.time.Duration quiet, boolean honourBackoff, String keyFingerprint) {
    jakarta.persistence.Query q =
        pools
            .getEntityManager()
            .createNativeQuery(
                "select name, now_micros, holder_pid is not null, swept_micros,"
                    + " case when holder_pid is not null then "
                    + PoolLocks.HOLDER_SQL
                    + " end from (select p.name, s.swept_at,"
                    + " (extract(epoch from now()) * 1000000)::bigint as now_micros,"
                    + " coalesce((extract(epoch from s.swept_at) * 1000000)::bigint, 0) as swept_micros,"
                    + PoolLocks.HOLDER_PID_SQL
                    + " as holder_pid,"
                    + " (s.swept_at is null or s.swept_at < now() - make_interval(secs => ?1))"
                    // a stored turn never holds back a spec change or a deletion no pass has
                    // seen: the pass the write asked for runs on the dyno that took it, and went
                    // with it if that one stopped (review 25 #1)
                    + " and (s.next_look_at is null or s.next_look_at <= now()"
                    + " or p.deletion_timestamp is not null"
                    + " or coalesce(cast(p.status ->> 'observedGeneration' as bigint), 0) < p.generation)"
                    + (honourBackoff
                        ? " and (s.not_before is null or s.not_before <= now()"
                            + " or s.not_before_key <> cast(?2 as text))"
                        : "")
                    + " as due from pools p left join pool_sweeps s on s.pool_id = p.id) x"
                    // nor a pool whose lock a pass holds, as for the takeover (R29-3): that pass
                    // stores the next look at its end, and a long one met BUSY once per sweep.
                    // Those come back apart (held), with the holding session, for the sweep to
                    // tell a pass that holds one too long (review 31 R31-10)
                    + " where due or holder_pid is not null"
                    + " order by swept_at nulls first, name")
            .setParameter(1, quiet.toMillis() / 1000.0);
    if (honourBackoff) {
      q.setParameter(2, keyFingerprint);
    }
    List<Object[]> rows = q.getResultList();
    Map<String, String> held = new java.util.LinkedHashMap<>();
    List<String> names = new java.util.ArrayList<>();
    for (Object[] r : rows) {
      if (Boolean.TRUE.equals(r[2])) {
        held.put((String) r[0], ((Number) r[3]).longValue() + " " + r[4]);
      } else {
        names.add((String) r[0]);
      }
    }
    return new Due(names, rows.isEmpty() ? 0 : ((Number) rows.get(0)[1]).longValue(), held);
  }

  /**
   * The pools whose stored next look ({@code pool_sweeps.next_look_at}: a requeue's, an idle turn,
   * a pass cut short) is more than {@code grace} past, by the database's clock, and whose failed
   * pass's backoff (for this key) is over: the dyno that stored the look keeps it itself and passes
   * the pool at it, which stores the next one, so a look still due then is one that dyno missed
   * (killed, hung between two passes, stopped, or its workers behind). Not those whose lock a pass
   * holds ({@link PoolLocks#HELD_SQL}): the pass under way stores the next look at its end, and a
   * pass longer than the grace (a rollout step, a drain) made every other dyno queue the pool, meet
   * the lock and requeue it, every 2 s for the whole pass (review 29 R29-3); a dyno that dies
   * mid-pass loses its session and the lock with it, and the pool is overdue again at the next
   * round. Earliest due first, with when they were found due ({@link Due}). One read over the
   * sweeps' rows and one look at the lock table.
   */
  @Transactional
  @SuppressWarnings("unchecked")
  Due overdue(java.time.Duration grace, String keyFingerprint) {
    List<Object[]> rows =
        pools
            .getEntityManager()
            .createNativeQuery(
                "select p.name, (extract(epoch from now()) * 1000000)::bigint"
                    + " from pools p join pool_sweeps s on s.pool_id = p.id"
                    + " where s.next_look_at < now() - make_interval(secs => ?1)"
                    + " and (s.not_before is null or s.not_before <= now()"
                    + " or s.not_before_key <> cast(?2 as text))"
                    + " and not "
                    + PoolLocks.HELD_SQL
                    + " order by s.next_look_at, p.name")
            .setParameter(1, grace.toMillis() / 1000.0)
            .setParameter(2, keyFingerprint)
            .getResultList();
    return new Due(
        rows.stream().map(r -> (String) r[0]).toList(),
        rows.isEmpty() ? 0 : ((Number) rows.get(0)[1]).longValue());
  }

  /**
   * Whether a pass of the pool (by any dyno) ended after {@code asOfMicros} (the database's clock,
   * as {@link Due} gives it): one indexed read.
   */
  @Transactional
  boolean sweptSince(String pool, long asOfMicros) {
    return stampedAfter(pool, "swept_at", asOfMicros);
  }

  /**
   * Whether a pass of the pool (by any dyno) that began after {@code asOfMicros} (the database's
   * clock, as {@link HealthTurn} gives it) has ended: it read the fleet's verdicts after that, so
   * it judged by a health change made before (review 27 #2). One indexed read.
   */
  @Transactional
  boolean passedSince(String pool, long asOfMicros) {
    return stampedAfter(pool, "pass_started_at", asOfMicros);
  }

  /** Whether the pool's sweep row has {@code column} (a fixed name, never input) after asOf. */
  private boolean stampedAfter(String pool, String column, long asOfMicros) {
    return ((Number)
                pools
                    .getEntityManager()
                    .createNativeQuery(
                        "select count(*) from pool_sweeps s join pools p on p.id = s.pool_id"
                            + " where p.name = ?1"
                            + " and (extract(epoch from s."
                            + column
                            + ") * 1000000)::bigint > ?2")
                    .setParameter(1, pool)
                    .setParameter(2, asOfMicros)
                    .getSingleResult())
            .longValue()
        > 0;
  }

  /**
   * The database's clock (microseconds since the epoch): when a pass begins, before it reads the
   * fleet's verdicts, so that {@link #swept} can record it.
   */
  @Transactional
  long nowMicros() {
    return ((Number)
            pools
                .getEntityManager()
                .createNativeQuery("select (extract(epoch from now()) * 1000000)::bigint")
                .getSingleResult())
        .longValue();
  }

  /**
   * When a change in a pool's healthy backends may bring a pass: {@code after}, what is left of the
   * debounce since the last pass of it by any dyno ended, or of a failed pass's backoff that holds
   * health changes ({@link #BACKOFF_HOLDS_HEALTH}), whichever is longer (zero: at once), and {@code
   * asOfMicros}, the database's clock at the read (as {@link Due} gives it; 0 when the pool is
   * gone).
   */
  record HealthTurn(java.time.Duration after, long asOfMicros) {}

  /**
   * The failures whose backoff a health change's pass waits out: Heroku refused the pass for the
   * rate limit, or did not answer. The backoff then protects the rate budget (a 429's {@code
   * Retry-After}; under the reserve, {@code max-backoff}), and the pass would meet the same
   * failure; its retry comes at the backoff's end anyway. After any other failure (an invalid spec,
   * a refused key, billing, a refused create) the pass still does what needs no source, a dead
   * backend's restart among it, so a health change brings it as ever.
   */
  static final List<String> BACKOFF_HOLDS_HEALTH = List.of("RateLimited", "HerokuUnavailable");

  /**
   * The pool's {@link HealthTurn}, for a debounce of {@code gap} (null: the pool's health check
   * interval), by the database's clock: one indexed read. While the backoff of a failed pass whose
   * reason is one of {@link #BACKOFF_HOLDS_HEALTH} (the pool's {@code Degraded} condition) runs,
   * the turn is at its end, if that is later.
   */
  @Transactional
  @SuppressWarnings("unchecked")
  HealthTurn healthTurn(String pool, java.time.Duration gap) {
    List<Object[]> rows =
        pools
            .getEntityManager()
            .createNativeQuery(
                "select (extract(epoch from now()) * 1000000)::bigint,"
                    + " extract(epoch from s.swept_at - now()) + case when ?2 >= 0 then ?2 else"
                    + " coalesce(cast(p.spec -> 'healthCheck' ->> 'intervalSeconds' as double precision), 0) end,"
                    + " case when s.not_before > now() and exists (select 1 from"
                    + " jsonb_array_elements(case when jsonb_typeof(p.status -> 'conditions') = 'array'"
                    + " then p.status -> 'conditions' else '[]'::jsonb end) c"
                    + " where c ->> 'type' = 'Degraded' and c ->> 'status' = 'True'"
                    + " and c ->> 'reason' in (?3, ?4))"
                    + " then extract(epoch from s.not_before - now()) end"
                    + " from pools p left join pool_sweeps s on s.pool_id = p.id where p.name = ?1")
            .setParameter(1, pool)
            .setParameter(2, gap == null ? -1.0 : gap.toMillis() / 1000.0)
            .setParameter(3, BACKOFF_HOLDS_HEALTH.get(0))
            .setParameter(4, BACKOFF_HOLDS_HEALTH.get(1))
            .getResultList();
    if (rows.isEmpty()) {
      return new HealthTurn(java.time.Duration.ZERO, 0);
    }
    long asOf = ((Number) rows.get(0)[0]).longValue();
    Number debounce = (Number) rows.get(0)[1];
    Number backoff = (Number) rows.get(0)[2];
    Number left =
        backoff == null || debounce != null && debounce.doubleValue() >= backoff.doubleValue()
            ? debounce
            : backoff;
    if (left == null || left.doubleValue() <= 0) {
      return new HealthTurn(java.time.Duration.ZERO, asOf);
    }
    return new HealthTurn(
        java.time.Duration.ofMillis((long) Math.ceil(left.doubleValue() * 1000)), asOf);
  }

  /** How many pools there are (the sweep's idle looks share the budget between them). */
  @Transactional
  long poolCount() {
    return pools.count();
  }

  /**
   * A pass over the pool has run (by the database's clock; moves no version). {@code backoff}: a
   * failed pass's, which every dyno's sweep waits out; {@code nextLook}: when the sweep looks at
   * the pool again at the earliest (an idle pool's turn, a budget or release wait), null for at
   * once; a look a webhook delivery asked for after the pass began ({@link #webhookHeard}) is kept
   * when sooner. {@code startedMicros}: when the pass began by the database's clock ({@link
   * #nowMicros}; 0 when unknown), which a health change's entry goes by ({@link #passedSince}).
   * Returns the pass's recorded end ({@code swept_at}) as {@link Due} gives times, 0 when the pool
   * is gone: a pass that ends after it makes the loop's own next look moot ({@link #sweptSince}).
   */
  @Transactional
  @SuppressWarnings("unchecked")
  long swept(
      UUID poolId,
      java.time.Duration backoff,
      String backoffKey,
      java.time.Duration nextLook,
      long startedMicros) {
    // only while the pool exists: the finalizer's last pass has just deleted it, and a plain
    // insert then broke the foreign key (Hibernate logged a WARN for every pool deletion) a failed
    // pass's backoff holds for every dyno's sweep (not_before), a good pass clears it a refusal of
    // this process's key holds back only the processes with the same key (not_before_key)
    List<Object> ended =
        pools
            .getEntityManager()
            .createNativeQuery(
                "insert into pool_sweeps (pool_id, swept_at, not_before, not_before_key, next_look_at,"
                    + " pass_started_at)"
                    + " select id, now(), case when ?2 > 0 then now() + make_interval(secs => ?2) end, cast(?3 as text),"
                    + " case when ?4 > 0 then now() + make_interval(secs => ?4) end,"
                    + " case when ?5 > 0 then to_timestamp(cast(?5 as bigint) / 1000000.0) end"
                    + " from pools where id = ?1 on conflict (pool_id) do update set swept_at = excluded.swept_at,"
                    + " not_before = excluded.not_before, not_before_key = excluded.not_before_key,"
                    // a look a delivery asked for after this pass began, sooner than the pass's
                    // own, is kept: the pass has not seen its release (review 29 R29-12)
                    + " next_look_at = case when ?5 > 0 and pool_sweeps.look_asked_at"
                    + " >= to_timestamp(cast(?5 as bigint) / 1000000.0)"
                    + " and pool_sweeps.next_look_at is not null and (excluded.next_look_at is null"
                    + " or pool_sweeps.next_look_at < excluded.next_look_at)"
                    + " then pool_sweeps.next_look_at else excluded.next_look_at end,"
                    + " pass_started_at = excluded.pass_started_at"
                    + " returning (extract(epoch from swept_at) * 1000000)::bigint")
            .setParameter(1, poolId)
            .setParameter(2, backoff == null ? 0.0 : backoff.toMillis() / 1000.0)
            .setParameter(3, backoff == null ? null : backoffKey)
            .setParameter(4, nextLook == null ? 0.0 : nextLook.toMillis() / 1000.0)
            .setParameter(5, startedMicros)
            .getResultList();
    return ended.isEmpty() ? 0 : ((Number) ended.get(0)).longValue();
  }

  /**
   * Makes the pool's stored next look now, so every dyno's sweep takes it once its quiet time is
   * over, and every dyno's takeover ({@link #overdue}) once it is overdue: for a pass cut short
   * (SIGTERM, a lost lock), which the stored turn, up to {@code 4 × sweep} away, would otherwise
   * hold back on the other dynos and on the next process (review 25 #1). A webhook's pass clears
   * it, in {@link #webhookHeard}.
   */
  @Transactional
  void lookSoon(String poolName) {
    pools
        .getEntityManager()
        .createNativeQuery(
            "update pool_sweeps s set next_look_at = now() from pools p"
                + " where p.id = s.pool_id and p.name = ?1"
                + " and (s.next_look_at is null or s.next_look_at > now())")
        .setParameter(1, poolName)
        .executeUpdate();
  }

  /**
   * A release webhook delivery for the pool was heard at {@code at} (the reconciler's clock), whose
   * pass comes {@code after} (zero: at once; else at the end of the hook's deferral, {@code
   * hook-pass-interval}): its stored next look is made then (an earlier one still to come kept; at
   * once, an earlier one past kept too), as {@link #lookSoon} does, so another dyno takes the pool
   * over if this one stops before its pass (review 29 R29-13: it was cleared, and a cleared look is
   * never overdue; R29-12: a deferred delivery stored nothing, and a dyno stopped within the
   * deferral left its release to the idle turn), and the time recorded for the fleet (V20), and
   * when the look was asked ({@code look_asked_at}: a pass under way keeps it at its end, see
   * {@link #swept}), in one statement. A pool never passed gets its row (the epoch as {@code
   * swept_at}, as {@link #upsertTimers} makes it).
   */
  @Transactional
  void webhookHeard(String poolName, java.time.Instant at, java.time.Duration after) {
    pools
        .getEntityManager()
        .createNativeQuery(
            "insert into pool_sweeps (pool_id, swept_at, next_look_at, webhook_heard_at, look_asked_at)"
                + " select id, to_timestamp(0), now() + make_interval(secs => ?3),"
                + " to_timestamp(cast(?2 as bigint) / 1000000.0), now()"
                + " from pools where name = ?1 on conflict (pool_id) do update set"
                + " next_look_at = case when pool_sweeps.next_look_at is not null"
                + " and pool_sweeps.next_look_at <= excluded.next_look_at"
                // a look already past while the delivery's own is later: the pass under way (or
                // missed) is not this delivery's, which comes at its deferral's end
                + " and (pool_sweeps.next_look_at > now() or ?3 <= 0)"
                + " then pool_sweeps.next_look_at else excluded.next_look_at end,"
                + " webhook_heard_at = excluded.webhook_heard_at, look_asked_at = now()")
        .setParameter(1, poolName)
        .setParameter(2, java.time.temporal.ChronoUnit.MICROS.between(java.time.Instant.EPOCH, at))
        .setParameter(3, Math.max(0, after.toMillis()) / 1000.0)
        .executeUpdate();
  }

  /**
   * Forgets the pool's last delivery heard: its recorded subscription changed, and the new one has
   * delivered nothing yet.
   */
  @Transactional
  void webhookUnheard(UUID poolId) {
    pools
        .getEntityManager()
        .createNativeQuery(
            "update pool_sweeps set webhook_heard_at = null"
                + " where pool_id = ?1 and webhook_heard_at is not null")
        .setParameter(1, poolId)
        .executeUpdate();
  }

  /**
   * New apps that failed in a row at {@code target} though another app got ready on it, and when
   * the next may be made (by the reconciler's clock).
   */
  record FailedStreak(String target, int count, java.time.Instant retryAt) {}

  /** The pool's failed-app streak; empty when there is none. One primary-key read. */
  @Transactional
  @SuppressWarnings("unchecked")
  Optional<FailedStreak> failedStreak(UUID poolId) {
    List<Object[]> rows =
        pools
            .getEntityManager()
            .createNativeQuery(
                "select failed_target, failed_count,"
                    + " (extract(epoch from failed_retry_at) * 1000000)::bigint from pool_sweeps"
                    + " where pool_id = ?1 and failed_target is not null")
            .setParameter(1, poolId)
            .getResultList();
    return rows.stream()
        .findFirst()
        .map(
            r ->
                new FailedStreak(
                    (String) r[0],
                    ((Number) r[1]).intValue(),
                    java.time.Instant.EPOCH.plus(
                        ((Number) r[2]).longValue(), java.time.temporal.ChronoUnit.MICROS)));
  }

  /** Records the pool's failed-app streak, or clears it (null), for every dyno. */
  @Transactional
  void failedStreak(UUID poolId, FailedStreak streak) {
    // upsert, while the pool exists: the row is made by a pass's end (swept) otherwise; made here,
    // swept_at is the epoch (not passed: see upsertTimers)
    pools
        .getEntityManager()
        .createNativeQuery(
            "insert into pool_sweeps (pool_id, swept_at, failed_target,"
                + " failed_count, failed_retry_at) select id, to_timestamp(0), cast(?2 as text), cast(?3 as integer),"
                + " to_timestamp(cast(?4 as bigint) / 1000000.0) from pools where id = ?1"
                + " on conflict (pool_id) do update set failed_target = excluded.failed_target,"
                + " failed_count = excluded.failed_count, failed_retry_at = excluded.failed_retry_at")
        .setParameter(1, poolId)
        .setParameter(2, streak == null ? null : streak.target())
        .setParameter(3, streak == null ? null : streak.count())
        .setParameter(
            4,
            streak == null
                ? null
                : java.time.temporal.ChronoUnit.MICROS.between(
                    java.time.Instant.EPOCH, streak.retryAt()))
        .executeUpdate();
  }

  /**
   * The backend whose release phase holds another's turn: its app (name and id), its pool, its
   * release and step, and whether its pool is paused (see {@link #claimRelease}).
   */
  record ReleaseHolder(
      UUID backendId,
      String app,
      String appId,
      String pool,
      String releaseId,
      String step,
      boolean paused) {

    /** The key {@link #claimRelease} passes over once this holder's release is known to be over. */
    String key() {
      return backendId + "/" + (releaseId == null ? "" : releaseId);
    }
  }

  /**
   * Claims the turn at a release phase from a source app for {@code b}: when no backend of another
   * pool made from the same app has a release started since {@code since} and not ended (one
   * drained while its release runs included, {@link Reconciler#AFTER_RELEASE}), marks {@code b} as
   * sending its release ({@link Reconciler#RELEASE_SENT}, sent now: {@link Backend#sentAt}) and
   * returns empty; else returns that backend ({@link ReleaseHolder}), and changes nothing. The look
   * and the mark are one transaction under an advisory lock on the source app, so two dynos
   * claiming in the same moment take turns (both found no one before, and both released). The app
   * is matched by its id, and by the pools' {@code sourceApp} for rows older processes wrote
   * without one. A backend whose release the caller read as ended ({@code over}, keys of {@link
   * ReleaseHolder#key}: its row and that release) holds no one: a paused pool's pass does not move
   * its row on from {@code RELEASING}, and that row held every other pool of the source app for the
   * hour (audit 24 H1). A release that ended never runs again, so the caller's read, made outside
   * the lock, stays true.
   */
  @Transactional
  @SuppressWarnings("unchecked")
  Optional<ReleaseHolder> claimRelease(
      Backend b,
      String sourceAppId,
      String sourceApp,
      java.time.Instant since,
      java.util.Collection<String> over) {
    String key = (sourceAppId != null ? sourceAppId : sourceApp).toLowerCase(java.util.Locale.ROOT);
    pools
        .getEntityManager()
        .createNativeQuery(
            "select count(*) from (select pg_advisory_xact_lock("
                + RELEASE_TURN_LOCKS
                + ", hashtext(?1))) l")
        .setParameter(1, key)
        .getSingleResult();
    List<Object[]> rows =
        pools
            .getEntityManager()
            .createNativeQuery(
                "select b.id, b.app_name, b.app_id, p.name, b.release_id, b.step,"
                    + " coalesce(p.spec ->> 'paused', 'false') = 'true' from backends b"
                    + " join pools p on p.id = b.pool_id where (b.step = 'RELEASING' or b.step = 'CONFIGURED' and b.release_id = '"
                    + Reconciler.RELEASE_SENT
                    + "' or b.step = 'DRAINING' and b.message like '%"
                    + Reconciler.AFTER_RELEASE
                    + "') and b.pool_id <> ?1 and b.updated_at > ?2"
                    + " and (b.source_app_id = ?4 or b.source_app_id is null"
                    + " and lower(p.spec -> 'template' ->> 'sourceApp') = lower(?3))"
                    + " and position(',' || cast(b.id as text) || '/' || coalesce(b.release_id, '')"
                    + " || ',' in ?5) = 0"
                    + " order by b.updated_at limit 1")
            .setParameter(1, b.poolId)
            .setParameter(2, since)
            .setParameter(3, sourceApp)
            .setParameter(4, sourceAppId == null ? "" : sourceAppId)
            .setParameter(5, "," + String.join(",", over) + ",")
            .getResultList();
    if (!rows.isEmpty()) {
      Object[] r = rows.get(0);
      return Optional.of(
          new ReleaseHolder(
              r[0] instanceof UUID u ? u : UUID.fromString(String.valueOf(r[0])),
              (String) r[1],
              (String) r[2],
              (String) r[3],
              (String) r[4],
              String.valueOf(r[5]),
              Boolean.TRUE.equals(r[6])));
    }
    b.releaseId = Reconciler.RELEASE_SENT;
    b.sentAt = clock.instant(); // the POST follows: waited for while it may land (audit 19 #11)
    b.sourceAppId = sourceAppId;
    save(b);
    return Optional.empty();
  }

  /**
   * The pool's proxy secret ({@code DYNOFLEET_PROXY_SECRET}), made the first time it is asked for:
   * 32 random bytes in hex. A pool made before the secret existed gets it when a backend of it is
   * next configured; the backends configured before go on without it until they are replaced (their
   * config is not touched, and no rollout is made for it). A rotation (the API) replaces it; each
   * backend keeps the one it was configured with ({@code Backend.proxySecret}). Null when the pool
   * is gone.
   */
  @Transactional
  String proxySecret(UUID poolId) {
    String secret = existingProxySecret(poolId);
    if (secret != null) {
      return secret;
    }
    // while the pool exists; a secret made meanwhile (another dyno's pass) wins, and is read back
    pools
        .getEntityManager()
        .createNativeQuery(
            "insert into pool_secrets (pool_id, proxy_secret) select id, ?2 from pools"
                + " where id = ?1 on conflict (pool_id) do nothing")
        .setParameter(1, poolId)
        .setParameter(2, PoolRepository.newProxySecret())
        .executeUpdate();
    return existingProxySecret(poolId);
  }

  /** The pool's proxy secret if it has one yet, else null (nothing is made). */
  @Transactional
  @SuppressWarnings("unchecked")
  String existingProxySecret(UUID poolId) {
    List<String> rows =
        pools
            .getEntityManager()
            .createNativeQuery("select proxy_secret from pool_secrets where pool_id = ?1")
            .setParameter(1, poolId)
            .getResultList();
    return rows.isEmpty() ? null : rows.get(0);
  }

  @Transactional
  List<UUID> poolIds() {
    return pools
        .getEntityManager()
        .createQuery("select p.id from Pool p", UUID.class)
        .getResultList();
  }

  @Transactional
  List<String> poolNames() {
    return pools
        .getEntityManager()
        .createQuery("select p.name from Pool p order by p.name", String.class)
        .getResultList();
  }

  @Transactional
  List<Backend> backends(UUID poolId) {
    List<Backend> list = Backend.ofPool(poolId);
    list.forEach(Backend.getEntityManager()::detach);
    return list;
  }

  /** Inserts a new backend row (an intent) or records a step of an existing one. */
  @Transactional
  void save(Backend b) {
    b.updatedAt = clock.instant();
    if (Backend.findById(b.id) == null) {
      Backend.getEntityManager().persist(copy(b));
    } else {
      Backend.getEntityManager().merge(b);
    }
  }

  @Transactional
  void forget(Backend b) {
    Backend.deleteById(b.id);
  }

  /**
   * A name for a backend row whose app's name another row now takes (two names swapped by hand): 30
   * characters, as the column allows, and unique by the row's id. The row follows its app's real
   * name when it is next read.
   */
  static String placeholderName(UUID backendId) {
    return "moved-" + backendId.toString().replace("-", "").substring(0, 24);
  }

  /**
   * Frees {@code name} for the row {@code taker}: any other row holding it gets its placeholder.
   */
  @Transactional
  void releaseName(String name, UUID taker) {
    for (Backend o : Backend.<Backend>list("appName = ?1 and id <> ?2", name, taker)) {
      o.appName = placeholderName(o.id);
    }
  }

  @Transactional
  void writeStatus(UUID poolId, PoolStatus status) {
    pools.writeStatus(poolId, status, clock.instant());
  }

  /** The finalizer's last step: the pool row goes (its events and backend rows cascade). */
  @Transactional
  boolean deletePool(UUID poolId) {
    if (Backend.count("poolId", poolId) > 0) {
      return false;
    }
    return pools.deleteById(poolId);
  }

  /**
   * The pool's periodic work as any dyno last did it (see V18__fleet_timers.sql): a pass skips what
   * was done within its interval. Times are the reconciler's clock; null when not done yet.
   */
  record FleetTimers(
      java.time.Instant sourceReadAt,
      String sourceRelease,
      String sourceTarget,
      java.time.Instant pipelineReadAt,
      String pipelineName,
      String pipelineId,
      String pipelineTeam,
      java.time.Instant webhookCheckedAt,
      String webhookSigned,
      java.time.Instant webhookHeardAt,
      CouplingsRead couplings) {
    static final FleetTimers NONE =
        new FleetTimers(null, null, null, null, null, null, null, null, null, null, null);
  }

  /**
   * The pipeline's couplings as a dyno last read them for the pool (see
   * V21__pool_sweeps_couplings_read.sql): when by the database's clock, which stamped it, and how
   * long before this read of the store (a reader's own time of it is {@code now - age}, whatever
   * the skew between the clocks), at which generation of the pool, of which pipeline, and the stage
   * then of the source app {@code sourceApp} (its id; null when no source was known), null when
   * that app was not coupled to it.
   */
  record CouplingsRead(
      java.time.Instant at,
      java.time.Duration age,
      long generation,
      String pipelineId,
      String sourceApp,
      String sourceStage) {}

  /** The pool's {@link FleetTimers}: one primary-key read. */
  @Transactional
  @SuppressWarnings("unchecked")
  FleetTimers fleetTimers(UUID poolId) {
    List<Object[]> rows =
        pools
            .getEntityManager()
            .createNativeQuery(
                "select source_read_at, source_read_release, source_read_target, pipeline_read_at,"
                    + " pipeline_name, pipeline_id, pipeline_team, webhook_checked_at, webhook_signed,"
                    + " webhook_heard_at, couplings_read_at, couplings_generation, couplings_pipeline_id,"
                    + " couplings_source_app, couplings_source_stage, now()"
                    + " from pool_sweeps where pool_id = ?1")
            .setParameter(1, poolId)
            .getResultList();
    if (rows.isEmpty()) {
      return FleetTimers.NONE;
    }
    Object[] r = rows.get(0);
    return new FleetTimers(
        instant(r[0]),
        (String) r[1],
        (String) r[2],
        instant(r[3]),
        (String) r[4],
        (String) r[5],
        (String) r[6],
        instant(r[7]),
        (String) r[8],
        instant(r[9]),
        r[10] == null || r[11] == null || r[12] == null
            ? null
            : new CouplingsRead(
                instant(r[10]),
                java.time.Duration.between(instant(r[10]), instant(r[15])),
                ((Number) r[11]).longValue(),
                (String) r[12],
                (String) r[13],
                (String) r[14]));
  }

  /**
   * The pipeline's couplings were read, as the arguments say, kept unless the read stored is newer
   * (a slow pass of another dyno must not put an older stage of the source back). Stamped with the
   * database's {@code now()}, not the pass's time: by the writer's clock, a dyno whose clock ran s
   * seconds ahead kept its read over a newer one written within s seconds after it, and that older
   * stage was adopted (review 26 info). Pool passes are serialized by the advisory lock, so the
   * database's order of the writes is the order of the reads. Its stamp, or null when not written
   * (the pool is gone, or a newer read is stored).
   */
  @Transactional
  @SuppressWarnings("unchecked")
  java.time.Instant couplingsRead(
      UUID poolId, long generation, String pipelineId, String sourceApp, String sourceStage) {
    // upsert, while the pool exists; made here, swept_at is the epoch (see upsertTimers)
    List<Object> stamped =
        pools
            .getEntityManager()
            .createNativeQuery(
                "insert into pool_sweeps (pool_id, swept_at, couplings_read_at, couplings_generation,"
                    + " couplings_pipeline_id, couplings_source_app, couplings_source_stage)"
                    + " select id, to_timestamp(0), now(),"
                    + " cast(?2 as bigint), cast(?3 as text), cast(?4 as text), cast(?5 as text)"
                    + " from pools where id = ?1 on conflict (pool_id) do update set"
                    + " couplings_read_at = excluded.couplings_read_at,"
                    + " couplings_generation = excluded.couplings_generation,"
                    + " couplings_pipeline_id = excluded.couplings_pipeline_id,"
                    + " couplings_source_app = excluded.couplings_source_app,"
                    + " couplings_source_stage = excluded.couplings_source_stage"
                    + " where pool_sweeps.couplings_read_at is null"
                    + " or pool_sweeps.couplings_read_at < excluded.couplings_read_at"
                    + " returning couplings_read_at")
            .setParameter(1, poolId)
            .setParameter(2, generation)
            .setParameter(3, pipelineId)
            .setParameter(4, sourceApp)
            .setParameter(5, sourceStage)
            .getResultList();
    return stamped.isEmpty() ? null : instant(stamped.get(0));
  }

  /**
   * The source was read at {@code at} (null: forget), at {@code release}, giving {@code target}: in
   * full, or (with shareAddons) its add-ons again.
   */
  @Transactional
  void sourceRead(UUID poolId, java.time.Instant at, String release, String target) {
    upsertTimers(
        poolId,
        "source_read_at = excluded.source_read_at, source_read_release ="
            + " excluded.source_read_release, source_read_target = excluded.source_read_target",
        "source_read_at, source_read_release, source_read_target",
        at,
        release,
        target,
        null);
  }

  /**
   * The source app the pool copies, by Heroku's id (see V28__pool_sweeps_source_app_pin.sql): the
   * one pinned while the spec named the source as {@code pinnedFor} says, or, when none is (a new
   * pool, a spec naming the source anew, a pool not read since the upgrade), {@code readId}, the
   * app a read just found, pinned now; a {@code pinnedFor} changed in its restart only keeps the
   * pin unless the last pass said SourceReplaced ({@code saidReplaced}) for {@code readId}: the app
   * stored by {@link #sourceReplacedBy}, else (said before V29) the one {@code messageNames}. A
   * pool never pinned whose backends carry the id of the app they were released from, none of them
   * {@code readId}, is pinned to the newest one's: the name may have changed hands before this
   * release read it (a source deleted while the pool waited as {@code InvalidSpec}). One
   * transaction; pool passes are serialized by the pool's lock, and the write keeps a pin another
   * writer stored for the same {@code pinnedFor}. Null when the pool is gone.
   */
  @Transactional
  @SuppressWarnings("unchecked")
  String pinSource(
      UUID poolId,
      String pinnedFor,
      String readId,
      boolean saidReplaced,
      java.util.function.Predicate<String> messageNames) {
    List<Object[]> stored =
        pools
            .getEntityManager()
            .createNativeQuery(
                "select source_app_pin, source_app_pin_for, source_replaced_by from pool_sweeps"
                    + " where pool_id = ?1")
            .setParameter(1, poolId)
            .getResultList();
    if (!stored.isEmpty() && stored.get(0)[0] != null && pinnedFor.equals(stored.get(0)[1])) {
      return (String) stored.get(0)[0];
    }
    // the app the last SourceReplaced named: the column (V29), else, for one said before the
    // upgrade, the condition's message
    String named = stored.isEmpty() ? null : (String) stored.get(0)[2];
    boolean restartConfirms =
        saidReplaced && (named != null ? named.equals(readId) : messageNames.test(readId));
    String pin = readId;
    if (!stored.isEmpty()
        && stored.get(0)[0] != null
        && stored.get(0)[1] != null
        && sameSourceName((String) stored.get(0)[1], pinnedFor)
        && !restartConfirms
        && !readId.equals(stored.get(0)[0])) {
      // a rollout restart alone (the same name, another restartedAt) confirms only the app the
      // pool's last pass said SourceReplaced for: one done for its own sake keeps the pin (review
      // 30 R30-6)
      pin = (String) stored.get(0)[0];
    }
    if (stored.isEmpty() || stored.get(0)[0] == null && stored.get(0)[1] == null) {
      List<String> carried =
          pools
              .getEntityManager()
              .createNativeQuery(
                  "select source_app_id from backends where pool_id = ?1"
                      + " and source_app_id is not null order by created_at desc, id")
              .setParameter(1, poolId)
              .getResultList();
      if (!carried.isEmpty() && !carried.contains(readId)) {
        pin = carried.get(0);
      }
    }
    // upsert, while the pool exists; made here, swept_at is the epoch (see upsertTimers)
    List<String> written =
        pools
            .getEntityManager()
            .createNativeQuery(
                "insert into pool_sweeps (pool_id, swept_at, source_app_pin, source_app_pin_for)"
                    + " select id, to_timestamp(0), cast(?2 as text), cast(?3 as text) from pools"
                    + " where id = ?1 on conflict (pool_id) do update set"
                    + " source_app_pin = excluded.source_app_pin,"
                    + " source_app_pin_for = excluded.source_app_pin_for,"
                    + " source_replaced_by = null"
                    + " where pool_sweeps.source_app_pin is null"
                    + " or pool_sweeps.source_app_pin_for is distinct from excluded.source_app_pin_for"
                    + " returning source_app_pin")
            .setParameter(1, poolId)
            .setParameter(2, pin)
            .setParameter(3, pinnedFor)
            .getResultList();
    if (!written.isEmpty()) {
      return written.get(0);
    }
    List<String> kept =
        pools
            .getEntityManager()
            .createNativeQuery("select source_app_pin from pool_sweeps where pool_id = ?1")
            .setParameter(1, poolId)
            .getResultList();
    return kept.isEmpty() ? null : kept.get(0);
  }

  /** Whether two {@code pinnedFor} values name the source alike, the restart apart. */
  private static boolean sameSourceName(String a, String b) {
    int i = a.indexOf('\n');
    int j = b.indexOf('\n');
    return i >= 0 && j >= 0 && a.substring(0, i).equals(b.substring(0, j));
  }

  /**
   * The pool's pass says SourceReplaced for the app {@code id} (see V29): a rollout restart then
   * confirms that app (see {@link #pinSource}).
   */
  @Transactional
  void sourceReplacedBy(UUID poolId, String id) {
    pools
        .getEntityManager()
        .createNativeQuery("update pool_sweeps set source_replaced_by = ?2 where pool_id = ?1")
        .setParameter(1, poolId)
        .setParameter(2, id)
        .executeUpdate();
  }

  /** The id of the source app pinned for the pool (see {@link #pinSource}), or null. */
  @Transactional
  @SuppressWarnings("unchecked")
  String sourcePin(UUID poolId) {
    List<String> rows =
        pools
            .getEntityManager()
            .createNativeQuery("select source_app_pin from pool_sweeps where pool_id = ?1")
            .setParameter(1, poolId)
            .getResultList();
    return rows.isEmpty() ? null : rows.get(0);
  }

  /**
   * The id of the source app pinned for the pool while the spec names the source as it did when it
   * was pinned ({@code pinnedFor}'s name, any {@code restartedAt}: see {@link #pinSource}), or
   * null: the app a pass may sync the release webhook on without reading the name.
   */
  @Transactional
  @SuppressWarnings("unchecked")
  String sourcePinFor(UUID poolId, String pinnedFor) {
    List<Object[]> rows =
        pools
            .getEntityManager()
            .createNativeQuery(
                "select source_app_pin, source_app_pin_for from pool_sweeps where pool_id = ?1")
            .setParameter(1, poolId)
            .getResultList();
    if (rows.isEmpty() || rows.get(0)[0] == null || rows.get(0)[1] == null) {
      return null;
    }
    return sameSourceName((String) rows.get(0)[1], pinnedFor) ? (String) rows.get(0)[0] : null;
  }

  /** The pipeline {@code name} was looked up at {@code at} (null: forget it). */
  @Transactional
  void pipelineRead(UUID poolId, java.time.Instant at, String name, String id, String team) {
    upsertTimers(
        poolId,
        "pipeline_read_at = excluded.pipeline_read_at, pipeline_name = excluded.pipeline_name,"
            + " pipeline_id = excluded.pipeline_id, pipeline_team = excluded.pipeline_team",
        "pipeline_read_at, pipeline_name, pipeline_id, pipeline_team",
        at,
        name,
        id,
        team);
  }

  /** The pool's webhook was found as recorded at {@code at} (null: forget), signed so. */
  @Transactional
  void webhookChecked(UUID poolId, java.time.Instant at, String signed) {
    upsertTimers(
        poolId,
        "webhook_checked_at = excluded.webhook_checked_at, webhook_signed = excluded.webhook_signed",
        "webhook_checked_at, webhook_signed",
        at,
        signed,
        null,
        null);
  }

  /**
   * One of the timers' column groups: {@code columns} (a time, then up to three texts), while the
   * pool exists; the row is otherwise made by a pass's end ({@link #swept}). A row made here has
   * the epoch as {@code swept_at}: the pool was not passed (a pass stopped after this write, by a
   * SIGTERM or a lost lock, left it due at once for the next process, not 80 % of an interval
   * later).
   */
  private void upsertTimers(
      UUID poolId,
      String update,
      String columns,
      java.time.Instant at,
      String a,
      String b,
      String c) {
    int texts = columns.split(",").length - 1;
    StringBuilder values =
        new StringBuilder("id, to_timestamp(0), to_timestamp(cast(?2 as bigint) / 1000000.0)");
    for (int i = 0; i < texts; i++) {
      values.append(", cast(?").append(i + 3).append(" as text)");
    }
    jakarta.persistence.Query q =
        pools
            .getEntityManager()
            .createNativeQuery(
                "insert into pool_sweeps (pool_id, swept_at, "
                    + columns
                    + ") select "
                    + values
                    + " from pools where id = ?1 on conflict (pool_id) do update set "
                    + update)
            .setParameter(1, poolId)
            .setParameter(
                2,
                at == null
                    ? null
                    : java.time.temporal.ChronoUnit.MICROS.between(java.time.Instant.EPOCH, at));
    String[] args = {a, b, c};
    for (int i = 0; i < texts; i++) {
      q.setParameter(i + 3, args[i]);
    }
    q.executeUpdate();
  }

  /**
   * The drift check of a backend ended at {@code at}; moves neither its {@code updated_at} (release
   * turns read it) nor anything a concurrent write of the row would need.
   */
  @Transactional
  void driftChecked(UUID backendId, java.time.Instant at) {
    pools
        .getEntityManager()
        .createNativeQuery("update backends set drift_checked_at = ?2 where id = ?1")
        .setParameter(1, backendId)
        .setParameter(2, at)
        .executeUpdate();
  }

  /**
   * {@code BackendEjected} was told for the backend at {@code at}, for every dyno's passes (review
   * 29 R29-5); moves neither its {@code updated_at} (release turns read it) nor anything else.
   */
  @Transactional
  void ejectionTold(UUID backendId, java.time.Instant at) {
    pools
        .getEntityManager()
        .createNativeQuery("update backends set ejection_told_at = ?2 where id = ?1")
        .setParameter(1, backendId)
        .setParameter(2, at)
        .executeUpdate();
  }

  private static java.time.Instant instant(Object o) {
    if (o == null) {
      return null;
    }
    if (o instanceof java.time.Instant i) {
      return i;
    }
    if (o instanceof java.time.OffsetDateTime t) {
      return t.toInstant();
    }
    if (o instanceof java.sql.Timestamp t) {
      return t.toInstant();
    }
    throw new IllegalStateException("not a time: " + o.getClass());
  }

  private static Backend copy(Backend b) {
    Backend n = new Backend();
    n.id = b.id;
    n.poolId = b.poolId;
    n.appName = b.appName;
    n.appId = b.appId;
    n.webUrl = b.webUrl;
    n.step = b.step;
    n.phase = b.phase;
    n.target = b.target;
    n.releaseId = b.releaseId;
    n.releaseVersion = b.releaseVersion;
    n.sourceAppId = b.sourceAppId;
    n.sentAt = b.sentAt;
    n.couplingId = b.couplingId;
    n.failures = b.failures;
    n.createdAt = b.createdAt;
    n.updatedAt = b.updatedAt;
    n.readyAt = b.readyAt;
    n.unhealthySince = b.unhealthySince;
    n.restartedAt = b.restartedAt;
    n.message = b.message;
    n.driftCheckedAt = b.driftCheckedAt;
    n.proxySecret = b.proxySecret;
    n.ejectionToldAt = b.ejectionToldAt;
    return n;
  }
}
