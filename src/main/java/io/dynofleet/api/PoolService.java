package io.dynofleet.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dynofleet.pool.model.Pool;
import io.dynofleet.pool.model.PoolChanged;
import io.dynofleet.pool.model.PoolEvents;
import io.dynofleet.pool.model.PoolRepository;
import io.dynofleet.pool.model.PoolRepository.LabelRequirement;
import io.dynofleet.pool.model.PoolSpec;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.pool.model.SpecDefaults;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.persistence.OptimisticLockException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.hibernate.StaleStateException;
import org.jboss.logging.Logger;

/**
 * The desired-state store behind the API: validation, defaulting, optimistic concurrency,
 * generation and resourceVersion rules, and the deletion mark. Writes only spec, labels and the
 * deletion timestamp; status belongs to the reconciler.
 */
@io.quarkus.runtime.Startup
@ApplicationScoped
public class PoolService {
  private static final Logger LOG = Logger.getLogger(PoolService.class);

  /** Unconditional writes that lose a compare-and-set race are re-applied on fresh state. */
  private static final int MAX_ATTEMPTS = 8;

  private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

  private final PoolRepository pools;
  private final PoolEvents events;
  private final ObjectMapper mapper;
  private final ObjectReader bodies;
  private final Clock clock;
  private final Event<PoolChanged> changed;

  private final io.dynofleet.config.AdminHosts adminHosts;

  /** Whether DYNOFLEET_STATIC_BACKENDS makes the proxy's own pool {@code static}. */
  private final boolean staticConfigured;

  /** Apps the account may have ({@code dynofleet.heroku.app-limit}). */
  private final int appLimit;

  /** Pools the fleet may hold ({@code dynofleet.api.max-pools}); 0: no limit. */
  private final int maxPools;

  /**
   * The app limit as set, refused at start when under 1: every managed pool with replicas would
   * then be refused at its next write.
   */
  static int checkedAppLimit(int limit) {
    if (limit < 1) {
      throw new IllegalStateException(
          "dynofleet.heroku.app-limit (DYNOFLEET_HEROKU_APP_LIMIT) is "
              + limit
              + ": it must be at least 1 (Heroku's is 100 apps an account or team)");
    }
    return limit;
  }

  PoolService(
      PoolRepository pools,
      PoolEvents events,
      ObjectMapper mapper,
      Clock clock,
      Event<PoolChanged> changed,
      io.dynofleet.config.AdminHosts adminHosts,
      io.dynofleet.proxy.ProxyConfig proxy,
      io.dynofleet.heroku.HerokuConfig heroku,
      io.dynofleet.config.ApiConfig api) {
    this.adminHosts = adminHosts;
    this.maxPools = Math.max(0, api.maxPools());
    this.appLimit = checkedAppLimit(heroku.appLimit());
    this.staticConfigured = proxy.staticBackends().filter(l -> !l.isEmpty()).isPresent();
    this.pools = pools;
    this.events = events;
    this.mapper = mapper;
    this.bodies = StrictJson.reader(mapper);
    this.clock = clock;
    this.changed = changed;
  }

  /**
   * The preconditions of a request: {@code If-Match} (null when absent; "*" matches any existing
   * pool) and {@code If-None-Match} (on a write, a listed version or "*" fails it, RFC 9110 13.1.2:
   * {@code PUT} with {@code If-None-Match: *} overwrote). An empty header is a condition no version
   * meets: a script whose ETag variable was empty made its write unconditional.
   */
  public record Precondition(String ifMatch, String ifNoneMatch) {
    public Precondition(String ifMatch) {
      this(ifMatch, null);
    }

    boolean matches(long resourceVersion) {
      // If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches
      return ifMatch == null || listed(ifMatch, resourceVersion, false);
    }

    /**
     * A 412 naming why, when {@code If-Match} fails on this version (a read: nothing to change).
     */
    void check(long resourceVersion) {
      check(resourceVersion, "");
    }

    private void check(long resourceVersion, String outcome) {
      if (matches(resourceVersion)) {
        return;
      }
      String why =
          ifMatch.isBlank()
              ? "If-Match is empty: send the ETag you read"
              : listed(ifMatch, resourceVersion, true)
                  ? "If-Match "
                      + ifMatch.trim()
                      + " is a weak tag and If-Match compares strongly: send \""
                      + resourceVersion
                      + "\""
                  : "If-Match does not match resourceVersion " + resourceVersion;
      throw new ApiException(412, "precondition-failed", "Precondition failed", why + outcome);
    }

    /** {@link #check} and, for a write, {@code If-None-Match}. */
    void checkWrite(long resourceVersion) {
      check(resourceVersion, "; nothing was changed");
      if (ifNoneMatch != null
          && (ifNoneMatch.isBlank() || listed(ifNoneMatch, resourceVersion, true))) {
        throw new ApiException(
            412,
            "precondition-failed",
            "Precondition failed",
            (ifNoneMatch.isBlank()
                    ? "If-None-Match is empty: send the ETag you read"
                    : "If-None-Match "
                        + (ifNoneMatch.trim().equals("*")
                            ? "* fails: the pool exists"
                            : "names the current resourceVersion " + resourceVersion))
                + "; nothing was changed");
      }
    }

    /**
     * Whether an ETag list ({@code If-Match}, {@code If-None-Match}) names this version or is
     * {@code *}; {@code weak} comparison (If-None-Match) also takes {@code W/"v"}.
     */
    static boolean listed(String header, long resourceVersion, boolean weak) {
      String quoted = "\"" + resourceVersion + "\"";
      for (String tag : header.split(",")) {
        String t = tag.trim();
        if (weak && t.startsWith("W/")) {
          t = t.substring(2);
        }
        if (t.equals("*") || t.equals(quoted) || t.equals(Long.toString(resourceVersion))) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * The time of a write, at PostgreSQL's precision (microseconds): the response to a write is built
   * from the entity in memory, and must equal what a later GET reads back.
   */
  private Instant now() {
    return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
  }

  // ---- reads ---------------------------------------------------------------------------------

  public PoolDocument get(String name) {
    return QuarkusTransaction.requiringNew().call(() -> PoolDocument.of(load(name)));
  }

  /** A page of pools and its ETag ({@link #listTag}). */
  public record Listed(PoolList list, String etag) {}

  /**
   * One page of pools. {@code limit} is the raw query parameter: a value that is not a whole number
   * is a 422 naming {@code limit}, not the 404 JAX-RS makes of a failed conversion.
   */
  public PoolList list(String labelSelector, String limit, String continueToken) {
    return listed(labelSelector, limit, continueToken).list();
  }

  /** {@link #list} with the page's ETag. */
  public Listed listed(String labelSelector, String limit, String continueToken) {
    List<LabelRequirement> selector = LabelSelector.parse(labelSelector);
    int max = limit(limit, 500, 500);
    String after = decodeContinue(continueToken);
    List<Pool> page =
        QuarkusTransaction.requiringNew().call(() -> pools.page(selector, after, max + 1));
    String etag =
        listTag(
            labelSelector,
            max,
            after,
            page.stream()
                .map(p -> new PoolRepository.Version(p.id, p.resourceVersion, p.name))
                .toList());
    List<PoolDocument> items = page.stream().map(PoolDocument::of).toList();
    String next = null;
    if (items.size() > max) {
      items = items.subList(0, max);
      next =
          Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(
                  items.get(max - 1).metadata().name().getBytes(StandardCharsets.UTF_8));
    }
    return new Listed(
        new PoolList(
            PoolValidator.API_VERSION, "BackendPoolList", new PoolList.ListMeta(next), items),
        etag);
  }

  /**
   * The ETag the page {@link #list} answers now, from each pool's id and version only (audit 21 L2:
   * the dashboard read every pool's document every 2 s). Weak: a hash of the query and of the
   * page's pools (every write moves a pool's {@code resourceVersion}, status writes too; a pool
   * gone or new changes the ids), and whether a page follows.
   */
  public String listTag(String labelSelector, String limit, String continueToken) {
    List<LabelRequirement> selector = LabelSelector.parse(labelSelector);
    int max = limit(limit, 500, 500);
    String after = decodeContinue(continueToken);
    return listTag(
        labelSelector,
        max,
        after,
        QuarkusTransaction.requiringNew().call(() -> pools.versions(selector, after, max + 1)));
  }

  /** {@code page} is the query's {@code max + 1} rows: the last says whether a page follows. */
  private static String listTag(
      String labelSelector, int max, String after, List<PoolRepository.Version> page) {
    StringBuilder s =
        new StringBuilder()
            .append(labelSelector == null ? "" : labelSelector)
            .append('\n')
            .append(max)
            .append('\n')
            .append(after == null ? "" : after)
            .append('\n');
    for (int i = 0; i < Math.min(max, page.size()); i++) {
      s.append(page.get(i).id()).append(':').append(page.get(i).resourceVersion()).append(',');
    }
    s.append('\n').append(page.size() > max);
    try {
      byte[] hash =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(s.toString().getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(java.util.Arrays.copyOf(hash, 16));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Names of all pools copying one of {@code apps} (a source app's name or id), however many pools
   * there are (one query, not a walk over the first page).
   */
  public List<String> copying(List<String> apps) {
    List<String> wanted = apps.stream().filter(a -> a != null && !a.isBlank()).distinct().toList();
    return QuarkusTransaction.requiringNew().call(() -> pools.namesCopying(wanted));
  }

  /** {@link io.dynofleet.pool.model.PoolRepository#webhookSigned}. */
  public String webhookSigned(String name) {
    return QuarkusTransaction.requiringNew().call(() -> pools.webhookSigned(name));
  }

  public PoolStatus status(String name) {
    return get(name).status();
  }

  public List<EventDocument> events(String name, int limit) {
    return events(name, String.valueOf(limit));
  }

  /** The pool's recent events; {@code limit} is the raw query parameter, as in {@link #list}. */
  public List<EventDocument> events(String name, String limit) {
    int max = limit(limit, 100, PoolEvents.MAX_PER_POOL);
    return QuarkusTransaction.requiringNew()
        .call(
            () -> {
              Pool p = load(name);
              return events.list(p.id, max).stream().map(EventDocument::of).toList();
            });
  }

  private static final java.util.regex.Pattern AGO =
      java.util.regex.Pattern.compile("([1-9][0-9]{0,6})([smhd])");

  /**
   * Events of every pool, newest first (audit 21 L3: watching 30 pools took 30 calls): {@code type}
   * {@code Normal} or {@code Warning} (absent: both), {@code since} an RFC 3339 time or an age such
   * as {@code 30m}, {@code 2h}, {@code 7d} (absent: all kept), {@code limit} 1..500 (100), {@code
   * continue} the token of the page before. Each bad parameter is a 422 naming it.
   */
  public EventList fleetEvents(String type, String since, String limit, String continueToken) {
    List<FieldError> bad = new java.util.ArrayList<>();
    if (type != null && !type.equals(PoolEvents.NORMAL) && !type.equals(PoolEvents.WARNING)) {
      bad.add(new FieldError("type", "must be Normal or Warning"));
    }
    Instant from = null;
    if (since != null && !since.isEmpty()) {
      var m = AGO.matcher(since);
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        java.time.Duration d =
            switch (m.group(2)) {
              case "s" -> java.time.Duration.ofSeconds(n);
              case "m" -> java.time.Duration.ofMinutes(n);
              case "h" -> java.time.Duration.ofHours(n);
              default -> java.time.Duration.ofDays(n);
            };
        from = clock.instant().minus(d);
      } else {
        try {
          from = java.time.OffsetDateTime.parse(since).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
          bad.add(
              new FieldError(
                  "since",
                  "must be an RFC 3339 time (2026-11-26T06:00:00Z) or an age (30s, 15m, 2h, 7d)"));
        }
      }
    }
    int max;
    try {
      max = limit(limit, 100, 500);
    } catch (ApiException e) {
      max = 0;
      bad.add(new FieldError("limit", "must be a whole number from 1 to 500"));
    }
    Instant afterSeen = null;
    Long afterId = null;
    if (continueToken != null && !continueToken.isEmpty()) {
      try {
        String s = new String(Base64.getUrlDecoder().decode(continueToken), StandardCharsets.UTF_8);
        int dot = s.indexOf('.');
        long micros = Long.parseLong(s.substring(0, dot));
        afterId = Long.parseLong(s.substring(dot + 1));
        afterSeen =
            Instant.ofEpochSecond(
                Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
      } catch (RuntimeException e) {
        bad.add(
            new FieldError(
                "continue", "is not a token this API gave (take metadata.continue as it is)"));
      }
    }
    if (!bad.isEmpty()) {
      throw ApiException.invalidRequest(bad);
    }
    int n = max;
    Instant f = from;
    Instant as = afterSeen;
    Long ai = afterId;
    List<PoolEvents.Named> rows =
        QuarkusTransaction.requiringNew().call(() -> events.listAll(type, f, as, ai, n + 1));
    String next = null;
    if (rows.size() > n) {
      rows = rows.subList(0, n);
      var last = rows.get(n - 1).event();
      long micros =
          Math.addExact(
              Math.multiplyExact(last.lastSeen.getEpochSecond(), 1_000_000L),
              last.lastSeen.getNano() / 1000);
      next =
          Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString((micros + "." + last.id).getBytes(StandardCharsets.UTF_8));
    }
    List<EventList.Item> items = rows.stream().map(EventList.Item::of).toList();
    return new EventList(
        PoolValidator.API_VERSION, "EventList", new PoolList.ListMeta(next), items);
  }

  /**
   * A {@code limit} query parameter: absent or empty is {@code dflt}, else a whole number 1..max.
   */
  private static int limit(String raw, int dflt, int max) {
    if (raw == null || raw.isEmpty()) {
      return dflt;
    }
    int n;
    try {
      n = Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      n = 0;
    }
    if (n < 1 || n > max) {
      throw ApiException.invalidRequest(
          List.of(new FieldError("limit", "must be a whole number from 1 to " + max)));
    }
    return n;
  }

  // ---- writes --------------------------------------------------------------------------------

  /**
   * A write's outcome: the pool as stored, and what its answer warns of (the text of an RFC 9111
   * {@code Warning: 299}).
   */
  public record Written(PoolDocument pool, List<String> warnings) {}

  public PoolDocument create(String body) {
    return createWithWarnings(body).pool();
  }

  public PoolDocument create(byte[] body) {
    return createWithWarnings(body).pool();
  }

  public Written createWithWarnings(String body) {
    return create(parseAndValidate(parse(body)));
  }

  public Written createWithWarnings(byte[] body) {
    return create(parseAndValidate(parse(body)));
  }

  private Written create(JsonNode doc) {
    String name = doc.get("metadata").get("name").asText();
    if (staticConfigured && name.equals(io.dynofleet.proxy.RouteSync.STATIC_POOL)) {
      // a stored pool of that name replaced the configured one in the proxy, silently (audit 13)
      throw new ApiException(
          409,
          "name-reserved",
          "Pool name reserved",
          "the pool 'static' is the one"
              + " DYNOFLEET_STATIC_BACKENDS configures (proxy only, not stored); choose another name",
          List.of(
              new FieldError("metadata.name", "reserved while DYNOFLEET_STATIC_BACKENDS is set")));
    }
    PoolSpec given = SpecDefaults.apply(name, toSpec(doc));
    checkAppLimit(given, null);
    boolean defaultNamed = namesDefault(doc);
    String[] fleetAbove = new String[1];
    Map<String, String> labels = labels(doc);
    // the pool that was the default only as the only pool, and the change this write made to it
    Pool[] keptDefault = new Pool[1];
    String[] change = new String[1];
    Pool saved =
        write(
            () -> {
              keptDefault[0] = null;
              Pool existing = pools.findByName(name).orElse(null);
              if (existing != null) {
                // a pool being deleted refuses a PUT too (409 terminating): the hint sent there
                // (audit 24 L4)
                boolean leaving = existing.terminating();
                throw new ApiException(
                    409,
                    "already-exists",
                    "Pool exists",
                    "a pool named '"
                        + name
                        + (leaving
                            ? "' is being deleted: create it again once it is gone"
                            : "' already exists"),
                    List.of(
                        new FieldError(
                            "metadata.name",
                            leaving
                                ? "a pool of this name is being deleted: create it again once it"
                                    + " is gone (GET it until 404)"
                                : "a pool of this name exists: PUT it to replace it")));
              }
              // one writer at a time decides from the other pools (two first pools made at once
              // would each be the default)
              pools.lockRoutingClaims();
              List<Pool> others = pools.others(name);
              if (maxPools > 0 && others.size() >= maxPools) {
                // under the lock: two creates at once cannot both take the last place
                throw new ApiException(
                    409,
                    "pool-limit",
                    "Pool limit reached",
                    "the fleet holds "
                        + others.size()
                        + " pools (pools being deleted count until they are gone), its limit"
                        + " DYNOFLEET_API_MAX_POOLS is "
                        + maxPools
                        + ": delete a pool, or raise the limit",
                    List.of(
                        new FieldError(
                            "metadata.name",
                            "no room for another pool (" + maxPools + " at most)")));
              }
              PoolSpec spec =
                  defaultNamed ? given : withDefault(given, soleWithoutHosts(given, others));
              checkRoutingClashes(name, spec);
              fleetAbove[0] = fleetAboveAppLimit(spec, null, null, others);
              Instant now = now();
              Pool implicit =
                  Boolean.TRUE.equals(spec.routing().defaultPool())
                      ? null
                      : implicitDefault(others);
              if (implicit != null) {
                // a pool stored before write-time defaulting, the default only while it was the
                // only pool: a second pool took all its traffic without a word (audit 20 H3).
                // Stored now, so it stays what it has been
                PoolSpec after =
                    withDefault(SpecDefaults.apply(implicit.name, implicit.spec), true);
                change[0] =
                    "generation "
                        + implicit.generation
                        + " → "
                        + (implicit.generation + 1)
                        + ": "
                        + SpecChanges.describe(mapper, implicit.spec, after);
                implicit.spec = after;
                implicit.generation++;
                implicit.updatedAt = now;
                keptDefault[0] = implicit;
              }
              Pool p = new Pool();
              p.id = UUID.randomUUID();
              p.name = name;
              p.generation = 1;
              p.labels = labels;
              p.spec = spec;
              p.createdAt = now;
              p.updatedAt = now;
              // resourceVersion starts at the creation time in microseconds, not 0:
              // a pool deleted and made again under the same name never repeats a
              // version the old one had, so an If-Match read from the old pool
              // cannot match the new one (Kubernetes' versions never repeat either)
              p.resourceVersion =
                  Math.max(1, now.getEpochSecond() * 1_000_000L + now.getNano() / 1000);
              pools.persist(p);
              pools.flush();
              return p;
            },
            new Precondition(null));
    recordAfterCommit(
        saved.id, saved.name, PoolEvents.NORMAL, "Created", "pool created with generation 1");
    if (inMaintenance(saved.spec)) {
      recordAfterCommit(saved.id, saved.name, PoolEvents.NORMAL, MAINTENANCE_ON, maintenanceOn());
    }
    changed.fire(new PoolChanged(saved.id, saved.name));
    List<String> warnings = new java.util.ArrayList<>();
    if (fleetAbove[0] != null) {
      recordAfterCommit(saved.id, saved.name, PoolEvents.WARNING, APP_LIMIT, fleetAbove[0]);
      warnings.add(fleetAbove[0]);
    }
    Pool kept = keptDefault[0];
    if (kept == null) {
      return new Written(PoolDocument.of(saved), List.copyOf(warnings));
    }
    recordAfterCommit(
        kept.id,
        kept.name,
        PoolEvents.NORMAL,
        "SpecChanged",
        change[0]
            + " (stored when pool "
            + saved.name
            + " was created: this pool was the default only while it was the only pool, and stays"
            + " the default)");
    changed.fire(new PoolChanged(kept.id, kept.name));
    warnings.add(
        "pool "
            + kept.name
            + " was the default pool only while it was the only pool: routing.default true is"
            + " now stored on it, so requests for hosts in no pool's routing.hosts still go"
            + " to it (set routing.default false on "
            + kept.name
            + " to stop that)");
    return new Written(PoolDocument.of(saved), List.copyOf(warnings));
  }

  /** The Warning event of a write that took the pools together above the app limit. */
  static final String APP_LIMIT = "AppLimit";

  /**
   * The most apps a managed pool has at once: {@code replicas}, plus during a rollout the new ones
   * made before old ones go ({@code maxSurge}, but never more than {@code replicas} new ones).
   */
  static int peakApps(PoolSpec s) {
    if (!s.managed() || s.replicas() == null) {
      return 0;
    }
    int surge = s.rollout() != null && s.rollout().maxSurge() != null ? s.rollout().maxSurge() : 1;
    return s.replicas() + Math.min(surge, s.replicas());
  }

  /**
   * What to change when a pool's apps would exceed the app limit (t23: the refusal of a pool file
   * at start said why but not what to do).
   */
  static final String APP_LIMIT_FIX =
      ": lower replicas or spec.rollout.maxSurge (0 with maxUnavailable 1 or more makes no extra"
          + " app), or raise DYNOFLEET_HEROKU_APP_LIMIT if Heroku allows the account more";

  /**
   * Refuses (422) a spec whose rollouts need more apps than the account may have: the creates above
   * it fail, and the pool never becomes ready (audit 17 #12). A write that does not raise the
   * pool's peak passes, so a pool stored above the limit by an earlier release can still be edited.
   */
  private void checkAppLimit(PoolSpec spec, PoolSpec before) {
    int peak = peakApps(spec);
    if (peak <= appLimit || before != null && peak <= peakApps(before)) {
      return;
    }
    String why =
        "replicas "
            + spec.replicas()
            + " plus the rollout's surge "
            + (peak - spec.replicas())
            + " (maxSurge, at most replicas) make "
            + peak
            + " apps, above the account's app limit "
            + appLimit
            + " (DYNOFLEET_HEROKU_APP_LIMIT)"
            + APP_LIMIT_FIX;
    throw ApiException.invalid(
        List.of(
            new FieldError("spec.replicas", why), new FieldError("spec.rollout.maxSurge", why)));
  }

  /**
   * What to warn of when this write raised the pool's peak and the pools together can now reach
   * more apps than the account may have (each pool alone within it): null otherwise. Warned, not
   * refused: the pools rarely roll at once, and the apps may be spread over teams.
   */
  private String fleetAboveAppLimit(
      PoolSpec spec, PoolSpec before, java.util.UUID poolId, List<Pool> others) {
    int peak = peakApps(spec);
    if (peak == 0 || before != null && peak <= peakApps(before)) {
      return null;
    }
    java.util.Map<java.util.UUID, String[]> stored = pools.sourcePins();
    List<PoolSpec> fleet = new ArrayList<>();
    List<String> pins = new ArrayList<>();
    fleet.add(spec);
    pins.add(pinFor(spec, poolId == null ? null : stored.get(poolId)));
    for (Pool o : others) {
      if (!o.terminating()) {
        fleet.add(o.spec);
        pins.add(pinFor(o.spec, stored.get(o.id)));
      }
    }
    int sources = sourceApps(fleet, pins);
    int total = fleetPeakApps(fleet) + sources;
    if (total <= appLimit) {
      return null;
    }
    return "the managed pools together reach "
        + total
        + " apps when they roll out at once (replicas plus surge of each, and their "
        + sources
        + (sources == 1 ? " source app" : " source apps")
        + "), above the account's app limit "
        + appLimit
        + " (DYNOFLEET_HEROKU_APP_LIMIT): apps made past it fail with CreateFailed";
  }

  /** The apps the pools make at their peak together ({@link #peakApps} of each). */
  static int fleetPeakApps(List<PoolSpec> specs) {
    int total = 0;
    for (PoolSpec s : specs) {
      total += peakApps(s);
    }
    return total;
  }

  /**
   * The id of the source app {@code spec} copies as its pool's passes pinned it ({@code pin}: {id,
   * name}, see {@link io.dynofleet.pool.model.PoolRepository#sourcePins}), or null: none pinned, or
   * pinned while the spec named another source (the next pass pins anew).
   */
  private static String pinFor(PoolSpec spec, String[] pin) {
    return pin != null
            && spec.template() != null
            && spec.template().sourceApp() != null
            && pin[1].equals(spec.template().sourceApp().toLowerCase(java.util.Locale.ROOT))
        ? pin[0]
        : null;
  }

  /**
   * The source apps the managed pools copy, each once: they are apps of the account too, and count
   * against its limit as Heroku counts them (audit 25 F3: the fleet's count left them out). An app
   * is told by the id its pool's passes pinned ({@code pins}, one per spec, null where none is):
   * one source named by its name in one pool and by its id in another is one app (review 30
   * R30-I4), as is a name a pool not pinned yet shares with a pinned one. Where nothing says (no
   * pin), each name or id the specs give counts as an app of its own: a name and an id of one app
   * count twice until a pass pins the pool, one app early for the warning.
   */
  static int sourceApps(List<PoolSpec> specs, List<String> pins) {
    java.util.Map<String, String> pinOfName = new java.util.HashMap<>();
    for (int i = 0; i < specs.size(); i++) {
      String source = source(specs.get(i));
      if (source != null && pins.get(i) != null) {
        pinOfName.put(source, pins.get(i).toLowerCase(java.util.Locale.ROOT));
      }
    }
    java.util.Set<String> apps = new java.util.HashSet<>();
    for (int i = 0; i < specs.size(); i++) {
      String source = source(specs.get(i));
      if (source != null) {
        apps.add(
            pins.get(i) != null
                ? pins.get(i).toLowerCase(java.util.Locale.ROOT)
                : pinOfName.getOrDefault(source, source));
      }
    }
    return apps.size();
  }

  /** A managed spec's source app as it names it (name or id), lower case, or null. */
  private static String source(PoolSpec s) {
    return s.managed() && s.template() != null && s.template().sourceApp() != null
        ? s.template().sourceApp().toLowerCase(java.util.Locale.ROOT)
        : null;
  }

  /**
   * Whether a pool document names {@code spec.routing.default}: left out (or null in a merge
   * patch), it is defaulted when the pool is written (see {@link #soleWithoutHosts}).
   */
  static boolean namesDefault(JsonNode doc) {
    return doc.path("spec").path("routing").path("default").isBoolean();
  }

  /**
   * The default of {@code routing.default}, Kubernetes-style, decided when the pool is written and
   * stored: true for a pool without hosts when no other pool exists, what a newcomer's first pool
   * needs. The proxy made such a pool the default only while it was the only pool, deciding anew at
   * each load, so a second pool took all its traffic (audit 20 H3). Not while {@code
   * DYNOFLEET_STATIC_BACKENDS} configures a pool: that one is the default then. Call with the
   * routing claims locked.
   */
  private boolean soleWithoutHosts(PoolSpec spec, List<Pool> others) {
    return !staticConfigured && spec.routing().hosts().isEmpty() && others.isEmpty();
  }

  /**
   * The pool the proxy makes the default only because it is the only one (a pool stored before
   * {@link #soleWithoutHosts} was, or left alone by deletions): without hosts, {@code default}
   * false, not being deleted. Null when there is none among {@code others}.
   */
  private Pool implicitDefault(List<Pool> others) {
    if (staticConfigured || others.size() != 1 || others.get(0).terminating()) {
      return null;
    }
    Pool o = others.get(0);
    PoolSpec.Routing r = SpecDefaults.apply(o.name, o.spec).routing();
    return r.hosts().isEmpty() && !Boolean.TRUE.equals(r.defaultPool()) ? o : null;
  }

  /** {@code s} with {@code routing.default} set to {@code isDefault}. */
  private static PoolSpec withDefault(PoolSpec s, boolean isDefault) {
    PoolSpec.Routing r = s.routing();
    return new PoolSpec(
        s.pipeline(),
        s.replicas(),
        s.template(),
        s.healthCheck(),
        s.rollout(),
        new PoolSpec.Routing(
            r.hosts(),
            isDefault,
            r.algorithm(),
            r.timeoutSeconds(),
            r.retries(),
            r.maxInFlightPerBackend(),
            r.maxQueue(),
            r.queueTimeoutSeconds(),
            r.httpsRedirect(),
            r.maintenance(),
            r.maintenancePageUrl()),
        s.staticBackends(),
        s.paused());
  }

  /** A Normal event on the pool, for writers other than the API (pool files). */
  void recordEvent(PoolDocument pool, String reason, String message) {
    events.record(
        pool.metadata().uid(), pool.metadata().name(), PoolEvents.NORMAL, reason, message);
  }

  public PoolDocument replace(String name, String body, Precondition pre) {
    return replaceWithWarnings(name, body, pre).pool();
  }

  /** A replace, with what its answer warns of ({@link Written}). */
  public Written replaceWithWarnings(String name, String body, Precondition pre) {
    return replace(name, parseAndValidate(parse(body)), pre);
  }

  public PoolDocument replace(String name, byte[] body, Precondition pre) {
    return replaceWithWarnings(name, body, pre).pool();
  }

  /** A replace, with what its answer warns of ({@link Written}). */
  public Written replaceWithWarnings(String name, byte[] body, Precondition pre) {
    return replace(name, parseAndValidate(parse(body)), pre);
  }

  private Written replace(String name, JsonNode doc, Precondition pre) {
    String bodyName = doc.get("metadata").get("name").asText();
    if (!bodyName.equals(name)) {
      throw ApiException.invalid(
          List.of(
              new FieldError(
                  "metadata.name",
                  "must match the pool in the path ('" + name + "'); pools cannot be renamed")));
    }
    return update(
        name,
        pre,
        doc,
        current ->
            keepPaused(
                current,
                keepMaintenance(
                    current,
                    keepDefault(
                        current,
                        keepStage(current, keepRegion(current, keepRestartedAt(current, doc)))))));
  }

  /**
   * A replace that does not name {@code spec.paused} keeps a stored {@code true}, as {@link
   * #keepMaintenance} keeps a maintenance: pause is an incident's lever, and a manifest or pool
   * file applied meanwhile (a deploy script, every Dynofleet start) resumed the pool, the
   * reconciler going back to what the operator had stopped with only {@code configured} said (audit
   * 24 M2). {@code false} resumes it, as {@code dynofleet resume pool} does.
   */
  static JsonNode keepPaused(JsonNode current, JsonNode doc) {
    JsonNode spec = doc.path("spec");
    if (!current.path("spec").path("paused").asBoolean(false)
        || spec.path("paused").isBoolean()
        || !spec.isObject()) {
      return doc;
    }
    JsonNode copy = doc.deepCopy();
    ((ObjectNode) copy.get("spec")).put("paused", true);
    return copy;
  }

  /**
   * A replace that does not name {@code spec.routing.maintenance} keeps the stored value: a pool
   * file or manifest applied during a maintenance (a deploy script, a dyno's start) never names it,
   * and would end the maintenance it was meant to wait out, the writes it stopped going on unseen
   * (audit 20 M6). {@code false} ends it, as {@code dynofleet maintenance off} does.
   */
  static JsonNode keepMaintenance(JsonNode current, JsonNode doc) {
    JsonNode spec = doc.path("spec");
    JsonNode routing = spec.path("routing");
    if (!current.path("spec").path("routing").path("maintenance").asBoolean(false)
        || routing.path("maintenance").isBoolean()
        || !spec.isObject()
        || !(routing.isObject() || routing.isMissingNode() || routing.isNull())) {
      return doc;
    }
    JsonNode copy = doc.deepCopy();
    ObjectNode s = (ObjectNode) copy.get("spec");
    (routing.isObject() ? (ObjectNode) s.get("routing") : s.putObject("routing"))
        .put("maintenance", true);
    return copy;
  }

  static final String MAINTENANCE_ON = "MaintenanceOn";
  static final String MAINTENANCE_OFF = "MaintenanceOff";

  private static boolean inMaintenance(PoolSpec spec) {
    return spec != null
        && spec.routing() != null
        && Boolean.TRUE.equals(spec.routing().maintenance());
  }

  private static String maintenanceOn() {
    return "maintenance on (spec.routing.maintenance): every request of the pool gets 503 and the"
        + " maintenance page; the backends keep running and get no request";
  }

  /**
   * A replace that does not name {@code spec.routing.default} keeps a stored {@code true} while the
   * pool has no hosts: it may be one the API defaulted (see {@link #soleWithoutHosts}), which no
   * manifest or pool file names, and an {@code apply} of the same file then took the pool's traffic
   * away once a second pool existed (audit 20 H3). {@code false} ends it. A replace that gives
   * hosts and names no default is defaulted as on a create (not the default: a pool with hosts
   * never is implicitly): a stored true kept it the catch-all for every unknown host, which the
   * same document on a fresh store does not give (review 24 #6). Name {@code true} to keep it.
   */
  static JsonNode keepDefault(JsonNode current, JsonNode doc) {
    JsonNode spec = doc.path("spec");
    JsonNode routing = spec.path("routing");
    if (!current.path("spec").path("routing").path("default").asBoolean(false)
        || namesDefault(doc)
        || !spec.isObject()
        || !routing.path("hosts").isEmpty()
        || !(routing.isObject() || routing.isMissingNode() || routing.isNull())) {
      return doc;
    }
    JsonNode copy = doc.deepCopy();
    ObjectNode s = (ObjectNode) copy.get("spec");
    (routing.isObject() ? (ObjectNode) s.get("routing") : s.putObject("routing"))
        .put("default", true);
    return copy;
  }

  /**
   * A replace that does not name {@code spec.template.restartedAt} keeps the stored one: it is
   * written by {@code rollout restart}, not by the manifests that `apply` and pool files replace
   * the spec with, and dropping it rolled every backend a second time (review 13). A merge patch
   * setting it to null removes it (and rolls).
   */
  static JsonNode keepRestartedAt(JsonNode current, JsonNode doc) {
    JsonNode stored = current.path("spec").path("template").path("restartedAt");
    JsonNode template = doc.path("spec").path("template");
    if (!stored.isTextual() || !template.isObject() || template.has("restartedAt")) {
      return doc;
    }
    JsonNode copy = doc.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) copy.get("spec").get("template"))
        .set("restartedAt", stored);
    return copy;
  }

  /**
   * A replace that does not name {@code spec.template.region} keeps the stored one: pools stored
   * before {@code source} became the default hold the {@code us} they were given then, and the
   * manifests and pool files that made them, applied again, would have moved every such pool with a
   * source elsewhere to new apps (audit 20 M4; a dyno of the release before, during preboot, read
   * the new value as another target: review 9). A merge patch setting it to null takes {@code
   * source}.
   */
  static JsonNode keepRegion(JsonNode current, JsonNode doc) {
    return keepTemplateText(current, doc, "region");
  }

  /**
   * A replace that does not name {@code spec.template.stage} keeps the stored one, for the reason
   * {@link #keepRegion} does: pools stored before {@code source} became the default hold the {@code
   * production} they were given then, and a manifest or pool file naming none, applied again, would
   * have rolled every pool of a staging source to new apps in staging (audit 20 L5). A merge patch
   * setting it to null takes {@code source}.
   */
  static JsonNode keepStage(JsonNode current, JsonNode doc) {
    return keepTemplateText(current, doc, "stage");
  }

  /** {@code doc} with the stored text of {@code spec.template.<field>} when it names none. */
  private static JsonNode keepTemplateText(JsonNode current, JsonNode doc, String field) {
    JsonNode stored = current.path("spec").path("template").path(field);
    JsonNode template = doc.path("spec").path("template");
    if (!stored.isTextual() || !template.isObject() || template.hasNonNull(field)) {
      return doc;
    }
    JsonNode copy = doc.deepCopy();
    ((ObjectNode) copy.get("spec").get("template")).set(field, stored);
    return copy;
  }

  public PoolDocument patch(String name, String body, Precondition pre) {
    return patch(name, body.getBytes(StandardCharsets.UTF_8), pre);
  }

  public PoolDocument patch(String name, byte[] body, Precondition pre) {
    return patchWithWarnings(name, body, pre).pool();
  }

  /** A merge patch, with what its answer warns of ({@link Written}). */
  public Written patchWithWarnings(String name, byte[] body, Precondition pre) {
    JsonNode patch = parse(body);
    if (!patch.isObject()) {
      throw ApiException.invalid(
          List.of(new FieldError("(body)", "a merge patch must be a JSON object")));
    }
    return update(
        name,
        pre,
        patch,
        current -> {
          JsonNode merged = MergePatch.apply(current, patch);
          List<FieldError> errors = PoolValidator.validateDocument(merged);
          if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
          }
          if (!merged.get("metadata").get("name").asText().equals(name)) {
            throw ApiException.invalid(
                List.of(new FieldError("metadata.name", "pools cannot be renamed")));
          }
          return merged;
        });
  }

  public PoolDocument scale(String name, String body, Precondition pre) {
    return scale(name, body.getBytes(StandardCharsets.UTF_8), pre);
  }

  public PoolDocument scale(String name, byte[] body, Precondition pre) {
    return scaleWithWarnings(name, body, pre).pool();
  }

  /**
   * A scale, with what its answer warns of ({@link Written}): a scale-up that takes the pools
   * together above the app limit, as a create or a patch does.
   */
  public Written scaleWithWarnings(String name, byte[] body, Precondition pre) {
    JsonNode req = parse(body);
    JsonNode replicas = req.isObject() ? req.get("replicas") : null;
    List<FieldError> errors = new java.util.ArrayList<>();
    if (!req.isObject()) {
      errors.add(new FieldError("(body)", "must be a JSON object like {\"replicas\": 3}"));
    } else {
      req.fieldNames()
          .forEachRemaining(
              f -> {
                if (!f.equals("replicas")) {
                  errors.add(new FieldError(f, PoolValidator.unknownField(f, List.of("replicas"))));
                }
              });
      if (replicas == null || replicas.isNull()) {
        errors.add(new FieldError("replicas", "is required"));
      } else if (!replicas.isIntegralNumber()
          || !replicas.canConvertToInt()
          || replicas.asInt() < 0
          || replicas.asInt() > 100) {
        errors.add(new FieldError("replicas", "must be an integer from 0 to 100"));
      }
    }
    if (!errors.isEmpty()) {
      throw ApiException.invalidRequest(errors);
    }
    int n = replicas.asInt();
    return update(
        name,
        pre,
        null,
        current -> {
          if (current.get("spec").get("template") == null) {
            throw ApiException.invalidRequest(
                List.of(
                    new FieldError(
                        "replicas",
                        "a static pool has no replicas: edit spec.staticBackends instead")));
          }
          JsonNode size = current.get("spec").get("template").get("dynoSize");
          if (n > 1 && size != null && "eco".equalsIgnoreCase(size.asText())) {
            throw ApiException.invalidRequest(
                List.of(
                    new FieldError(
                        "replicas", "at most 1 with dynoSize eco: " + PoolValidator.ECO_LIMIT)));
          }
          JsonNode surge = current.get("spec").path("rollout").path("maxSurge");
          int s = surge.isInt() ? surge.asInt() : 1;
          int peak = n + Math.min(s, n);
          JsonNode stored = current.get("spec").path("replicas");
          int before = stored.isInt() ? stored.asInt() + Math.min(s, stored.asInt()) : 0;
          if (peak > appLimit && peak > before) {
            throw ApiException.invalidRequest(
                List.of(
                    new FieldError(
                        "replicas",
                        n
                            + " replicas with the rollout's surge "
                            + (peak - n)
                            + " (spec.rollout.maxSurge, at most replicas) make "
                            + peak
                            + " apps, above the account's app limit "
                            + appLimit
                            + " (DYNOFLEET_HEROKU_APP_LIMIT)"
                            + APP_LIMIT_FIX)));
          }
          ObjectNode copy = current.deepCopy();
          ((ObjectNode) copy.get("spec")).put("replicas", n);
          return copy;
        });
  }

  /**
   * Gives a managed pool a new proxy secret ({@code DYNOFLEET_PROXY_SECRET}) and rolls it, as
   * {@code rollout restart} does ({@code spec.template.restartedAt}, in the same transaction), so
   * every backend is replaced within the rollout bounds by an app holding the new one. Until it is
   * replaced, each old backend is sent the secret it holds (see {@code Backend.proxySecret}): no
   * app stops trusting {@code X-Dynofleet-Client-Ip} meanwhile. The secret is in no answer, event
   * or log line.
   */
  public PoolDocument rotateProxySecret(String name, Precondition pre) {
    PoolDocument doc =
        update(
                name,
                pre,
                null,
                current -> {
                  JsonNode template = current.get("spec").get("template");
                  if (template == null) {
                    throw new ApiException(
                        409,
                        "not-managed",
                        "Pool is static",
                        "pool '"
                            + name
                            + "' is static (spec.staticBackends): its backends are not apps Dynofleet"
                            + " configures, and get no proxy secret; nothing was changed");
                  }
                  String restarted = now().toString();
                  if (restarted.equals(template.path("restartedAt").asText(null))) {
                    restarted =
                        now().plusMillis(1).toString(); // a new value, or nothing would roll
                  }
                  ObjectNode copy = current.deepCopy();
                  ((ObjectNode) copy.get("spec").get("template")).put("restartedAt", restarted);
                  return copy;
                },
                pool -> pools.rotateProxySecret(pool.id))
            .pool();
    recordAfterCommit(
        doc.metadata().uid(),
        name,
        PoolEvents.NORMAL,
        "ProxySecretRotated",
        "proxy secret rotated (generation "
            + doc.metadata().generation()
            + "): every backend is replaced by an app holding the new one; until then each is"
            + " sent the one it holds");
    return doc;
  }

  /** Marks the pool for deletion; the reconciler's finalizer deletes its apps, then the row. */
  public PoolDocument delete(String name, Precondition pre) {
    boolean[] marked = new boolean[1];
    Pool p =
        write(
            () -> {
              marked[0] = false;
              Pool pool = load(name);
              checkPrecondition(pre, pool);
              if (pool.deletionTimestamp == null) {
                pool.deletionTimestamp = now();
                pool.updatedAt = pool.deletionTimestamp;
                pools.flush();
                marked[0] = true;
              }
              return pool;
            },
            pre);
    if (marked[0]) { // a repeated DELETE changes nothing: no second event
      recordAfterCommit(
          p.id,
          p.name,
          PoolEvents.NORMAL,
          "Deleting",
          "deletion requested; the apps Dynofleet created for this pool will be deleted");
      changed.fire(new PoolChanged(p.id, p.name));
    }
    return PoolDocument.of(p);
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * An event about a write already committed: a failure to record it is logged, not answered, so
   * the caller is not told a write that happened failed, and the reconciler still hears of it
   * (review 23).
   */
  private void recordAfterCommit(
      UUID poolId, String poolName, String type, String reason, String message) {
    try {
      events.record(poolId, poolName, type, reason, message);
    } catch (RuntimeException e) {
      LOG.warnf(
          "event pool=%s reason=%s not recorded: %s",
          poolName, reason, e.getClass().getSimpleName());
    }
  }

  private interface Edit {
    JsonNode apply(JsonNode current);
  }

  /**
   * Read, edit, write with compare-and-set on resourceVersion; re-run on a lost race. With what the
   * answer warns of (a {@code Warning} header): the pools together above the app limit.
   */
  private Written update(String name, Precondition pre, JsonNode body, Edit edit) {
    return update(name, pre, body, edit, null);
  }

  /**
   * As {@link #update(String, Precondition, JsonNode, Edit)}; {@code withSpec}, if given, runs in
   * the write's transaction when the spec changed (and is rolled back with it).
   */
  private Written update(
      String name,
      Precondition pre,
      JsonNode body,
      Edit edit,
      java.util.function.Consumer<Pool> withSpec) {
    Long bodyRv = body == null ? null : bodyResourceVersion(body);
    String bodyUid = body == null ? null : bodyUid(body);
    boolean[] specChanged = new boolean[1];
    String[] change = new String[1];
    // the maintenance switch flipped by this write: its own event, beside SpecChanged
    Boolean[] maintenance = new Boolean[1];
    String[] fleetAbove = new String[1];
    Pool p =
        write(
            () -> {
              maintenance[0] = null; // a lost race runs this again
              fleetAbove[0] = null;
              Pool pool = load(name);
              checkPrecondition(pre, pool);
              if (bodyUid != null && !bodyUid.equalsIgnoreCase(pool.id.toString())) {
                // a pool deleted and made again under the same
                // name is another object (Kubernetes: 409)
                throw new ApiException(
                    409,
                    "uid-mismatch",
                    "Conflict",
                    "metadata.uid "
                        + bodyUid
                        + " is not this pool's uid ("
                        + pool.id
                        + "): the pool was deleted and created again; read it again",
                    List.of(new FieldError("metadata.uid", "not this pool's uid")));
              }
              if (bodyRv != null && bodyRv != pool.resourceVersion) {
                throw new ApiException(
                    409,
                    "conflict",
                    "Conflict",
                    "metadata.resourceVersion "
                        + bodyRv
                        + " is stale (now "
                        + pool.resourceVersion
                        + "): read the pool again and re-apply your change",
                    List.of(new FieldError("metadata.resourceVersion", "stale")));
              }
              JsonNode next = edit.apply(currentDocument(pool));
              PoolSpec spec = SpecDefaults.apply(name, toSpec(next));
              if (!namesDefault(next)) {
                // defaulted as on a create: the only pool, without hosts, is the default
                pools.lockRoutingClaims();
                spec = withDefault(spec, soleWithoutHosts(spec, pools.others(name)));
              }
              Map<String, String> labels = labels(next);
              // a change of order alone (hosts, static backends) means nothing: stored as
              // written, without a new generation or a pass (see SpecDefaults.unordered)
              boolean specDiff =
                  !SpecDefaults.unordered(spec).equals(SpecDefaults.unordered(pool.spec));
              boolean reordered = !specDiff && !spec.equals(pool.spec);
              boolean labelDiff = !labels.equals(pool.labels);
              if (!specDiff && !labelDiff && !reordered) {
                return pool; // a no-op write changes nothing, not even resourceVersion
              }
              if (pool.terminating() && specDiff) {
                throw new ApiException(
                    409,
                    "terminating",
                    "Pool is being deleted",
                    "pool '" + name + "' is being deleted; its spec can no longer change");
              }
              if (specDiff && pool.spec.managed() != spec.managed()) {
                // a managed pool's apps would be left running
                // (and billed), unseen, until the pool went
                throw ApiException.invalid(
                    List.of(
                        new FieldError(
                            pool.spec.managed() ? "spec.staticBackends" : "spec.template",
                            "a pool cannot change between managed (spec.template) and static (spec.staticBackends):"
                                + " create another pool")));
              }
              if (specDiff
                  && pool.spec.managed()
                  && spec.managed()
                  && !java.util.Objects.equals(pool.spec.pipeline(), spec.pipeline())) {
                // Heroku couples an app to one pipeline: the backends could not follow (review 3: a
                // change had every pass re-couple them, in vain, 2 calls per backend every 2 s)
                throw ApiException.invalid(
                    List.of(
                        new FieldError(
                            "spec.pipeline",
                            "cannot change (now '"
                                + pool.spec.pipeline()
                                + "'): the pool's apps are coupled to it; create another pool for another pipeline")));
              }
              if (specDiff) {
                checkAppLimit(spec, pool.spec);
                checkRoutingClashes(name, spec);
                fleetAbove[0] = fleetAboveAppLimit(spec, pool.spec, pool.id, pools.others(name));
                change[0] =
                    "generation "
                        + pool.generation
                        + " → "
                        + (pool.generation + 1)
                        + ": "
                        + SpecChanges.describe(mapper, pool.spec, spec);
                maintenance[0] =
                    inMaintenance(pool.spec) == inMaintenance(spec) ? null : inMaintenance(spec);
                pool.spec = spec;
                pool.generation++;
                if (withSpec != null) {
                  withSpec.accept(pool);
                }
              } else if (reordered) {
                pool.spec = spec;
              }
              pool.labels = labels;
              pool.updatedAt = now();
              pools.flush();
              specChanged[0] = specDiff;
              return pool;
            },
            pre);
    if (specChanged[0]) {
      // logged by the event (with the request's id): who changed what, and when
      recordAfterCommit(p.id, p.name, PoolEvents.NORMAL, "SpecChanged", change[0]);
      if (maintenance[0] != null) {
        recordAfterCommit(
            p.id,
            p.name,
            PoolEvents.NORMAL,
            maintenance[0] ? MAINTENANCE_ON : MAINTENANCE_OFF,
            maintenance[0]
                ? maintenanceOn()
                : "maintenance off: the pool's requests go to its backends again");
      }
      if (fleetAbove[0] != null) {
        recordAfterCommit(p.id, p.name, PoolEvents.WARNING, APP_LIMIT, fleetAbove[0]);
      }
      changed.fire(new PoolChanged(p.id, p.name));
    }
    return new Written(
        PoolDocument.of(p),
        specChanged[0] && fleetAbove[0] != null ? List.of(fleetAbove[0]) : List.of());
  }

  private Pool write(Supplier<Pool> work, Precondition pre) {
    for (int attempt = 1; ; attempt++) {
      try {
        return QuarkusTransaction.requiringNew().call(work::get);
      } catch (RuntimeException e) {
        if (!isLostRace(e)) {
          throw e;
        }
        // tried again on the version that won: the preconditions are checked anew there (a version
        // named in If-Match no longer matches, 412; "*" or If-None-Match may still hold)
        if (attempt >= MAX_ATTEMPTS) {
          throw new ApiException(
              409, "conflict", "Conflict", "too many concurrent writers; try again");
        }
      }
    }
  }

  private static boolean isLostRace(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OptimisticLockException || t instanceof StaleStateException) {
        return true;
      }
      // two creates of one name: the unique index decides
      if (t instanceof org.hibernate.exception.ConstraintViolationException) {
        return true;
      }
    }
    return false;
  }

  private static void checkPrecondition(Precondition pre, Pool pool) {
    pre.checkWrite(pool.resourceVersion);
  }

  private void checkRoutingClashes(String name, PoolSpec spec) {
    List<String> hosts = spec.routing().hosts();
    boolean isDefault = Boolean.TRUE.equals(spec.routing().defaultPool());
    if (hosts.isEmpty() && !isDefault) {
      return;
    }
    for (int i = 0; i < hosts.size(); i++) {
      String h = hosts.get(i);
      if (adminHosts.admin(h)) {
        // never proxied: the pool would never get a request there (security review 1)
        throw new ApiException(
            409,
            "host-taken",
            "Host already routed",
            "host '"
                + h
                + "' is Dynofleet's own (DYNOFLEET_ADMIN_HOSTS): it serves the API and dashboard only",
            List.of(new FieldError("spec.routing.hosts[" + i + "]", "Dynofleet's own host")));
      }
    }
    pools.lockRoutingClaims();
    for (Pool other : pools.others(name)) {
      for (int i = 0; i < hosts.size(); i++) {
        String h = hosts.get(i);
        if (other.spec.routing() != null && other.spec.routing().hosts().contains(h)) {
          // the field named, so a client can point at it without reading the detail (audit 17)
          throw new ApiException(
              409,
              "host-taken",
              "Host already routed",
              "host '" + h + "' is already routed to pool '" + other.name + "'",
              List.of(
                  new FieldError(
                      "spec.routing.hosts[" + i + "]", "routed to pool '" + other.name + "'")));
        }
      }
      if (isDefault
          && other.spec.routing() != null
          && Boolean.TRUE.equals(other.spec.routing().defaultPool())) {
        throw new ApiException(
            409,
            "default-taken",
            "Default pool exists",
            "pool '" + other.name + "' is already the default pool",
            List.of(
                new FieldError(
                    "spec.routing.default", "pool '" + other.name + "' is the default")));
      }
    }
  }

  private Pool load(String name) {
    return pools.findByName(name).orElseThrow(() -> ApiException.notFound(name));
  }

  private JsonNode currentDocument(Pool p) {
    ObjectNode doc = mapper.createObjectNode();
    doc.put("apiVersion", PoolValidator.API_VERSION);
    doc.put("kind", PoolValidator.KIND);
    ObjectNode md = doc.putObject("metadata");
    md.put("name", p.name);
    md.set("labels", mapper.valueToTree(p.labels));
    doc.set("spec", mapper.valueToTree(p.spec));
    return doc;
  }

  private JsonNode parse(String body) {
    if (body == null || body.isBlank()) {
      throw new ApiException(400, "empty-body", "Empty body", "the request needs a JSON body");
    }
    try {
      return bodies.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ApiException(400, "malformed-json", "Malformed JSON", StrictJson.describe(e));
    }
  }

  /**
   * A request body, decoded as UTF-8 strictly: a byte that is not UTF-8 is refused by position (as
   * text, RESTEasy replaced it with U+FFFD and a config var's value was stored changed; audit 17).
   * A charset parameter is ignored, as RFC 8259 says: JSON is UTF-8.
   */
  private JsonNode parse(byte[] body) {
    java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(body == null ? new byte[0] : body);
    java.nio.CharBuffer out = java.nio.CharBuffer.allocate(in.remaining());
    java.nio.charset.CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
            .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
    java.nio.charset.CoderResult result = utf8.decode(in, out, true);
    if (result.isError()) {
      throw new ApiException(
          400,
          "malformed-json",
          "Malformed JSON",
          "the body is not UTF-8 at byte " + (in.position() + 1) + " (send JSON in UTF-8)");
    }
    utf8.flush(out);
    return parse(out.flip().toString());
  }

  private JsonNode parseAndValidate(JsonNode doc) {
    List<FieldError> errors = PoolValidator.validateDocument(doc);
    if (!errors.isEmpty()) {
      throw ApiException.invalid(errors);
    }
    return doc;
  }

  private PoolSpec toSpec(JsonNode doc) {
    try {
      return mapper.treeToValue(doc.get("spec"), PoolSpec.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      // the validator accepts only what binds; reaching here is a validator gap, still a 422
      throw ApiException.invalid(
          List.of(new FieldError("spec", "cannot be read: " + e.getMessage())));
    }
  }

  private Map<String, String> labels(JsonNode doc) {
    JsonNode l = doc.get("metadata").get("labels");
    if (l == null || l.isNull()) {
      return Map.of();
    }
    return new java.util.TreeMap<>(mapper.convertValue(l, STRING_MAP));
  }

  private static String bodyUid(JsonNode doc) {
    JsonNode md = doc.get("metadata");
    JsonNode uid = md == null ? null : md.get("uid");
    if (uid == null || uid.isNull()) {
      return null;
    }
    if (!uid.isTextual() || !PoolValidator.UUID_RE.matcher(uid.asText()).matches()) {
      // {} or 42 was told "the pool was deleted and created again" (audit 17)
      throw ApiException.invalid(
          List.of(
              new FieldError(
                  "metadata.uid", "must be the pool's uid as read (a UUID)," + " or left out")));
    }
    return uid.asText();
  }

  private static Long bodyResourceVersion(JsonNode doc) {
    JsonNode md = doc.get("metadata");
    JsonNode rv = md == null ? null : md.get("resourceVersion");
    if (rv == null || rv.isNull()) {
      return null;
    }
    if (rv.isIntegralNumber() && rv.canConvertToLong()) {
      return rv.asLong();
    }
    if (rv.isTextual() && rv.asText().matches("[0-9]{1,18}")) {
      return Long.parseLong(rv.asText());
    }
    // a merge patch is not validated as a document before this (a PUT body is): 422, not a 500
    throw ApiException.invalid(
        List.of(
            new FieldError(
                "metadata.resourceVersion", "must be the resourceVersion read from the pool")));
  }

  private static String decodeContinue(String token) {
    if (token == null || token.isBlank()) {
      return null;
    }
    try {
      String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (!PoolValidator.DNS_LABEL.matcher(s).matches()) {
        throw new IllegalArgumentException();
      }
      return s;
    } catch (IllegalArgumentException e) {
      throw ApiException.invalidRequest(
          List.of(new FieldError("continue", "is not a token this API issued")));
    }
  }

  static Optional<String> nonBlank(String s) {
    return Optional.ofNullable(s).filter(x -> !x.isBlank()).map(Objects::toString);
  }
}
