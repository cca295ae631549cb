package io.dynofleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.ext.Provider;
import java.util.Iterator;
import java.util.Map;

/**
 * The read-only token sees pools without their config var values: it is the token handed to
 * Prometheus and to viewers, and the values are the apps' secrets (review 10). Each value is
 * replaced by {@link #HIDDEN}, which the API refuses as a value, so an export made with this token
 * and applied with the other cannot overwrite the secrets with it.
 */
@Provider
public class ReadOnlyRedaction implements ContainerResponseFilter {
  /** What the read-only token sees instead of a config var's value. */
  public static final String HIDDEN = "(hidden from the read-only token)";

  private final CurrentVertxRequest current;
  private final ObjectMapper mapper;

  ReadOnlyRedaction(CurrentVertxRequest current, ObjectMapper mapper) {
    this.current = current;
    this.mapper = mapper;
  }

  @Override
  public void filter(ContainerRequestContext request, ContainerResponseContext response) {
    Object entity = response.getEntity();
    if (!(entity instanceof PoolDocument || entity instanceof PoolList)) {
      return;
    }
    RoutingContext rc = current.getCurrent();
    if (rc == null || rc.get(ApiAuth.READER) == null) {
      return;
    }
    JsonNode tree = mapper.valueToTree(entity);
    if (tree.has("items")) {
      tree.get("items").forEach(ReadOnlyRedaction::redact);
    } else {
      redact(tree);
    }
    response.setEntity(tree);
  }

  private static void redact(JsonNode doc) {
    if (doc.path("spec").path("template").path("configVars") instanceof ObjectNode vars) {
      for (Iterator<Map.Entry<String, JsonNode>> it = vars.fields(); it.hasNext(); ) {
        it.next().setValue(vars.textNode(HIDDEN));
      }
    }
  }
}
