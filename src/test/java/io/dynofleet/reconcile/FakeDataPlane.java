package io.dynofleet.reconcile;

import io.dynofleet.pool.model.Backend;
import io.dynofleet.pool.model.Pool;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The data plane as a table the test writes: like the real proxy it knows the backends the
 * reconciler published (coupled or ready, with a web URL: RouteSync publishes none without) and
 * reports them healthy, unless the test marks an app unhealthy (its checks then meet {@code HTTP
 * 503}).
 */
@Alternative
@Singleton
public class FakeDataPlane implements DataPlane {
  public final Set<String> unhealthy = ConcurrentHashMap.newKeySet();

  /** Apps every proxy has ejected for failed requests while their probes pass. */
  public final Set<String> ejected = ConcurrentHashMap.newKeySet();

  /**
   * Ejected apps whose last probe failed (below the threshold): still ejected, not failing (review
   * 28 #1). The other ejected apps' last probe passed.
   */
  public final Set<String> probeFailing = ConcurrentHashMap.newKeySet();

  /** When an app's last probe was, where the test says (else: now if ejected, the epoch if not). */
  public final Map<String, Instant> probedAt = new ConcurrentHashMap<>();

  /** Apps this "proxy" has not probed yet: not healthy, and no verdict either. */
  public final Set<String> unprobed = ConcurrentHashMap.newKeySet();

  public final AtomicInteger refreshes = new AtomicInteger();

  /**
   * Run once, by the next {@link #health} read, after it read the verdicts: a test holds a pass
   * there (one that judged by what the fleet said before a change).
   */
  public final java.util.concurrent.atomic.AtomicReference<Runnable> afterNextHealth =
      new java.util.concurrent.atomic.AtomicReference<>();

  /** The probes' clock: an ejected backend's last probe (which passed) is now, as a prober's is. */
  @jakarta.inject.Inject java.time.Clock clock;

  @Override
  public Map<String, Health> health(String pool, java.util.UUID uid) {
    List<Backend> published =
        QuarkusTransaction.requiringNew()
            .call(
                () -> {
                  Pool p = Pool.find("name", pool).firstResult();
                  return p == null
                      ? List.<Backend>of()
                      : Backend.<Backend>list(
                          "poolId = ?1 and step in ?2 and webUrl is not null",
                          p.id,
                          List.of(Backend.Step.COUPLED, Backend.Step.READY));
                });
    Map<String, Health> out = new HashMap<>();
    for (Backend b : published) {
      boolean known = !unprobed.contains(b.appName);
      boolean ok = known && !unhealthy.contains(b.appName);
      if (known && ok && ejected.contains(b.appName)) {
        out.put(
            b.appName,
            new Health(
                false,
                5,
                probedAt.getOrDefault(b.appName, clock.instant()),
                true,
                true,
                null,
                null,
                !probeFailing.contains(b.appName)));
        continue;
      }
      boolean failing = known && !ok;
      out.put(
          b.appName,
          new Health(
              ok,
              failing ? 3 : 0,
              known ? probedAt.getOrDefault(b.appName, Instant.EPOCH) : null,
              known,
              false,
              null,
              failing ? "HTTP 503" : null));
    }
    Runnable after = afterNextHealth.getAndSet(null);
    if (after != null) {
      after.run();
    }
    return out;
  }

  @Override
  public void refresh() {
    refreshes.incrementAndGet();
  }

  public void reset() {
    unhealthy.clear();
    ejected.clear();
    probeFailing.clear();
    probedAt.clear();
    unprobed.clear();
    refreshes.set(0);
    afterNextHealth.set(null);
  }
}
