package io.dynofleet.reconcile;

import io.dynofleet.api.PoolValidator;
import io.dynofleet.pool.model.PoolSpec;
import io.dynofleet.pool.model.SpecDefaults;
import io.dynofleet.reconcile.Platform.Addon;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What every backend of a pool should run: the source app's current release (its slug) and the
 * config derived from the source app's vars and the template. {@link #target()} names it (slug id
 * and a hash of that config); a backend whose target differs is out of date and is rolled.
 *
 * @param config desired config vars, without those the shared add-ons set, the marker and the proxy
 *     secret
 * @param addons the source's add-ons each backend is attached to
 * @param copied the source's add-ons that cannot be shared: their vars are in {@code config}
 * @param addonVars the vars the attachments of {@code addons} set: not copied, not drift
 * @param region the source app's region: the backends' when the template names {@code source}
 * @param stack the source app's stack: the backends' when the template names none (its slug's)
 * @param secrets every value a backend may print: the config and the shared add-ons' vars (their
 *     credentials), for masking release output only
 * @param appId the source app's Heroku id (null in unit tests that give no app): what pools naming
 *     it by name or by id have in common
 * @param drains the urls of the source's own log drains (not its add-ons'), added to each new
 *     backend: not part of {@link #target()} (they are where the lines go, not what the backends
 *     run), and secrets (a token in a url): never logged
 * @param features the source's enabled labs features, read with its drains: not part of the target
 *     either (see {@link Reconciler#DYNO_METADATA})
 * @param stage the source app's own stage in the pool's pipeline, null when it is not coupled to
 *     it: the backends' when the template names {@code source}
 * @param backendRegion the region the target names: where a backend made for it runs ({@link
 *     #HEROKU_DEFAULT_REGION} when the template and the source say none, as Heroku then decides)
 * @param backendStack the stack a backend made for it runs on: the template's, else the source's
 *     (null when neither is known: Heroku's default then)
 */
record Source(
    String releaseId,
    int version,
    String slugId,
    Map<String, String> config,
    List<Addon> addons,
    List<Addon> copied,
    Set<String> addonVars,
    String target,
    Instant readAt,
    String region,
    String stack,
    Map<String, String> secrets,
    String appId,
    List<String> drains,
    Set<String> features,
    String stage,
    String backendRegion,
    String backendStack) {

  /** The region Heroku makes an app in when none is given. */
  static final String HEROKU_DEFAULT_REGION = "us";

  /**
   * Builds the desired state from the source app's release, that release's own config vars, the
   * app's add-ons and the template. An add-on with vars counts only when the release holds one of
   * them: the add-on list is the app's state now, and an add-on attached by a newer release that
   * failed would otherwise make a dyno that reads it now build another target than one that read it
   * before (review 5), the flap the release's own config vars avoid.
   */
  static Source of(
      Platform.Release release,
      Map<String, String> sourceVars,
      List<Addon> allAddons,
      PoolSpec.Template template,
      Instant readAt,
      Platform.App sourceApp) {
    return of(release, sourceVars, allAddons, template, readAt, sourceApp, null);
  }

  /**
   * The same, for a source app coupled to the pool's pipeline at {@code sourceStage} (null: not
   * coupled to it).
   */
  static Source of(
      Platform.Release release,
      Map<String, String> sourceVars,
      List<Addon> allAddons,
      PoolSpec.Template template,
      Instant readAt,
      Platform.App sourceApp,
      String sourceStage) {
    List<Addon> known = allAddons.stream().filter(a -> inRelease(a, sourceVars)).toList();
    // an add-on whose service allows no sharing cannot be attached: its vars are copied (they do
    // not follow a credential rotation; the pool says so)
    List<Addon> addons = known.stream().filter(Addon::shareable).toList();
    List<Addon> copied = known.stream().filter(a -> !a.shareable()).toList();
    Set<String> addonVars =
        addons.stream().flatMap(a -> varsOf(a, sourceVars).stream()).collect(Collectors.toSet());
    Map<String, String> config = new TreeMap<>();
    sourceVars.forEach(
        (k, v) -> {
          // Dynofleet's own vars are set at the config step, outside the target: one the source
          // has (set by hand) is not copied
          if (!addonVars.contains(k)
              && !k.equals(Reconciler.OWNER_VAR)
              && !k.equals(Reconciler.PROXY_SECRET_VAR)) {
            config.put(k, v);
          }
        });
    config.putAll(template.configVars());
    // the effective region: a pool stored with the old default "us" and one whose manifest, applied
    // again, names none (the source's, us) are the same target, not a rollout (review 8); so are
    // "eu" and "source" for an eu source
    String region = regionFor(template, commonRuntime(sourceApp));
    StringBuilder identity =
        new StringBuilder()
            .append(template.dynoSize())
            .append('|')
            .append(region == null ? HEROKU_DEFAULT_REGION : region)
            .append('|')
            .append(template.stack())
            .append('|')
            // the effective stage: "source" and the source's own stage named are one target
            .append(stageFor(template, sourceStage))
            .append('|');
    config.forEach((k, v) -> identity.append(k).append('=').append(v).append('\n'));
    if (template.restartedAt() != null) {
      // `rollout restart`: a new value is a new target, so every backend is replaced within the
      // rollout bounds; absent, the identity is what it was before the field existed (no rollout
      // of every pool on upgrade)
      identity.append("restartedAt=").append(template.restartedAt()).append('\n');
    }
    addonVars.stream().sorted().forEach(v -> identity.append('@').append(v).append('\n'));
    // the slug, not the release: Heroku makes a release for every config change, also for the
    // add-on credential rotations attachments already carry to the backends; only code or config
    // Dynofleet copies is worth a rollout
    String target = release.slugId() + "/" + sha256(identity.toString()).substring(0, 16);
    String sourceStack =
        sourceApp == null
                || sourceApp.stack() == null
                || !PoolValidator.STACKS.contains(sourceApp.stack())
            ? null
            : sourceApp.stack();
    return new Source(
        release.id(),
        release.version(),
        release.slugId(),
        Map.copyOf(config),
        addons,
        copied,
        Set.copyOf(addonVars),
        target,
        readAt,
        commonRuntime(sourceApp),
        sourceStack,
        secrets(config, sourceVars),
        sourceApp == null ? null : sourceApp.id(),
        List.of(),
        Set.of(),
        sourceStage,
        region == null ? HEROKU_DEFAULT_REGION : region,
        template.stack() != null ? template.stack() : sourceStack);
  }

  /**
   * The same, with the source's own log drains: an add-on's ({@code addon}) is left out, as it goes
   * with the add-on and Heroku makes it only for the add-on's own app.
   */
  Source withDrains(List<Platform.LogDrain> sourceDrains) {
    return new Source(
        releaseId,
        version,
        slugId,
        config,
        addons,
        copied,
        addonVars,
        target,
        readAt,
        region,
        stack,
        secrets,
        appId,
        sourceDrains.stream()
            .filter(d -> !d.addon())
            .map(Platform.LogDrain::url)
            .distinct()
            .toList(),
        features,
        stage,
        backendRegion,
        backendStack);
  }

  /** The same, with the source's enabled labs features. */
  Source withFeatures(Set<String> enabled) {
    return new Source(
        releaseId,
        version,
        slugId,
        config,
        addons,
        copied,
        addonVars,
        target,
        readAt,
        region,
        stack,
        secrets,
        appId,
        drains,
        Set.copyOf(enabled),
        stage,
        backendRegion,
        backendStack);
  }

  /** Not the drains' urls (secrets): a record's default would print them wherever it is logged. */
  @Override
  public String toString() {
    return "Source[release=" + releaseId + ", target=" + target + ", drains=" + drains.size() + "]";
  }

  private static Map<String, String> secrets(
      Map<String, String> config, Map<String, String> sourceVars) {
    Map<String, String> all = new TreeMap<>();
    sourceVars.forEach(
        (k, v) -> {
          if (v != null) {
            all.put(k, v);
          }
        });
    all.putAll(config);
    all.remove(Reconciler.OWNER_VAR);
    return Map.copyOf(all);
  }

  /**
   * The region to make a backend of {@code template} in: the template's, or the source's ({@code
   * sourceRegion}, null when unknown or not a Common Runtime region: Heroku's default then) when it
   * names {@code source} or nothing (a pool stored before regions were defaulted).
   */
  static String regionFor(PoolSpec.Template template, String sourceRegion) {
    String r = template.region();
    return r == null || r.equals(SpecDefaults.SOURCE_REGION) ? sourceRegion : r;
  }

  /**
   * The pipeline stage to couple a backend of {@code template} to: the template's, or the source's
   * ({@code sourceStage}) when it names {@code source}, {@link SpecDefaults#FALLBACK_STAGE} for a
   * source not coupled to the pool's pipeline (the default before {@code source} was).
   */
  static String stageFor(PoolSpec.Template template, String sourceStage) {
    String s = template.stage();
    if (!SpecDefaults.SOURCE_STAGE.equals(s)) {
      return s; // a stage named, or (never stored since defaulting) none: as before, in the target
    }
    return sourceStage != null ? sourceStage : SpecDefaults.FALLBACK_STAGE;
  }

  /**
   * The source app's region if backends can be made there (the regions and stacks a pool may name):
   * a Private Space region (a source in a space) cannot take an app made outside one, so Heroku's
   * default then (review 8); the same for another stack.
   */
  private static String commonRuntime(Platform.App sourceApp) {
    return sourceApp != null
            && sourceApp.region() != null
            && PoolValidator.REGIONS.contains(sourceApp.region())
        ? sourceApp.region()
        : null;
  }

  /**
   * Whether the release knows the add-on: one of the vars it sets on the source is in the release's
   * config. An add-on without vars changes no config, so no release, and always counts.
   */
  private static boolean inRelease(Addon a, Map<String, String> releaseVars) {
    return a.configVars().isEmpty()
        || a.configVars().stream().anyMatch(releaseVars::containsKey)
        || !derivedVars(a, releaseVars).isEmpty();
  }

  /**
   * The vars the add-on sets on the source: its {@code config_vars} (Heroku names them for the app
   * that owns it), and for each name it is attached under here, that name with the same endings
   * ({@code CACHE_URL}, {@code CACHE_TLS_URL} for a {@code REDIS_URL}, {@code REDIS_TLS_URL} add-on
   * attached as {@code CACHE}) found in the release. An add-on shared from another app under
   * another name was copied as plain values, which a credential rotation breaks (review 6).
   */
  static Set<String> varsOf(Addon a, Map<String, String> releaseVars) {
    Set<String> vars = new java.util.HashSet<>(a.configVars());
    if (a.configVars().stream().noneMatch(releaseVars::containsKey)) {
      // only for an add-on none of whose own names is here (shared from another app): for the
      // source's own, a user var like MAILGUN_KEY next to MAILGUN_API_KEY was taken for the
      // add-on's, neither copied nor drift-checked (review 9)
      vars.addAll(derivedVars(a, releaseVars));
    }
    return vars;
  }

  private static Set<String> derivedVars(Addon a, Map<String, String> releaseVars) {
    Set<String> found = new java.util.HashSet<>();
    for (String name : a.attachedAs()) {
      if (releaseVars.containsKey(name + "_URL")) {
        found.add(name + "_URL");
      }
      for (String v : a.configVars()) {
        for (int i = v.indexOf('_'); i >= 0; i = v.indexOf('_', i + 1)) {
          String candidate = name + v.substring(i);
          if (releaseVars.containsKey(candidate)) {
            found.add(candidate);
          }
        }
      }
    }
    return found;
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
