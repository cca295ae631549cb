package io.dynofleet.proxy;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.util.concurrent.TimeoutException;

/**
 * A backend's response body that fails once the backend has sent nothing for the pool's timeout.
 * Vert.x's request timeout ends when the response head arrives: a backend that stalled mid-body
 * held its exchange (and its slot) until the client's idle timeout, and was never blamed. Time the
 * proxy itself holds the body back (paused: the client reads slowly) does not count.
 *
 * <p>One timer per body, re-armed only when it fires before the backend went quiet; every call
 * comes on the request's event loop.
 */
final class IdleBody implements ReadStream<Buffer> {
  private final ReadStream<Buffer> source;
  private final Vertx vertx;
  private final long timeoutNanos;
  private final Runnable onIdle;
  private Handler<Throwable> exceptionHandler;
  private long last = System.nanoTime();
  private boolean paused;
  private boolean over;
  private long timer = -1;

  IdleBody(ReadStream<Buffer> source, Vertx vertx, long timeoutNanos, Runnable onIdle) {
    this.source = source;
    this.vertx = vertx;
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
    if (timer < 0 && !over) arm(timeoutNanos);
    return this;
  }

  private void arm(long nanos) {
    timer = vertx.setTimer(Math.max(1, nanos / 1_000_000), id -> check());
  }

  private void check() {
    timer = -1;
    if (over) return;
    long quiet = System.nanoTime() - last;
    if (paused || quiet < timeoutNanos) {
      arm(paused ? timeoutNanos : timeoutNanos - quiet);
      return;
    }
    over = true;
    onIdle.run();
    Handler<Throwable> h = exceptionHandler;
    if (h != null) h.handle(new StalledException(timeoutNanos / 1_000_000));
  }

  private void stop() {
    over = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    source.exceptionHandler(handler == null ? null : e -> {
      stop();
      handler.handle(e);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> handler) {
    source.endHandler(handler == null ? null : v -> {
      stop();
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
