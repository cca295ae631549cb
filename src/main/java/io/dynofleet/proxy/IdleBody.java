package io.dynofleet.proxy;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.streams.ReadStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A backend's response body that fails once the backend has sent nothing for the pool's timeout.
 * Vert.x's request timeout ends when the response head arrives: a backend that stalled mid-body
 * held its exchange (and its slot) until the client's idle timeout, and was never blamed. Time the
 * proxy itself holds the body back (paused: the client reads slowly) does not count.
 *
 * <p>No timer per body: each event loop sweeps the bodies it streams every {@link #SWEEP_MS} (a
 * list append per response on the request path, where a timer cost a map entry, a scheduled task
 * and its cancellation). A stall is noticed between the timeout and {@link #SWEEP_MS} after it.
 * Every call comes on the request's event loop, as does the sweep.
 */
final class IdleBody implements ReadStream<Buffer> {
  static final long SWEEP_MS = 100;
  private static final FastThreadLocal<Sweep> SWEEPS = new FastThreadLocal<>();

  private final ReadStream<Buffer> source;
  private final long timeoutNanos;
  private final Runnable onIdle;
  private Handler<Throwable> exceptionHandler;
  private long last = System.nanoTime();
  private boolean paused;
  private boolean over;
  private boolean watched;
  private ContextInternal context;

  IdleBody(ReadStream<Buffer> source, long timeoutNanos, Runnable onIdle) {
    this.source = source;
    this.timeoutNanos = timeoutNanos;
    this.onIdle = onIdle;
  }

  /** The backend went quiet. */
  static final class StalledException extends TimeoutException {
    StalledException(long millis) {
      super("backend sent nothing for " + millis + " ms");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  /** The bodies one event loop streams, checked on a fixed tick of that loop. */
  private static final class Sweep implements Runnable {
    private List<IdleBody> bodies = new ArrayList<>();
    private List<IdleBody> spare = new ArrayList<>();

    @Override
    public void run() {
      if (bodies.isEmpty()) return;
      List<IdleBody> now = bodies;
      bodies = spare;
      long t = System.nanoTime();
      for (IdleBody b : now) {
        if (!b.over && !b.check(t)) bodies.add(b);
      }
      now.clear();
      spare = now;
    }
  }

  /** Starts watching, on the current event loop; off one (never on the proxy's path) it is not watched. */
  private void watch() {
    if (watched) return;
    watched = true;
    ContextInternal ctx = ContextInternal.current();
    if (ctx == null || !ctx.isEventLoopContext()) return;
    context = ctx;
    Sweep s = SWEEPS.get();
    if (s == null) {
      s = new Sweep();
      SWEEPS.set(s);
      EventLoop loop = ctx.nettyEventLoop();
      loop.scheduleAtFixedRate(s, SWEEP_MS, SWEEP_MS, TimeUnit.MILLISECONDS);
    }
    s.bodies.add(this);
  }

  /** Whether the body is done with (stalled now, or over). */
  private boolean check(long now) {
    if (over) return true;
    if (paused || now - last < timeoutNanos) return false;
    over = true;
    // the sweep runs as a bare loop task: fail the stream within the request's Vert.x context
    context.emit(null, v -> {
      onIdle.run();
      Handler<Throwable> h = exceptionHandler;
      if (h != null) h.handle(new StalledException(timeoutNanos / 1_000_000));
    });
    return true;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    if (handler == null) {
      source.handler(null);
      return this;
    }
    source.handler(buf -> {
      last = System.nanoTime();
      handler.handle(buf);
    });
    if (!over) watch();
    return this;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    source.exceptionHandler(handler == null ? null : e -> {
      over = true;
      handler.handle(e);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> handler) {
    source.endHandler(handler == null ? null : v -> {
      over = true;
      handler.handle(v);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    paused = true;
    source.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    paused = false;
    last = System.nanoTime();
    source.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    paused = false;
    last = System.nanoTime();
    source.fetch(amount);
    return this;
  }
}
