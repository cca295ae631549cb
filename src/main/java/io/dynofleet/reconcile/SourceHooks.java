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
 * Keeps one webhook subscription per managed pool on its source app, so Heroku tells Dynofleet of a
 * new release at once (the sweep still finds it without). Level-triggered like the rest of the
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

  /**
   * What the whole fleet of dynos knows of each pool's subscription: when one last found it as the
   * status records it, and with which secret it had signed it then (a fingerprint). Each process
   * looked again once per interval and at each start (audit 21 H3): three dynos, three looks, and a
   * deploy one more each.
   */
  interface Shared {
    /** Nothing shared: each process alone (pure tests). */
    Shared NONE =
        new Shared() {
          @Override
          public Check last(UUID pool) {
            return null;
          }

          @Override
          public void checked(UUID pool, Instant at, String signed) {}
        };

    /** The pool's last check by any process, or null. */
    Check last(UUID pool);

    /** Records a check that found the subscription as recorded (null {@code at}: forget it). */
    void checked(UUID pool, Instant at, String signed);
  }

  /** A check of a pool's subscription: when, and the fingerprint of the secret it was given. */
  record Check(Instant at, String signed) {}

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

  /** Pools being deleted whose subscription {@link #remove} has dealt with. */
  private final Set<UUID> removed = ConcurrentHashMap.newKeySet();

  /** Pools whose last sync failed: nothing is tried again before it is due. */
  private final Set<UUID> failed = ConcurrentHashMap.newKeySet();

  /**
   * @param enabled {@code dynofleet.reconcile.webhooks}: when off, subscriptions made earlier are
   *     removed
   * @param checkInterval how often a subscription is looked up on Heroku again
   */
  SourceHooks(Platform platform, Targets target, boolean enabled, Duration checkInterval) {
    this(platform, target, enabled, checkInterval, Shared.NONE);
  }

  /**
   * @param shared what the other processes (and this one before a restart) found: a subscription
   *     one of them checked within the interval, signed with this process's secret, is not looked
   *     at again
   */
  SourceHooks(
      Platform platform, Targets target, boolean enabled, Duration checkInterval, Shared shared) {
    this.platform = platform;
    this.target = target;
    this.enabled = enabled;
    this.checkInterval = checkInterval;
    this.shared = shared;
  }

  private final Shared shared;

  /**
   * A short fingerprint of a secret (12 hex of SHA-256), to tell whether a subscription was given
   * the secret a process holds without storing the secret.
   */
  static String fingerprint(String secret) {
    return HookTarget.fingerprint(secret);
  }

  /**
   * Moves the pool's subscription toward what is wanted: one on the source app {@code sourceAppId}
   * (its pinned id: every call goes by it; null for a pool without one), recorded under its name
   * {@code sourceApp}, to the pool's URL, or none when subscriptions are off. Platform failures are
   * reported in the outcome, never thrown: the notification is an optimisation, and the pass goes
   * on without it.
   */
  Outcome sync(
      UUID pool,
      String name,
      String sourceApp,
      String sourceAppId,
      PoolStatus.Webhook recorded,
      Instant now) {
    Instant next = due.get(pool);
    if (failed.contains(pool) && next != null && now.isBefore(next)) {
      return Outcome.unchanged(recorded);
    }
    Optional<HookTarget.Target> want =
        enabled && sourceAppId != null ? target.of(name) : Optional.empty();
    try {
      if (want.isEmpty()) {
        if (recorded == null) {
          return Outcome.unchanged(null);
        }
        platform.unsubscribe(recorded.callable(), recorded.id());
        forget(pool);
        shared.checked(pool, null, null);
        return new Outcome(
            null,
            "Unsubscribed",
            "release webhook on "
                + recorded.named()
                + " removed: "
                + (!enabled
                    ? "webhooks are off (dynofleet.reconcile.webhooks)"
                    : sourceAppId == null ? "the pool copies no app" : target.missing()));
      }
      String url = want.get().url();
      // by the id: a source deleted and made again under its name is another app (audit 26 F3)
      boolean same =
          recorded != null && sourceAppId.equals(recorded.appId()) && recorded.url().equals(url);
      // the record names the app by its name (a row written with the id in its place, or a rename
      // confirmed, is named again, with no call)
      PoolStatus.Webhook named =
          same && !sourceApp.equals(recorded.app())
              ? new PoolStatus.Webhook(sourceApp, sourceAppId, recorded.id(), recorded.url())
              : recorded;
      if (same && signed.contains(pool) && next != null && now.isBefore(next)) {
        return Outcome.unchanged(named);
      }
      Check c = same ? shared.last(pool) : null;
      if (same) {
        // another dyno (or this one before a restart) found it lately, given the secret this
        // process holds: nothing to look at or sign before the interval is over. A new secret
        // (rotated) still signs it once, as at a start before
        if (c != null
            && c.at() != null
            && now.isBefore(c.at().plus(checkInterval))
            && fingerprint(want.get().secret()).equals(c.signed())) {
          signed.add(pool);
          failed.remove(pool);
          due.put(pool, c.at().plus(checkInterval));
          return Outcome.unchanged(named);
        }
      }
      List<Webhook> mine =
          platform.webhooks(sourceAppId).stream().filter(w -> url.equals(w.url())).toList();
      String reason = null;
      String message = null;
      Webhook keep;
      if (mine.isEmpty()) {
        keep = platform.subscribe(sourceAppId, url, want.get().secret());
        reason = "Subscribed";
        message =
            "release webhook on "
                + named(sourceApp, sourceAppId)
                + " created: its releases are rolled out at once";
      } else {
        // the recorded one if it is still there, else the first (a twin is only ever a leftover)
        keep =
            mine.stream()
                .filter(w -> same && w.id().equals(recorded.id()))
                .findFirst()
                .orElse(mine.get(0));
        boolean known =
            same
                && keep.id().equals(recorded.id())
                && signed.contains(pool)
                && keep.include().contains("api:release")
                && !signedElse(c, want.get().secret());
        if (!known) {
          // adopted, first seen by this process, or changed by hand: it signs with our secret and
          // asks for releases from now on
          platform.resubscribe(sourceAppId, keep.id(), want.get().secret());
        }
        for (Webhook twin : mine) {
          if (!twin.id().equals(keep.id())) {
            platform.unsubscribe(sourceAppId, twin.id());
          }
        }
        if (recorded == null || !recorded.id().equals(keep.id())) {
          reason = "Subscribed";
          message =
              "release webhook on "
                  + named(sourceApp, sourceAppId)
                  + " adopted: its releases are rolled out at once";
        }
      }
      signed.add(pool);
      failed.remove(pool);
      due.put(pool, now.plus(checkInterval));
      shared.checked(pool, now, fingerprint(want.get().secret()));
      PoolStatus.Webhook kept = new PoolStatus.Webhook(sourceApp, sourceAppId, keep.id(), url);
      if (recorded != null && !recorded.id().equals(keep.id())) {
        // the source app or the URL changed: the old one goes; if it cannot, the new one is still
        // the pool's, and the old one is told about once rather than retried on every pass
        try {
          platform.unsubscribe(recorded.callable(), recorded.id());
        } catch (Platform.PlatformException e) {
          return new Outcome(
              kept, "WebhookLeft", leftBehind(recorded.named(), recorded.callable(), e));
        }
      }
      return new Outcome(kept, reason, message);
    } catch (Platform.PlatformException e) {
      // a refusal (key, permission, input) does not clear by itself: look again at the next check
      due.put(pool, now.plus(e.transientFailure() ? RETRY : checkInterval));
      failed.add(pool);
      return new Outcome(
          recorded,
          "WebhookFailed",
          "release webhook on "
              + (sourceAppId != null
                  ? named(sourceApp, sourceAppId)
                  : recorded != null ? recorded.named() : "?")
              + ": "
              + e.getMessage()
              + "; releases are picked up by"
              + " the sweep, trying again in "
              + (e.transientFailure() ? "a minute" : checkInterval.toMinutes() + " min"));
    }
  }

  /**
   * Whether another process gave the subscription another secret since this one did: a dyno of the
   * release before, during a preboot, gave it {@code DYNOFLEET_WEBHOOK_SECRET}, where this release
   * gives the pool's own. The record must say what the subscription holds, as the hook takes the
   * master secret for a pool's URL only while the record says the subscription was given it.
   */
  private static boolean signedElse(Check c, String secret) {
    return c != null && c.signed() != null && !fingerprint(secret).equals(c.signed());
  }

  private static String leftBehind(String named, String app, Platform.PlatformException e) {
    return "release webhook on "
        + named
        + " not removed ("
        + e.getMessage()
        + "): remove it with heroku webhooks -a "
        + app
        + " and heroku webhooks:remove";
  }

  /** The source app as the texts name it (see {@link PoolStatus.Webhook#named}). */
  private static String named(String sourceApp, String sourceAppId) {
    return new PoolStatus.Webhook(sourceApp, sourceAppId, "", "").named();
  }

  /**
   * The pool is being deleted: its subscription goes first. Found by the status, and by its URL on
   * the source app (a crash between its create and its record). A transient failure is thrown, so
   * the finalizer tries again; any other (a key rotated meanwhile, or one that may no longer touch
   * the app) must not keep the pool from going, so it is answered, one sentence for every app where
   * one is left. The finalizer calls this on each of its passes until it answers null, and tells
   * the user only at its last (audit 12: one refusal left the subscription for good, while the pool
   * waited minutes more for its apps, and told it twice).
   *
   * @return null when nothing is left behind, else what to tell the user if it stays so
   */
  String remove(UUID pool, String name, String sourceApp, PoolStatus.Webhook recorded) {
    if (removed.contains(pool)) {
      return null; // a finalizer pass after the one that removed it (its status still names it)
    }
    Optional<HookTarget.Target> want =
        enabled && sourceApp != null ? target.of(name) : Optional.empty();
    // per app, once: the recorded one and the one found by URL are mostly on the same app, and a
    // key refused there is refused for both
    Map<String, String> left = new java.util.LinkedHashMap<>();
    try {
      if (recorded != null) {
        try {
          platform.unsubscribe(recorded.callable(), recorded.id());
        } catch (Platform.PlatformException e) {
          if (e.transientFailure()) {
            throw e;
          }
          left.putIfAbsent(recorded.app(), leftBehind(recorded.named(), recorded.callable(), e));
        }
      }
      if (want.isPresent() && !left.containsKey(sourceApp)) {
        try {
          for (Webhook w : platform.webhooks(sourceApp)) {
            if (want.get().url().equals(w.url())) {
              platform.unsubscribe(sourceApp, w.id());
            }
          }
        } catch (Platform.PlatformException e) {
          if (e.transientFailure()) {
            throw e;
          }
          if (e.kind() != Platform.PlatformException.Kind.NOT_FOUND) {
            left.putIfAbsent(sourceApp, leftBehind(sourceApp, sourceApp, e));
          }
        }
      }
    } finally {
      forget(pool);
    }
    if (left.isEmpty()) {
      removed.add(pool);
      return null;
    }
    return String.join("; ", left.values());
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
    removed.clear();
  }

  /** The pools anything is remembered of. */
  Set<UUID> pools() {
    Set<UUID> all = new java.util.HashSet<>(due.keySet());
    all.addAll(signed);
    all.addAll(failed);
    all.addAll(removed);
    return all;
  }

  /** The pool is gone (its row deleted): nothing more to remember of it. */
  void deleted(UUID pool) {
    forget(pool);
    removed.remove(pool);
  }
}
