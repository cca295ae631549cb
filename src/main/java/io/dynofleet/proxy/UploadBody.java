package io.dynofleet.proxy;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A client's request body on its way to the backend, telling the proxy of every chunk and whether
 * the backend holds it back. Vert.x's request timeout hears only the backend's answer: without
 * this, an upload that ran longer than the pool's timeout failed however steadily it came, and a
 * timeout could not say whether the client stopped sending (408) or the backend stopped reading
 * (paused here: 504 against the backend).
 */
final class UploadBody implements ReadStream<Buffer> {
  private final ReadStream<Buffer> source;
  private final Runnable onChunk;
  private boolean paused;

  UploadBody(ReadStream<Buffer> source, Runnable onChunk) {
    this.source = source;
    this.onChunk = onChunk;
  }

  /** Whether the proxy holds the body back because the backend is not taking it. */
  boolean heldBack() {
    return paused;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    source.handler(handler == null ? null : buf -> {
      onChunk.run();
      handler.handle(buf);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    source.exceptionHandler(handler);
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> handler) {
    source.endHandler(handler);
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
    source.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    paused = false;
    source.fetch(amount);
    return this;
  }
}
