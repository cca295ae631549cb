package io.dynofleet.reconcile;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ReconcileLoop}'s executor that runs no pass by itself: it keeps what the loop queued,
 * and with what delay, for the test to look at and run (a client-go fake queue, not a timer).
 */
final class ManualScheduler extends ScheduledThreadPoolExecutor {
  /** A pass the loop queued; {@code future} is what the loop got, cancelled when it re-queued. */
  record Queued(Runnable task, Duration delay, ScheduledFuture<?> future) {}

  private final List<Queued> queued = new CopyOnWriteArrayList<>();

  ManualScheduler() {
    super(1);
    setRemoveOnCancelPolicy(true);
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
    // a real future the loop may cancel, whose own task never comes due in a test
    ScheduledFuture<?> future = super.schedule(() -> {}, 1, TimeUnit.DAYS);
    queued.add(new Queued(task, Duration.of(delay, unit.toChronoUnit()), future));
    return future;
  }

  @Override
  public <V> ScheduledFuture<V> schedule(
      java.util.concurrent.Callable<V> task, long delay, TimeUnit unit) {
    ScheduledFuture<V> future = super.schedule(() -> null, 1, TimeUnit.DAYS);
    queued.add(new Queued(() -> call(task), Duration.of(delay, unit.toChronoUnit()), future));
    return future;
  }

  private static void call(java.util.concurrent.Callable<?> task) {
    try {
      task.call();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The passes queued and not cancelled, oldest first. */
  List<Queued> pending() {
    return queued.stream().filter(q -> !q.future().isCancelled()).toList();
  }
}
