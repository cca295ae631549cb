package io.dynofleet.pool.model;

import io.dynofleet.pool.model.PoolSpec.HealthCheck;
import io.dynofleet.pool.model.PoolSpec.Rollout;
import io.dynofleet.pool.model.PoolSpec.Routing;
import io.dynofleet.pool.model.PoolSpec.Template;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Kubernetes-style defaulting: the API stores a complete spec, so what a user reads back is what
 * the reconciler and the proxy act on. Also normalises dyno sizes (case, and {@code hobby}, the old
 * name of {@code basic}).
 */
public final class SpecDefaults {
  public static final String DEFAULT_DYNO_SIZE = "basic";

  /**
   * {@code spec.template.region} naming the source app's region, which the reconciler looks up when
   * it makes a backend: an eu source's backends were made in us, an ocean from its database and its
   * users, because the guides' first pool named no region (audit 20 M4).
   */
  public static final String SOURCE_REGION = "source";

  /**
   * {@code spec.template.stage} naming the source app's own pipeline stage, which the reconciler
   * reads from the pipeline's couplings: a pool of {@code shop-staging} coupled its backends to
   * production, and {@code heroku pipelines:promote -a shop-staging} then released onto them (audit
   * 20 L5). A source not coupled to the pool's pipeline gives {@link #FALLBACK_STAGE}.
   */
  public static final String SOURCE_STAGE = "source";

  /** The stage of {@code source} for a source app outside the pool's pipeline: the old default. */
  public static final String FALLBACK_STAGE = "production";

  private SpecDefaults() {}

  /** The complete form of {@code s} for the pool {@code poolName}. */
  public static PoolSpec apply(String poolName, PoolSpec s) {
    Template t = s.template();
    if (t != null) {
      String prefix = t.namePrefix() != null ? t.namePrefix() : defaultPrefix(poolName);
      t =
          new Template(
              t.sourceApp(),
              // the source's, stored as "source", never as null: a stored null
              // read as another target by a dyno of the version before (preboot
              // runs both) rolled every pool (review 9). Pools stored before keep
              // the "us" they were given then
              t.region() != null ? t.region() : SOURCE_REGION,
              t.stack(),
              normaliseSize(t.dynoSize() != null ? t.dynoSize() : DEFAULT_DYNO_SIZE),
              prefix,
              t.configVars() != null ? new TreeMap<>(t.configVars()) : Map.of(),
              // the source's, stored as "source" as the region is; pools stored
              // before keep the "production" they were given then
              t.stage() != null ? t.stage() : SOURCE_STAGE,
              t.shareAddons() != null ? t.shareAddons() : Boolean.TRUE,
              t.restartedAt());
    }
    HealthCheck h =
        s.healthCheck() != null
            ? s.healthCheck()
            : new HealthCheck(null, null, null, null, null, null);
    h =
        new HealthCheck(
            h.path() != null ? h.path() : "/",
            or(h.intervalSeconds(), 10),
            // a probe must end before the next starts: the
            // default timeout never exceeds the interval
            or(h.timeoutSeconds(), Math.min(5, or(h.intervalSeconds(), 10))),
            or(h.healthyThreshold(), 2),
            or(h.unhealthyThreshold(), 3),
            or(h.replaceAfterSeconds(), 300));
    Rollout r = s.rollout() != null ? s.rollout() : new Rollout(null, null);
    r = new Rollout(or(r.maxSurge(), 1), or(r.maxUnavailable(), 0));
    Routing ro =
        s.routing() != null
            ? s.routing()
            : new Routing(null, null, null, null, null, null, null, null, null, null, null);
    ro =
        new Routing(
            ro.hosts() != null
                ? ro.hosts().stream().map(x -> x.toLowerCase(Locale.ROOT)).distinct().toList()
                : List.of(),
            ro.defaultPool() != null ? ro.defaultPool() : Boolean.FALSE,
            ro.algorithm() != null ? ro.algorithm() : "least-request",
            or(ro.timeoutSeconds(), 30),
            or(ro.retries(), 1),
            or(ro.maxInFlightPerBackend(), 0),
            or(ro.maxQueue(), 1000),
            or(ro.queueTimeoutSeconds(), 30),
            // on: a pool's backends cannot tell http from https (see Routing)
            ro.httpsRedirect() != null ? ro.httpsRedirect() : Boolean.TRUE,
            ro.maintenance() != null ? ro.maintenance() : Boolean.FALSE,
            ro.maintenancePageUrl());
    return new PoolSpec(
        s.pipeline(),
        t != null ? or(s.replicas(), 1) : null,
        t,
        h,
        r,
        ro,
        s.staticBackends(),
        s.paused() != null ? s.paused() : Boolean.FALSE);
  }

  /**
   * {@code s} with the lists whose order means nothing sorted: {@code routing.hosts} (a request's
   * {@code Host} is looked up in them, no host is first) and {@code staticBackends} (each backend
   * once, balanced alike). Two specs equal in this form route, make and probe the same: a write
   * between them is no change of the spec's meaning, so it does not bump {@code generation} nor
   * start a pass, which would also lift a stalled rollout (audit 17 #8: a tool that sorts lists did
   * that on every apply). Stored as written, not sorted, so what is read back is what was sent.
   */
  public static PoolSpec unordered(PoolSpec s) {
    Routing ro = s.routing();
    if (ro != null && ro.hosts() != null) {
      ro =
          new Routing(
              ro.hosts().stream().sorted().toList(),
              ro.defaultPool(),
              ro.algorithm(),
              ro.timeoutSeconds(),
              ro.retries(),
              ro.maxInFlightPerBackend(),
              ro.maxQueue(),
              ro.queueTimeoutSeconds(),
              ro.httpsRedirect(),
              ro.maintenance(),
              ro.maintenancePageUrl());
    }
    return new PoolSpec(
        s.pipeline(),
        s.replicas(),
        s.template(),
        s.healthCheck(),
        s.rollout(),
        ro,
        s.staticBackends() != null ? s.staticBackends().stream().sorted().toList() : null,
        s.paused());
  }

  /** Lower case, and the pre-2022 name {@code hobby} mapped to {@code basic}. */
  public static String normaliseSize(String size) {
    String s = size.toLowerCase(Locale.ROOT);
    return s.equals("hobby") ? "basic" : s;
  }

  /** A name prefix that leaves room for "-" and a 6-character suffix within Heroku's 30. */
  static String defaultPrefix(String poolName) {
    String p = poolName.length() > 23 ? poolName.substring(0, 23) : poolName;
    while (p.endsWith("-")) {
      p = p.substring(0, p.length() - 1);
    }
    return p;
  }

  private static Integer or(Integer v, int d) {
    return v != null ? v : d;
  }
}
