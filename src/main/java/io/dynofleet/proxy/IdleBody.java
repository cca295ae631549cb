package io.dynofleet.proxy;

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
final class IdleBody extends ForwardingStream {
  private final Vertx vertx;
  private final long timeoutNanos;
  private final Runnable onIdle;
  private long last = System.nanoTime();
  private boolean paused;
  private boolean over;
  private long timer = -1;

  IdleBody(ReadStream<Buffer> source, Vertx vertx, long timeoutNanos, Runnable onIdle) {
    super(source);
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
  boolean chunk(Buffer buf) {
    last = System.nanoTime();
    return true;
  }

  @Override
  void reading() {
    if (timer < 0 && !over) arm(timeoutNanos);
  }

  @Override
  boolean ended() {
    stop();
    return true;
  }

  @Override
  void failed(Throwable failure) {
    stop();
  }

  @Override
  boolean demand(boolean flowing) {
    paused = !flowing;
    if (flowing) last = System.nanoTime();
    return true;
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
    fail(new StalledException(timeoutNanos / 1_000_000));
  }

  private void stop() {
    over = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
  }
}
