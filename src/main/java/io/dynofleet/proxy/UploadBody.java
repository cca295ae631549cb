package io.dynofleet.proxy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A client's request body on its way to the backend, telling the proxy of every chunk and whether
 * the backend holds it back. Vert.x's request timeout hears only the backend's answer: without
 * this, an upload that ran longer than the pool's timeout failed however steadily it came, and a
 * timeout could not say whether the client stopped sending (408) or the backend stopped reading
 * (paused here: 504 against the backend).
 */
final class UploadBody extends ForwardingStream {
  private final Runnable onChunk;
  private boolean paused;

  UploadBody(ReadStream<Buffer> source, Runnable onChunk) {
    super(source);
    this.onChunk = onChunk;
  }

  /** Whether the proxy holds the body back because the backend is not taking it. */
  boolean heldBack() {
    return paused;
  }

  @Override
  boolean chunk(Buffer buf) {
    onChunk.run();
    return true;
  }

  @Override
  boolean demand(boolean flowing) {
    paused = !flowing;
    return true;
  }
}
