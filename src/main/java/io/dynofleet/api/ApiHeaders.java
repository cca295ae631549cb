package io.dynofleet.api;

import io.dynofleet.config.DynofleetConfig;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Headers on every answer under the reserved prefix: {@code X-Content-Type-Options: nosniff} (a
 * browser never guesses a type other than the one sent), and on the API's answers {@code
 * Cache-Control: no-store} unless the route set its own: a pool's document holds its config vars'
 * values (the backends' database passwords, API keys), and a 200 with an {@code ETag} was stored by
 * browsers in their disk cache (security review 4 S4-3). The dashboard keeps its own copy for its
 * {@code If-None-Match}, so nothing is lost. The metrics too: they name every backend app and pool
 * (security review 7 S7-5). Set as the head is written, so answers made before any route (401, 404,
 * 429 from {@link ApiAuth}) carry them too.
 */
@ApplicationScoped
class ApiHeaders {
  private final String prefix;
  private final String api;
  private final String metrics;

  ApiHeaders(DynofleetConfig config) {
    this.prefix = config.prefix();
    this.api = prefix + "/api/";
    this.metrics = prefix + "/q/metrics";
  }

  void register(@Observes Filters filters) {
    // before ApiAuth's answers
    filters.register(this::filter, ApiAuth.PRIORITY + 30);
  }

  private void filter(RoutingContext rc) {
    String path = rc.normalizedPath();
    if (path != null && (path.equals(prefix) || path.startsWith(prefix + "/"))) {
      boolean isApi =
          path.startsWith(api) || path.equals(metrics) || path.startsWith(metrics + "/");
      rc.addHeadersEndHandler(
          v -> {
            MultiMap h = rc.response().headers();
            h.set("X-Content-Type-Options", "nosniff");
            if (isApi && !h.contains(HttpHeaders.CACHE_CONTROL)) {
              h.set(HttpHeaders.CACHE_CONTROL, "no-store");
            }
          });
    }
    rc.next();
  }
}
