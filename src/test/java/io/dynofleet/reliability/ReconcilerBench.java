package io.dynofleet.reliability;

import static org.awaitility.Awaitility.await;

import io.dynofleet.reliability.Fleet.Dyno;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reconciler benchmark (bench/reconciler.sh runs it; not a test): one packaged Dynofleet process
 * against the simulator with a fixed latency on every Platform API call. Measures the time from
 * creating a pool of N replicas to N healthy backends, and the Platform API calls per pool per
 * steady-state pass (from the process's own {@code dynofleet.reconcile.platform.calls} metric).
 */
public final class ReconcilerBench {
  private ReconcilerBench() {}

  public static void main(String[] args) throws Exception {
    long latencyMs = Long.getLong("latency.ms", 50);
    List<String[]> rows = new ArrayList<>();
    try (Fleet fleet = new Fleet("bench")) {
      fleet.sourceAndPipeline("origin-app", "bench-pipe");
      fleet.sim.apiLatency(Duration.ofMillis(latencyMs));
      Dyno d = fleet.start(Map.of("dynofleet.reconcile.drift-check-interval", "1h"));

      double one = 0;
      // the first pool of a fresh process pays for JIT, connection pools and the pipeline lookup:
      // shown apart, and the figures below are of a warm process
      for (int n : new int[] {0, 1, 5, 20}) {
        boolean cold = n == 0;
        n = Math.max(n, 1);
        String pool = cold ? "cold" : "up" + n;
        long t0 = System.nanoTime();
        post(d, Fleet.pool(pool, "origin-app", "bench-pipe", n, ""));
        fleet.awaitConverged(d, pool, "origin-app", n, Duration.ofMinutes(3));
        double s = (System.nanoTime() - t0) / 1e9;
        if (n == 1 && !cold) {
          one = s;
        }
        rows.add(
            new String[] {
              "0→"
                  + n
                  + " replicas (time to all healthy)"
                  + (cold ? ", first pool of a cold process" : ""),
              String.format("%.2f s%s", s, n == 1 ? "" : String.format(" (%.2f× one app)", s / one))
            });
        d.send("DELETE", Fleet.POOLS + "/" + pool, null);
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    fleet.named(pool).isEmpty()
                        && d.send("GET", Fleet.POOLS + "/" + pool, null) == 404);
      }

      int made = 0;
      for (int pools : new int[] {1, 10, 50}) {
        for (; made < pools; made++) {
          post(d, Fleet.pool("steady" + made, "origin-app", "bench-pipe", 1, ""));
        }
        int total = pools;
        await()
            .atMost(Duration.ofMinutes(5))
            .pollInterval(Duration.ofMillis(500))
            .until(
                () -> {
                  for (int i = 0; i < total; i++) {
                    if (!fleet.converged(d, "steady" + i, "origin-app", 1)) {
                      return false;
                    }
                  }
                  return true;
                });
        Thread.sleep(3000); // let the last in-flight requeues settle into the 1 s sweep
        double[] a = metric(d);
        long calls0 = fleet.callLog().size();
        Thread.sleep(10_000);
        double[] b = metric(d);
        long calls = fleet.callLog().size() - calls0;
        double passes = b[0] - a[0];
        rows.add(
            new String[] {
              "steady state, " + pools + " pool(s) of 1 backend",
              String.format(
                  "%.2f calls/pool/pass (%.0f passes, %d API calls in 10 s)",
                  (b[1] - a[1]) / passes, passes, calls)
            });
      }
    }
    System.out.printf(
        "%nReconciler benchmark: one Dynofleet process, simulator latency %d ms per API call%n",
        latencyMs);
    System.out.println("| scenario | result |");
    System.out.println("|---|---|");
    rows.forEach(r -> System.out.println("| " + r[0] + " | " + r[1] + " |"));
  }

  private static void post(Dyno d, String pool) {
    int s = d.send("POST", Fleet.POOLS, pool);
    if (s != 201) {
      throw new IllegalStateException("create pool answered " + s);
    }
  }

  /** [count, sum] of the calls-per-pass summary, from the process's Prometheus endpoint. */
  private static double[] metric(Dyno d) {
    String text = d.request("GET", "/_dynofleet/q/metrics", null).body();
    double count = 0;
    double sum = 0;
    for (String line : text.split("\n")) {
      if (line.startsWith("dynofleet_reconcile_platform_calls_count")) {
        count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      } else if (line.startsWith("dynofleet_reconcile_platform_calls_sum")) {
        sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    if (count == 0) {
      throw new IllegalStateException("no dynofleet_reconcile_platform_calls metric");
    }
    return new double[] {count, sum};
  }
}
