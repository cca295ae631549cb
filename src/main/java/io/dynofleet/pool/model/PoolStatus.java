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
 * @param drift config vars found changed by hand on backends
 * @param stalledRelease the target a rollout or create stopped at (it is not retried until the
 *     source app or the spec changes)
 * @param webhook the pool's webhook subscription on its source app, when it has one
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
    List<String> drift,
    String stalledRelease,
    Webhook webhook) {

  public static PoolStatus empty() {
    return new PoolStatus(0, 0, 0, 0, null, List.of(), List.of(), null, null, null, null, null);
  }

  /** This status with another webhook subscription. */
  public PoolStatus withWebhook(Webhook w) {
    return new PoolStatus(
        observedGeneration,
        replicas,
        readyReplicas,
        updatedReplicas,
        targetRelease,
        conditions,
        backends,
        estimatedMonthlyCost,
        equivalentDynoCost,
        drift,
        stalledRelease,
        w);
  }

  /**
   * Equal but for probe timestamps, which move on every health check, and what a failing backend
   * last met, which may too (a timeout, then a refused connection): a status that differs only
   * there is not worth a write (every write bumps resourceVersion).
   */
  public boolean sameAs(PoolStatus other) {
    return other != null && withoutProbeTimes().equals(other.withoutProbeTimes());
  }

  private PoolStatus withoutProbeTimes() {
    List<BackendStatus> b =
        backends == null
            ? null
            : backends.stream()
                .map(
                    x ->
                        new BackendStatus(
                            x.app(),
                            x.webUrl(),
                            x.release(),
                            x.phase(),
                            x.healthy(),
                            null,
                            x.consecutiveFailures(),
                            null,
                            x.failingOn(),
                            x.createdAt(),
                            x.probed(),
                            x.region(),
                            x.stack()))
                .toList();
    return new PoolStatus(
        observedGeneration,
        replicas,
        readyReplicas,
        updatedReplicas,
        targetRelease,
        conditions,
        b,
        estimatedMonthlyCost,
        equivalentDynoCost,
        drift,
        stalledRelease,
        webhook);
  }

  /**
   * The subscription that makes Heroku notify Dynofleet of the source app's releases.
   *
   * @param app the source app it is on, by name (as the spec names it)
   * @param appId the source app's id, as pinned: the subscription is made, kept and compared by it
   *     (review 30 R30-2). Absent in a row written before it existed; a row written while {@code
   *     app} held the id (the release before this one for an hour) reads with the id in both
   * @param id Heroku's id of the subscription
   * @param url where Heroku sends the notifications
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Webhook(String app, String appId, String id, String url) {
    public Webhook {
      if (appId == null && app != null && UUID_FORM.matcher(app).matches()) {
        appId = app; // stored with the id in app: the name is written again at the next pass
      }
    }

    private static final java.util.regex.Pattern UUID_FORM =
        java.util.regex.Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    /** The app to call Heroku with: its id when known, else the name (a row from before ids). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String callable() {
      return appId != null ? appId : app;
    }

    /**
     * The app as a text names it: its name, with the start of its id ({@code src (8d4c3f0e…)}), or
     * the id alone while the name is not known yet.
     */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String named() {
      if (appId == null || appId.equals(app)) {
        return app;
      }
      return app + " (" + appId.substring(0, Math.min(8, appId.length())) + "…)";
    }

    /** The same subscription (Heroku's id and the URL), whatever the record calls its app. */
    public boolean sameSubscription(Webhook other) {
      return other != null && id.equals(other.id) && url.equals(other.url);
    }
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
      /**
       * What it met while not healthy: the last probe's result ({@code HTTP 503}, {@code connection
       * refused}, a timeout) or, ejected, the last failed request's; as of the last status write,
       * like {@code lastProbe}.
       */
      String lastFailure,
      List<String> failingOn,
      Instant createdAt,
      /**
       * {@code false} for a static URL that no proxy has probed yet: its {@code Ready} and {@code
       * healthy} are assumed (a static URL takes traffic from the start), not a verdict (audit 22
       * L6); absent otherwise.
       */
      Boolean probed,
      /**
       * The Heroku region its app was made in (managed pools; audit 24 I1): known for a backend
       * made from the source and template the status was written against, and kept from an earlier
       * status for an older one; absent when neither says.
       */
      String region,
      /** The Heroku stack its app was made on, known and kept as {@code region} is. */
      String stack) {

    public BackendStatus(
        String app,
        String webUrl,
        String release,
        String phase,
        Boolean healthy,
        Instant lastProbe,
        Integer consecutiveFailures,
        String lastFailure,
        List<String> failingOn,
        Instant createdAt) {
      this(
          app,
          webUrl,
          release,
          phase,
          healthy,
          lastProbe,
          consecutiveFailures,
          lastFailure,
          failingOn,
          createdAt,
          null);
    }

    public BackendStatus(
        String app,
        String webUrl,
        String release,
        String phase,
        Boolean healthy,
        Instant lastProbe,
        Integer consecutiveFailures,
        String lastFailure,
        List<String> failingOn,
        Instant createdAt,
        Boolean probed) {
      this(
          app,
          webUrl,
          release,
          phase,
          healthy,
          lastProbe,
          consecutiveFailures,
          lastFailure,
          failingOn,
          createdAt,
          probed,
          null,
          null);
    }

    /** Unhealthy by the proxies' evidence (probes or requests failed), not by absence of any. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean failedChecks() {
      return Boolean.FALSE.equals(healthy)
          && (lastProbe != null || consecutiveFailures != null && consecutiveFailures > 0);
    }
  }
}
