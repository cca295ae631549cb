package io.dynofleet.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import jakarta.ws.rs.NotAcceptableException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.sql.SQLException;
import java.util.UUID;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Turns every failure of the API into an RFC 9457 problem document. Unexpected errors are logged
 * with an id and answered without internals; an unreachable database is a 503 the client can retry.
 */
class ProblemMappers {
  private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

  /** The database-unavailable line: once, then at most once a minute. */
  static final io.dynofleet.config.LogThrottle DATABASE_LOG =
      new io.dynofleet.config.LogThrottle(java.time.Duration.ofMinutes(1));

  @ServerExceptionMapper
  Response api(ApiException e, UriInfo uri) {
    return respond(e.problem(path(uri)));
  }

  @ServerExceptionMapper
  Response json(JsonProcessingException e, UriInfo uri) {
    return respond(
        withInstance(
            Problem.of(400, "malformed-json", "Malformed JSON", "the body is not valid JSON"),
            uri));
  }

  /** The patch documents {@code PATCH /v1/pools/{name}} takes. */
  static final String ACCEPT_PATCH = "application/merge-patch+json, application/json";

  @ServerExceptionMapper
  Response web(WebApplicationException e, UriInfo uri) {
    int status = e.getResponse().getStatus();
    Problem p;
    String allow = null;
    if (e instanceof NotFoundException) {
      p = Problem.of(404, "not-found", "Not found", "no such resource");
    } else if (e instanceof NotAllowedException) {
      allow = allowed(e, uri);
      p =
          Problem.of(
              405,
              "method-not-allowed",
              "Method not allowed",
              allow.isEmpty()
                  ? "this resource answers no method"
                  : "this resource answers " + allow);
    } else if (e instanceof NotSupportedException) {
      p =
          Problem.of(
              415,
              "unsupported-media-type",
              "Unsupported media type",
              "send application/json (or application/merge-patch+json for PATCH)");
    } else if (e instanceof NotAcceptableException) {
      p = Problem.of(406, "not-acceptable", "Not acceptable", "this API answers application/json");
    } else if (status >= 500) {
      return unexpected(e, uri);
    } else {
      p =
          Problem.of(
              status,
              "bad-request",
              Response.Status.fromStatusCode(status) != null
                  ? Response.Status.fromStatusCode(status).getReasonPhrase()
                  : "Bad request",
              "the request was rejected");
    }
    Response.ResponseBuilder b =
        Response.status(status).type(Problem.MEDIA_TYPE).entity(withInstance(p, uri));
    if (allow != null) {
      b.header("Allow", allow);
    }
    if (e instanceof NotSupportedException && AllowedMethods.at(uri.getPath()).contains("PATCH")) {
      // RFC 5789 2.2: an unsupported patch document names the ones that are (a JSON Patch client
      // learns to send a merge patch)
      b.header("Accept-Patch", ACCEPT_PATCH);
    }
    return b.build();
  }

  /**
   * The methods for the 405's {@code Allow}: the exception's own if it has them, else the
   * resources'.
   */
  private static String allowed(WebApplicationException e, UriInfo uri) {
    java.util.Set<String> methods = new java.util.TreeSet<>(e.getResponse().getAllowedMethods());
    if (methods.isEmpty() && uri != null) {
      methods.addAll(AllowedMethods.at(uri.getPath()));
    }
    return String.join(", ", methods);
  }

  @ServerExceptionMapper
  Response unexpected(Throwable e, UriInfo uri) {
    if (isDatabaseDown(e)) {
      // at most once a minute (audit 18 #7: a line per request, every 2 s of a rollout status)
      String what = e.getClass().getSimpleName();
      long untold = DATABASE_LOG.tell("database", what);
      if (untold >= 0) {
        LOG.warnf(
            "api database unavailable path=%s error=\"%s\"%s",
            path(uri),
            what,
            untold > 0 ? " (" + untold + " more requests answered 503 since the last line)" : "");
      } else {
        LOG.debugf("api database unavailable path=%s error=\"%s\"", path(uri), what);
      }
      return Response.status(503)
          .type(Problem.MEDIA_TYPE)
          .header("Retry-After", "5")
          .entity(
              withInstance(
                  Problem.of(
                      503,
                      "database-unavailable",
                      "Database unavailable",
                      "the desired-state store cannot be reached; the proxy keeps serving; retry shortly"),
                  uri))
          .build();
    }
    String id = UUID.randomUUID().toString();
    // a database error's message quotes the data it refused (PostgreSQL: "JSON data, line 1:
    // ...configVars..."), and config vars are credentials: log its classes and frames only
    LOG.errorf(
        isDatabaseError(e) ? scrubbed(e, 0) : e,
        "api unexpected error id=%s path=%s",
        id,
        path(uri));
    return respond(
        withInstance(
            Problem.of(
                500, "internal", "Internal error", "unexpected error; id " + id + " in the logs"),
            uri));
  }

  static boolean isDatabaseDown(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof org.hibernate.exception.JDBCConnectionException
          || t instanceof io.dynofleet.db.SchemaMigration.Pending) {
        return true;
      }
      if (t instanceof SQLException sql
          && sql.getSQLState() != null
          && sql.getSQLState().startsWith("08")) {
        return true;
      }
      String n = t.getClass().getName();
      if (n.contains("AcquisitionTimeout")
          || (t.getMessage() != null && t.getMessage().contains("Acquisition timeout"))) {
        return true;
      }
    }
    return false;
  }

  static boolean isDatabaseError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException
          || t instanceof org.hibernate.JDBCException
          || t instanceof jakarta.persistence.PersistenceException) {
        return true;
      }
    }
    return false;
  }

  /** The same chain of classes, SQL states and stack frames, without a single message. */
  static Throwable scrubbed(Throwable e, int depth) {
    Throwable cause =
        e.getCause() == null || e.getCause() == e || depth > 20
            ? null
            : scrubbed(e.getCause(), depth + 1);
    String state =
        e instanceof SQLException sql && sql.getSQLState() != null
            ? " SQLState " + sql.getSQLState()
            : "";
    Throwable s =
        new Scrubbed(
            e.getClass().getName() + state + " (message withheld: it may quote request data)",
            cause);
    s.setStackTrace(e.getStackTrace());
    return s;
  }

  /** Stands in for a logged exception whose message was withheld. */
  static final class Scrubbed extends RuntimeException {
    Scrubbed(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static Problem withInstance(Problem p, UriInfo uri) {
    return new Problem(p.type(), p.title(), p.status(), p.detail(), path(uri), p.errors());
  }

  private static String path(UriInfo uri) {
    return uri == null ? null : uri.getRequestUri().getRawPath();
  }

  private static Response respond(Problem p) {
    return Response.status(p.status()).type(Problem.MEDIA_TYPE).entity(p).build();
  }
}
