package io.dynofleet.heroku;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * The Platform API as a REST Client. Package-private: only {@link HerokuClient} calls it, and
 * translates statuses, paging, ETags and errors. Every method returns the raw {@link Response} (the
 * default exception mapper is off) and bodies are JSON strings, so the facade controls both the
 * headers it reads and how nulls are written (config-var PATCH needs explicit nulls).
 */
@Path("/")
interface HerokuApi {

  String RANGE = "Range";
  String INM = "If-None-Match";

  @GET
  @Path("account")
  Response account(@HeaderParam(INM) String etag);

  /** Free of the rate limit (Heroku's schema: "do not count towards the rate limit"). */
  @GET
  @Path("account/rate-limits")
  Response rateLimits();

  @GET
  @Path("apps")
  Response apps(@HeaderParam(RANGE) String range, @HeaderParam(INM) String etag);

  @POST
  @Path("apps")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createApp(String body);

  @GET
  @Path("addon-services/{service}")
  Response addonService(@PathParam("service") String service, @HeaderParam(INM) String etag);

  @POST
  @Path("teams/apps")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createTeamApp(String body);

  @GET
  @Path("teams/{team}")
  Response team(@PathParam("team") String team, @HeaderParam(INM) String etag);

  @GET
  @Path("apps/{app}")
  Response app(@PathParam("app") String app, @HeaderParam(INM) String etag);

  @DELETE
  @Path("apps/{app}")
  Response deleteApp(@PathParam("app") String app);

  @GET
  @Path("apps/{app}/config-vars")
  Response configVars(@PathParam("app") String app, @HeaderParam(INM) String etag);

  @PATCH
  @Path("apps/{app}/config-vars")
  @Consumes(MediaType.APPLICATION_JSON)
  Response patchConfigVars(@PathParam("app") String app, String body);

  @GET
  @Path("apps/{app}/formation")
  Response formations(
      @PathParam("app") String app,
      @HeaderParam(RANGE) String range,
      @HeaderParam(INM) String etag);

  @GET
  @Path("apps/{app}/formation/{type}")
  Response formation(
      @PathParam("app") String app, @PathParam("type") String type, @HeaderParam(INM) String etag);

  @PATCH
  @Path("apps/{app}/formation/{type}")
  @Consumes(MediaType.APPLICATION_JSON)
  Response updateFormation(
      @PathParam("app") String app, @PathParam("type") String type, String body);

  @PATCH
  @Path("apps/{app}/formation")
  @Consumes(MediaType.APPLICATION_JSON)
  Response batchUpdateFormation(@PathParam("app") String app, String body);

  @GET
  @Path("apps/{app}/releases")
  Response releases(
      @PathParam("app") String app,
      @HeaderParam(RANGE) String range,
      @HeaderParam(INM) String etag);

  @GET
  @Path("apps/{app}/releases/{release}")
  Response release(
      @PathParam("app") String app,
      @PathParam("release") String release,
      @HeaderParam(INM) String etag);

  @POST
  @Path("apps/{app}/releases")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createRelease(@PathParam("app") String app, String body);

  @GET
  @Path("apps/{app}/releases/{release}/config-vars")
  Response releaseConfigVars(
      @PathParam("app") String app,
      @PathParam("release") String release,
      @HeaderParam(INM) String etag);

  @GET
  @Path("apps/{app}/slugs/{slug}")
  Response slug(
      @PathParam("app") String app, @PathParam("slug") String slug, @HeaderParam(INM) String etag);

  @POST
  @Path("apps/{app}/builds")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createBuild(@PathParam("app") String app, String body);

  @GET
  @Path("apps/{app}/builds/{build}")
  Response build(
      @PathParam("app") String app,
      @PathParam("build") String build,
      @HeaderParam(INM) String etag);

  @POST
  @Path("app-setups")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createAppSetup(String body);

  @GET
  @Path("app-setups/{id}")
  Response appSetup(@PathParam("id") String id, @HeaderParam(INM) String etag);

  @GET
  @Path("pipelines/{pipeline}")
  Response pipeline(@PathParam("pipeline") String pipeline, @HeaderParam(INM) String etag);

  @GET
  @Path("pipelines/{pipeline}/pipeline-couplings")
  Response pipelineCouplings(
      @PathParam("pipeline") String pipeline,
      @HeaderParam(RANGE) String range,
      @HeaderParam(INM) String etag);

  @GET
  @Path("apps/{app}/pipeline-couplings")
  Response appPipelineCoupling(@PathParam("app") String app, @HeaderParam(INM) String etag);

  @POST
  @Path("pipeline-couplings")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createPipelineCoupling(String body);

  @DELETE
  @Path("pipeline-couplings/{id}")
  Response deletePipelineCoupling(@PathParam("id") String id);

  @GET
  @Path("apps/{app}/addons")
  Response addons(
      @PathParam("app") String app,
      @HeaderParam(RANGE) String range,
      @HeaderParam(INM) String etag);

  @GET
  @Path("apps/{app}/addon-attachments")
  Response addonAttachments(
      @PathParam("app") String app,
      @HeaderParam(RANGE) String range,
      @HeaderParam(INM) String etag);

  @POST
  @Path("addon-attachments")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createAddonAttachment(String body);

  @DELETE
  @Path("addon-attachments/{id}")
  Response deleteAddonAttachment(@PathParam("id") String id);

  @GET
  @Path("apps/{app}/webhooks")
  Response webhooks(
      @PathParam("app") String app,
      @HeaderParam(RANGE) String range,
      @HeaderParam(INM) String etag);

  @POST
  @Path("apps/{app}/webhooks")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createWebhook(@PathParam("app") String app, String body);

  @PATCH
  @Path("apps/{app}/webhooks/{webhook}")
  @Consumes(MediaType.APPLICATION_JSON)
  Response updateWebhook(
      @PathParam("app") String app, @PathParam("webhook") String webhook, String body);

  @DELETE
  @Path("apps/{app}/webhooks/{webhook}")
  Response deleteWebhook(@PathParam("app") String app, @PathParam("webhook") String webhook);

  @GET
  @Path("apps/{app}/log-drains")
  Response logDrains(
      @PathParam("app") String app,
      @HeaderParam(RANGE) String range,
      @HeaderParam(INM) String etag);

  @POST
  @Path("apps/{app}/log-drains")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createLogDrain(@PathParam("app") String app, String body);

  @POST
  @Path("apps/{app}/log-sessions")
  @Consumes(MediaType.APPLICATION_JSON)
  Response createLogSession(@PathParam("app") String app, String body);

  @GET
  @Path("apps/{app}/features")
  Response appFeatures(
      @PathParam("app") String app,
      @HeaderParam(RANGE) String range,
      @HeaderParam(INM) String etag);

  @PATCH
  @Path("apps/{app}/features/{feature}")
  @Consumes(MediaType.APPLICATION_JSON)
  Response updateAppFeature(
      @PathParam("app") String app, @PathParam("feature") String feature, String body);

  @GET
  @Path("apps/{app}/dynos")
  Response dynos(
      @PathParam("app") String app,
      @HeaderParam(RANGE) String range,
      @HeaderParam(INM) String etag);

  @DELETE
  @Path("apps/{app}/dynos")
  Response restartAllDynos(@PathParam("app") String app);
}
