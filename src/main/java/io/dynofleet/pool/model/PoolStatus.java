package io.dynofleet.pool.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * The observed state of a pool. Written only by the reconciler.
 *
 * @param observedGeneration the spec generation the reconciler last acted on
 * @param targetRelease the source app's release the backends should run (e.g. "v12")
 * @param estimatedMonthlyCost USD per month of the backends' dynos (price table in config)
 * @param equivalentDynoCost USD per month of the same capacity as dynos of one app
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PoolStatus(
    long observedGeneration,
    int replicas,
    int readyReplicas,
    int updatedReplicas,
    String targetRelease,
    List<Condition> conditions,
    List<BackendStatus> backends,
    Double estimatedMonthlyCost,
    Double equivalentDynoCost,
    List<String> drift) {

  public static PoolStatus empty() {
    return new PoolStatus(0, 0, 0, 0, null, List.of(), List.of(), null, null, null);
  }

  /** A Kubernetes-style condition: Ready, Progressing, Degraded. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Condition(
      String type, String status, String reason, String message, Instant lastTransitionTime) {}

  /** One backend app as the reconciler and the data plane see it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record BackendStatus(
      String app,
      String webUrl,
      String release,
      String phase,
      Boolean healthy,
      Instant lastProbe,
      Integer consecutiveFailures,
      Instant createdAt) {}
}
