package io.dynofleet.reconcile;

import io.dynofleet.api.HookTarget;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.reconcile.Platform.Webhook;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps one webhook subscription per managed pool on its source app, so Heroku tells Dynofleet of
 * a new release at once (the sweep still finds it without). Level-triggered like the rest of the
 * reconciler: the subscription is found by its URL, which names the pool, so a crash between the
 * create and the status write adopts the one made, never a twin; the status records which one is
 * the pool's, so a change of source app, of public URL or of the setting removes the old one.
 * Steady state costs no call: Heroku is asked again only once per {@code webhookCheckInterval}
 * (someone may have removed the subscription), and after a start, when the subscription is given
 * this process's secret once (it may have been rotated; Heroku never shows it back).
 */
final class SourceHooks {

  /** What one sync leaves: the subscription for the status, and what to tell in the events. */
  record Outcome(PoolStatus.Webhook webhook, String reason, String message) {
    static Outcome unchanged(PoolStatus.Webhook webhook) {
      return new Outcome(webhook, null, null);
    }
  }

  /** Where each pool's subscription points ({@link HookTarget} in the application). */
  interface Targets {
    /** The pool's URL and secret, or empty when there is nothing to subscribe with. */
    Optional<HookTarget.Target> of(String pool);

    /** Why {@link #of} is empty. */
    String missing();
  }

  /** After a failed sync, how long until the next try. */
  static final Duration RETRY = Duration.ofMinutes(1);

  private final Platform platform;
  private final Targets target;
  private final boolean enabled;
  private final Duration checkInterval;
  /** Per pool: when to look at its subscription on Heroku again. */
  private final Map<UUID, Instant> due = new ConcurrentHashMap<>();
  /** Pools whose subscription this process has given its secret. */
  private final Set<UUID> signed = ConcurrentHashMap.newKeySet();
  /** Pools whose last sync failed: nothing is tried again before it is due. */
  private final Set<UUID> failed = ConcurrentHashMap.newKeySet();

  /**
   * @param enabled {@code dynofleet.reconcile.webhooks}: when off, subscriptions made earlier are removed
   * @param checkInterval how often a subscription is looked up on Heroku again
   */
  SourceHooks(Platform platform, Targets target, boolean enabled, Duration checkInterval) {
    this.platform = platform;
    this.target = target;
    this.enabled = enabled;
    this.checkInterval = checkInterval;
  }

  /**
   * Moves the pool's subscription toward what is wanted: one on {@code sourceApp} (null for a
   * pool without one) to the pool's URL, or none when subscriptions are off. Platform failures
   * are reported in the outcome, never thrown: the notification is an optimisation, and the pass
   * goes on without it.
   */
  Outcome sync(UUID pool, String name, String sourceApp, PoolStatus.Webhook recorded, Instant now) {
    Instant next = due.get(pool);
    if (failed.contains(pool) && next != null && now.isBefore(next)) {
      return Outcome.unchanged(recorded);
    }
    Optional<HookTarget.Target> want = enabled && sourceApp != null ? target.of(name) : Optional.empty();
    try {
      if (want.isEmpty()) {
        if (recorded == null) {
          return Outcome.unchanged(null);
        }
        platform.unsubscribe(recorded.app(), recorded.id());
        forget(pool);
        return new Outcome(null, "Unsubscribed", "release webhook on " + recorded.app() + " removed: "
            + (!enabled ? "webhooks are off (dynofleet.reconcile.webhooks)"
                : sourceApp == null ? "the pool copies no app" : target.missing()));
      }
      String url = want.get().url();
      boolean same = recorded != null && recorded.app().equals(sourceApp) && recorded.url().equals(url);
      if (same && signed.contains(pool) && next != null && now.isBefore(next)) {
        return Outcome.unchanged(recorded);
      }
      List<Webhook> mine = platform.webhooks(sourceApp).stream().filter(w -> url.equals(w.url())).toList();
      String reason = null;
      String message = null;
      Webhook keep;
      if (mine.isEmpty()) {
        keep = platform.subscribe(sourceApp, url, want.get().secret());
        reason = "Subscribed";
        message = "release webhook on " + sourceApp + " created: its releases are rolled out at once";
      } else {
        keep = mine.get(0);
        if (!signed.contains(pool) || !same) {
          // adopted, or first seen by this process: make sure it signs with our secret
          platform.resubscribe(sourceApp, keep.id(), want.get().secret());
        }
        for (Webhook twin : mine.subList(1, mine.size())) {
          platform.unsubscribe(sourceApp, twin.id());
        }
        if (recorded == null || !recorded.id().equals(keep.id())) {
          reason = "Subscribed";
          message = "release webhook on " + sourceApp + " adopted: its releases are rolled out at once";
        }
      }
      if (recorded != null && !recorded.id().equals(keep.id())) {
        platform.unsubscribe(recorded.app(), recorded.id()); // the source app or the URL changed
      }
      signed.add(pool);
      failed.remove(pool);
      due.put(pool, now.plus(checkInterval));
      return new Outcome(new PoolStatus.Webhook(sourceApp, keep.id(), url), reason, message);
    } catch (Platform.PlatformException e) {
      due.put(pool, now.plus(RETRY));
      failed.add(pool);
      return new Outcome(recorded, "WebhookFailed", "release webhook on " + (sourceApp != null ? sourceApp
          : recorded != null ? recorded.app() : "?") + ": " + e.getMessage()
          + "; releases are picked up by the sweep, trying again in a minute");
    }
  }

  /**
   * The pool is being deleted: its subscription goes first. Found by the status, and by its URL
   * on the source app in case a crash came between its create and the status write. A transient
   * failure is thrown, so the finalizer tries again; any other (the key may no longer touch the
   * app) must not keep the pool from going: it is answered as a warning to record.
   *
   * @return null when nothing is left behind, else what to tell the user
   */
  String remove(UUID pool, String name, String sourceApp, PoolStatus.Webhook recorded) {
    Optional<HookTarget.Target> want = enabled && sourceApp != null ? target.of(name) : Optional.empty();
    try {
      if (recorded != null) {
        platform.unsubscribe(recorded.app(), recorded.id());
      }
      if (want.isPresent()) {
        for (Webhook w : platform.webhooks(sourceApp)) {
          if (want.get().url().equals(w.url())) {
            platform.unsubscribe(sourceApp, w.id());
          }
        }
      }
    } catch (Platform.PlatformException e) {
      if (e.transientFailure()) {
        throw e;
      }
      if (e.kind() != Platform.PlatformException.Kind.NOT_FOUND) {
        String app = recorded != null ? recorded.app() : sourceApp;
        return "release webhook on " + app + " not removed (" + e.getMessage() + "): remove it with heroku"
            + " webhooks -a " + app;
      }
    } finally {
      forget(pool);
    }
    return null;
  }

  void forget(UUID pool) {
    due.remove(pool);
    signed.remove(pool);
    failed.remove(pool);
  }

  void forgetAll() {
    due.clear();
    signed.clear();
    failed.clear();
  }
}
