package io.dynofleet.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/** Picks a backend; pure function of its inputs (testable with a seeded random). */
final class Balancer {
  private Balancer() {}

  /**
   * The routable backends: healthy and not ejected; if none, panic mode: the non-draining ones
   * whose last active probe passed and that have a verdict (one back from an outage but still
   * ejected), if they are at least a quarter of the pool; else, by the same rule, those with a
   * verdict (once healthy, now failing); else all non-draining. Panic used to choose among all by
   * score, and two backends failing fast drew 97 % of requests from one whose probes passed again
   * (audit 10); a lone booting dyno after one passing probe, among ten failing, would have taken
   * all ten's traffic (review 11); and a rollout's new apps, never probed (their dynos perhaps not
   * running yet: Heroku's router answers 503), took their share of it (review 16).
   */
  static List<Backend> candidates(List<Backend> all, Set<Backend> exclude, long now) {
    List<Backend> out = new ArrayList<>(all.size());
    for (Backend b : all) {
      if (b.healthy && !b.draining && !b.ejected(now) && !exclude.contains(b)) out.add(b);
    }
    if (out.isEmpty()) {
      int left = 0;
      for (Backend b : all) {
        if (b.draining || exclude.contains(b)) continue;
        left++;
        if (b.probePassing && b.judged) out.add(b);
      }
      if (out.size() * 4 < left) out.clear();
      if (out.isEmpty()) {
        for (Backend b : all) if (b.judged && !b.draining && !exclude.contains(b)) out.add(b);
        if (out.size() * 4 < left) out.clear();
      }
    }
    if (out.isEmpty()) {
      for (Backend b : all) if (!b.draining && !exclude.contains(b)) out.add(b);
    }
    return out;
  }

  /** Of two random candidates, the one with fewer open WebSocket tunnels (P2C). */
  static Backend fewestTunnels(List<Backend> c, RandomGenerator rnd) {
    int n = c.size();
    if (n == 0) return null;
    if (n == 1) return c.get(0);
    int i = rnd.nextInt(n);
    Backend a = c.get(i);
    Backend b = c.get(other(i, n, rnd));
    return a.tunnels.get() <= b.tunnels.get() ? a : b;
  }

  /** A random index of {@code n} other than {@code i}: the second of two choices. */
  private static int other(int i, int n, RandomGenerator rnd) {
    int j = rnd.nextInt(n - 1);
    return j >= i ? j + 1 : j;
  }

  /**
   * Slow start in round-robin and random pools: a ramping backend takes its turn with probability
   * its weight, else the turn is drawn again. It did nothing there: a recovered backend got its
   * full share at once (review 7). One weight read per pick once the ramp is over.
   */
  private static boolean admitted(Backend b, long now, long slowStart, RandomGenerator rnd) {
    double w = b.weight(now, slowStart);
    return w >= 1 || rnd.nextDouble() < w;
  }

  /**
   * A turn passed on by the backend at {@code i}: random draws among the others (as many as there
   * are) until one is admitted, else the backend at {@code i} after all (every one ramping).
   */
  private static Backend redraw(
      List<Backend> c, int i, RandomGenerator rnd, long now, long slowStart) {
    for (int k = 0; k < c.size(); k++) {
      Backend b = c.get(other(i, c.size(), rnd));
      if (admitted(b, now, slowStart, rnd)) return b;
    }
    return c.get(i);
  }

  static Backend pick(
      Algorithm algorithm,
      List<Backend> c,
      int cursor,
      RandomGenerator rnd,
      long now,
      long slowStart) {
    int n = c.size();
    if (n == 0) return null;
    if (n == 1) return c.get(0);
    switch (algorithm) {
      case ROUND_ROBIN:
        {
          int i = Math.floorMod(cursor, n);
          Backend b = c.get(i);
          return admitted(b, now, slowStart, rnd) ? b : redraw(c, i, rnd, now, slowStart);
        }
      case RANDOM:
        {
          int i = rnd.nextInt(n);
          Backend b = c.get(i);
          return admitted(b, now, slowStart, rnd) ? b : redraw(c, i, rnd, now, slowStart);
        }
      default:
        int i = rnd.nextInt(n);
        Backend a = c.get(i);
        Backend b = c.get(other(i, n, rnd));
        // a backend without an estimate (no answer yet, or forgotten: see Backend.forgetLatency)
        // and nothing in flight is tried, as by Finagle's peak EWMA: one request, whose answer
        // gives it an estimate. With requests in flight and still no answer, it is taken to be as
        // slow as the one it is compared with. It used to score 1 ns however many it held: it won
        // every pair it was in, and slow start (its cost x20 = 20 ns) did nothing until its first
        // answer (review 7)
        double ea = a.ewmaNanos(now), eb = b.ewmaNanos(now);
        double pa = ea > 0 || a.inFlight.get() == 0 ? ea : eb;
        double pb = eb > 0 || b.inFlight.get() == 0 ? eb : ea;
        return a.score(now, slowStart, pa) <= b.score(now, slowStart, pb) ? a : b;
    }
  }
}
