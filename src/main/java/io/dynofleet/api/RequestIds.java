package io.dynofleet.api;

import io.dynofleet.config.DynofleetConfig;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jboss.logging.MDC;

/**
 * Gives every request to Dynofleet's own endpoints a request id: the caller's {@code X-Request-Id}
 * when it is a sane token (as Heroku's router sets it), else a new UUID. It is echoed in the
 * response and put in the logging context, so every log line of the request carries
 * {@code request_id=...}. Proxied requests get theirs in the data plane.
 */
@ApplicationScoped
class RequestIds {
  static final String HEADER = "X-Request-Id";
  static final String MDC_KEY = "requestId";
  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,200}");

  private final String prefix;

  RequestIds(DynofleetConfig config) {
    this.prefix = config.prefix();
  }

  void register(@Observes Filters filters) {
    filters.register(this::filter, ApiAuth.PRIORITY + 10); // before auth: a 401 has an id too
  }

  private void filter(RoutingContext rc) {
    String path = rc.normalizedPath();
    if (!path.equals(prefix) && !path.startsWith(prefix + "/")) {
      rc.next();
      return;
    }
    String id = rc.request().getHeader(HEADER);
    if (id == null || !SANE.matcher(id).matches()) {
      id = UUID.randomUUID().toString();
    }
    rc.response().putHeader(HEADER, id);
    MDC.put(MDC_KEY, "request_id=" + id);
    rc.addEndHandler(v -> MDC.remove(MDC_KEY));
    rc.next();
  }
}
