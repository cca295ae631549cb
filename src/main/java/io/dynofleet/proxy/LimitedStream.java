package io.dynofleet.proxy;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A request body without Content-Length (chunked), streamed through as is while it stays within
 * {@code max} bytes; past it, the stream fails (the proxy resets the backend request and answers
 * 413). Nothing is buffered here.
 */
final class LimitedStream implements ReadStream<Buffer> {
  private final ReadStream<Buffer> source;
  private final long max;
  private final Runnable onExceeded;
  private long seen;
  private boolean exceeded;
  private Handler<Throwable> exceptionHandler;

  LimitedStream(ReadStream<Buffer> source, long max, Runnable onExceeded) {
    this.source = source;
    this.max = max;
    this.onExceeded = onExceeded;
  }

  /** The body passed the limit. */
  static final class TooLargeException extends RuntimeException {
    TooLargeException() {
      super("request body too large", null, false, false);
    }
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    if (handler == null) {
      source.handler(null);
      return this;
    }
    source.handler(buf -> {
      if (exceeded) return;
      seen += buf.length();
      if (seen > max) {
        exceeded = true;
        onExceeded.run();
        source.pause();
        Handler<Throwable> h = exceptionHandler;
        if (h != null) h.handle(new TooLargeException());
        return;
      }
      handler.handle(buf);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    source.exceptionHandler(handler);
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    source.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    if (!exceeded) source.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    if (!exceeded) source.fetch(amount);
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
    source.endHandler(endHandler == null ? null : v -> {
      if (!exceeded) endHandler.handle(v);
    });
    return this;
  }
}
