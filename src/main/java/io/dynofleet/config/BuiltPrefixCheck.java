package io.dynofleet.config;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import org.eclipse.microprofile.config.Config;

/**
 * The reserved prefix is fixed when the jar is built: Quarkus registers the API, health, metrics
 * and OpenAPI routes under it then, and the dashboard's files are packaged under it. Set
 * differently at run time ({@code DYNOFLEET_PREFIX}), the proxy and the token check would guard the
 * new prefix while those routes stayed under the old one, unguarded and unreachable at once. So a
 * prefix that is not the built one stops the start.
 */
@ApplicationScoped
class BuiltPrefixCheck {
  /**
   * Build-time fixed in Quarkus: this reads the value the jar was built with, whatever is set now.
   */
  static final String BUILT_ROOT = "quarkus.http.non-application-root-path";

  void onStart(
      @Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent e,
      DynofleetConfig config,
      Config raw) {
    String built = raw.getOptionalValue(BUILT_ROOT, String.class).orElse("");
    String wanted = config.prefix() + "/q";
    if (!built.equals(wanted)) {
      String builtPrefix = built.endsWith("/q") ? built.substring(0, built.length() - 2) : built;
      throw new StartRefused(
          "dynofleet.prefix is "
              + config.prefix()
              + " but this build serves its API "
              + "and dashboard under "
              + builtPrefix
              + ", fixed when it was built: unset DYNOFLEET_PREFIX");
    }
  }
}
