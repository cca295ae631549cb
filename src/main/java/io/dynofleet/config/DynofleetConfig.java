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
}
