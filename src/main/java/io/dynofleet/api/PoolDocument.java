package io.dynofleet.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dynofleet.pool.model.Pool;
import io.dynofleet.pool.model.PoolSpec;
import io.dynofleet.pool.model.PoolStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A BackendPool as the API shows it: the Kubernetes shape (apiVersion, kind, metadata, spec,
 * status).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PoolDocument(
    String apiVersion, String kind, Metadata metadata, PoolSpec spec, PoolStatus status) {

  /** Object metadata; {@code resourceVersion} is a string, as in Kubernetes. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Metadata(
      String name,
      UUID uid,
      long generation,
      String resourceVersion,
      Instant creationTimestamp,
      Instant deletionTimestamp,
      Map<String, String> labels) {}

  static PoolDocument of(Pool p) {
    return new PoolDocument(
        PoolValidator.API_VERSION,
        PoolValidator.KIND,
        new Metadata(
            p.name,
            p.id,
            p.generation,
            Long.toString(p.resourceVersion),
            p.createdAt,
            p.deletionTimestamp,
            p.labels),
        p.spec,
        p.status != null ? p.status : PoolStatus.empty());
  }

  /**
   * What only the server sets: an exported document carries it, a declared one does not need it.
   */
  private static final List<String> SERVER_METADATA =
      List.of("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp");

  /**
   * A pool as declared in a file ({@code config/pools}, {@code dynofleet apply -f}): without the
   * fields only the server sets, so an export ({@code get pool X -o yaml}) applies as it is, on any
   * later start or after any status write (which moves {@code resourceVersion}), and to the pool
   * made again from it. The file says what the pool should be, not which version it replaces.
   */
  public static ObjectNode declared(ObjectNode doc) {
    ObjectNode copy = doc.deepCopy();
    copy.remove("status");
    if (copy.get("metadata") instanceof ObjectNode meta) {
      meta.remove(SERVER_METADATA);
    }
    return copy;
  }

  /**
   * A pool as {@code dynofleet get pool X -o yaml|json} exports it: without the operator's levers
   * ({@code spec.paused}, {@code spec.routing.maintenance}). The API stores every default, so an
   * export always wrote {@code paused: false} and {@code maintenance: false}, and applying the
   * committed file (a deploy script, every Dynofleet start) resumed a pool paused in an incident or
   * ended a maintenance (audit 24 M1, M2); left out, a PUT keeps the stored value.
   */
  public static ObjectNode exported(ObjectNode doc) {
    ObjectNode copy = doc.deepCopy();
    if (copy.get("spec") instanceof ObjectNode spec) {
      spec.remove("paused");
      if (spec.get("routing") instanceof ObjectNode routing) {
        routing.remove("maintenance");
      }
    }
    return copy;
  }

  /**
   * The operator's levers a write from {@code before} to {@code after} turned off: {@code paused}
   * (the pool resumed) and {@code maintenance} (the maintenance ended); empty when none.
   */
  public static List<String> leversTurnedOff(JsonNode before, JsonNode after) {
    List<String> off = new java.util.ArrayList<>();
    if (before.path("spec").path("paused").asBoolean(false)
        && !after.path("spec").path("paused").asBoolean(false)) {
      off.add("paused");
    }
    if (before.path("spec").path("routing").path("maintenance").asBoolean(false)
        && !after.path("spec").path("routing").path("maintenance").asBoolean(false)) {
      off.add("maintenance");
    }
    return off;
  }

  /** {@link #leversTurnedOff(JsonNode, JsonNode)} of two stored pools. */
  static List<String> leversTurnedOff(PoolDocument before, PoolDocument after) {
    List<String> off = new java.util.ArrayList<>();
    if (paused(before.spec()) && !paused(after.spec())) {
      off.add("paused");
    }
    if (maintenance(before.spec()) && !maintenance(after.spec())) {
      off.add("maintenance");
    }
    return off;
  }

  private static boolean paused(PoolSpec s) {
    return s != null && Boolean.TRUE.equals(s.paused());
  }

  private static boolean maintenance(PoolSpec s) {
    return s != null && s.routing() != null && Boolean.TRUE.equals(s.routing().maintenance());
  }
}
