package io.dynofleet.reconcile;

import io.dynofleet.pool.model.PoolSpec;
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
 * @param config desired config vars, without those the shared add-ons set and without the marker
 * @param addons the source's add-ons each backend is attached to
 * @param copied the source's add-ons that cannot be shared: their vars are in {@code config}
 * @param region the source app's region: the backends' when the template names none
 * @param stack the source app's stack: the backends' when the template names none (its slug's)
 */
record Source(String releaseId, int version, String slugId, Map<String, String> config,
    List<Addon> addons, List<Addon> copied, String target, Instant readAt, String region, String stack) {

  /**
   * Builds the desired state from the source app's release, that release's own config vars, the
   * app's add-ons and the template. An add-on with vars counts only when the release holds one of
   * them: the add-on list is the app's state now, and an add-on attached by a newer release that
   * failed would otherwise make a dyno that reads it now build another target than one that read
   * it before (review 5), the flap the release's own config vars avoid.
   */
  static Source of(Platform.Release release, Map<String, String> sourceVars, List<Addon> allAddons,
      PoolSpec.Template template, Instant readAt, Platform.App sourceApp) {
    List<Addon> known = allAddons.stream().filter(a -> inRelease(a, sourceVars)).toList();
    // an add-on whose service allows no sharing cannot be attached: its vars are copied (they do
    // not follow a credential rotation; the pool says so)
    List<Addon> addons = known.stream().filter(Addon::shareable).toList();
    List<Addon> copied = known.stream().filter(a -> !a.shareable()).toList();
    Set<String> addonVars = addons.stream().flatMap(a -> a.configVars().stream()).collect(Collectors.toSet());
    Map<String, String> config = new TreeMap<>();
    sourceVars.forEach((k, v) -> {
      if (!addonVars.contains(k) && !k.equals(Reconciler.OWNER_VAR)) {
        config.put(k, v);
      }
    });
    config.putAll(template.configVars());
    StringBuilder identity = new StringBuilder()
        .append(template.dynoSize()).append('|').append(template.region()).append('|')
        .append(template.stack()).append('|').append(template.stage()).append('|');
    config.forEach((k, v) -> identity.append(k).append('=').append(v).append('\n'));
    addonVars.stream().sorted().forEach(v -> identity.append('@').append(v).append('\n'));
    // the slug, not the release: Heroku makes a release for every config change, also for the
    // add-on credential rotations attachments already carry to the backends; only code or config
    // Dynofleet copies is worth a rollout
    String target = release.slugId() + "/" + sha256(identity.toString()).substring(0, 16);
    return new Source(release.id(), release.version(), release.slugId(), Map.copyOf(config),
        addons, copied, target, readAt, sourceApp == null ? null : sourceApp.region(),
        sourceApp == null ? null : sourceApp.stack());
  }

  /**
   * Whether the release knows the add-on: one of its vars (named for the app that owns it) or an
   * attachment's {@code NAME_URL} (an add-on shared from another app) is in the release's config.
   * An add-on without vars changes no config, so no release, and always counts.
   */
  private static boolean inRelease(Addon a, Map<String, String> releaseVars) {
    if (a.configVars().isEmpty()) {
      return true;
    }
    return a.configVars().stream().anyMatch(releaseVars::containsKey)
        || a.attachedAs().stream().anyMatch(n -> releaseVars.containsKey(n + "_URL"));
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
