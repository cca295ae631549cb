package io.dynofleet.reconcile;

import io.dynofleet.heroku.AddOnAttachment;
import io.dynofleet.heroku.AppCreate;
import io.dynofleet.heroku.AppWebhook;
import io.dynofleet.heroku.HerokuClient;
import io.dynofleet.heroku.HerokuException;
import io.dynofleet.heroku.PipelineCoupling;
import io.dynofleet.heroku.TeamAppCreate;
import io.dynofleet.reconcile.Platform.PlatformException.Kind;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * {@link Platform} over the Heroku Platform API client: maps Heroku's records to the reconciler's
 * and its typed errors to {@link PlatformException} kinds. Retries, paging, ETags and the rate
 * budget live in {@link HerokuClient}; this class adds no policy of its own.
 */
@ApplicationScoped
public class HerokuPlatform implements Platform {

  /** The events a pool's subscription on its source app asks for. */
  private static final List<String> RELEASES = List.of("api:release");

  private final HerokuClient heroku;

  /** Per add-on service id: whether it supports sharing (a property of the service). */
  private final java.util.Map<String, Boolean> sharing =
      new java.util.concurrent.ConcurrentHashMap<>();

  HerokuPlatform(HerokuClient heroku) {
    this.heroku = heroku;
  }

  @Override
  public Pipeline pipeline(String idOrName) {
    return call(
        () -> {
          io.dynofleet.heroku.Pipeline p = heroku.pipeline(idOrName);
          // POST /teams/apps takes the team's name; the pipeline names its owner by id
          String team = null;
          if (p.teamId() != null) {
            try {
              team = heroku.team(p.teamId()).name();
            } catch (HerokuException.Permanent e) {
              // the key may not read the team: its id then (Heroku takes a team by id
              // or name in most places). Failing here stopped the whole pool, not only
              // its creates (review 9); if Heroku refuses the id, the create says so
              team = p.teamId();
            }
          }
          return new Pipeline(p.id(), team);
        });
  }

  @Override
  public App createApp(String name, String region, String stack, String team) {
    return call(
        () ->
            map(
                team == null
                    ? heroku.createApp(new AppCreate(name, region, stack))
                    : heroku.createTeamApp(new TeamAppCreate(name, region, stack, team))));
  }

  @Override
  public boolean isOwnKey(String value) {
    return heroku.isApiKey(value);
  }

  @Override
  public String keyFingerprint() {
    return heroku.keyFingerprint();
  }

  @Override
  public Optional<App> app(String idOrName) {
    try {
      return Optional.of(call(() -> map(heroku.app(idOrName))));
    } catch (PlatformException e) {
      if (e.kind() == Kind.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The key's user's id, with the fingerprint of the key it was read with. */
  private volatile String[] account;

  @Override
  public String accountId() {
    String[] known = account;
    String key = heroku.keyFingerprint();
    if (known == null || !known[0].equals(key)) {
      // read again for a new key (a rotation may give another user's)
      known = new String[] {key, call(() -> heroku.account().id())};
      account = known;
    }
    return known[1];
  }

  @Override
  public String madeBy(String app) {
    try {
      io.dynofleet.heroku.Release first = call(() -> heroku.release(app, "1"));
      return first.user() == null ? null : first.user().id();
    } catch (PlatformException e) {
      if (e.kind() == Kind.NOT_FOUND) {
        return null;
      }
      throw e;
    }
  }

  @Override
  public List<App> apps() {
    return call(() -> heroku.apps().stream().map(HerokuPlatform::map).toList());
  }

  @Override
  public void deleteApp(String idOrName) {
    try {
      call(() -> heroku.deleteApp(idOrName));
    } catch (PlatformException e) {
      if (e.kind() != Kind.NOT_FOUND) {
        throw e;
      }
    }
  }

  @Override
  public Map<String, String> configVars(String app) {
    return call(() -> heroku.configVars(app));
  }

  @Override
  public Map<String, String> releaseConfigVars(String app, String releaseId) {
    return call(() -> heroku.releaseConfigVars(app, releaseId));
  }

  @Override
  public void patchConfigVars(String app, Map<String, String> vars) {
    call(() -> heroku.updateConfigVars(app, vars));
  }

  @Override
  public List<Release> recentReleases(String app) {
    return call(
        () ->
            heroku.recentReleases(app, RECENT_RELEASES).stream().map(HerokuPlatform::map).toList());
  }

  @Override
  public List<Release> recentReleasesUntil(
      String app, java.util.function.Predicate<Release> wanted, int pages) {
    return call(
        () ->
            heroku
                .recentReleasesUntil(app, RECENT_RELEASES, pages, r -> wanted.test(map(r)))
                .stream()
                .map(HerokuPlatform::map)
                .toList());
  }

  /**
   * Releases looked at per source app and pass: one page, the last good one behind a few failed.
   */
  static final int RECENT_RELEASES = 10;

  @Override
  public Release release(String app, String releaseId) {
    return call(() -> map(heroku.release(app, releaseId)));
  }

  @Override
  public List<String> releaseOutput(String outputStreamUrl, int maxLines) {
    return call(() -> heroku.releaseOutput(outputStreamUrl, maxLines));
  }

  @Override
  public List<String> logTail(String app, int maxLines) {
    return call(
        () ->
            heroku.logTail(
                heroku.createLogSession(app, maxLines, "app", false).logplexUrl(), maxLines));
  }

  @Override
  public Release createRelease(String app, String slugId, String description) {
    return call(() -> map(heroku.createRelease(app, slugId, description)));
  }

  @Override
  public void scaleWeb(String app, int quantity, String size) {
    call(() -> heroku.updateFormation(app, "web", quantity, size));
  }

  @Override
  public Web web(String app) {
    try {
      io.dynofleet.heroku.Formation f = call(() -> heroku.formation(app, "web"));
      return new Web(f.quantity(), f.size());
    } catch (PlatformException e) {
      if (e.kind() == Kind.NOT_FOUND) {
        return new Web(0, null); // the slug has no web process
      }
      throw e;
    }
  }

  @Override
  public List<Coupling> couplings(String pipelineId) {
    return call(
        () -> heroku.pipelineCouplings(pipelineId).stream().map(HerokuPlatform::map).toList());
  }

  @Override
  public Coupling couple(String app, String pipelineId, String stage) {
    return call(() -> map(heroku.createPipelineCoupling(app, pipelineId, stage)));
  }

  @Override
  public void restart(String app) {
    call(
        () -> {
          heroku.restartAllDynos(app);
          return null;
        });
  }

  @Override
  public List<Addon> addons(String app) {
    // owned and attached alike: a backend must see every add-on its source app sees (a database
    // shared from another app included), through an attachment that follows credential rotation
    // and the names they are attached under there (one more call, only when the source changes)
    return call(
        () -> {
          Map<String, List<String>> names = new HashMap<>();
          for (AddOnAttachment at : heroku.addonAttachments(app)) {
            if (at.addon() != null && at.addon().id() != null && at.name() != null) {
              names.computeIfAbsent(at.addon().id(), k -> new ArrayList<>()).add(at.name());
            }
          }
          return heroku.addons(app).stream()
              .map(
                  a ->
                      new Addon(
                          a.id(),
                          a.name(),
                          a.configVars() == null ? List.of() : a.configVars(),
                          List.copyOf(names.getOrDefault(a.id(), List.of())),
                          shareable(a)))
              .toList();
        });
  }

  @Override
  public void attachAddon(String addonId, String app, String name) {
    try {
      call(() -> heroku.createAddonAttachment(addonId, app, name));
    } catch (PlatformException e) {
      // Heroku answers 422 when the attachment (its name) exists: a retried step
      throw e.kind() == Kind.NAME_TAKEN
          ? new PlatformException(Kind.INVALID, e.getMessage(), null, e)
          : e;
    }
  }

  /**
   * Whether the add-on's service lets it be attached to other apps (the schema's default is no;
   * review 6: Heroku refused those attachments and the backends went without). One call per
   * service, remembered: it is the service's property, not the add-on's.
   */
  private boolean shareable(io.dynofleet.heroku.AddOn a) {
    if (a.addonService() == null || a.addonService().id() == null) {
      return true; // nothing to ask about: try, and a refusal is reported at the attachment
    }
    String id = a.addonService().id();
    Boolean known = sharing.get(id);
    if (known != null) {
      return known;
    }
    boolean shareable;
    try {
      // only a service that says no is copied: a missing answer, or none at all, is tried (review
      // 8: copied, a database's credentials would not follow a rotation), and a refusal still
      // shows at the attachment
      shareable = !Boolean.FALSE.equals(heroku.addonService(id).supportsSharing());
    } catch (HerokuException.Permanent e) {
      shareable = true; // no answer to have (not found, not allowed): tried, a refusal shows there
    }
    // a transient failure goes up and fails the pass: guessed and not remembered, one failed
    // lookup flipped the target, a rollout and another one back (review 9)
    sharing.put(id, shareable); // not computeIfAbsent: no map lock held across a remote call
    return shareable;
  }

  @Override
  public List<Attachment> attachments(String app) {
    return call(
        () ->
            heroku.addonAttachments(app).stream()
                .filter(at -> at.addon() != null && at.addon().id() != null)
                .map(at -> new Attachment(at.addon().id(), at.name()))
                .toList());
  }

  @Override
  public List<LogDrain> logDrains(String app) {
    return call(
        () ->
            heroku.logDrains(app).stream()
                .filter(d -> d.url() != null)
                .map(d -> new LogDrain(d.url(), d.addon() != null))
                .toList());
  }

  @Override
  public void addLogDrain(String app, String url) {
    try {
      call(() -> heroku.createLogDrain(app, url));
    } catch (PlatformException e) {
      // Heroku answers 422 "Url has already been taken" for a drain the app has: a retried step
      throw e.kind() == Kind.NAME_TAKEN
          ? new PlatformException(Kind.INVALID, e.getMessage(), null, e)
          : e;
    }
  }

  @Override
  public java.util.Set<String> features(String app) {
    return call(
        () ->
            heroku.appFeatures(app).stream()
                .filter(io.dynofleet.heroku.AppFeature::enabled)
                .map(io.dynofleet.heroku.AppFeature::name)
                .collect(java.util.stream.Collectors.toUnmodifiableSet()));
  }

  @Override
  public void enableFeature(String app, String feature) {
    call(() -> heroku.updateAppFeature(app, feature, true));
  }

  @Override
  public List<Webhook> webhooks(String app) {
    return call(() -> heroku.webhooks(app).stream().map(HerokuPlatform::map).toList());
  }

  @Override
  public Webhook subscribe(String app, String url, String secret) {
    return call(() -> map(heroku.createWebhook(app, RELEASES, "notify", url, secret)));
  }

  @Override
  public void resubscribe(String app, String webhookId, String secret) {
    call(() -> heroku.updateWebhook(app, webhookId, RELEASES, "notify", secret));
  }

  @Override
  public void unsubscribe(String app, String webhookId) {
    try {
      call(() -> heroku.deleteWebhook(app, webhookId));
    } catch (PlatformException e) {
      if (e.kind() != Kind.NOT_FOUND) {
        throw e;
      }
    }
  }

  @Override
  public String simulatorUrl() {
    return heroku.simulatorUrl().orElse(null);
  }

  @Override
  public long calls() {
    return heroku.callCountOfThread();
  }

  @Override
  public void onRateLimitWait(Consumer<Duration> listener) {
    heroku.budget().onWait(listener);
  }

  @Override
  public void onTransientFailure(Consumer<String> listener) {
    heroku.onTransientFailure(listener);
  }

  @Override
  public Duration sendWindow() {
    return heroku.sendWindow();
  }

  @Override
  public void shareBudget(java.util.function.IntSupplier dynos) {
    heroku.budget().dynos(dynos);
  }

  @Override
  public int rateRemaining() {
    return (int) Math.min(Integer.MAX_VALUE, heroku.rateRemaining());
  }

  @Override
  public boolean paced() {
    return heroku.budget().paced();
  }

  // ---------------------------------------------------------------- mapping

  private static App map(io.dynofleet.heroku.App a) {
    return new App(
        a.id(),
        a.name(),
        a.webUrl(),
        a.createdAt(),
        a.region() == null ? null : a.region().name(),
        a.stack() == null ? null : a.stack().name(),
        a.generation() == null ? null : a.generation().name(),
        Boolean.TRUE.equals(a.maintenance()),
        a.owner() == null ? null : a.owner().id(),
        a.team() == null ? null : a.team().name());
  }

  private static Release map(io.dynofleet.heroku.Release r) {
    return new Release(
        r.id(),
        r.version(),
        r.slug() == null ? null : r.slug().id(),
        r.status(),
        r.description(),
        r.outputStreamUrl());
  }

  private static Coupling map(PipelineCoupling c) {
    return new Coupling(c.id(), c.app() == null ? null : c.app().id(), c.stage());
  }

  private static Webhook map(AppWebhook w) {
    return new Webhook(w.id(), w.url(), w.include() == null ? List.of() : w.include());
  }

  /** Runs a client call and translates its failure. */
  static <T> T call(Supplier<T> action) {
    try {
      return action.get();
    } catch (HerokuException e) {
      throw translate(e);
    }
  }

  static PlatformException translate(HerokuException e) {
    String message = e.getMessage() == null ? "Heroku error " + e.status() : e.getMessage();
    if (e instanceof HerokuException.RateLimited r) {
      return new PlatformException(Kind.RATE_LIMITED, message, r.retryAfter(), e);
    }
    if (e instanceof HerokuException.Permanent p) {
      if (p.isUnauthorized()) {
        // Heroku's own words ("Invalid credentials
        // provided.") name neither the variable nor the fix
        message = HerokuException.refusedKey(p);
      }
      return new PlatformException(kind(p), message, null, e);
    }
    if (e.status() == 0 || e.status() >= 500 || e.status() >= 200 && e.status() < 300) {
      // a timeout, a reset, no connection; or a 5xx, which a gateway gives for a request the API
      // service may still carry out (review 24 #1): a POST's may have been. And a 2xx whose body
      // could not be read (cut short, garbled): done for certain, not to be sent again (review 25
      // #8)
      return PlatformException.mayHaveLanded(message, e);
    }
    return new PlatformException(Kind.TRANSIENT, message, null, e);
  }

  private static Kind kind(HerokuException.Permanent p) {
    if (p.isNotFound()) {
      return Kind.NOT_FOUND;
    }
    if (p.isNameTaken()) {
      return Kind.NAME_TAKEN;
    }
    if (p.isUnauthorized()) {
      return Kind.UNAUTHORIZED;
    }
    if (p.status() == 403) {
      return Kind.FORBIDDEN;
    }
    if (p.status() == 402) {
      return Kind.BILLING; // not "already attached/coupled" (those are INVALID), nor a bad spec
    }
    return Kind.INVALID; // 400, 409 (already coupled), 422
  }
}
