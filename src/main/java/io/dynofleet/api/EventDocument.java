package io.dynofleet.api;

import io.dynofleet.pool.model.PoolEvent;
import java.time.Instant;

/** One event of a pool's log, newest first in lists. */
public record EventDocument(
    String type,
    String reason,
    String message,
    int count,
    Instant firstTimestamp,
    Instant lastTimestamp) {

  static EventDocument of(PoolEvent e) {
    return new EventDocument(e.type, e.reason, e.message, e.count, e.firstSeen, e.lastSeen);
  }
}
