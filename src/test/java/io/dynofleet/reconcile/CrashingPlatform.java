package io.dynofleet.reconcile;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A {@link Platform} that passes every call to the real one and "kills the process" once at a
 * chosen point: just before a named call reaches Heroku, or just after Heroku did it but before the
 * reconciler could record it. The kill is an {@link Error}-like unchecked throw the reconciler does
 * not classify; the test then drops this reconciler, as a restart drops the process.
 */
final class CrashingPlatform implements Platform {
  /** Thrown at the crash point: nothing after it in the pass runs. */
  static final class Crash extends RuntimeException {
    Crash(String where) {
      super("simulated crash " + where, null, false, false);
    }
  }

  private final Platform delegate;
  private final String op;
  private final boolean before;
  private final AtomicBoolean fired = new AtomicBoolean();

  /** Run at the crash point instead of the throw (another fault: the database going away). */
  private final Runnable instead;

  /** {@code point} is {@code op} (crash after it) or {@code op:before}. */
  CrashingPlatform(Platform delegate, String point) {
    this(delegate, point, null);
  }

  /** At {@code point}, runs {@code instead} and lets the pass go on, rather than crash. */
  CrashingPlatform(Platform delegate, String point, Runnable instead) {
    this.instead = instead;
    this.delegate = delegate;
    this.before = point.endsWith(":before");
    this.op = before ? point.substring(0, point.indexOf(':')) : point;
  }

  boolean fired() {
    return fired.get();
  }

  private <T> T around(String name, Supplier<T> call) {
    boolean crash = name.equals(op) && !fired.get();
    if (crash && before && fired.compareAndSet(false, true)) {
      if (instead != null) {
        instead.run();
        return call.get();
      }
      throw new Crash("before " + name);
    }
    T result = call.get();
    if (crash && !before && fired.compareAndSet(false, true)) {
      if (instead != null) {
        instead.run();
        return result;
      }
      throw new Crash("after " + name);
    }
    return result;
  }

  private void around(String name, Runnable call) {
    around(
        name,
        () -> {
          call.run();
          return null;
        });
  }

  @Override
  public String accountId() {
    return delegate.accountId();
  }

  @Override
  public String madeBy(String app) {
    return around("madeBy", () -> delegate.madeBy(app));
  }

  @Override
  public Pipeline pipeline(String idOrName) {
    return around("pipelineId", () -> delegate.pipeline(idOrName));
  }

  @Override
  public App createApp(String name, String region, String stack, String team) {
    return around("createApp", () -> delegate.createApp(name, region, stack, team));
  }

  @Override
  public Optional<App> app(String idOrName) {
    return around("app", () -> delegate.app(idOrName));
  }

  @Override
  public List<App> apps() {
    return around("apps", delegate::apps);
  }

  @Override
  public List<String> logTail(String app, int maxLines) {
    return around("logTail", () -> delegate.logTail(app, maxLines));
  }

  @Override
  public void deleteApp(String idOrName) {
    around("deleteApp", () -> delegate.deleteApp(idOrName));
  }

  @Override
  public Map<String, String> releaseConfigVars(String app, String releaseId) {
    return around("configVars", () -> delegate.releaseConfigVars(app, releaseId));
  }

  @Override
  public Map<String, String> configVars(String app) {
    return around("configVars", () -> delegate.configVars(app));
  }

  @Override
  public void patchConfigVars(String app, Map<String, String> vars) {
    around("patchConfigVars", () -> delegate.patchConfigVars(app, vars));
  }

  @Override
  public List<Release> recentReleases(String app) {
    return around("recentReleases", () -> delegate.recentReleases(app));
  }

  @Override
  public List<Release> recentReleasesUntil(
      String app, java.util.function.Predicate<Release> wanted, int pages) {
    return around("recentReleases", () -> delegate.recentReleasesUntil(app, wanted, pages));
  }

  @Override
  public Release release(String app, String releaseId) {
    return around("release", () -> delegate.release(app, releaseId));
  }

  @Override
  public Release createRelease(String app, String slugId, String description) {
    return around("createRelease", () -> delegate.createRelease(app, slugId, description));
  }

  @Override
  public void scaleWeb(String app, int quantity, String size) {
    around("scaleWeb", () -> delegate.scaleWeb(app, quantity, size));
  }

  @Override
  public Web web(String app) {
    return around("web", () -> delegate.web(app));
  }

  @Override
  public List<Coupling> couplings(String pipelineId) {
    return around("couplings", () -> delegate.couplings(pipelineId));
  }

  @Override
  public Coupling couple(String app, String pipelineId, String stage) {
    return around("couple", () -> delegate.couple(app, pipelineId, stage));
  }

  @Override
  public void restart(String app) {
    around("restart", () -> delegate.restart(app));
  }

  @Override
  public List<Addon> addons(String app) {
    return around("addons", () -> delegate.addons(app));
  }

  @Override
  public List<LogDrain> logDrains(String app) {
    return around("logDrains", () -> delegate.logDrains(app));
  }

  @Override
  public void addLogDrain(String app, String url) {
    around("addLogDrain", () -> delegate.addLogDrain(app, url));
  }

  @Override
  public java.util.Set<String> features(String app) {
    return around("features", () -> delegate.features(app));
  }

  @Override
  public void enableFeature(String app, String feature) {
    around("enableFeature", () -> delegate.enableFeature(app, feature));
  }

  @Override
  public List<Attachment> attachments(String app) {
    return around("attachments", () -> delegate.attachments(app));
  }

  @Override
  public void attachAddon(String addonId, String app, String name) {
    around("attachAddon", () -> delegate.attachAddon(addonId, app, name));
  }

  @Override
  public List<Webhook> webhooks(String app) {
    return around("webhooks", () -> delegate.webhooks(app));
  }

  @Override
  public Webhook subscribe(String app, String url, String secret) {
    return around("subscribe", () -> delegate.subscribe(app, url, secret));
  }

  @Override
  public void resubscribe(String app, String webhookId, String secret) {
    around("resubscribe", () -> delegate.resubscribe(app, webhookId, secret));
  }

  @Override
  public void unsubscribe(String app, String webhookId) {
    around("unsubscribe", () -> delegate.unsubscribe(app, webhookId));
  }

  @Override
  public long calls() {
    return delegate.calls();
  }

  @Override
  public int rateRemaining() {
    return delegate.rateRemaining();
  }

  @Override
  public boolean paced() {
    return delegate.paced();
  }

  @Override
  public java.time.Duration sendWindow() {
    return delegate.sendWindow();
  }
}
