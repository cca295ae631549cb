package io.dynofleet.api;

import io.dynofleet.config.DynofleetConfig;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Anything under the reserved prefix that no endpoint claimed gets a 404 problem document, never
 * the proxy and never an HTML error page.
 */
@ApplicationScoped
class ReservedPrefixFallback {
  private final String prefix;

  ReservedPrefixFallback(DynofleetConfig config) {
    this.prefix = config.prefix();
  }

  void register(@Observes Router router) {
    router
        .route(prefix + "/*")
        .order(Integer.MAX_VALUE)
        .handler(
            rc ->
                ApiAuth.problem(
                    rc,
                    Problem.of(404, "not-found", "Not found", "no such resource under " + prefix)));
  }
}
