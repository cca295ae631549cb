package io.dynofleet.api;

import io.dynofleet.config.AdminHosts;
import io.dynofleet.config.DynofleetConfig;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.Config;

/**
 * {@code Strict-Transport-Security} on the admin hosts ({@code DYNOFLEET_ADMIN_HOSTS}), on a Heroku
 * dyno, for requests that reached the router over https: those hosts are Dynofleet's alone (never
 * proxied), so a browser may be told never to try them over plain http, where the first request
 * (and a token in it) could be taken. Never on other hosts: they are the backends', whose own
 * answers say what they want. Without {@code includeSubDomains} unless configured: other apps may
 * live below an admin host's name. Set before anything answers, so 401s, 404s and the proxy's
 * refusal on an admin host carry it too.
 */
@ApplicationScoped
class Hsts {
  private final AdminHosts adminHosts;

  /** The header's value; null when it is never sent. */
  private final String value;

  Hsts(DynofleetConfig config, AdminHosts adminHosts, Config rawConfig) {
    this.adminHosts = adminHosts;
    boolean onDyno =
        rawConfig.getOptionalValue("DYNO", String.class).filter(d -> !d.isBlank()).isPresent();
    long seconds = config.hstsMaxAge().toSeconds();
    this.value =
        !onDyno || !adminHosts.restricted() || seconds <= 0
            ? null
            : "max-age=" + seconds + (config.hstsIncludeSubdomains() ? "; includeSubDomains" : "");
  }

  void register(@Observes Filters filters) {
    if (value != null) {
      // before RequestIds' and ApiAuth's answers
      filters.register(this::filter, ApiAuth.PRIORITY + 20);
    }
  }

  private void filter(RoutingContext rc) {
    // X-Forwarded-Proto is the router's on a dyno (it replaces a client's)
    if ("https".equalsIgnoreCase(rc.request().getHeader("X-Forwarded-Proto"))
        && adminHosts.admin(rc.request().getHeader(HttpHeaders.HOST))) {
      rc.response().putHeader("Strict-Transport-Security", value);
    }
    rc.next();
  }
}
