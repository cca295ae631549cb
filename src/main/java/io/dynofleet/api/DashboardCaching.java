package io.dynofleet.api;

import io.dynofleet.config.DynofleetConfig;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The dashboard's files ({@code index.html}, {@code ui/app.js}, ...) have unversioned names, so a
 * browser must revalidate them ({@code Cache-Control: no-cache}; {@code Last-Modified} makes that a
 * 304 while unchanged) and sees an upgrade at once. Quarkus's static default, {@code public,
 * immutable, max-age=86400}, let it run the old dashboard against the new API for a day. The header
 * is set before the static handler, which keeps a {@code Cache-Control} already there. A filter
 * rather than a {@code quarkus.http.filter} with a path regex: such a route decodes every request's
 * path to match it, and an undecodable target then got Vert.x's bare 400 instead of {@link
 * RequestIds}'s problem document.
 */
@ApplicationScoped
class DashboardCaching {
  /**
   * No inline script or style, no other origin; never framed, no {@code <base>}, no form posts
   * away.
   */
  static final String DASHBOARD_CSP =
      "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          + "frame-ancestors 'none'";

  private final String prefix;

  DashboardCaching(DynofleetConfig config) {
    this.prefix = config.prefix();
  }

  void register(@Observes Filters filters) {
    filters.register(this::filter, ApiAuth.PRIORITY + 5);
  }

  private void filter(RoutingContext rc) {
    HttpMethod m = rc.request().method();
    String raw = rc.request().path();
    // every proxied request passes here: a prefix test first, the
    // normalised path (an allocation) only for Dynofleet's own; an odd
    // spelling of the prefix is served, if at all, as Quarkus caches it
    if ((m == HttpMethod.GET || m == HttpMethod.HEAD) && raw != null && raw.startsWith(prefix)) {
      String path = rc.normalizedPath();
      if (path.equals(prefix)) {
        // typed without the slash: the dashboard, not the token check's 401
        String query = rc.request().query();
        rc.response()
            .setStatusCode(302)
            .putHeader("Location", prefix + "/" + (query == null ? "" : "?" + query))
            .end();
        return;
      }
      if (dashboard(path)) {
        // the dashboard loads its own files only and calls only its own API: a script injected
        // through a gap in its escaping could neither load more nor send the token elsewhere
        rc.response()
            .headers()
            .set("Cache-Control", "no-cache")
            .set("X-Frame-Options", "DENY")
            .set("Content-Security-Policy", DASHBOARD_CSP);
      } else if (path.startsWith(prefix + "/q/swagger-ui")) {
        // never inside another site's frame (clickjacking the Scale and Pause buttons, or Swagger
        // UI's Execute with the token it was given: security review 2); Swagger UI's page has
        // inline script, so no more than that
        rc.response()
            .headers()
            .set("X-Frame-Options", "DENY")
            .set("Content-Security-Policy", "frame-ancestors 'none'");
      }
    }
    rc.next();
  }

  /** Under the prefix, outside the API ({@code /api}) and Quarkus's own endpoints ({@code /q}). */
  private boolean dashboard(String path) {
    if (!path.equals(prefix) && !path.startsWith(prefix + "/")) {
      return false;
    }
    String rest = path.substring(prefix.length());
    return !(rest.equals("/api")
        || rest.startsWith("/api/")
        || rest.equals("/q")
        || rest.startsWith("/q/"));
  }
}
