package io.dynofleet.proxy;

import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.time.Clock;

/** Active probes, run on a Vert.x timer off the request path. */
final class HealthProber {
  private final RoutingTable table;
  private final HttpClient client;
  private final Clock clock;

  HealthProber(RoutingTable table, HttpClient client, Clock clock) {
    this.table = table;
    this.client = client;
    this.clock = clock;
  }

  void tick() {
    long now = System.nanoTime();
    for (Pool pool : table.pools().values()) {
      HealthCheckSpec hc = pool.route().healthCheck();
      if (hc == null || hc.path() == null) continue;
      for (Backend b : pool.backends()) {
        // a tick is skipped while the backend's last probe is still out: a probe may take up to
        // twice its timeout (the wait for a connection, then for the answer) and the timeout may
        // equal the interval, so probes overlapped and their results landed in either order
        // (review 7); a probe ends before the next starts, as the spec says
        if (b.draining || b.probing || b.nextProbeNanos - now > 0) continue;
        b.nextProbeNanos = now + hc.interval().toNanos();
        b.probing = true;
        probe(b, hc);
      }
    }
  }

  private void probe(Backend b, HealthCheckSpec hc) {
    RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setHost(b.host)
        .setPort(b.port).setSsl(b.ssl).setURI(hc.path()).setTimeout(hc.timeout().toMillis())
        .putHeader("Host", b.authority()).putHeader("User-Agent", "dynofleet-health");
    client.request(ro).compose(r -> r.send().compose(resp -> resp.body().map(x -> resp.statusCode())))
        .onComplete(ar -> {
          b.probing = false;
          b.lastProbe = clock.instant();
          boolean ok = ar.succeeded() && ar.result() < 400;
          b.lastProbeResult = ar.succeeded() ? "HTTP " + ar.result() : String.valueOf(ar.cause());
          b.probePassing = ok;
          if (ok) {
            b.probeFailures = 0;
            if (!b.healthy && ++b.probeSuccesses >= hc.healthyThreshold()) {
              b.healthy = true;
              b.judged = true;
              b.healthySinceNanos = System.nanoTime();
              b.forgetLatency(b.healthySinceNanos); // slow start needs an estimate to scale
            }
          } else {
            b.probeSuccesses = 0;
            // counted up to the threshold only: the count shows in the pool's status, and one that
            // grew on every probe of a dead backend would rewrite the status (and make every dyno
            // reload its pools) on every pass
            if (b.probeFailures < hc.unhealthyThreshold()) b.probeFailures++;
            if (b.probeFailures >= hc.unhealthyThreshold()) {
              b.healthy = false;
              b.judged = true;
            }
          }
        });
  }
}
