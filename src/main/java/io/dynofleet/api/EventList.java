package io.dynofleet.api;

import io.dynofleet.pool.model.PoolEvents;
import java.time.Instant;
import java.util.List;

/**
 * A page of events of every pool, newest first ({@code GET .../v1/events}); {@code
 * metadata.continue} is the token for the next page, absent on the last.
 */
public record EventList(
    String apiVersion, String kind, PoolList.ListMeta metadata, List<Item> items) {

  /** One event and the pool it is about. */
  public record Item(
      String pool,
      String type,
      String reason,
      String message,
      int count,
      Instant firstTimestamp,
      Instant lastTimestamp) {

    static Item of(PoolEvents.Named n) {
      var e = n.event();
      return new Item(n.pool(), e.type, e.reason, e.message, e.count, e.firstSeen, e.lastSeen);
    }
  }
}
