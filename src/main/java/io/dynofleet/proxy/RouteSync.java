package io.dynofleet.proxy;

import io.dynofleet.api.PoolValidator;
import io.dynofleet.db.SchemaMigration;
import io.dynofleet.pool.model.Backend;
import io.dynofleet.pool.model.Backend.Step;
import io.dynofleet.pool.model.HealthChanged;
import io.dynofleet.pool.model.Pool;
import io.dynofleet.pool.model.PoolChanged;
import io.dynofleet.pool.model.PoolSpec;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.pool.model.SpecDefaults;
import io.dynofleet.reconcile.DataPlane;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Keeps the local routing table equal to the pools in the database: the bridge from the control
 * plane (API edits, the reconciler, other Dynofleet dynos sharing the database) to the proxy. Polls
 * on a short schedule, and at once when this process changed a pool. A failed load (database down)
 * leaves the last known table serving: the data plane never depends on the database per request.
 *
 * <p>Managed pools publish backends from the step they are coupled on: a just-coupled backend is
 * probed before it takes traffic; a ready backend is routable at once (also after a restart of this
 * process), then watched by the probes and passive checks. Draining and deleting backends are not
 * published, so the table drains them.
 *
 * <p>A scheduled poll first reads a fingerprint of the three tables (pools, backends and the pools'
 * proxy secrets: row counts and a digest of every row's id and creating transaction id, which
 * change on every insert, update and delete, whatever the clocks of the dynos writing them; a
 * digest, not a sum of the ids, which two changes racing on one row could leave equal) and loads
 * everything only when it moved, or at least every {@link #FULL_RELOAD}: an idle fleet costs one
 * one-row query per poll, not every pool and backend.
 */
@ApplicationScoped
public class RouteSync implements DataPlane {
  private static final Logger LOG = Logger.getLogger(RouteSync.class);
  public static final String STATIC_POOL = "static";

  private final RoutingTable table;
  private final ProxyConfig config;
  private final AtomicBoolean failing = new AtomicBoolean();
  private final Event<HealthChanged> healthChanged;
  private final VerdictStore verdicts;

  /** The database ids of the pools loaded last, by name (the configured static pool has none). */
  private volatile Map<String, UUID> poolIds = Map.of();

  private volatile PoolRoute configured;
  private volatile boolean stopping;
  private volatile Map<String, Map<String, String>> lastStates = Map.of();

  /** Even with an unchanged fingerprint, a full load this often (a safety net, not a mechanism). */
  static final Duration FULL_RELOAD = Duration.ofSeconds(30);

  private static final String FINGERPRINT =
      "select (select count(*) || ':' || md5(coalesce(string_agg(id || '@' || xmin, ',' order by id), '')) from pools)"
          + " || '/' || (select count(*) || ':' || md5(coalesce(string_agg(id || '@' || xmin, ',' order by id), '')) from backends)"
          // the pools' proxy secrets: a pool's first, made at a config step, or a rotation reaches
          // every dyno's proxy at its next poll, not with the next write or full reload
          + " || '/' || (select count(*) || ':' || md5(coalesce(string_agg(pool_id || '@' || xmin, ',' order by pool_id), '')) from pool_secrets)";
  private String lastFingerprint;
  private long lastLoadNanos;
  private final java.util.concurrent.atomic.AtomicLong skipped =
      new java.util.concurrent.atomic.AtomicLong();

  private final PoolMetrics metrics;
  private final SchemaMigration schema;
  private final io.dynofleet.pool.model.PoolEvents events;

  /**
   * Stored static URLs naming a link-local address (stored before the API refused them), by pool id
   * and position, already told of by this process; and those the last load found to tell.
   */
  private final Set<String> linkLocalTold = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private List<LinkLocalUrl> linkLocalToTell = List.of();

  /** A stored static URL that is not proxied to: its pool and its position in the list. */
  private record LinkLocalUrl(UUID poolId, String pool, int index) {}

  /** When the store last answered a poll (or a load), or null before the first time. */
  private volatile java.time.Instant lastSynced;

  RouteSync(
      RoutingTable table,
      ProxyConfig config,
      Event<HealthChanged> healthChanged,
      VerdictStore verdicts,
      PoolMetrics metrics,
      SchemaMigration schema,
      io.dynofleet.pool.model.PoolEvents events) {
    this.table = table;
    this.config = config;
    this.healthChanged = healthChanged;
    this.verdicts = verdicts;
    this.metrics = metrics;
    this.schema = schema;
    this.events = events;
  }

  /**
   * Whether the store failed at the last poll (or the schema is not yet brought up to date): the
   * routing table is then as last loaded, at {@link #lastSynced()}.
   */
  public boolean storeFailing() {
    return failing.get() || !schema.migrated();
  }

  @Override
  public boolean loaded() {
    return lastSynced != null;
  }

  /** When the store last answered this route sync, or null if it never did since the start. */
  public java.time.Instant lastSynced() {
    return lastSynced;
  }

  /** The schema was brought up to date after a start without the database: load at once. */
  void onSchemaReady(@Observes SchemaMigration.SchemaReady ready) {
    sync();
  }

  private volatile boolean shadowTold;

  void onStart(@Observes StartupEvent ev) {
    configured =
        config
            .staticBackends()
            .map(urls -> configuredRoute(urls, config.defaultTimeout()))
            .orElse(null);
    if (configured != null) {
      table.put(configured);
      LOG.infof(
          "static pool=%s backends=%d (DYNOFLEET_STATIC_BACKENDS)",
          STATIC_POOL, configured.backends().size());
    }
    sync();
  }

  /**
   * The {@code static} pool of {@code DYNOFLEET_STATIC_BACKENDS}, or null if it lists none. A
   * backend listed twice (the same scheme, host and port, however spelled) is used once, with a
   * warning naming the variable: it took a double share. Not a refusal to start: the variable is
   * the default pool of a proxy that may serve nothing else, and the repeat is harmless once
   * dropped.
   */
  static PoolRoute configuredRoute(List<String> urls, Duration timeout) {
    List<String> given =
        new ArrayList<>(urls.stream().map(String::trim).filter(s -> !s.isEmpty()).toList());
    for (int i = 0; i < given.size(); i++) {
      // the API's rule, told by position (the URL itself is not printed). Credentials, which the
      // proxy never sends, became every metric's backend label and the ejection log lines' name
      // (security review 2): dropped with a warning, as a dyno serving with them did not use them
      // (a refusal would stop it at the next deploy); anything else the API refuses stops the start
      int n = i + 1;
      String u = given.get(i);
      URI parsed = parsable(u);
      if (parsed != null && parsed.getRawUserInfo() != null && parsed.getHost() != null) {
        LOG.warnf(
            "DYNOFLEET_STATIC_BACKENDS: URL %d of %d carries credentials, which the proxy never sends:"
                + " dropped (not printed)",
            n, given.size());
        u = u.replaceFirst("//[^/?#]*@", "//");
        given.set(i, u);
      }
      io.dynofleet.api.PoolValidator.urlProblem(u)
          .ifPresent(
              why -> {
                throw new io.dynofleet.config.StartRefused(
                    "DYNOFLEET_STATIC_BACKENDS: URL " + n + " of " + given.size() + " " + why);
              });
    }
    List<String> once = distinct(given);
    if (once.size() < given.size()) {
      List<String> repeats = new ArrayList<>(given);
      for (String u : once) repeats.remove(u);
      LOG.warnf(
          "DYNOFLEET_STATIC_BACKENDS lists a backend more than once (%s): each is used once",
          String.join(", ", repeats));
    }
    if (once.isEmpty()) return null;
    return new PoolRoute(
        STATIC_POOL,
        List.of(),
        true,
        Algorithm.LEAST_REQUEST,
        timeout,
        1,
        0,
        0,
        Duration.ZERO,
        null,
        targets(once));
  }

  /**
   * The static URLs a pool's proxy serves, of those its spec lists: each backend once ({@link
   * #distinct}), none naming a link-local address ({@link #linkLocal}: stored before the API
   * refused them). What the proxy routes to and probes, and what the pool's status and metrics call
   * desired: counted with a skipped URL, a pool whose every URL served was ready stayed {@code
   * Ready False}, "1 of 2", for good.
   */
  public static List<String> served(List<String> staticBackends) {
    if (staticBackends == null) return List.of();
    return distinct(staticBackends.stream().filter(u -> !linkLocal(u)).toList());
  }

  /**
   * Whether a static backend URL names a link-local address ({@link PublicAddress#namesLinkLocal}).
   */
  static boolean linkLocal(String url) {
    URI u = parsable(url);
    return u != null && PublicAddress.namesLinkLocal(u.getHost());
  }

  private static URI parsable(String u) {
    try {
      return new URI(u);
    } catch (java.net.URISyntaxException e) {
      return null;
    }
  }

  /**
   * Static backends of a pool, each assumed healthy, by id: the URL's authority ({@code
   * a.example:8080}), or its scheme and authority where another URL of the list has the same
   * authority ({@code http://a.example} and {@code https://a.example}, case aside). They shared one
   * id, so one meter, metric label, /stats entry and health entry (review 16). Only those two are
   * qualified, so the ids (and metric labels) of every other static backend stay as they were.
   */
  public static List<BackendTarget> targets(List<String> urls) {
    Map<String, Integer> authorities = new HashMap<>();
    for (String u : urls) authorities.merge(authorityKey(URI.create(u)), 1, Integer::sum);
    List<BackendTarget> out = new ArrayList<>(urls.size());
    for (String u : urls) {
      URI uri = URI.create(u);
      boolean shared =
          uri.getAuthority() != null
              && uri.getScheme() != null
              && authorities.get(authorityKey(uri)) > 1;
      String id =
          shared
              ? uri.getScheme().toLowerCase(Locale.ROOT) + "://" + uri.getAuthority()
              : uri.getAuthority();
      out.add(new BackendTarget(id, uri, true, true));
    }
    return out;
  }

  private static String authorityKey(URI uri) {
    return uri.getAuthority() == null ? "" : uri.getAuthority().toLowerCase(Locale.ROOT);
  }

  /**
   * The URLs with each backend once, the first spelling kept (see {@link
   * PoolValidator#sameBackend}; the API refuses a repeat, a pool stored before that rule may still
   * have one).
   */
  static List<String> distinct(List<String> urls) {
    Set<String> seen = new HashSet<>();
    List<String> out = new ArrayList<>(urls.size());
    for (String u : urls) {
      String key = PoolValidator.sameBackend(u);
      if (key == null || seen.add(key)) out.add(u);
    }
    return out;
  }

  @Scheduled(
      every = "${dynofleet.proxy.sync-interval:2s}",
      identity = "route-sync",
      concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void scheduled() {
    if (sync(false)) {
      publishVerdicts();
    }
    announceHealthChanges();
  }

  /**
   * Writes this proxy's verdicts for the other dynos' passes, before {@link HealthChanged} starts
   * this dyno's own: a pass anywhere then sees the change that caused it. Not while stopping (its
   * rows are deleted then) or while the database fails (the route sync just said so).
   */
  void publishVerdicts() {
    Map<String, UUID> ids = poolIds;
    Map<VerdictStore.Key, FleetHealth.Verdict> mine = new HashMap<>();
    for (String pool : table.pools().keySet()) {
      UUID id = ids.get(pool);
      if (id == null) {
        continue;
      }
      boolean probed = probed(pool);
      for (BackendStats s : table.stats(pool)) {
        FleetHealth.Verdict v = evidence(s, verdicts.dyno(), probed);
        if (v != null) {
          mine.put(new VerdictStore.Key(id, s.id()), v);
        }
      }
    }
    verdicts.publish(mine);
  }

  /**
   * This proxy's verdict on a backend as evidence for the fleet, or null: a failure (probes failed
   * to the threshold, or an ejection), or health that its last probe confirmed. Not health it only
   * assumed: a backend published ready and a static URL are healthy here until probes say
   * otherwise, and a dyno that had just started outvoted every other dyno's failure (review 14).
   */
  static FleetHealth.Verdict evidence(BackendStats s, String dyno) {
    return evidence(s, dyno, true);
  }

  /** As {@link #evidence(BackendStats, String)}; {@code probed}: the pool has a health check. */
  static FleetHealth.Verdict evidence(BackendStats s, String dyno, boolean probed) {
    boolean failing = s.ejected() || !s.healthy() && s.judged();
    boolean confirmed = s.healthy() && !s.ejected() && s.lastProbe() != null && s.probePassing();
    if (!failing && !confirmed) {
      return null;
    }
    Health h = local(s, probed);
    return new FleetHealth.Verdict(
        s.id(),
        dyno,
        h.healthy(),
        h.ejected(),
        h.consecutiveFailures(),
        h.lastProbe(),
        h.lastFailure(),
        probePassed(s, probed));
  }

  /**
   * Whether the backend's last active probe passed; null when it has not been probed (no probe yet,
   * or the pool has no health check: what a probe of a removed check said is no news).
   */
  static Boolean probePassed(BackendStats s, boolean probed) {
    return probed && s.lastProbe() != null ? s.probePassing() : null;
  }

  /**
   * Fires {@link HealthChanged} for every pool where a backend's state (healthy, ejected while its
   * probes have not failed to the threshold, failing) moved since last time. The set of healthy
   * backends alone missed an ejected backend whose probes then failed too (audit 22 M1): the pass
   * that marks it {@code Unhealthy} and starts its repair clock waited for the sweep, up to
   * minutes, while the status said it was ejected with its health check passing.
   */
  void announceHealthChanges() {
    Map<String, Map<String, String>> now = new HashMap<>();
    for (String pool : table.pools().keySet()) {
      boolean probed = probed(pool);
      Map<String, String> states = new HashMap<>();
      for (BackendStats s : table.stats(pool)) {
        Health h = local(s, probed);
        if (h.healthy()) {
          states.put(s.id(), "healthy");
        } else if (h.ejected()) {
          states.put(s.id(), "ejected");
        } else if (h.known()) {
          states.put(s.id(), "failing");
        }
      }
      now.put(pool, states);
    }
    Map<String, Map<String, String>> before = lastStates;
    lastStates = now;
    for (Map.Entry<String, Map<String, String>> e : now.entrySet()) {
      Map<String, String> was = before.get(e.getKey());
      if (was != null && !was.equals(e.getValue())) {
        healthChanged.fire(new HealthChanged(e.getKey()));
      }
    }
  }

  /** Whether the pool's backends are probed (it has a health check), as the proxy routes it. */
  private boolean probed(String pool) {
    return table.route(pool).map(r -> r.healthCheck() != null).orElse(false);
  }

  /** A pool edited through this process's API is routed without waiting for the next poll. */
  void onChange(@Observes(during = TransactionPhase.AFTER_COMPLETION) PoolChanged change) {
    sync();
  }

  @Override
  public int dynosSeen() {
    return 1 + verdicts.othersSeen();
  }

  @Override
  public void refresh() {
    sync();
  }

  /**
   * The fleet's verdicts ({@link FleetHealth}): this proxy's with evidence and the fresh ones other
   * dynos stored; where there are none, this proxy's view. Throws when the table cannot be read.
   */
  @Override
  public Map<String, Health> health(String pool, UUID uid) {
    Map<String, Health> out = new HashMap<>();
    List<FleetHealth.Verdict> all = new ArrayList<>();
    boolean probed = probed(pool);
    for (BackendStats s : table.stats(pool)) {
      out.put(s.id(), local(s, probed));
      FleetHealth.Verdict v = evidence(s, verdicts.dyno(), probed);
      if (v != null) {
        all.add(v);
      }
    }
    if (uid == null || out.isEmpty()) {
      return out;
    }
    all.addAll(verdicts.others(uid));
    return FleetHealth.merge(out, all);
  }

  /**
   * This proxy's own verdict on a backend; what a failing one met is its last probe's result when
   * its probes fail, else (ejected) its last failed request's. Failing probes win over an ejection:
   * a backend ejected for failed requests is {@code ejected} only until its probes fail to the
   * threshold, as any backend is failing only then (audit 22 M1). One failed probe of an ejected
   * backend counted as failing (review 28 #1: a probe timeout of a backend a client keeps ejecting
   * could start its repair clock); {@code probePassed} says it instead, and the passes tell such a
   * backend's ejection ("its health check passes") only once a probe after it passed, so a crashed
   * backend, ejected by its first failed requests and then failing its probes, is not told so.
   */
  private static Health local(BackendStats s, boolean probed) {
    boolean healthy = s.healthy() && !s.ejected();
    boolean probesFail = !s.healthy();
    String lastFailure = healthy ? null : probesFail ? s.lastProbeResult() : s.lastFailure();
    return new Health(
        healthy,
        s.consecutiveFailures(),
        s.lastProbe(),
        s.judged() || s.ejected(),
        s.ejected() && !probesFail,
        null,
        lastFailure,
        probePassed(s, probed));
  }

  /**
   * On SIGTERM the table stays as it is: in-flight requests drain on the backends they have. This
   * dyno's verdicts are deleted, so no pass elsewhere counts a dyno that is going.
   */
  void onStop(@Observes ShutdownEvent ev) {
    stopping = true;
    verdicts.forget();
  }

  /** Polls that found the fingerprint unchanged and skipped the load. */
  long skippedPolls() {
    return skipped.get();
  }

  /** Loads every pool and backend and swaps the routing table; false when the store failed. */
  public boolean sync() {
    return sync(true);
  }

  /**
   * As {@link #sync()}; unless {@code force}, skips the load when the tables' fingerprint has not
   * moved since the last load and that load is younger than {@link #FULL_RELOAD}.
   */
  synchronized boolean sync(boolean force) {
    if (stopping) {
      return false;
    }
    boolean fresh = !force && System.nanoTime() - lastLoadNanos < FULL_RELOAD.toNanos();
    String[] fingerprint = new String[1];
    List<PoolRoute> routes;
    try {
      if (!schema.migrated()) {
        // not a table is read before the schema is known good (audit 23 L4)
        throw new SchemaMigration.Pending();
      }
      routes =
          QuarkusTransaction.requiringNew()
              .call(
                  () -> {
                    fingerprint[0] = fingerprint();
                    return fresh && fingerprint[0].equals(lastFingerprint) ? null : load();
                  });
    } catch (RuntimeException e) {
      if (failing.compareAndSet(false, true)) {
        LOG.warnf(
            table.synced()
                ? "route sync failed, serving the last known pools: %s"
                : "route sync failed, and no stored pool was loaded since the start: hosts in no"
                    + " configured pool get 503 not-synced until the database answers: %s",
            e instanceof SchemaMigration.Pending ? e.getMessage() : e.getClass().getSimpleName());
      }
      return false;
    }
    if (failing.compareAndSet(true, false)) {
      LOG.info("route sync recovered");
    }
    lastSynced = java.time.Instant.now();
    metrics.read();
    if (routes == null) {
      skipped.incrementAndGet();
      return true;
    }
    // the fingerprint read before the load: a write in between makes the next poll load again
    lastFingerprint = fingerprint[0];
    lastLoadNanos = System.nanoTime();
    table.replaceAll(routes);
    tellLinkLocal();
    return true;
  }

  /**
   * Says once per process, for each stored static URL naming a link-local address, that it is not
   * proxied to: a WARN and a Warning event on its pool (every dyno's is one event, its count
   * bumped). The API refuses such URLs; one stored before keeps its pool serving the others.
   */
  private void tellLinkLocal() {
    List<LinkLocalUrl> tell = linkLocalToTell;
    linkLocalToTell = List.of();
    for (LinkLocalUrl u : tell) {
      if (!linkLocalTold.add(u.poolId() + "/" + u.index())) continue;
      String message =
          "spec.staticBackends["
              + u.index()
              + "] "
              + PoolValidator.LINK_LOCAL
              + ": it gets no traffic and no health check (stored before the API refused such"
              + " URLs); remove it from the list";
      LOG.warnf("static backend skipped: pool=%s %s", u.pool(), message);
      try {
        events.record(
            u.poolId(),
            u.pool(),
            io.dynofleet.pool.model.PoolEvents.WARNING,
            "BackendSkipped",
            message);
      } catch (RuntimeException e) {
        linkLocalTold.remove(u.poolId() + "/" + u.index()); // told again at the next load
        LOG.debugf("BackendSkipped event not recorded: %s", e.toString());
      }
    }
  }

  private static String fingerprint() {
    return String.valueOf(Pool.getEntityManager().createNativeQuery(FINGERPRINT).getSingleResult());
  }

  private List<PoolRoute> load() {
    List<Pool> pools = Pool.listAll();
    Map<UUID, String> secrets = proxySecrets();
    Map<UUID, List<Backend>> byPool = new HashMap<>();
    for (Backend b : Backend.<Backend>listAll()) {
      byPool.computeIfAbsent(b.poolId, k -> new ArrayList<>()).add(b);
    }
    List<PoolRoute> routes = new ArrayList<>();
    Map<String, UUID> ids = new HashMap<>();
    boolean anyDefault = false;
    Map<String, PoolMetrics.Desired> desired = new HashMap<>();
    List<LinkLocalUrl> linkLocal = new ArrayList<>();
    for (Pool p : pools) {
      ids.put(p.name, p.id);
      PoolSpec spec = SpecDefaults.apply(p.name, p.spec);
      if (!spec.managed() && spec.staticBackends() != null) {
        for (int i = 0; i < spec.staticBackends().size(); i++) {
          if (linkLocal(spec.staticBackends().get(i))) {
            linkLocal.add(new LinkLocalUrl(p.id, p.name, i));
          }
        }
      }
      anyDefault |= Boolean.TRUE.equals(spec.routing().defaultPool());
      routes.add(
          route(p.name, spec, byPool.getOrDefault(p.id, List.of()), p.status, secrets.get(p.id)));
      int want =
          spec.managed()
              ? (spec.replicas() == null ? 0 : spec.replicas())
              : served(spec.staticBackends()).size();
      desired.put(p.name, new PoolMetrics.Desired(want, p.status));
    }
    metrics.loaded(desired);
    if (!anyDefault && configured == null) {
      // one pool without host names is the default pool: what a newcomer with one pool expects.
      // The API stores that default since audit 20 H3 (PoolService); this serves pools stored
      // before, until a second pool's create stores it on them
      List<PoolRoute> hostless = routes.stream().filter(r -> r.hosts().isEmpty()).toList();
      if (routes.size() == 1 && hostless.size() == 1) {
        routes.set(0, hostless.get(0).withDefaultPool(true));
      }
    }
    if (configured != null && routes.stream().noneMatch(r -> r.name().equals(STATIC_POOL))) {
      routes.add(anyDefault ? configured.withDefaultPool(false) : configured);
    } else if (configured != null && !shadowTold) {
      // stored before DYNOFLEET_STATIC_BACKENDS was set (the API refuses the name while it is)
      shadowTold = true;
      LOG.warnf(
          "a stored pool is named '%s': it replaces the pool DYNOFLEET_STATIC_BACKENDS configures,"
              + " whose %d backends get no traffic; delete the stored pool and apply it under another name, or unset"
              + " DYNOFLEET_STATIC_BACKENDS",
          STATIC_POOL, configured.backends().size());
    }
    poolIds = Map.copyOf(ids);
    linkLocalToTell = List.copyOf(linkLocal);
    return routes;
  }

  /** The pools' proxy secrets by pool id (see ReconcileStore#proxySecret): one small table. */
  @SuppressWarnings("unchecked")
  private static Map<UUID, String> proxySecrets() {
    Map<UUID, String> out = new HashMap<>();
    for (Object[] row :
        (List<Object[]>)
            Pool.getEntityManager()
                .createNativeQuery("select pool_id, proxy_secret from pool_secrets")
                .getResultList()) {
      out.put((UUID) row[0], (String) row[1]);
    }
    return out;
  }

  static PoolRoute route(String name, PoolSpec spec, List<Backend> backends, PoolStatus status) {
    return route(name, spec, backends, status, null);
  }

  /**
   * A pool's route. A backend is assumed healthy (routed at once) when it is ready, unless the pool
   * has a health check and the fleet last found it failing (phase {@code Unhealthy}, or a static
   * backend {@code healthy: false} after probes in the stored status): a dyno that has just started
   * then waits for its own probes, as for a new backend, instead of sending requests to a backend
   * known dead until they fail to the threshold, and telling the control plane it recovered (a
   * false {@code BackendRecovered}, and the repair clocks started over at every Dynofleet restart).
   * A backend that a running proxy already knows keeps its state.
   */
  static PoolRoute route(
      String name, PoolSpec spec, List<Backend> backends, PoolStatus status, String proxySecret) {
    PoolSpec.Routing ro = spec.routing();
    PoolSpec.HealthCheck h = spec.healthCheck();
    HealthCheckSpec check =
        h == null || h.path() == null
            ? null
            : new HealthCheckSpec(
                h.path(),
                Duration.ofSeconds(h.intervalSeconds()),
                Duration.ofSeconds(h.timeoutSeconds()),
                h.healthyThreshold(),
                h.unhealthyThreshold());
    List<BackendTarget> targets = new ArrayList<>();
    Map<String, String> secrets = new HashMap<>();
    if (spec.managed()) {
      for (Backend b : backends) {
        if (b.webUrl == null || (b.step != Step.COUPLED && b.step != Step.READY)) {
          continue;
        }
        if (b.proxySecret != null) {
          // the one its app holds: the pool's, or the one before a rotation until it is replaced
          secrets.put(b.appName, b.proxySecret);
        }
        boolean knownFailing = check != null && b.phase == Backend.Phase.Unhealthy;
        targets.add(
            new BackendTarget(
                b.appName, URI.create(b.webUrl), b.step == Step.READY && !knownFailing));
      }
    } else if (spec.staticBackends() != null) {
      Set<String> failing = check == null ? Set.of() : failingStatic(status);
      // one stored before the API refused link-local URLs is not proxied to (nor probed)
      for (BackendTarget t : targets(served(spec.staticBackends()))) {
        targets.add(failing.contains(t.id()) ? new BackendTarget(t.id(), t.url(), false, true) : t);
      }
    }
    return new PoolRoute(
        name,
        ro.hosts(),
        Boolean.TRUE.equals(ro.defaultPool()),
        algorithm(ro.algorithm()),
        Duration.ofSeconds(ro.timeoutSeconds()),
        ro.retries(),
        ro.maxInFlightPerBackend(),
        ro.maxQueue(),
        Duration.ofSeconds(ro.queueTimeoutSeconds()),
        check,
        targets,
        // a spec stored before the field read as the default, on
        !Boolean.FALSE.equals(ro.httpsRedirect()),
        // only apps Dynofleet configures have it
        spec.managed() ? proxySecret : null,
        secrets,
        // a spec stored before the field read as the default, off
        Boolean.TRUE.equals(ro.maintenance()),
        ro.maintenancePageUrl());
  }

  /**
   * The static backends the stored status says fail after probes (as {@code staticHealth} reads
   * it).
   */
  private static Set<String> failingStatic(PoolStatus status) {
    if (status == null || status.backends() == null) {
      return Set.of();
    }
    Set<String> out = new HashSet<>();
    for (PoolStatus.BackendStatus b : status.backends()) {
      if (b.failedChecks()) {
        out.add(b.app());
      }
    }
    return out;
  }

  static Algorithm algorithm(String name) {
    if (name == null) {
      return Algorithm.LEAST_REQUEST;
    }
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "round-robin" -> Algorithm.ROUND_ROBIN;
      case "random" -> Algorithm.RANDOM;
      default -> Algorithm.LEAST_REQUEST;
    };
  }
}
