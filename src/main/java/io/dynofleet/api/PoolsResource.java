package io.dynofleet.api;

import io.dynofleet.api.PoolService.Precondition;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.proxy.RoutingTable;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.EntityTag;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;

/**
 * The BackendPool desired-state API. Thin: parsing, validation and concurrency rules live in {@link
 * PoolService}. Bodies are taken as bytes so that malformed JSON, bytes that are not UTF-8 and
 * unknown fields are reported by our own problem documents, each bad field named (as text, RESTEasy
 * replaced bytes that are not UTF-8 with U+FFFD, and a config var's value was stored changed).
 * Every route refuses query parameters it does not take (a misspelled {@code labelSelector} listed
 * every pool, {@code ?dryRun=All} wrote).
 */
@Path("/v1/pools")
@Produces(MediaType.APPLICATION_JSON)
@SecurityScheme(securitySchemeName = "token", type = SecuritySchemeType.HTTP, scheme = "bearer")
@SecurityRequirement(name = "token")
public class PoolsResource {
  static final String MERGE_PATCH = "application/merge-patch+json";

  private final PoolService service;
  private final RoutingTable routes;
  private final DeclaredPools files;
  private final String dyno;

  private final ApiAuth auth;
  private final HookTarget hooks;
  private final io.dynofleet.proxy.RouteSync sync;
  private final io.dynofleet.db.SchemaMigration schema;

  PoolsResource(
      PoolService service,
      RoutingTable routes,
      io.dynofleet.proxy.RouteSync sync,
      DeclaredPools files,
      ApiAuth auth,
      HookTarget hooks,
      @org.eclipse.microprofile.config.inject.ConfigProperty(name = "dyno", defaultValue = "local")
          String dyno,
      io.dynofleet.db.SchemaMigration schema) {
    this.schema = schema;
    this.auth = auth;
    this.hooks = hooks;
    this.files = files;
    this.dyno = dyno;
    this.service = service;
    this.routes = routes;
    this.sync = sync;
  }

  /**
   * The body of {@code PUT .../scale} (for the OpenAPI document; the service reads it strictly).
   */
  @Schema(name = "Scale")
  public record Scale(@Schema(minimum = "0", maximum = "100", required = true) int replicas) {}

  /** The last path segment of {@link #webhookSecret}, which the read-only token may not read. */
  static final String WEBHOOK_SECRET = "webhook-secret";

  /**
   * A pool's own release webhook secret, and the URL to subscribe with it (null when Dynofleet does
   * not know its public address).
   */
  public record WebhookSecret(String pool, String secret, String url) {
    @Override
    public String toString() {
      return "WebhookSecret[pool=" + pool + ", url=" + url + "]"; // never the secret
    }
  }

  /**
   * Live traffic figures of one backend as this process's proxy sees them; {@code dyno} is the
   * process's {@code $DYNO} (the router picks the dyno that answers: the dashboard names it).
   */
  public record BackendTraffic(
      String app,
      String url,
      boolean healthy,
      boolean ejected,
      long inFlight,
      long requests,
      double requestsPerSecond,
      double errorRate,
      double p50Millis,
      double p99Millis,
      String lastProbeResult,
      int consecutiveFailures,
      String lastFailure,
      boolean probePassing,
      String dyno) {}

  @GET
  @Operation(
      summary = "List pools",
      description =
          "Paged by limit/continue; filtered by labelSelector. A weak ETag of the page (its query,"
              + " and each pool's uid and resourceVersion); If-None-Match → 304 while unchanged")
  @Parameter(
      name = "If-None-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "An ETag of the same list read before: 304 while no pool of it changed")
  @APIResponse(
      responseCode = "200",
      description = "A page of pools",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = PoolList.class)))
  @APIResponse(responseCode = "304", description = "The page is as the ETag sent")
  public Response list(
      @QueryParam("labelSelector") String labelSelector,
      @QueryParam("limit") String limit,
      @QueryParam("continue") String continueToken,
      @Context HttpServerRequest request,
      @Context UriInfo uri) {
    QueryCheck.only(uri, "labelSelector", "limit", "continue");
    // the ids and versions first, the documents only when they changed (audit 21 L2: each
    // dashboard tab read every pool's document every 2 s)
    String ifNoneMatch = preconditions(request).ifNoneMatch();
    if (ifNoneMatch != null) {
      String tag = service.listTag(labelSelector, limit, continueToken);
      if (weaklyListed(ifNoneMatch, tag)) {
        return Response.notModified(new EntityTag(tag, true)).build();
      }
    }
    PoolService.Listed page = service.listed(labelSelector, limit, continueToken);
    return Response.ok(page.list()).tag(new EntityTag(page.etag(), true)).build();
  }

  /** Whether an {@code If-None-Match} list names {@code tag} (weak comparison) or is {@code *}. */
  static boolean weaklyListed(String header, String tag) {
    for (String t : header.split(",")) {
      String v = t.trim();
      if (v.startsWith("W/")) {
        v = v.substring(2);
      }
      if (v.equals("*") || v.equals("\"" + tag + "\"")) {
        return true;
      }
    }
    return false;
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Create a pool")
  public Response create(
      @RequestBody(
              content =
                  @Content(
                      mediaType = MediaType.APPLICATION_JSON,
                      schema = @Schema(implementation = PoolDocument.class)))
          byte[] body,
      @Context UriInfo uri) {
    QueryCheck.only(uri);
    PoolService.Written w = service.createWithWarnings(body);
    PoolDocument doc = w.pool();
    Response.ResponseBuilder b =
        Response.created(uri.getAbsolutePathBuilder().path(doc.metadata().name()).build());
    return warned(b, w);
  }

  /**
   * The answer of a write: the pool with its ETag, and a {@code Warning} for each thing the write
   * warns of (the pools together above the app limit: a create's, and a replace's, patch's or
   * scale's that raised the pool's apps).
   */
  private static Response warned(Response.ResponseBuilder b, PoolService.Written w) {
    w.warnings().forEach(text -> b.header("Warning", warning(text)));
    return withTag(b, w.pool());
  }

  @GET
  @Path("{name}")
  @Operation(
      summary = "Read a pool (ETag carries resourceVersion; If-None-Match → 304, If-Match → 412)")
  @Parameter(
      name = "If-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "The ETag read: the call fails with 412 if the pool changed since")
  @Parameter(
      name = "If-None-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "An ETag read before: 304 while the pool is unchanged")
  public Response get(
      @PathParam("name") String name, @Context HttpServerRequest request, @Context UriInfo uri) {
    QueryCheck.only(uri);
    PoolDocument doc = service.get(name);
    long rv = Long.parseLong(doc.metadata().resourceVersion());
    // RFC 9110 13.2.2: If-Match first, then If-None-Match (weak comparison) answers 304 on a GET
    Precondition pre = preconditions(request);
    pre.check(rv);
    if (pre.ifNoneMatch() != null && Precondition.listed(pre.ifNoneMatch(), rv, true)) {
      return Response.notModified(new EntityTag(doc.metadata().resourceVersion())).build();
    }
    return withTag(Response.ok(), doc);
  }

  @PUT
  @Path("{name}")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Replace a pool's spec and labels (If-Match for optimistic concurrency)")
  @Parameter(
      name = "If-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "The ETag read: the call fails with 412 if the pool changed since")
  @Parameter(
      name = "If-None-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "412 if the pool's current ETag is listed")
  public Response replace(
      @PathParam("name") String name,
      @Context HttpServerRequest request,
      @RequestBody(
              content =
                  @Content(
                      mediaType = MediaType.APPLICATION_JSON,
                      schema = @Schema(implementation = PoolDocument.class)))
          byte[] body,
      @Context UriInfo uri) {
    QueryCheck.only(uri);
    return warned(
        kept(Response.ok(), name), service.replaceWithWarnings(name, body, preconditions(request)));
  }

  @PATCH
  @Path("{name}")
  @Consumes({MERGE_PATCH, MediaType.APPLICATION_JSON})
  @Operation(summary = "Merge-patch a pool (RFC 7386)")
  @Parameter(
      name = "If-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "The ETag read: the call fails with 412 if the pool changed since")
  @Parameter(
      name = "If-None-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "412 if the pool's current ETag is listed")
  public Response patch(
      @PathParam("name") String name,
      @Context HttpServerRequest request,
      @RequestBody(
              content = {
                @Content(mediaType = MERGE_PATCH, schema = @Schema(type = SchemaType.OBJECT)),
                @Content(
                    mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(type = SchemaType.OBJECT))
              })
          byte[] body,
      @Context UriInfo uri) {
    QueryCheck.only(uri);
    return warned(
        kept(Response.ok(), name), service.patchWithWarnings(name, body, preconditions(request)));
  }

  @DELETE
  @Path("{name}")
  @Operation(summary = "Delete a pool: marks it terminating; its apps are deleted, then the pool")
  @Parameter(
      name = "If-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "The ETag read: the call fails with 412 if the pool changed since")
  @Parameter(
      name = "If-None-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "412 if the pool's current ETag is listed")
  public Response delete(
      @PathParam("name") String name, @Context HttpServerRequest request, @Context UriInfo uri) {
    QueryCheck.only(uri);
    // Kubernetes' DeleteOptions (dryRun, propagationPolicy, preconditions) were read and dropped:
    // a "dry run" deleted the pool and its apps
    refuseBody(
        request,
        "DELETE takes no body",
        "DELETE takes no body (no dry run, no orphaning); for a conditional delete send If-Match: nothing was changed");
    return withTag(kept(Response.accepted(), name), service.delete(name, preconditions(request)));
  }

  @PUT
  @Path("{name}/scale")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Set the number of replicas: {\"replicas\": n}")
  @Parameter(
      name = "If-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "The ETag read: the call fails with 412 if the pool changed since")
  @Parameter(
      name = "If-None-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "412 if the pool's current ETag is listed")
  public Response scale(
      @PathParam("name") String name,
      @Context HttpServerRequest request,
      @RequestBody(
              content =
                  @Content(
                      mediaType = MediaType.APPLICATION_JSON,
                      schema = @Schema(implementation = Scale.class)))
          byte[] body,
      @Context UriInfo uri) {
    QueryCheck.only(uri);
    return warned(
        kept(Response.ok(), name), service.scaleWithWarnings(name, body, preconditions(request)));
  }

  @POST
  @Path("{name}/proxy-secret/rotate")
  @Operation(
      summary = "Rotate a managed pool's proxy secret and roll the pool",
      description =
          "A new DYNOFLEET_PROXY_SECRET for the pool, and a rollout restart: every backend is"
              + " replaced within spec.rollout by an app holding the new secret; until then the"
              + " proxy sends each old backend the secret it holds. No body; the secret is never"
              + " answered. 409 not-managed for a static pool.")
  @Parameter(
      name = "If-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "The ETag read: the call fails with 412 if the pool changed since")
  @Parameter(
      name = "If-None-Match",
      in = ParameterIn.HEADER,
      schema = @Schema(type = SchemaType.STRING),
      description = "412 if the pool's current ETag is listed")
  public Response rotateProxySecret(
      @PathParam("name") String name, @Context HttpServerRequest request, @Context UriInfo uri) {
    QueryCheck.only(uri);
    // a body would be a setting this call does not have (a secret of one's own, say): refused
    refuseBody(
        request,
        "This call takes no body",
        "POST .../proxy-secret/rotate takes no body: Dynofleet makes the secret; nothing was changed");
    return withTag(Response.ok(), service.rotateProxySecret(name, preconditions(request)));
  }

  @GET
  @Path("{name}/" + WEBHOOK_SECRET)
  @Operation(
      summary = "The pool's own release webhook secret (API token only)",
      description =
          "The secret to give a subscription made by hand for the pool's source app, with the"
              + " pool's hook URL (?pool=NAME): derived from DYNOFLEET_WEBHOOK_SECRET, it signs"
              + " for this pool only, and the master secret cannot be worked back from it. Hand"
              + " out this, never DYNOFLEET_WEBHOOK_SECRET. The read-only token gets 403; 404"
              + " no-webhook-secret when DYNOFLEET_WEBHOOK_SECRET is not set. Sent with"
              + " Cache-Control: no-store.")
  public Response webhookSecret(
      @PathParam("name") String name,
      @Context UriInfo uri,
      @Context io.vertx.ext.web.RoutingContext rc) {
    if (rc != null && rc.get(ApiAuth.READER) != null) {
      // ApiAuth refuses the path already; this holds for any spelling that routes here (matrix
      // parameters are dropped before matching, review 27 #1)
      throw new ApiException(
          403, "read-only-token", "Read-only token", ApiAuth.NO_WEBHOOK_SECRET_FOR_READER);
    }
    QueryCheck.only(uri);
    service.get(name); // 404 problem for an unknown pool
    String secret = auth.poolWebhookSecret(name);
    if (secret == null) {
      throw new ApiException(
          404,
          "no-webhook-secret",
          "No webhook secret",
          "DYNOFLEET_WEBHOOK_SECRET is not set, so no pool has a webhook secret and the hook takes"
              + " no notification: set it (openssl rand -hex 32)");
    }
    return Response.ok(new WebhookSecret(name, secret, hooks.url(name).orElse(null)))
        .header("Cache-Control", "no-store")
        .build();
  }

  @GET
  @Path("{name}/status")
  @Operation(summary = "The observed state of a pool")
  public PoolStatus status(@PathParam("name") String name, @Context UriInfo uri) {
    QueryCheck.only(uri);
    return service.status(name);
  }

  @GET
  @Path("{name}/events")
  @Operation(summary = "The pool's recent events, newest first")
  public List<EventDocument> events(
      @PathParam("name") String name, @QueryParam("limit") String limit, @Context UriInfo uri) {
    QueryCheck.only(uri, "limit");
    return service.events(name, limit);
  }

  @GET
  @Path("{name}/stats")
  @Operation(
      summary =
          "Live traffic per backend, as this Dynofleet process's proxy sees it (each item names"
              + " the process's $DYNO)",
      description =
          "Served from the proxy's memory during a database outage too, for a pool it routes: a"
              + " Warning header (299) then says the store cannot be reached and when the pool was"
              + " last loaded; the backends are those of that load, their figures live")
  @APIResponse(
      responseCode = "200",
      description = "One item per backend",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(type = SchemaType.ARRAY, implementation = BackendTraffic.class)))
  public Response stats(@PathParam("name") String name, @Context UriInfo uri) {
    QueryCheck.only(uri);
    String stale = null;
    boolean routed = routes.route(name).isPresent();
    if (!routed && !schema.migrated()) {
      // nothing in memory to serve, and no table is read before the schema is known good: a 503
      // as any request then (review 29 R29-8: it read the store, a 500 on an empty database)
      throw new io.dynofleet.db.SchemaMigration.Pending();
    }
    if (routed && sync.storeFailing()) {
      // the route sync's last poll failed: each call would wait out the pool's acquisition
      stale = staleness();
    } else {
      try {
        service.get(name); // 404 problem for an unknown pool
      } catch (RuntimeException e) {
        if (!routed || !ProblemMappers.isDatabaseDown(e)) {
          throw e;
        }
        stale = staleness();
      }
    }
    List<BackendTraffic> items =
        routes.stats(name).stream()
            .map(
                s ->
                    new BackendTraffic(
                        s.id(),
                        s.url().toString(),
                        s.healthy() && !s.ejected(),
                        s.ejected(),
                        s.inFlight(),
                        s.requests(),
                        s.requestsPerSecond(),
                        s.errorRate(),
                        s.p50Millis(),
                        s.p99Millis(),
                        s.lastProbeResult(),
                        s.consecutiveFailures(),
                        s.lastFailure(),
                        s.probePassing(),
                        dyno))
            .toList();
    Response.ResponseBuilder b = Response.ok(items);
    if (stale != null) {
      b.header("Warning", warning(stale));
    }
    return b.build();
  }

  /**
   * The {@code Warning} of stats served while the store cannot be reached (audit 23 L5: they were a
   * 503 though they are the proxy's memory): the figures are live, the pool's backends are as the
   * route sync last loaded them, and the pool may have changed or gone since.
   */
  private String staleness() {
    java.time.Instant at = sync.lastSynced();
    return "the desired-state store cannot be reached: the backends are the pool's as this proxy"
        + (at == null
            ? " routes it without the store (none was loaded since this process started)"
            : " last loaded it at " + at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
        + "; their figures are live";
  }

  /** 400 {@code body-not-allowed} for a request with a body, on a route that takes none. */
  private static void refuseBody(HttpServerRequest request, String title, String detail) {
    String length = request.getHeader("Content-Length");
    if (request.getHeader("Transfer-Encoding") != null
        || (length != null && !length.trim().equals("0"))) {
      throw new ApiException(400, "body-not-allowed", title, detail);
    }
  }

  /**
   * A write to a pool kept in a pool file carries a {@code Warning} (RFC 9111 5.5, code 299, as
   * Kubernetes warns): the file replaces the change at the next start, at least daily on Heroku,
   * and a scale from the dashboard or the CLI seemed to work and was lost within a day (audit 12).
   */
  private Response.ResponseBuilder kept(Response.ResponseBuilder b, String name) {
    files
        .fileOf(name)
        .ifPresent(
            file ->
                b.header(
                    "Warning",
                    warning(
                        "pool "
                            + name
                            + " is kept in "
                            + file
                            + ": the file replaces this change at the next start; change the file instead")));
    return b;
  }

  /**
   * A {@code Warning} header's value: code 299, the text quoted, what a quoted string cannot hold
   * replaced.
   */
  private static String warning(String text) {
    return "299 - \"" + text.replaceAll("[^\\x20-\\x7e]|[\"\\\\]", "?") + "\"";
  }

  /**
   * {@code If-Match} and {@code If-None-Match} as sent: every line of each joined as one list (RFC
   * 9110 5.3), and an empty one kept (JAX-RS's header parameter made it null, and a script whose
   * ETag variable was empty wrote unconditionally).
   */
  static Precondition preconditions(HttpServerRequest request) {
    return new Precondition(joined(request, "If-Match"), joined(request, "If-None-Match"));
  }

  private static String joined(HttpServerRequest request, String name) {
    List<String> lines = request.headers().getAll(name);
    return lines.isEmpty() ? null : String.join(",", lines);
  }

  private static Response withTag(Response.ResponseBuilder b, PoolDocument doc) {
    return b.entity(doc).tag(new EntityTag(doc.metadata().resourceVersion())).build();
  }
}
