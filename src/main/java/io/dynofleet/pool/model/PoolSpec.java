package io.dynofleet.pool.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * The desired state of a pool, as users write it. Every field is optional on input; the API fills
 * defaults ({@link SpecDefaults}) before storing, so a stored spec is complete.
 *
 * @param pipeline Heroku pipeline (id or name) the backends are coupled to (managed pools)
 * @param replicas how many identical backend apps to keep (managed pools)
 * @param template how to make a backend app
 * @param staticBackends a plain list of backend URLs not managed by Dynofleet (instead of template)
 * @param paused when true the reconciler observes but takes no action
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PoolSpec(
    String pipeline,
    Integer replicas,
    Template template,
    HealthCheck healthCheck,
    Rollout rollout,
    Routing routing,
    List<String> staticBackends,
    Boolean paused) {

  /** True when Dynofleet creates and owns the backend apps (as opposed to a static list). */
  public boolean managed() {
    return template != null;
  }

  public PoolSpec withReplicas(int n) {
    return new PoolSpec(
        pipeline, n, template, healthCheck, rollout, routing, staticBackends, paused);
  }

  public PoolSpec withPaused(boolean p) {
    return new PoolSpec(
        pipeline, replicas, template, healthCheck, rollout, routing, staticBackends, p);
  }

  /** How a backend app is made: a copy of {@code sourceApp}'s code and config. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Template(
      String sourceApp,
      String region,
      String stack,
      String dynoSize,
      String namePrefix,
      Map<String, String> configVars,
      String stage,
      Boolean shareAddons,
      String restartedAt) {

    /** Without {@code restartedAt}: the template as written before it existed. */
    public Template(
        String sourceApp,
        String region,
        String stack,
        String dynoSize,
        String namePrefix,
        Map<String, String> configVars,
        String stage,
        Boolean shareAddons) {
      this(sourceApp, region, stack, dynoSize, namePrefix, configVars, stage, shareAddons, null);
    }
  }

  /** Active health checking of each backend; also drives replacement of dead backends. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record HealthCheck(
      String path,
      Integer intervalSeconds,
      Integer timeoutSeconds,
      Integer healthyThreshold,
      Integer unhealthyThreshold,
      Integer replaceAfterSeconds) {}

  /** Rolling update bounds, as in a Kubernetes Deployment. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Rollout(Integer maxSurge, Integer maxUnavailable) {}

  /**
   * How the data plane sends traffic to this pool.
   *
   * @param httpsRedirect on a Heroku dyno, answer a request that reached the router over plain http
   *     with a redirect to https instead of proxying it: the backends, behind a second router of
   *     their own, always see https and cannot redirect it themselves (audit 20 H1)
   * @param maintenance the pool's maintenance mode, as Heroku's {@code maintenance:on}: the proxy
   *     answers every request of the pool with 503 and a maintenance page, and calls no backend;
   *     the backends keep running and the reconciler goes on as ever (audit 20 M6). A replace that
   *     does not name it keeps the stored value, so applying a pool file does not end a maintenance
   * @param maintenancePageUrl an https page served instead of the built-in one while in
   *     maintenance, as Heroku's {@code MAINTENANCE_PAGE_URL}: fetched and cached by the proxy
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Routing(
      List<String> hosts,
      @com.fasterxml.jackson.annotation.JsonProperty("default") Boolean defaultPool,
      String algorithm,
      Integer timeoutSeconds,
      Integer retries,
      Integer maxInFlightPerBackend,
      Integer maxQueue,
      Integer queueTimeoutSeconds,
      Boolean httpsRedirect,
      Boolean maintenance,
      String maintenancePageUrl) {}
}
