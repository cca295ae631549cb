package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Review 7: the ejection cap counts the backends that take traffic, and holds across event loops.
 */
class EjectorTest {
  static final long BASE = 10_000_000_000L, MAX = 300_000_000_000L;

  static Backend b(String id, boolean healthy) {
    return new Backend(new BackendTarget(id, URI.create("http://127.0.0.1:1/" + id), healthy));
  }

  @Test
  void theCapCountsOnlyBackendsThatTakeTraffic() {
    // a rollout: two ready old backends, two new ones coupled and not yet through their probes
    Backend old1 = b("old1", true),
        old2 = b("old2", true),
        new1 = b("new1", false),
        new2 = b("new2", false);
    List<Backend> pool = List.of(old1, old2, new1, new2);
    Ejector e = new Ejector();
    long now = System.nanoTime();
    assertThat(e.eject(pool, old1, now, 50, BASE, MAX)).isEqualTo(BASE);
    // 1 of 4 published, but 1 of the 2 that take traffic: the other stays, or panic mode would send
    // everything to backends no probe has passed
    assertThat(e.eject(pool, old2, now, 50, BASE, MAX)).isZero();
    assertThat(Balancer.candidates(pool, java.util.Set.of(), now)).containsExactly(old2);
  }

  /**
   * Review 7, audit 10: the ejection time doubled on every repeat and never came back down: after
   * minutes of health, a short burst ejected a backend for 40 s. Each base time in forgives one.
   */
  @Test
  void theEjectionTimeComesBackDownAfterHealth() {
    Backend a = b("a", true), c = b("c", true), d = b("d", true), e2 = b("e", true);
    List<Backend> pool = List.of(a, c, d, e2);
    Ejector e = new Ejector();
    long t = System.nanoTime();
    assertThat(e.eject(pool, a, t, 50, BASE, MAX)).isEqualTo(BASE);
    t += BASE + 1;
    assertThat(e.eject(pool, a, t, 50, BASE, MAX)).as("again at once: doubled").isEqualTo(2 * BASE);
    t += 2 * BASE + 1;
    assertThat(e.eject(pool, a, t, 50, BASE, MAX)).isEqualTo(4 * BASE);
    t += 4 * BASE + 12 * BASE; // then twelve base times in, healthy
    assertThat(e.eject(pool, a, t, 50, BASE, MAX)).as("forgiven").isEqualTo(BASE);
  }

  /**
   * An ejection ended early because the backend's probes pass again (R29-19, as HealthProber does:
   * its end set to the moment of recovery) is forgiven from then, one doubling per base time in, as
   * one that ran out: a backend ejected long ago is ejected for the base time again.
   */
  @Test
  void anEjectionEndedAtRecoveryIsForgivenFromThen() {
    Backend a = b("a", true), c = b("c", true), d = b("d", true), e2 = b("e", true);
    List<Backend> pool = List.of(a, c, d, e2);
    Ejector e = new Ejector();
    long t = System.nanoTime();
    e.eject(pool, a, t, 50, BASE, MAX);
    t += BASE + 1;
    assertThat(e.eject(pool, a, t, 50, BASE, MAX)).isEqualTo(2 * BASE);
    t += BASE; // its probes pass again halfway through: the ejection ends here
    a.ejectedUntilNanos = t;
    assertThat(e.eject(pool, a, t + BASE + 1, 50, BASE, MAX))
        .as("one base time after: one doubling forgiven")
        .isEqualTo(2 * BASE);
    Backend f = b("f", true);
    f.ejections = 2;
    f.ejectedUntilNanos = t; // ended at recovery, then long in service
    assertThat(e.eject(List.of(f, c, d, e2), f, t + 60 * BASE, 50, BASE, MAX)).isEqualTo(BASE);
  }

  @Test
  void eventLoopsFailingAtOnceNeverEjectMoreThanTheCapNorOneBackendTwice() throws Exception {
    ExecutorService loops = Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 200; round++) {
        List<Backend> pool = List.of(b("a", true), b("b", true), b("c", true), b("d", true));
        Ejector e = new Ejector();
        long now = System.nanoTime();
        CyclicBarrier start = new CyclicBarrier(8);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          Backend target = pool.get(t % 4);
          fs.add(
              loops.submit(
                  () -> {
                    start.await();
                    return e.eject(pool, target, now, 50, BASE, MAX);
                  }));
        }
        for (Future<?> f : fs) f.get(10, TimeUnit.SECONDS);
        assertThat(pool.stream().filter(x -> x.ejected(now))).as("round %d", round).hasSize(2);
        assertThat(pool).allSatisfy(x -> assertThat(x.ejections).isLessThanOrEqualTo(1));
      }
    } finally {
      loops.shutdownNow();
    }
  }
}
