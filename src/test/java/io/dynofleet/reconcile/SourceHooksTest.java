package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dynofleet.api.HookTarget;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.reconcile.Platform.PlatformException;
import io.dynofleet.reconcile.Platform.PlatformException.Kind;
import io.dynofleet.reconcile.Platform.Webhook;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The release-webhook logic of one pool against the in-memory platform (pure: no Quarkus). */
class SourceHooksTest {
  private static final String SECRET = "s3cret-of-this-run";
  private static final Duration CHECK = Duration.ofHours(1);

  private final FakePlatform heroku = new FakePlatform();
  private final UUID pool = UUID.randomUUID();
  private final Instant t0 = Instant.parse("2026-11-24T10:00:00Z");
  private String base = "https://lb.example.com";
  private SourceHooks hooks;

  @BeforeEach
  void setUp() {
    heroku.sourceApp("shop", Map.of());
    heroku.sourceApp("shop-v2", Map.of());
    hooks = hooks(true);
  }

  private SourceHooks hooks(boolean enabled) {
    return new SourceHooks(
        heroku,
        new SourceHooks.Targets() {
          @Override
          public Optional<HookTarget.Target> of(String name) {
            return base == null
                ? Optional.empty()
                : Optional.of(new HookTarget.Target(url(name), SECRET));
          }

          @Override
          public String missing() {
            return "no public URL";
          }
        },
        enabled,
        CHECK);
  }

  private String url(String name) {
    return base + "/_dynofleet/api/v1/hooks/heroku?pool=" + name;
  }

  private List<Webhook> on(String app) {
    return heroku.webhooks.getOrDefault(app, List.of());
  }

  private long calls(Runnable r) {
    long before = heroku.calls();
    r.run();
    return heroku.calls() - before;
  }

  @Test
  void subscribesOnceThenCostsNoCallUntilTheCheckIsDue() {
    SourceHooks.Outcome o = hooks.sync(pool, "web", "shop", "shop", null, t0);
    assertThat(o.reason()).isEqualTo("Subscribed");
    assertThat(on("shop"))
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.url()).isEqualTo(url("web"));
              assertThat(w.include()).containsExactly("api:release");
              assertThat(heroku.webhookSecrets.get(w.id())).isEqualTo(SECRET);
              assertThat(o.webhook())
                  .isEqualTo(new PoolStatus.Webhook("shop", "shop", w.id(), url("web")));
            });

    PoolStatus.Webhook recorded = o.webhook();
    assertThat(
            calls(
                () ->
                    assertThat(
                            hooks.sync(pool, "web", "shop", "shop", recorded, t0.plusSeconds(30)))
                        .isEqualTo(SourceHooks.Outcome.unchanged(recorded))))
        .isZero();
    // due: one look, nothing to change, nothing to tell
    assertThat(
            calls(
                () ->
                    assertThat(
                            hooks
                                .sync(pool, "web", "shop", "shop", recorded, t0.plus(CHECK))
                                .reason())
                        .isNull()))
        .isEqualTo(1);
    assertThat(on("shop")).hasSize(1);
  }

  /**
   * Audit 21 H3: what one process (another dyno, or this one before a restart) found is shared: a
   * process with the same secret looks no more within the interval; one holding another secret (a
   * rotation) still gives it its own, once.
   */
  @Test
  void aCheckOfAnotherProcessWithTheSameSecretServesThisOne() {
    SharedChecks shared = new SharedChecks();
    Map<UUID, SourceHooks.Check> db = shared.db;
    SourceHooks first = hooks(SECRET, shared);
    PoolStatus.Webhook recorded = first.sync(pool, "web", "shop", "shop", null, t0).webhook();
    assertThat(db.get(pool).at()).isEqualTo(t0);

    SourceHooks restarted = hooks(SECRET, shared);
    assertThat(
            calls(() -> restarted.sync(pool, "web", "shop", "shop", recorded, t0.plusSeconds(60))))
        .as("checked within the interval, with this secret")
        .isZero();
    assertThat(
            calls(
                () ->
                    restarted.sync(
                        pool, "web", "shop", "shop", recorded, t0.plus(CHECK).plusSeconds(1))))
        .as("due again: one look")
        .isEqualTo(1);

    SourceHooks rotated = hooks("another-secret", shared);
    assertThat(
            calls(
                () ->
                    rotated.sync(
                        pool, "web", "shop", "shop", recorded, t0.plus(CHECK).plusSeconds(2))))
        .as("a new secret: a look and a resubscribe")
        .isEqualTo(2);
    assertThat(heroku.webhookSecrets.get(recorded.id())).isEqualTo("another-secret");
  }

  /**
   * Security review 3 #4: during a preboot a dyno of the release before gives the subscription the
   * master secret, and records so, after this process gave it the pool's own. At this process's
   * next check the record says another secret: it gives the subscription its own again, so the
   * record (which the hook trusts to take the master secret for the pool's URL) and Heroku agree.
   */
  @Test
  void aSubscriptionAnotherProcessGaveAnotherSecretGetsThisOnesAgainAtTheNextCheck() {
    SharedChecks shared = new SharedChecks();
    Map<UUID, SourceHooks.Check> db = shared.db;
    SourceHooks upgraded = hooks("pools-own", shared);
    PoolStatus.Webhook recorded = upgraded.sync(pool, "web", "shop", "shop", null, t0).webhook();
    // the old dyno, meanwhile
    heroku.resubscribe("shop", recorded.id(), "master");
    db.put(pool, new SourceHooks.Check(t0.plusSeconds(10), SourceHooks.fingerprint("master")));

    assertThat(
            calls(
                () ->
                    upgraded.sync(
                        pool, "web", "shop", "shop", recorded, t0.plus(CHECK).plusSeconds(1))))
        .as("due: a look and a resubscribe")
        .isEqualTo(2);
    assertThat(heroku.webhookSecrets.get(recorded.id())).isEqualTo("pools-own");
    assertThat(db.get(pool).signed()).isEqualTo(SourceHooks.fingerprint("pools-own"));
  }

  /** The last checks the processes share through the database (ReconcileStore), in memory. */
  static final class SharedChecks implements SourceHooks.Shared {
    final Map<UUID, SourceHooks.Check> db = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public SourceHooks.Check last(UUID p) {
      return db.get(p);
    }

    @Override
    public void checked(UUID p, Instant at, String signed) {
      db.put(p, new SourceHooks.Check(at, signed));
    }
  }

  private SourceHooks hooks(String secret, SourceHooks.Shared shared) {
    return new SourceHooks(
        heroku,
        new SourceHooks.Targets() {
          @Override
          public Optional<HookTarget.Target> of(String name) {
            return Optional.of(new HookTarget.Target(url(name), secret));
          }

          @Override
          public String missing() {
            return "no public URL";
          }
        },
        true,
        CHECK,
        shared);
  }

  @Test
  void aSubscriptionRemovedByHandIsMadeAgainAtTheNextCheck() {
    PoolStatus.Webhook recorded = hooks.sync(pool, "web", "shop", "shop", null, t0).webhook();
    heroku.webhooks.get("shop").clear();
    SourceHooks.Outcome o = hooks.sync(pool, "web", "shop", "shop", recorded, t0.plus(CHECK));
    assertThat(o.reason()).isEqualTo("Subscribed");
    assertThat(on("shop"))
        .singleElement()
        .satisfies(w -> assertThat(o.webhook().id()).isEqualTo(w.id()));
  }

  @Test
  void aCrashBeforeTheStatusWriteIsResolvedByAdoptingTheSubscriptionNotByATwin() {
    // the previous process created it (with another secret) and died before recording it
    Webhook made = heroku.subscribe("shop", url("web"), "old-secret");
    Webhook twin = heroku.subscribe("shop-v2", url("web"), "old-secret");
    heroku
        .webhooks
        .get("shop")
        .add(new Webhook(UUID.randomUUID().toString(), url("web"), List.of("api:release")));

    SourceHooks.Outcome o = hooks.sync(pool, "web", "shop", "shop", null, t0);
    assertThat(o.webhook().id()).isEqualTo(made.id());
    assertThat(on("shop")).extracting(Webhook::id).containsExactly(made.id());
    assertThat(heroku.webhookSecrets.get(made.id()))
        .as("adopted: it signs with this run's secret")
        .isEqualTo(SECRET);
    // another app: untouched
    assertThat(on("shop-v2")).extracting(Webhook::id).containsExactly(twin.id());
    assertThat(o.message()).contains("adopted");
  }

  @Test
  void afterARestartTheRecordedSubscriptionGetsThisRunsSecretOnce() {
    PoolStatus.Webhook recorded = hooks.sync(pool, "web", "shop", "shop", null, t0).webhook();
    heroku.webhookSecrets.put(recorded.id(), "rotated-away");
    SourceHooks restarted = hooks(true);
    assertThat(
            calls(
                () ->
                    assertThat(restarted.sync(pool, "web", "shop", "shop", recorded, t0).reason())
                        .isNull()))
        .isEqualTo(2); // look, set the secret
    assertThat(heroku.webhookSecrets.get(recorded.id())).isEqualTo(SECRET);
    assertThat(
            calls(() -> restarted.sync(pool, "web", "shop", "shop", recorded, t0.plusSeconds(1))))
        .isZero();
  }

  /**
   * A row written while status.webhook.app held the source app's id (the release before this one):
   * it reads with the id as appId, is the same subscription, and is named by the source's name
   * again at the next sync with no call.
   */
  @Test
  void aRowStoredWithTheIdAsItsAppIsNamedAgainWithNoCall() throws Exception {
    String id = heroku.app("shop").orElseThrow().id();
    PoolStatus.Webhook made = hooks.sync(pool, "web", "shop", id, null, t0).webhook();
    assertThat(made).isEqualTo(new PoolStatus.Webhook("shop", id, made.id(), url("web")));
    PoolStatus.Webhook stored =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readValue(
                "{\"app\":\""
                    + id
                    + "\",\"id\":\""
                    + made.id()
                    + "\",\"url\":\""
                    + url("web")
                    + "\"}",
                PoolStatus.Webhook.class);
    assertThat(stored.appId()).isEqualTo(id);
    assertThat(stored.sameSubscription(made)).isTrue();
    SourceHooks.Outcome[] o = new SourceHooks.Outcome[1];
    assertThat(calls(() -> o[0] = hooks.sync(pool, "web", "shop", id, stored, t0.plusSeconds(1))))
        .isZero();
    assertThat(o[0].reason()).isNull();
    assertThat(o[0].webhook()).isEqualTo(made);
    // a row from before the id: read by the name, adopted by the id at the next look, no twin
    PoolStatus.Webhook byName = new PoolStatus.Webhook("shop", null, made.id(), url("web"));
    assertThat(byName.appId()).isNull();
    assertThat(byName.named()).isEqualTo("shop");
    PoolStatus.Webhook adopted =
        hooks(true).sync(pool, "web", "shop", id, byName, t0.plusSeconds(2)).webhook();
    assertThat(adopted).isEqualTo(made);
    assertThat(on("shop")).singleElement().satisfies(w -> assertThat(w.id()).isEqualTo(made.id()));
    assertThat(made.named()).isEqualTo("shop (" + id.substring(0, 8) + "…)");
  }

  @Test
  void aNewSourceAppOrPublicUrlMovesTheSubscription() {
    PoolStatus.Webhook first = hooks.sync(pool, "web", "shop", "shop", null, t0).webhook();
    PoolStatus.Webhook moved =
        hooks.sync(pool, "web", "shop-v2", "shop-v2", first, t0.plusSeconds(1)).webhook();
    assertThat(on("shop")).isEmpty();
    assertThat(on("shop-v2"))
        .singleElement()
        .satisfies(w -> assertThat(w.id()).isEqualTo(moved.id()));

    base = "https://dynofleet.example.org";
    PoolStatus.Webhook again =
        hooks.sync(pool, "web", "shop-v2", "shop-v2", moved, t0.plusSeconds(2)).webhook();
    assertThat(on("shop-v2"))
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.url())
                  .isEqualTo(url("web"))
                  .startsWith("https://dynofleet.example.org/");
              assertThat(w.id()).isEqualTo(again.id()).isNotEqualTo(moved.id());
            });
  }

  @Test
  void turnedOffOrWithoutAnAddressTheSubscriptionItMadeIsRemoved() {
    PoolStatus.Webhook recorded = hooks.sync(pool, "web", "shop", "shop", null, t0).webhook();
    SourceHooks.Outcome off =
        hooks(false).sync(pool, "web", "shop", "shop", recorded, t0.plusSeconds(1));
    assertThat(off.webhook()).isNull();
    assertThat(off.reason()).isEqualTo("Unsubscribed");
    assertThat(off.message()).contains("off");
    assertThat(on("shop")).isEmpty();

    recorded = hooks.sync(pool, "web", "shop", "shop", null, t0.plusSeconds(2)).webhook();
    base = null;
    SourceHooks.Outcome none = hooks.sync(pool, "web", "shop", "shop", recorded, t0.plusSeconds(3));
    assertThat(none.webhook()).isNull();
    assertThat(none.message()).contains("no public URL");
    assertThat(on("shop")).isEmpty();
    // nothing recorded, nothing to do: no call at all
    assertThat(calls(() -> hooks.sync(pool, "web", "shop", "shop", null, t0.plusSeconds(4))))
        .isZero();
  }

  @Test
  void aSubscriptionReplacedByHandIsAdoptedAndGivenOurSecret() {
    PoolStatus.Webhook recorded = hooks.sync(pool, "web", "shop", "shop", null, t0).webhook();
    heroku.webhooks.get("shop").clear();
    Webhook theirs = heroku.subscribe("shop", url("web"), "someone-elses");
    SourceHooks.Outcome o = hooks.sync(pool, "web", "shop", "shop", recorded, t0.plus(CHECK));
    assertThat(o.webhook().id()).isEqualTo(theirs.id());
    assertThat(heroku.webhookSecrets.get(theirs.id())).isEqualTo(SECRET);
  }

  @Test
  void theRecordedSubscriptionIsKeptOverATwin() {
    PoolStatus.Webhook recorded = hooks.sync(pool, "web", "shop", "shop", null, t0).webhook();
    heroku
        .webhooks
        .get("shop")
        .add(0, new Webhook(UUID.randomUUID().toString(), url("web"), List.of("api:release")));
    assertThat(hooks.sync(pool, "web", "shop", "shop", recorded, t0.plus(CHECK)).webhook())
        .isEqualTo(recorded);
    assertThat(on("shop")).extracting(Webhook::id).containsExactly(recorded.id());
  }

  @Test
  void aMoveWhoseOldSubscriptionCannotGoRecordsTheNewOneAndSaysSoOnce() {
    PoolStatus.Webhook first = hooks.sync(pool, "web", "shop", "shop", null, t0).webhook();
    heroku.failNext("unsubscribe", 1, Kind.FORBIDDEN);
    SourceHooks.Outcome o = hooks.sync(pool, "web", "shop-v2", "shop-v2", first, t0.plusSeconds(1));
    assertThat(o.webhook().app()).isEqualTo("shop-v2");
    assertThat(o.reason()).isEqualTo("WebhookLeft");
    assertThat(o.message()).contains("shop", "heroku webhooks:remove");
    assertThat(
            calls(
                () ->
                    hooks.sync(pool, "web", "shop-v2", "shop-v2", o.webhook(), t0.plusSeconds(2))))
        .isZero();
  }

  @Test
  void aRefusalWaitsForTheNextCheckNotAMinute() {
    heroku.failNext("subscribe", 1, Kind.FORBIDDEN);
    assertThat(hooks.sync(pool, "web", "shop", "shop", null, t0).reason())
        .isEqualTo("WebhookFailed");
    assertThat(
            calls(() -> hooks.sync(pool, "web", "shop", "shop", null, t0.plus(SourceHooks.RETRY))))
        .isZero();
    assertThat(hooks.sync(pool, "web", "shop", "shop", null, t0.plus(CHECK)).reason())
        .isEqualTo("Subscribed");
  }

  @Test
  void removalTellsOfEveryAppWhereOneIsLeftAndRemovesTheRest() {
    PoolStatus.Webhook onShop = hooks.sync(pool, "web", "shop", "shop", null, t0).webhook();
    // the source app changed; the crash came before the record
    heroku.subscribe("shop-v2", url("web"), SECRET);
    heroku.failNext("unsubscribe", 1, Kind.FORBIDDEN);
    String left = hooks.remove(pool, "web", "shop-v2", onShop);
    assertThat(left).contains("release webhook on shop not removed").doesNotContain("on shop-v2");
    assertThat(on("shop-v2")).isEmpty();
  }

  @Test
  void aFailureIsReportedNotThrownAndTriedAgainAMinuteLater() {
    heroku.failNext("subscribe", 1, Kind.TRANSIENT);
    SourceHooks.Outcome o = hooks.sync(pool, "web", "shop", "shop", null, t0);
    assertThat(o.reason()).isEqualTo("WebhookFailed");
    assertThat(o.webhook()).isNull();
    assertThat(o.message()).contains("sweep");
    assertThat(
            calls(
                () ->
                    assertThat(
                            hooks
                                .sync(pool, "web", "shop", "shop", null, t0.plusSeconds(10))
                                .webhook())
                        .isNull()))
        .as("not tried again on every pass")
        .isZero();
    assertThat(hooks.sync(pool, "web", "shop", "shop", null, t0.plus(SourceHooks.RETRY)).reason())
        .isEqualTo("Subscribed");
    assertThat(on("shop")).hasSize(1);
  }

  @Test
  void removalFindsTheSubscriptionByStatusAndByUrlAndToleratesItGone() {
    PoolStatus.Webhook recorded = hooks.sync(pool, "web", "shop", "shop", null, t0).webhook();
    hooks.remove(pool, "web", "shop", recorded);
    assertThat(on("shop")).isEmpty();
    assertThat(calls(() -> hooks.remove(pool, "web", "shop", recorded)))
        .as("a later finalizer pass, its status still naming it, costs nothing")
        .isZero();
    hooks.deleted(pool);

    heroku.subscribe("shop", url("web"), SECRET); // made, never recorded
    hooks.remove(pool, "web", "shop", null);
    assertThat(on("shop")).isEmpty();

    hooks.deleted(pool);
    heroku.apps.remove("shop"); // the source app is gone, with its subscriptions
    assertThat(calls(() -> assertThat(hooks.remove(pool, "web", "shop", recorded)).isNull()))
        .isEqualTo(2);

    hooks.deleted(pool);
    heroku.failNext("webhooks", 1, Kind.TRANSIENT);
    assertThatThrownBy(() -> hooks.remove(pool, "web", "shop-v2", null))
        .as("tried again by the finalizer")
        .isInstanceOf(PlatformException.class);
    heroku.failNext("webhooks", 1, Kind.FORBIDDEN);
    assertThat(hooks.remove(pool, "web", "shop-v2", null))
        .as("never keeps the pool from going")
        .contains("not removed", "heroku webhooks -a shop-v2");
  }
}
