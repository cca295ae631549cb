package io.dynofleet.reconcile;

import static io.restassured.RestAssured.given;

import io.dynofleet.api.PoolService;
import io.dynofleet.pool.model.PoolStatus;
import io.dynofleet.sandbox.Simulator;
import io.restassured.specification.RequestSpecification;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fresh corner of the simulated Heroku for one test: faults cleared, a source app and a pipeline
 * under names no other test uses, and the reconciler's caches forgotten (if one is given); {@code
 * name} is the pool's.
 */
record SimWorld(String name, String source, String pipeline) {
  private static final AtomicInteger SEQ = new AtomicInteger();
  static final String TOKEN = "test-token-0123456789";
  static final String POOLS = "/_dynofleet/api/v1/pools";

  /** Spec fields for {@link #createPool}: health checks every second, one verdict decides. */
  static final String QUICK_HEALTH =
      ", \"healthCheck\": {\"path\": \"/health\", \"intervalSeconds\": 1,"
          + " \"timeoutSeconds\": 1, \"healthyThreshold\": 1, \"unhealthyThreshold\": 1}";

  static SimWorld fresh(Simulator sim, Reconciler reconciler, String kind) {
    sim.resetFaults();
    String tag = SEQ.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 100000, 36);
    SimWorld w = new SimWorld(kind + tag, kind + "src" + tag, kind + "pipe" + tag);
    sim.createSourceApp(w.source());
    sim.createPipeline(w.pipeline());
    if (reconciler != null) {
      reconciler.forgetCaches();
    }
    return w;
  }

  /**
   * Creates the pool through the API: {@code replicas} copies of the source, {@code template} more
   * template fields and {@code spec} more spec fields (each "" or starting with a comma).
   */
  void createPool(int replicas, String template, String spec) {
    api()
        .body(
            """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "%s", "replicas": %d, "template": {"sourceApp": "%s"%s}%s}}
        """
                .formatted(name, pipeline, replicas, source, template, spec))
        .post(POOLS)
        .then()
        .statusCode(201);
  }

  /** A request to the management API with the test profile's token, JSON body. */
  static RequestSpecification api() {
    return given().header("Authorization", "Bearer " + TOKEN).contentType("application/json");
  }

  /**
   * Stores a verdict on {@code backend} of the pool {@code uid} as the proxy of another Dynofleet
   * dyno would, {@code ageSeconds} old by the database's clock (a dyno process is its rows there).
   */
  static void otherDynosVerdict(
      javax.sql.DataSource db,
      java.util.UUID uid,
      String dyno,
      String backend,
      boolean healthy,
      int ageSeconds)
      throws java.sql.SQLException {
    try (var c = db.getConnection();
        var st =
            c.prepareStatement(
                """
        insert into backend_verdicts (pool_id, backend, dyno, healthy, ejected, consecutive_failures, last_probe, seen_at)
        values (?, ?, ?, ?, false, ?, now(), now() - make_interval(secs => ?))
        on conflict (pool_id, backend, dyno) do update set healthy = excluded.healthy,
          consecutive_failures = excluded.consecutive_failures, seen_at = excluded.seen_at""")) {
      st.setObject(1, uid);
      st.setString(2, backend);
      st.setString(3, dyno);
      st.setBoolean(4, healthy);
      st.setInt(5, healthy ? 0 : 1);
      st.setInt(6, ageSeconds);
      st.executeUpdate();
    }
  }

  /** The pool's Degraded condition. */
  PoolStatus.Condition degraded(PoolService pools) {
    return pools.status(name).conditions().stream()
        .filter(c -> c.type().equals("Degraded"))
        .findFirst()
        .orElseThrow();
  }
}
