package io.dynofleet.reconcile;

import io.dynofleet.sandbox.Simulator;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fresh corner of the simulated Heroku for one test: faults cleared, a source app and a
 * pipeline under names no other test uses, and the reconciler's caches forgotten (if one is given).
 */
record SimWorld(String name, String source, String pipeline) {
  private static final AtomicInteger SEQ = new AtomicInteger();

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
}
