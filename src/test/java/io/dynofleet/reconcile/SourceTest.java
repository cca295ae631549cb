package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.pool.model.PoolSpec;
import io.dynofleet.reconcile.Platform.Addon;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a pool's backends should run, derived from the source's release, vars and add-ons. */
class SourceTest {
  private static final Platform.Release RELEASE =
      new Platform.Release("r1", 7, "slug-1", "succeeded", "Deploy");
  private static final PoolSpec.Template TEMPLATE =
      new PoolSpec.Template(
          "src", null, null, "basic", "p", Map.of("ROLE", "backend"), "production", true);

  private static Source of(Map<String, String> vars, List<Addon> addons) {
    return Source.of(RELEASE, vars, addons, TEMPLATE, Instant.EPOCH, null);
  }

  /**
   * Review 6: an add-on shared to the source from another app, under another name: its config_vars
   * are named for the owner, so its vars here were copied as plain values (a credential rotation
   * then broke every backend) and it was left out.
   */
  @Test
  void anAddOnSharedUnderAnotherNameIsAttachedNotCopied() {
    Addon redis =
        new Addon("a1", "redis-x", List.of("REDIS_URL", "REDIS_TLS_URL"), List.of("CACHE"));
    Source s =
        of(
            Map.of("CACHE_URL", "redis://u", "CACHE_TLS_URL", "rediss://u", "PLAIN", "v"),
            List.of(redis));
    assertThat(s.addons()).containsExactly(redis);
    assertThat(s.addonVars()).contains("CACHE_URL", "CACHE_TLS_URL");
    assertThat(s.config()).containsOnlyKeys("PLAIN", "ROLE");
  }

  /**
   * Review 9: for the source's own add-on, names derived from its attachment took a user's var of
   * that shape (MAILGUN_KEY next to MAILGUN_API_KEY) for the add-on's: not copied, not checked.
   */
  @Test
  void aUsersVarShapedLikeAnOwnAddOnsIsStillCopied() {
    Addon mailgun =
        new Addon(
            "a1", "mailgun", List.of("MAILGUN_API_KEY", "MAILGUN_DOMAIN"), List.of("MAILGUN"));
    Source s =
        of(
            Map.of("MAILGUN_API_KEY", "k", "MAILGUN_DOMAIN", "d", "MAILGUN_KEY", "mine"),
            List.of(mailgun));
    assertThat(s.addonVars()).containsExactlyInAnyOrder("MAILGUN_API_KEY", "MAILGUN_DOMAIN");
    assertThat(s.config()).containsEntry("MAILGUN_KEY", "mine");
  }

  /**
   * Review 15: release output was masked with the copied config only, which leaves out what the
   * shared add-ons set: their credentials. A client error printing MEMCACHIER_PASSWORD bare went to
   * the events and the log drains.
   */
  @Test
  void theSharedAddOnsVarsAreMaskedInReleaseOutput() {
    Addon cache =
        new Addon(
            "a1",
            "memcachier",
            List.of("MEMCACHIER_PASSWORD", "MEMCACHIER_SERVERS"),
            List.of("MEMCACHIER"));
    Source s =
        of(
            Map.of(
                "MEMCACHIER_PASSWORD",
                "s3cr3t-pw-991",
                "MEMCACHIER_SERVERS",
                "mc1.example:11211",
                "PLAIN",
                "visible"),
            List.of(cache));
    assertThat(s.config()).doesNotContainKey("MEMCACHIER_PASSWORD");
    assertThat(s.secrets())
        .containsEntry("MEMCACHIER_PASSWORD", "s3cr3t-pw-991")
        .containsEntry("ROLE", "backend");
    String out =
        Reconciler.masked(
            "Dalli::RingError: auth failed for s3cr3t-pw-991 on mc1.example:11211", s.secrets());
    assertThat(out).doesNotContain("s3cr3t-pw-991");
  }

  @Test
  void anAddOnTheReleaseDoesNotKnowIsLeftOutAndOneThatCannotBeSharedIsCopied() {
    Addon db = new Addon("a1", "pg", List.of("DATABASE_URL"), List.of("DATABASE"));
    Addon later = new Addon("a2", "redis", List.of("REDIS_URL"), List.of("REDIS"));
    Addon mail = new Addon("a3", "mailer", List.of("MAILER_KEY"), List.of("MAILER"), false);
    Source s =
        of(Map.of("DATABASE_URL", "postgres://x", "MAILER_KEY", "k"), List.of(db, later, mail));
    assertThat(s.addons()).containsExactly(db);
    assertThat(s.copied()).containsExactly(mail);
    assertThat(s.config()).containsEntry("MAILER_KEY", "k").doesNotContainKey("DATABASE_URL");
  }

  /**
   * `rollout restart` writes spec.template.restartedAt: each new value is a new target (every
   * backend replaced); without it the target is the one versions before the field computed, so an
   * upgrade rolls no pool. The pinned value is what the previous version made of this template.
   */
  @Test
  void restartedAtIsANewTargetAndItsAbsenceTheOldOne() {
    PoolSpec.Template restarted =
        new PoolSpec.Template(
            "src",
            null,
            null,
            "basic",
            "p",
            Map.of("ROLE", "backend"),
            "production",
            true,
            "2026-11-24T22:40:00Z");
    PoolSpec.Template again =
        new PoolSpec.Template(
            "src",
            null,
            null,
            "basic",
            "p",
            Map.of("ROLE", "backend"),
            "production",
            true,
            "2026-11-24T23:00:00Z");
    Source before = of(Map.of("A", "1"), List.of());
    Source r1 = Source.of(RELEASE, Map.of("A", "1"), List.of(), restarted, Instant.EPOCH, null);
    Source r2 = Source.of(RELEASE, Map.of("A", "1"), List.of(), again, Instant.EPOCH, null);
    assertThat(r1.target())
        .isNotEqualTo(before.target())
        .isNotEqualTo(r2.target())
        .startsWith("slug-1/");
    assertThat(before.target()).isEqualTo("slug-1/279a0eb22da51f81");
  }

  /**
   * Review 8: pools stored with the old default region "us", and the same manifest applied again
   * without one (the source's region, us), must be one target: else every pool rolled.
   */
  @Test
  void theOldDefaultRegionAndTheSourcesAreOneTarget() {
    Platform.App usSource =
        new Platform.App("id", "src", "https://src/", Instant.EPOCH, "us", "heroku-24", "cedar");
    PoolSpec.Template stored =
        new PoolSpec.Template("src", "us", null, "basic", "p", Map.of(), "production", true);
    PoolSpec.Template reapplied =
        new PoolSpec.Template("src", null, null, "basic", "p", Map.of(), "production", true);
    assertThat(
            Source.of(RELEASE, Map.of("A", "1"), List.of(), reapplied, Instant.EPOCH, usSource)
                .target())
        .isEqualTo(
            Source.of(RELEASE, Map.of("A", "1"), List.of(), stored, Instant.EPOCH, usSource)
                .target());
    assertThat(
            Source.of(RELEASE, Map.of("A", "1"), List.of(), stored, Instant.EPOCH, null).target())
        .as("as before this version")
        .isEqualTo(
            Source.of(RELEASE, Map.of("A", "1"), List.of(), stored, Instant.EPOCH, usSource)
                .target());
  }

  /**
   * Audit 20 M4: {@code source} is the source app's region: naming that region instead is the same
   * target (no rollout).
   */
  @Test
  void regionSourceIsTheSourcesRegion() {
    Platform.App euSource =
        new Platform.App("id", "src", "https://src/", Instant.EPOCH, "eu", "heroku-24", "cedar");
    PoolSpec.Template fromSource =
        new PoolSpec.Template("src", "source", null, "basic", "p", Map.of(), "production", true);
    PoolSpec.Template eu =
        new PoolSpec.Template("src", "eu", null, "basic", "p", Map.of(), "production", true);
    assertThat(
            Source.of(RELEASE, Map.of("A", "1"), List.of(), fromSource, Instant.EPOCH, euSource)
                .target())
        .isEqualTo(
            Source.of(RELEASE, Map.of("A", "1"), List.of(), eu, Instant.EPOCH, euSource).target());
  }

  /**
   * Audit 20 L5: {@code source} is the source app's own stage, and production for a source not in
   * the pipeline: naming that stage instead is the same target (no rollout), another one is not.
   */
  @Test
  void stageSourceIsTheSourcesStage() {
    PoolSpec.Template fromSource =
        new PoolSpec.Template("src", "us", null, "basic", "p", Map.of(), "source", true);
    java.util.function.BiFunction<String, String, String> target =
        (stage, sourceStage) ->
            Source.of(
                    RELEASE,
                    Map.of("A", "1"),
                    List.of(),
                    new PoolSpec.Template("src", "us", null, "basic", "p", Map.of(), stage, true),
                    Instant.EPOCH,
                    null,
                    sourceStage)
                .target();
    assertThat(target.apply("source", "staging")).isEqualTo(target.apply("staging", null));
    assertThat(target.apply("source", null)).isEqualTo(target.apply("production", null));
    assertThat(target.apply("source", "staging")).isNotEqualTo(target.apply("production", null));
    assertThat(Source.stageFor(fromSource, null)).isEqualTo("production");
    assertThat(Source.stageFor(fromSource, "development")).isEqualTo("development");
  }

  /**
   * Review 8: a source in a Private Space region, or on a stack a copied slug's app cannot have,
   * made every create fail; the choice is Heroku's then, as before this version.
   */
  @Test
  void aSourceWhereBackendsCannotBeMadeLeavesTheChoiceToHeroku() {
    Platform.App spaced =
        new Platform.App(
            "id", "src", "https://src/", Instant.EPOCH, "virginia", "container", "cedar");
    Source s = Source.of(RELEASE, Map.of(), List.of(), TEMPLATE, Instant.EPOCH, spaced);
    assertThat(s.region()).isNull();
    assertThat(s.stack()).isNull();
    Platform.App eu =
        new Platform.App("id", "src", "https://src/", Instant.EPOCH, "eu", "heroku-22", "cedar");
    Source e = Source.of(RELEASE, Map.of(), List.of(), TEMPLATE, Instant.EPOCH, eu);
    assertThat(e.region()).isEqualTo("eu");
    assertThat(e.stack()).isEqualTo("heroku-22");
  }

  @Test
  void theTargetIgnoresAddOnCredentialsButNotCopiedValues() {
    Addon db = new Addon("a1", "pg", List.of("DATABASE_URL"), List.of("DATABASE"));
    String t1 = of(Map.of("DATABASE_URL", "postgres://one", "A", "1"), List.of(db)).target();
    assertThat(of(Map.of("DATABASE_URL", "postgres://rotated", "A", "1"), List.of(db)).target())
        .isEqualTo(t1);
    assertThat(of(Map.of("DATABASE_URL", "postgres://one", "A", "2"), List.of(db)).target())
        .isNotEqualTo(t1);
  }
}
