package io.dynofleet.proxy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A request body without Content-Length (chunked), streamed through as is while it stays within
 * {@code max} bytes; past it, the stream fails (the proxy resets the backend request and answers
 * 413). Nothing is buffered here.
 */
final class LimitedStream extends ForwardingStream {
  private final long max;
  private final Runnable onExceeded;
  private long seen;
  private boolean exceeded;

  LimitedStream(ReadStream<Buffer> source, long max, Runnable onExceeded) {
    super(source);
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
  boolean chunk(Buffer buf) {
    if (exceeded) return false;
    seen += buf.length();
    if (seen <= max) return true;
    exceeded = true;
    onExceeded.run();
    pauseSource();
    fail(new TooLargeException());
    return false;
  }

  @Override
  boolean ended() {
    return !exceeded;
  }

  @Override
  boolean demand(boolean flowing) {
    return !flowing || !exceeded;
  }
}
