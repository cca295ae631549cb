package io.dynofleet.proxy;

import java.util.List;

/**
 * Passive ejection of one pool's backends, carried from snapshot to snapshot like the wait queue.
 * The cap and the ejection are one step under its monitor: failures are seen on every event loop,
 * and two loops that each counted the ejections, saw room and ejected could put the whole pool out
 * despite the cap, or eject one backend twice (review 7). Taken only once a backend reaches its
 * failure threshold, never on the request path otherwise.
 */
final class Ejector {
  /**
   * Ejects {@code b} (of {@code backends}) unless it is out already or that would put more than
   * {@code maxPercent} of the backends that take traffic out. The cap counts the backends that are
   * routable but for ejection (healthy, not draining): counted over every published backend, those
   * failing their probes and new ones not yet healthy included, a 50 % cap could cover every
   * backend that takes traffic, and panic mode then sent it to backends no probe had passed. A
   * backend that is no such backend itself (it takes traffic only in panic mode, which ignores
   * ejections) is ejected without counting. Returns the ejection time in nanos, or 0 if not
   * ejected.
   */
  synchronized long eject(
      List<Backend> backends, Backend b, long now, int maxPercent, long baseNanos, long maxNanos) {
    if (b.ejected(now)) return 0;
    if (routable(b)) {
      int routable = 0, out = 0;
      for (Backend x : backends) {
        if (!routable(x)) continue;
        routable++;
        if (x.ejected(now)) out++;
      }
      if ((out + 1) * 100L > (long) maxPercent * routable) return 0;
    }
    if (b.ejectedUntilNanos != 0 && b.ejections > 0) {
      // each base time it stayed in since its last ejection forgives one doubling, as Envoy's
      // multiplier: it never shrank, and a 0.1 s burst after minutes of health ejected it for 40 s
      // (review 7, audit 10)
      long forgiven = Math.max(0, now - b.ejectedUntilNanos) / Math.max(1, baseNanos);
      b.ejections = (int) Math.max(0, b.ejections - forgiven);
    }
    long t = Math.min(maxNanos, baseNanos << Math.min(20, b.ejections));
    b.ejections++;
    b.failuresAtEjection = b.consecutiveFailures;
    b.consecutiveFailures = 0;
    b.healthySinceNanos = now + t; // slow start after recovery
    b.forgetLatency(now); // its estimate would have decayed to nothing by then: a prior instead
    b.ejectedUntilNanos = now + t;
    return t;
  }

  private static boolean routable(Backend b) {
    return b.healthy && !b.draining;
  }
}
