package io.dynofleet.proxy;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Requests of one pool waiting for a free backend slot (routing.maxInFlightPerBackend), first in,
 * first out, bounded by routing.maxQueue. Shared by every snapshot of the pool so a reload keeps
 * the waiters. Guarded by its own monitor: the critical sections are a few pointer moves, and
 * requests of one pool arrive on several event loops.
 */
final class WaitQueue {
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

  /** Queue-time timers of the pool (granted, rejected), cached off the request path. */
  volatile io.micrometer.core.instrument.Timer granted;

  volatile io.micrometer.core.instrument.Timer rejected;

  /** One queued request; settled exactly once, by dispatch or by its timeout. */
  static final class Waiter {
    final Context context;
    final Promise<Backend> promise = Promise.promise();

    /** Backends this request may not go to (tried already); emptied when only those remain. */
    Set<Backend> exclude;

    final AtomicBoolean settled = new AtomicBoolean();
    long timerId = -1;

    Waiter(Context context, Set<Backend> exclude) {
      this.context = context;
      this.exclude = exclude;
    }

    /** Hands the backend (slot already taken) to the waiter on its own event loop. */
    boolean grant(Backend b) {
      if (!settled.compareAndSet(false, true)) return false;
      context.runOnContext(v -> promise.tryComplete(b));
      return true;
    }

    boolean fail(Throwable t) {
      if (!settled.compareAndSet(false, true)) return false;
      context.runOnContext(v -> promise.tryFail(t));
      return true;
    }
  }

  synchronized int size() {
    return waiters.size();
  }

  synchronized boolean isEmpty() {
    return waiters.isEmpty();
  }

  /** Adds the waiter unless {@code max} are already waiting. */
  synchronized boolean offer(Waiter w, int max) {
    if (waiters.size() >= max) return false;
    waiters.addLast(w);
    return true;
  }

  synchronized void remove(Waiter w) {
    waiters.remove(w);
  }

  /**
   * Grants free slots to waiters in order. {@code take} takes a slot on some backend for the given
   * exclusions, or returns null when every backend it may use is full.
   *
   * <p>A waiter with exclusions (a retry, which may not go back to the backend that failed it) that
   * cannot be served is passed over, not waited behind: it stopped the whole queue while the
   * backends it may not use were idle, and for its whole queue timeout when the ones it may use had
   * left the pool (review 7). One whose exclusions leave no backend in the pool at all may go to
   * any. The walk stops when a waiter without exclusions finds nothing, or no backend has room.
   */
  synchronized void dispatch(SlotTaker take) {
    Iterator<Waiter> it = waiters.iterator();
    while (it.hasNext()) {
      Waiter w = it.next();
      if (w.settled.get()) {
        it.remove();
        continue;
      }
      Backend b = take.take(w.exclude);
      if (b == null && !w.exclude.isEmpty() && !take.routable(w.exclude)) {
        w.exclude = Set.of(); // nowhere else to go: a retry where it failed beats a queue timeout
        b = take.take(w.exclude);
      }
      if (b == null) {
        if (w.exclude.isEmpty() || !take.anyFree()) return; // every backend is full
        continue; // only the backends it may not use have room: the next waiter may use them
      }
      it.remove();
      if (!w.grant(b)) take.release(b);
    }
  }

  /** Fails every waiter (pool removed). */
  synchronized void failAll(Throwable t) {
    for (Waiter w : waiters) w.fail(t);
    waiters.clear();
  }

  interface SlotTaker {
    Backend take(Set<Backend> exclude);

    void release(Backend b);

    /** Whether the pool has a routable backend outside {@code exclude}, full or not. */
    boolean routable(Set<Backend> exclude);

    /** Whether some routable backend has a free slot. */
    boolean anyFree();
  }
}
