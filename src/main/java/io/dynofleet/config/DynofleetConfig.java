package io.dynofleet.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Settings shared by every capability. Capability settings live in their own mappings. */
@ConfigMapping(prefix = "dynofleet")
public interface DynofleetConfig {

  /**
   * The reserved path prefix: the API, dashboard, health and metrics live below it and it is never
   * proxied. Fixed at {@code /_dynofleet}: the API routes are registered under it when the jar is
   * built and the dashboard's files are packaged under it; a different value stops the start
   * ({@code BuiltPrefixCheck}).
   */
  @WithDefault("/_dynofleet")
  String prefix();

  /**
   * Host names the reserved prefix is served on ({@code DYNOFLEET_ADMIN_HOSTS}, comma-separated,
   * e.g. the app's {@code herokuapp.com} name). Unset: every host, as before. Set: the API and
   * dashboard answer only there (404 under the prefix elsewhere) and these hosts are Dynofleet's
   * alone (never proxied), so no backend page shares the dashboard's origin, where its scripts or a
   * service worker could read the token (security review 1).
   */
  java.util.Optional<java.util.List<String>> adminHosts();

  /**
   * {@code max-age} of the {@code Strict-Transport-Security} header on the admin hosts ({@code
   * DYNOFLEET_HSTS_MAX_AGE}), sent only on a Heroku dyno with {@link #adminHosts()} set, and only
   * over https. 0: no header.
   */
  @WithDefault("365d")
  java.time.Duration hstsMaxAge();

  /**
   * Add {@code includeSubDomains} to that header ({@code DYNOFLEET_HSTS_INCLUDE_SUBDOMAINS}): only
   * when every name below the admin hosts serves https.
   */
  @WithDefault("false")
  boolean hstsIncludeSubdomains();

  /**
   * How long a pool's events are kept ({@code DYNOFLEET_EVENT_RETENTION}): each dyno deletes the
   * events last seen longer ago once an hour; a pool also keeps at most 1,000. At least an hour (a
   * shorter value stops the start).
   */
  @WithDefault("14d")
  java.time.Duration eventRetention();
}
