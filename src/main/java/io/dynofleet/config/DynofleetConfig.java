package io.dynofleet.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Settings shared by every capability. Capability settings live in their own mappings. */
@ConfigMapping(prefix = "dynofleet")
public interface DynofleetConfig {

  /**
   * The reserved path prefix: the API, dashboard, health and metrics live below it and it is never
   * proxied. Fixed at build time for the API paths (they are registered then); default
   * {@code /_dynofleet}.
   */
  @WithDefault("/_dynofleet")
  String prefix();
}
