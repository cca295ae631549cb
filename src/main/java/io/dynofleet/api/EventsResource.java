package io.dynofleet.api;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** The events of every pool in one list (a pool's own are at {@code .../pools/NAME/events}). */
@Path("/v1/events")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "token")
public class EventsResource {
  private final PoolService service;

  EventsResource(PoolService service) {
    this.service = service;
  }

  @GET
  @Operation(
      summary = "Events of every pool, newest first",
      description =
          "type: Normal or Warning; since: an RFC 3339 time or an age (30m, 2h, 7d); limit:"
              + " 1-500 (100); continue: metadata.continue of the page before")
  public EventList list(
      @QueryParam("type") String type,
      @QueryParam("since") String since,
      @QueryParam("limit") String limit,
      @QueryParam("continue") String continueToken,
      @Context UriInfo uri) {
    QueryCheck.only(uri, "type", "since", "limit", "continue");
    return service.fleetEvents(type, since, limit, continueToken);
  }
}
