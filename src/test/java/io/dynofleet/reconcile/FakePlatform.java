package io.dynofleet.reconcile;

import io.dynofleet.reconcile.Platform.PlatformException.Kind;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-memory Heroku behind the {@link Platform} seam, for deterministic reconciler tests (the
 * role of JOSDK's ExternalServiceMock and the ReplicaSet controller's FakePodControl). It records
 * every action, and has switches for failures: an error on the Nth call of an operation, a
 * simulated crash of the process after an operation, a rate-limit storm, releases that stay pending
 * or fail.
 */
@Alternative
@Singleton
public class FakePlatform implements Platform {

  /**
   * Thrown to simulate the process dying mid-pass: nothing after it runs, nothing is cleaned up.
   */
  public static final class Crash extends RuntimeException {
    Crash(String op) {
      super("simulated crash after " + op, null, false, false);
    }
  }

  public record Action(String op, String app) {}

  public final Map<String, App> apps = new LinkedHashMap<>();
  public final Map<String, Map<String, String>> config = new HashMap<>();
  public final Map<String, List<Release>> releases = new HashMap<>();
  public final Map<String, Integer> web = new HashMap<>();

  /** The web dyno size of each app, as last scaled (Heroku's capitalised names set by hand too). */
  public final Map<String, String> sizes = new HashMap<>();

  public final Map<String, Coupling> couplings = new LinkedHashMap<>();
  public final Map<String, List<Addon>> addons = new HashMap<>();

  /** App names another account holds: taken on create, 403 on read (names are Heroku-wide). */
  public final Set<String> foreign = new HashSet<>();

  /** Add-ons whose service does not support sharing: attaching them elsewhere is refused. */
  public final Set<String> unshareable = new HashSet<>();

  /** Every coupling refused (an app owned by another account than the pipeline). */
  public boolean refuseCoupling;

  public final Map<String, List<String>> attachments = new HashMap<>();
  public final List<Action> actions = new ArrayList<>();
  public final Map<String, String> pipelines = new HashMap<>();

  /** The team owning a pipeline, by name (absent: a personal account's). */
  public final Map<String, String> pipelineTeams = new HashMap<>();

  /** The team each app was made in, by name (absent: none). */
  public final Map<String, String> appTeams = new HashMap<>();

  /** The key's user's id ({@link #accountId}). */
  public static final String ACCOUNT = "fake-account-id";

  /** Who made each app, by app id ({@link #madeBy}): {@link #ACCOUNT} for {@link #createApp}'s. */
  public final Map<String, String> creators = new HashMap<>();

  @Override
  public String accountId() {
    return ACCOUNT;
  }

  @Override
  public synchronized String madeBy(String app) {
    enter("madeBy", app);
    App a = find(app);
    return a == null ? null : creators.get(a.id());
  }

  /** Webhook subscriptions by app name, and the secret each was last given (by webhook id). */
  public final Map<String, List<Webhook>> webhooks = new HashMap<>();

  public final Map<String, String> webhookSecrets = new HashMap<>();

  /** Log drains by app name, in the order added ({@code heroku drains:add}, or an add-on's). */
  public final Map<String, List<LogDrain>> drains = new HashMap<>();

  /** Enabled labs features by app name. */
  public final Map<String, Set<String>> features = new HashMap<>();

  public int restarts;
  private final AtomicLong calls = new AtomicLong();
  private final ThreadLocal<long[]> threadCalls = ThreadLocal.withInitial(() -> new long[1]);
  private final Map<String, Integer> crashAfter = new HashMap<>();

  /** Run once at the next call of an op: what a user does while a pass is under way. */
  private final Map<String, Runnable> onNext = new HashMap<>();

  /** Run once while the next call of an op is on its way ({@link #whileSending}). */
  private final Map<String, Runnable> whileSending = new HashMap<>();

  private final Map<String, Integer> failOn = new HashMap<>();
  public volatile Kind failKind;

  /** The message of the injected failures; null: "{op} failed (injected)". */
  public volatile String failMessage;

  public volatile boolean releasesPending;

  /**
   * Apps made meanwhile have no {@code web_url} (Heroku's schema allows null) until {@link
   * #giveWebUrls}.
   */
  public volatile boolean noWebUrls;

  public volatile boolean releasesFail;

  /** When set, releases run a release phase that prints this (read by {@link #releaseOutput}). */
  public volatile String releaseOutput;

  public volatile int rateRemaining = 4500;

  /** {@link Platform#sendWindow()}: about what the Heroku client's defaults give. */
  public volatile Duration sendWindow = Duration.ofMinutes(2);

  public volatile double errorRate;
  public volatile Clock clock = Clock.systemUTC();
  private final java.util.Random random = new java.util.Random(7);

  public synchronized void reset() {
    apps.clear();
    config.clear();
    releases.clear();
    releaseConfig.clear();
    web.clear();
    sizes.clear();
    couplings.clear();
    addons.clear();
    foreign.clear();
    unshareable.clear();
    refuseCoupling = false;
    attachments.clear();
    actions.clear();
    pipelines.clear();
    pipelineTeams.clear();
    appTeams.clear();
    creators.clear();
    webhooks.clear();
    webhookSecrets.clear();
    drains.clear();
    features.clear();
    crashAfter.clear();
    onNext.clear();
    whileSending.clear();
    failOn.clear();
    failKind = null;
    failMessage = null;
    releasesPending = false;
    noWebUrls = false;
    releasesFail = false;
    releaseOutput = null;
    rateRemaining = 4500;
    sendWindow = Duration.ofMinutes(2);
    errorRate = 0;
    restarts = 0;
  }

  /** A source app with a released slug, as after a `git push heroku`. */
  public synchronized App sourceApp(String name, Map<String, String> vars) {
    App app =
        new App(UUID.randomUUID().toString(), name, "http://127.0.0.1:1/" + name, clock.instant());
    apps.put(name, app);
    config.put(name, new HashMap<>(vars));
    releases.put(name, new ArrayList<>());
    push(name);
    return app;
  }

  /** A new slug and release on an app. */
  public synchronized Release push(String app) {
    List<Release> list = releases.get(app);
    Release r =
        new Release(
            UUID.randomUUID().toString(),
            list.size() + 1,
            UUID.randomUUID().toString(),
            "succeeded",
            "Deploy");
    list.add(r);
    releaseConfig.put(r.id(), Map.copyOf(config.getOrDefault(app, Map.of())));
    return r;
  }

  /** A config change on an app: Heroku makes a release of the same slug for it. */
  public synchronized void setVar(String app, String key, String value) {
    config.get(app).put(key, value);
    configRelease(app, "Set " + key, false);
  }

  /** {@code heroku config:unset}: the var goes, in a release of the same slug. */
  public synchronized void unsetVar(String app, String key) {
    config.get(app).remove(key);
    configRelease(app, "Unset " + key, false);
  }

  /**
   * An add-on attached to an app as Heroku does it: its vars set on the app, in a release of the
   * same slug ({@code failed}: the release phase failed, the release before it still runs).
   */
  public synchronized void attach(String app, Addon addon, boolean failed) {
    addons.computeIfAbsent(app, k -> new ArrayList<>()).add(addon);
    addon.configVars().forEach(v -> config.get(app).put(v, "postgres://" + addon.id() + "/" + v));
    configRelease(app, "Attach " + addon.name(), failed);
  }

  /** The add-on detached from the app, its vars gone, in a release as {@link #attach} makes. */
  public synchronized void detach(String app, String addonId, boolean failed) {
    Addon addon =
        addons.get(app).stream().filter(a -> a.id().equals(addonId)).findFirst().orElseThrow();
    addons.get(app).remove(addon);
    addon.configVars().forEach(config.get(app)::remove);
    configRelease(app, "Detach " + addon.name(), failed);
  }

  /** The release of the same slug Heroku makes for a config change, with the app's config now. */
  private void configRelease(String app, String description, boolean failed) {
    List<Release> list = releases.get(app);
    Release last = list.get(list.size() - 1);
    Release r =
        new Release(
            UUID.randomUUID().toString(),
            list.size() + 1,
            last.slugId(),
            failed ? "failed" : "succeeded",
            description);
    list.add(r);
    releaseConfig.put(r.id(), Map.copyOf(config.get(app)));
  }

  /** {@code heroku apps:rename}: the app keeps its id; everything kept by name moves. */
  public synchronized void rename(String old, String neu) {
    App a = apps.remove(old);
    apps.put(
        neu,
        new App(
            a.id(),
            neu,
            a.webUrl(),
            a.createdAt(),
            a.region(),
            a.stack(),
            a.generation(),
            a.maintenance(),
            a.ownerId(),
            a.team()));
    for (Map<String, ?> m :
        List.of(config, releases, web, addons, attachments, webhooks, drains, features)) {
      @SuppressWarnings("unchecked")
      Map<String, Object> byName = (Map<String, Object>) m;
      Object v = byName.remove(old);
      if (v != null) {
        byName.put(neu, v);
      }
    }
  }

  /** Heroku gives every app without a {@code web_url} one. */
  public synchronized void giveWebUrls() {
    apps.replaceAll(
        (name, a) ->
            a.webUrl() != null
                ? a
                : new App(
                    a.id(),
                    name,
                    "https://" + name + "-0123456789ab.herokuapp.com/",
                    a.createdAt(),
                    a.region(),
                    a.stack(),
                    a.generation(),
                    a.maintenance(),
                    a.ownerId(),
                    a.team()));
  }

  public synchronized String addPipeline(String name) {
    return pipelines.computeIfAbsent(name, n -> UUID.randomUUID().toString());
  }

  /** After the {@code n}th next call of {@code op}, the process "dies". */
  public synchronized void crashAfter(String op, int n) {
    crashAfter.put(op, n);
  }

  /** The {@code n} next calls of {@code op} fail with {@code kind}. */
  public synchronized void failNext(String op, int n, Kind kind) {
    failOn.put(op, n);
    failKind = kind;
  }

  /** Apps that carry the ownership marker of a pool. */
  public synchronized List<String> appsOwnedBy(UUID pool) {
    return apps.keySet().stream()
        .filter(
            a -> pool.toString().equals(config.getOrDefault(a, Map.of()).get(Reconciler.OWNER_VAR)))
        .toList();
  }

  /** At the next call of {@code op}, {@code r} runs first (e.g. the pool is deleted mid-pass). */
  public synchronized void onNext(String op, Runnable r) {
    onNext.put(op, r);
  }

  /**
   * At the next call of {@code op}, {@code r} runs while the call is on its way: sent, not yet
   * carried out, and outside this platform's lock, so another dyno's pass can run meanwhile (a
   * request in flight when its pass loses its lock). Only {@code createRelease} has this seam.
   */
  public synchronized void whileSending(String op, Runnable r) {
    whileSending.put(op, r);
  }

  private void sending(String op) {
    Runnable r;
    synchronized (this) {
      r = whileSending.remove(op);
    }
    if (r != null) {
      r.run();
    }
  }

  /**
   * Before the next call of {@code op}, the process "dies" (e.g. right after an intent is written).
   */
  public synchronized void crashBefore(String op) {
    crashAfter.put(op + ":before", 1);
  }

  private void enter(String op, String app) {
    Runnable r = onNext.remove(op);
    if (r != null) {
      r.run();
    }
    if (crashAfter.remove(op + ":before") != null) {
      throw new Crash("before " + op);
    }
    calls.incrementAndGet();
    threadCalls.get()[0]++;
    if (rateRemaining <= 0) {
      throw new PlatformException(Kind.RATE_LIMITED, "rate limit", Duration.ofSeconds(1), null);
    }
    rateRemaining--;
    Integer n = failOn.get(op);
    if (n != null && n > 0) {
      failOn.put(op, n - 1);
      String message = failMessage != null ? failMessage : op + " failed (injected)";
      if (failKind == Kind.TRANSIENT) {
        // as HerokuPlatform tells a 5xx or no answer: the call may have been carried out (here it
        // was not), and the caller cannot know that (review 24 #1)
        throw PlatformException.mayHaveLanded(message, null);
      }
      throw new PlatformException(failKind, message);
    }
    if (errorRate > 0 && random.nextDouble() < errorRate) {
      throw PlatformException.mayHaveLanded(op + ": 503 (injected)", null);
    }
    // under the app's name when called by id (the reconciler names a made app by its id), so
    // tests read the actions by the names they know
    App known = app == null ? null : find(app);
    actions.add(new Action(op, known != null ? known.name() : app));
  }

  private void leave(String op) {
    Integer n = crashAfter.get(op);
    if (n != null) {
      if (n <= 1) {
        crashAfter.remove(op);
        throw new Crash(op);
      }
      crashAfter.put(op, n - 1);
    }
  }

  private App find(String idOrName) {
    App a = apps.get(idOrName);
    if (a != null) {
      return a;
    }
    return apps.values().stream().filter(x -> x.id().equals(idOrName)).findFirst().orElse(null);
  }

  private App need(String idOrName) {
    App a = find(idOrName);
    if (a == null) {
      throw new PlatformException(Kind.NOT_FOUND, "app " + idOrName + " not found");
    }
    return a;
  }

  @Override
  public synchronized Pipeline pipeline(String idOrName) {
    enter("pipelineId", null);
    String id = pipelines.get(idOrName);
    if (id == null) {
      throw new PlatformException(Kind.NOT_FOUND, "pipeline not found");
    }
    return new Pipeline(id, pipelineTeams.get(idOrName));
  }

  @Override
  public synchronized App createApp(String name, String region, String stack, String team) {
    enter("createApp", name);
    if (apps.containsKey(name) || foreign.contains(name)) {
      throw new PlatformException(Kind.NAME_TAKEN, "Name " + name + " is already taken");
    }
    App a =
        new App(
            UUID.randomUUID().toString(),
            name,
            noWebUrls ? null : "http://127.0.0.1:" + (20000 + apps.size()) + "/",
            clock.instant(),
            null,
            null,
            null,
            false,
            team == null ? ACCOUNT : "team-" + team,
            team);
    apps.put(name, a);
    creators.put(a.id(), ACCOUNT);
    if (team != null) {
      appTeams.put(name, team);
    }
    config.put(name, new HashMap<>());
    releases.put(name, new ArrayList<>());
    leave("createApp");
    return a;
  }

  @Override
  public synchronized Optional<App> app(String idOrName) {
    enter("app", idOrName);
    if (foreign.contains(idOrName)) {
      throw new PlatformException(
          Kind.FORBIDDEN, "You do not have access to the app " + idOrName + ".");
    }
    return Optional.ofNullable(find(idOrName));
  }

  @Override
  public synchronized List<App> apps() {
    enter("apps", null);
    return List.copyOf(apps.values());
  }

  @Override
  public synchronized void deleteApp(String idOrName) {
    enter("deleteApp", idOrName);
    App a = find(idOrName);
    if (a != null) {
      apps.remove(a.name());
      config.remove(a.name());
      couplings.values().removeIf(c -> c.appId().equals(a.id()));
    }
    leave("deleteApp");
  }

  @Override
  public synchronized Map<String, String> configVars(String app) {
    enter("configVars", app);
    return Map.copyOf(config.get(need(app).name()));
  }

  /** Config vars per release id, as each release was made (releases added by hand: the app's). */
  public final Map<String, Map<String, String>> releaseConfig = new HashMap<>();

  @Override
  public synchronized Map<String, String> releaseConfigVars(String app, String releaseId) {
    enter("configVars", app);
    Map<String, String> c = releaseConfig.get(releaseId);
    return c != null ? c : Map.copyOf(config.get(need(app).name()));
  }

  @Override
  public synchronized void patchConfigVars(String app, Map<String, String> vars) {
    enter("patchConfigVars", app);
    Map<String, String> c = config.get(need(app).name());
    vars.forEach(
        (k, v) -> {
          if (v == null) {
            c.remove(k);
          } else {
            c.put(k, v);
          }
        });
    leave("patchConfigVars");
  }

  @Override
  public synchronized List<Release> recentReleases(String app) {
    enter("recentReleases", app);
    List<Release> list = new ArrayList<>(releases.get(need(app).name()));
    java.util.Collections.reverse(list);
    return List.copyOf(list.subList(0, Math.min(10, list.size())));
  }

  /** Pages of ten, newest first, as {@link #recentReleases}; each page one call. */
  @Override
  public synchronized List<Release> recentReleasesUntil(
      String app, java.util.function.Predicate<Release> wanted, int pages) {
    List<Release> out = new ArrayList<>();
    for (int page = 0; page < pages; page++) {
      enter("recentReleases", app);
      List<Release> all = new ArrayList<>(releases.get(need(app).name()));
      java.util.Collections.reverse(all);
      List<Release> items =
          all.subList(Math.min(page * 10, all.size()), Math.min(page * 10 + 10, all.size()));
      out.addAll(items);
      if (items.stream().anyMatch(wanted) || (page + 1) * 10 >= all.size()) {
        break;
      }
    }
    return List.copyOf(out);
  }

  @Override
  public synchronized Release release(String app, String releaseId) {
    enter("release", app);
    return releases.get(need(app).name()).stream()
        .filter(r -> r.id().equals(releaseId))
        .findFirst()
        .orElseThrow(() -> new PlatformException(Kind.NOT_FOUND, "release not found"));
  }

  @Override
  public Release createRelease(String app, String slugId, String description) {
    sending("createRelease");
    synchronized (this) {
      enter("createRelease", app);
      List<Release> list = releases.get(need(app).name());
      String status = releasesFail ? "failed" : releasesPending ? "pending" : "succeeded";
      Release r =
          new Release(
              UUID.randomUUID().toString(),
              list.size() + 1,
              slugId,
              status,
              description,
              releaseOutput == null ? null : "fake://output/" + app);
      list.add(r);
      leave("createRelease");
      return r;
    }
  }

  @Override
  public List<String> releaseOutput(String outputStreamUrl, int maxLines) {
    enter("releaseOutput", outputStreamUrl);
    List<String> lines = releaseOutput == null ? List.of() : List.of(releaseOutput.split("\n"));
    return lines.subList(Math.max(0, lines.size() - maxLines), lines.size());
  }

  /** Lets pending releases finish. */
  public synchronized void completeReleases() {
    releases.replaceAll(
        (app, list) ->
            new ArrayList<>(
                list.stream()
                    .map(
                        r ->
                            r.status().equals("pending")
                                ? new Release(
                                    r.id(), r.version(), r.slugId(), "succeeded", r.description())
                                : r)
                    .toList()));
  }

  @Override
  public synchronized void scaleWeb(String app, int quantity, String size) {
    enter("scaleWeb", app);
    web.put(need(app).name(), quantity);
    if (size != null) {
      sizes.put(need(app).name(), size);
    }
    leave("scaleWeb");
  }

  @Override
  public synchronized Web web(String app) {
    enter("web", app);
    String name = need(app).name();
    return new Web(web.getOrDefault(name, 0), sizes.get(name));
  }

  @Override
  public synchronized List<Coupling> couplings(String pipelineId) {
    enter("couplings", null);
    return List.copyOf(couplings.values());
  }

  @Override
  public synchronized Coupling couple(String app, String pipelineId, String stage) {
    enter("couple", app);
    App a = need(app);
    if (refuseCoupling) {
      throw new PlatformException(Kind.INVALID, "App owner must match the pipeline owner");
    }
    if (couplings.values().stream().anyMatch(c -> c.appId().equals(a.id()))) {
      throw new PlatformException(Kind.INVALID, "already coupled");
    }
    Coupling c = new Coupling(UUID.randomUUID().toString(), a.id(), stage);
    couplings.put(c.id(), c);
    leave("couple");
    return c;
  }

  @Override
  public synchronized void restart(String app) {
    enter("restart", app);
    restarts++;
  }

  @Override
  public synchronized List<Addon> addons(String app) {
    enter("addons", app);
    return addons.getOrDefault(need(app).name(), List.of());
  }

  @Override
  public synchronized List<Attachment> attachments(String app) {
    enter("attachments", app);
    return attachments.getOrDefault(need(app).name(), List.of()).stream()
        .map(
            e -> {
              int as = e.indexOf(" as ");
              return as < 0
                  ? new Attachment(e, e + "-ATTACHMENT")
                  : new Attachment(e.substring(0, as), e.substring(as + 4));
            })
        .toList();
  }

  @Override
  public synchronized void attachAddon(String addonId, String app, String name) {
    enter("attachAddon", app);
    if (unshareable.contains(addonId)) {
      throw new PlatformException(Kind.INVALID, "This add-on does not support sharing");
    }
    List<String> list = attachments.computeIfAbsent(need(app).name(), k -> new ArrayList<>());
    String entry = name == null ? addonId : addonId + " as " + name;
    if (list.contains(entry)) {
      throw new PlatformException(Kind.INVALID, "already attached");
    }
    list.add(entry);
    leave("attachAddon");
  }

  @Override
  public synchronized List<LogDrain> logDrains(String app) {
    enter("logDrains", app);
    return List.copyOf(drains.getOrDefault(need(app).name(), List.of()));
  }

  @Override
  public synchronized void addLogDrain(String app, String url) {
    enter("addLogDrain", app);
    List<LogDrain> list = drains.computeIfAbsent(need(app).name(), k -> new ArrayList<>());
    if (list.stream().anyMatch(d -> d.url().equals(url))) {
      throw new PlatformException(Kind.INVALID, "Url has already been taken");
    }
    list.add(new LogDrain(url, false));
    leave("addLogDrain");
  }

  @Override
  public synchronized Set<String> features(String app) {
    enter("features", app);
    return Set.copyOf(features.getOrDefault(need(app).name(), Set.of()));
  }

  @Override
  public synchronized void enableFeature(String app, String feature) {
    enter("enableFeature", app);
    features.computeIfAbsent(need(app).name(), k -> new HashSet<>()).add(feature);
    leave("enableFeature");
  }

  @Override
  public synchronized List<Webhook> webhooks(String app) {
    enter("webhooks", app);
    return List.copyOf(webhooks.getOrDefault(need(app).name(), List.of()));
  }

  @Override
  public synchronized Webhook subscribe(String app, String url, String secret) {
    enter("subscribe", app);
    List<Webhook> list = webhooks.computeIfAbsent(need(app).name(), k -> new ArrayList<>());
    if (list.stream().anyMatch(w -> w.url().equals(url))) {
      throw new PlatformException(Kind.INVALID, "url has already been taken");
    }
    Webhook w = new Webhook(UUID.randomUUID().toString(), url, List.of("api:release"));
    list.add(w);
    webhookSecrets.put(w.id(), secret);
    leave("subscribe");
    return w;
  }

  @Override
  public synchronized void resubscribe(String app, String webhookId, String secret) {
    enter("resubscribe", app);
    if (webhooks.getOrDefault(need(app).name(), List.of()).stream()
        .noneMatch(w -> w.id().equals(webhookId))) {
      throw new PlatformException(Kind.NOT_FOUND, "webhook not found");
    }
    webhookSecrets.put(webhookId, secret);
    leave("resubscribe");
  }

  @Override
  public synchronized void unsubscribe(String app, String webhookId) {
    enter("unsubscribe", app);
    App a = find(app);
    if (a != null) { // an app already gone took its subscriptions with it
      webhooks.getOrDefault(a.name(), new ArrayList<>()).removeIf(w -> w.id().equals(webhookId));
    }
    webhookSecrets.remove(webhookId);
    leave("unsubscribe");
  }

  @Override
  public long calls() {
    return threadCalls.get()[0];
  }

  @Override
  public int rateRemaining() {
    return rateRemaining;
  }

  @Override
  public Duration sendWindow() {
    return sendWindow;
  }
}
