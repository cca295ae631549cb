package io.dynofleet.proxy;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A body stream that passes everything through to its source, with hooks for the few places a
 * wrapper adds its own state: each chunk, the end, a failure and the reader's demand. All calls
 * come on the request's event loop.
 */
abstract class ForwardingStream implements ReadStream<Buffer> {
  private final ReadStream<Buffer> source;
  private Handler<Throwable> exceptionHandler;

  ForwardingStream(ReadStream<Buffer> source) {
    this.source = source;
  }

  /** A chunk arrived; {@code false} swallows it. */
  boolean chunk(Buffer buf) {
    return true;
  }

  /** A reader is now attached. */
  void reading() {}

  /** The source ended; {@code false} keeps the end from the reader. */
  boolean ended() {
    return true;
  }

  /** The source failed. */
  void failed(Throwable failure) {}

  /**
   * The reader paused ({@code false}) or asked for more ({@code true}); {@code false} keeps it from
   * the source.
   */
  boolean demand(boolean flowing) {
    return true;
  }

  /** Fails the stream towards its reader, as if the source had. */
  final void fail(Throwable failure) {
    Handler<Throwable> h = exceptionHandler;
    if (h != null) h.handle(failure);
  }

  /** Stops the source without telling the reader. */
  final void pauseSource() {
    source.pause();
  }

  @Override
  public final ReadStream<Buffer> handler(Handler<Buffer> handler) {
    if (handler == null) {
      source.handler(null);
      return this;
    }
    source.handler(
        buf -> {
          if (chunk(buf)) handler.handle(buf);
        });
    reading();
    return this;
  }

  @Override
  public final ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    source.exceptionHandler(
        handler == null
            ? null
            : e -> {
              failed(e);
              handler.handle(e);
            });
    return this;
  }

  @Override
  public final ReadStream<Buffer> endHandler(Handler<Void> handler) {
    source.endHandler(
        handler == null
            ? null
            : v -> {
              if (ended()) handler.handle(v);
            });
    return this;
  }

  @Override
  public final ReadStream<Buffer> pause() {
    if (demand(false)) source.pause();
    return this;
  }

  @Override
  public final ReadStream<Buffer> resume() {
    if (demand(true)) source.resume();
    return this;
  }

  @Override
  public final ReadStream<Buffer> fetch(long amount) {
    if (demand(true)) source.fetch(amount);
    return this;
  }
}
