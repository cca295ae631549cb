package io.dynofleet.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.dynofleet.pool.model.Pool;
import io.dynofleet.pool.model.PoolSpec;
import io.dynofleet.pool.model.PoolStatus;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** A BackendPool as the API shows it: the Kubernetes shape (apiVersion, kind, metadata, spec, status). */
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
        new Metadata(p.name, p.id, p.generation, Long.toString(p.resourceVersion), p.createdAt,
            p.deletionTimestamp, p.labels),
        p.spec,
        p.status != null ? p.status : PoolStatus.empty());
  }
}
