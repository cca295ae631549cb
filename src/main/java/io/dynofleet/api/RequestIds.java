package io.dynofleet.api;

import io.dynofleet.config.DynofleetConfig;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.UUID;
import org.jboss.logging.MDC;

/**
 * Gives every request to Dynofleet's own endpoints a request id: the caller's {@code X-Request-Id}
 * when it is a sane token (as Heroku's router sets it), else a new UUID. It is echoed in the
 * response and put in the logging context, so every log line of the request carries {@code
 * request_id=...}. Proxied requests get theirs in the data plane.
 */
@ApplicationScoped
class RequestIds {
  static final String HEADER = "X-Request-Id";
  static final String MDC_KEY = "requestId";

  private final String prefix;

  RequestIds(DynofleetConfig config) {
    this.prefix = config.prefix();
  }

  /**
   * A request target that cannot be decoded (bad percent-encoding in its path or query) fails deep
   * in routing or parameter parsing: answer it with a 400 problem document, never an empty 400 or a
   * 500.
   */
  void malformed(@Observes io.vertx.ext.web.Router router) {
    router
        .route()
        .order(Integer.MIN_VALUE)
        .failureHandler(
            rc -> {
              if (!rc.response().headWritten() && missingHost(rc.failure())) {
                // vertx-web refuses it before any route; without
                // this it was an ERROR log line per request
                rc.response()
                    .setStatusCode(400)
                    .putHeader("Content-Type", Problem.MEDIA_TYPE)
                    .end(
                        io.vertx.core.json.Json.encode(
                            Problem.of(
                                400,
                                "missing-host",
                                "Missing Host",
                                "HTTP/1.1 requests need one valid Host header (host[:port])")));
                return;
              }
              String path = rc.request().path();
              if (!rc.response().headWritten()
                  && (rc.statusCode() == -1 || rc.statusCode() == 500)
                  && rc.failure() != null
                  && !malformedTarget(rc.failure())
                  && path != null
                  && path.regionMatches(true, 0, prefix, 0, prefix.length())) {
                // a failure in a route or filter of Dynofleet's own,
                // outside RESTEasy's mappers: Quarkus's handler answered
                // it with its own JSON, not a problem document (audit 16)
                internalProblem(rc);
                return;
              }
              if (rc.response().headWritten()
                  || !(malformedTarget(rc.failure())
                      || (rc.statusCode() == 400 && rc.failure() == null))) {
                rc.next();
                return;
              }
              malformedProblem(rc);
            });
  }

  /**
   * The {@code internal} 500 as the API's mappers answer it: an id in the answer and in an ERROR
   * line with the failure (a database error's message withheld: it may quote the data it refused).
   */
  static void internalProblem(RoutingContext rc) {
    String id = UUID.randomUUID().toString();
    Throwable failure = rc.failure();
    String path = rc.request().path();
    org.jboss.logging.Logger.getLogger(RequestIds.class)
        .errorf(
            failure == null
                ? null
                : ProblemMappers.isDatabaseError(failure)
                    ? ProblemMappers.scrubbed(failure, 0)
                    : failure,
            "router unexpected error id=%s path=%s",
            id,
            path == null ? "-" : path.replaceAll("[^\\x21-\\x7e]", "?"));
    rc.response()
        .setStatusCode(500)
        .putHeader("Content-Type", Problem.MEDIA_TYPE)
        .end(
            io.vertx.core.json.Json.encode(
                Problem.of(
                    500,
                    "internal",
                    "Internal error",
                    "unexpected error; id " + id + " in the logs")));
  }

  /**
   * The problem for an undecodable target; the target itself is not echoed (it cannot be decoded).
   */
  static void malformedProblem(RoutingContext rc) {
    rc.response()
        .setStatusCode(400)
        .putHeader("Content-Type", Problem.MEDIA_TYPE)
        .end(
            io.vertx.core.json.Json.encode(
                Problem.of(
                    400,
                    "malformed-request",
                    "Malformed request",
                    "the request target is not valid: check the percent-encoding of its path and query")));
  }

  /**
   * What the router could not even route (its path does not decode) ends here, not in a bare 500.
   */
  void unroutable(@Observes io.vertx.ext.web.Router router) {
    router.errorHandler(
        500,
        rc -> {
          if (rc.response().headWritten()) {
            return;
          }
          if (malformedTarget(rc.failure())) {
            malformedProblem(rc);
          } else {
            internalProblem(rc); // with an id, as the API's mappers answer (it had none: audit 16)
          }
        });
  }

  static boolean missingHost(Throwable t) {
    return t != null
        && t.getMessage() != null
        && t.getMessage().contains("'Host' header is required");
  }

  static boolean malformedTarget(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof java.net.URISyntaxException) {
        return true;
      }
      if (c instanceof IllegalArgumentException
          && c.getMessage() != null
          && (c.getMessage().contains("escape sequence")
              || c.getMessage().contains("URLDecoder"))) {
        return true;
      }
    }
    return false;
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
    // the proxy's rule, Heroku's router's (20-200 of letters, digits, +/=-): one id a request
    // through the router and one to the API are kept alike (the API kept "a.b:c", not "a+b/c=")
    if (id == null || !io.dynofleet.proxy.RequestIdForm.kept(id)) {
      id = UUID.randomUUID().toString();
    }
    rc.response().putHeader(HEADER, id);
    MDC.put(MDC_KEY, "request_id=" + id);
    rc.addEndHandler(v -> MDC.remove(MDC_KEY));
    rc.next();
  }
}
