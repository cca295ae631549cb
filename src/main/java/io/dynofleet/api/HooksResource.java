package io.dynofleet.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynofleet.reconcile.ReconcileLoop;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.jboss.logging.Logger;

/**
 * Receives Heroku app webhooks ({@code api:release}) of source apps, so a new release is rolled out
 * at once instead of at the next sweep. Subscribe with the API token as the webhook's authorization:
 * {@code heroku webhooks:add -i api:release -l notify -u https://LB/_dynofleet/api/v1/hooks/heroku
 * -t "Bearer $DYNOFLEET_API_TOKEN" -a SOURCE_APP}. The notification only says "look now": the
 * reconciler reads the release itself, so a forged or replayed event can cause a pass, never an
 * action the spec does not ask for.
 */
@Path("/v1/hooks/heroku")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "token")
@Blocking
public class HooksResource {
  private static final Logger LOG = Logger.getLogger(HooksResource.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The pools a notification scheduled for a pass. */
  public record Accepted(String app, List<String> reconciling) {}

  private final PoolService pools;
  private final ReconcileLoop loop;

  HooksResource(PoolService pools, ReconcileLoop loop) {
    this.pools = pools;
    this.loop = loop;
  }

  @POST
  @Consumes(MediaType.WILDCARD)
  @Operation(summary = "Heroku app webhook: reconcile the pools copying the app now")
  public Response heroku(String body) {
    JsonNode event;
    try {
      event = body == null || body.isBlank() ? null : JSON.readTree(body);
    } catch (JsonProcessingException e) {
      event = null;
    }
    if (event == null || !event.isObject()) {
      throw new ApiException(400, "malformed-json", "Malformed JSON", "the body is not a Heroku webhook event");
    }
    JsonNode app = event.path("data").path("app");
    String name = app.path("name").asText(null);
    String id = app.path("id").asText(null);
    String resource = event.path("resource").asText("");
    List<String> scheduled = new ArrayList<>();
    if ((name != null || id != null) && (resource.isEmpty() || resource.endsWith("release"))) {
      for (String pool : pools.copying(Arrays.asList(name, id))) { // copying() skips the null one
        loop.enqueue(pool, Duration.ZERO);
        scheduled.add(pool);
      }
    }
    LOG.infof("heroku webhook resource=%s app=%s pools=%s", resource, name != null ? name : id, scheduled);
    return Response.accepted(new Accepted(name != null ? name : id, scheduled)).build();
  }
}
