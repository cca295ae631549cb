package io.dynofleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The deliveries a hook remembers: within their window, and never more than the bound. */
class HeardDeliveriesTest {
  private static final Instant T0 = Instant.parse("2026-11-26T08:00:00Z");

  @Test
  void aDeliveryIsADuplicateWithinItsWindowOnly() {
    HeardDeliveries heard = new HeardDeliveries(10);
    Instant until = T0.plus(HooksResource.FRESH);
    assertThat(heard.first("d1", until, T0)).isTrue();
    assertThat(heard.first("d1", until, T0.plusSeconds(599))).as("within ten minutes").isFalse();
    assertThat(heard.first("d1", until.plusSeconds(601), until.plusSeconds(1)))
        .as("after its window")
        .isTrue();
    heard.forget("d1");
    assertThat(heard.first("d1", until, T0)).as("forgotten: a retry is heard").isTrue();
  }

  /**
   * Security review 3 #4: every fresh signed notification was kept for ten minutes without bound.
   */
  @Test
  void pastTheBoundTheOldestGo() {
    HeardDeliveries heard = new HeardDeliveries(HooksResource.HEARD_MAX);
    Instant until = T0.plus(HooksResource.FRESH);
    for (int i = 0; i < HooksResource.HEARD_MAX + 5_000; i++) {
      assertThat(heard.first("d" + i, until, T0.plusMillis(i))).isTrue();
    }
    assertThat(heard.size()).isEqualTo(HooksResource.HEARD_MAX);
    assertThat(heard.first("d" + (HooksResource.HEARD_MAX + 4_999), until, T0))
        .as("the newest is still remembered")
        .isFalse();
    assertThat(heard.first("d0", until, T0)).as("the oldest was dropped").isTrue();
    assertThat(HooksResource.HEARD_MAX).isEqualTo(10_000);
  }

  @Test
  void aDeliveryIsKnownByItsDeliveryIdElseItsEventId() throws Exception {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var a =
        json.readTree(
            "{\"id\": \"e1\", \"webhook_metadata\": {\"delivery\": {\"id\": \"d1\"},"
                + " \"event\": {\"id\": \"e1\"}}}");
    var b =
        json.readTree(
            "{\"id\": \"e1\", \"webhook_metadata\": {\"delivery\": {\"id\": \"d2\"},"
                + " \"event\": {\"id\": \"e1\"}}}");
    assertThat(HooksResource.deliveryKey(a, "e1"))
        .as("one event, a delivery per subscription: each heard")
        .isNotEqualTo(HooksResource.deliveryKey(b, "e1"));
    assertThat(HooksResource.deliveryKey(json.readTree("{\"id\": \"e1\"}"), "e1"))
        .isEqualTo("event e1");
    assertThat(HooksResource.deliveryKey(json.readTree("{}"), null)).isNull();
    String huge = "x".repeat(100_000);
    assertThat(HooksResource.deliveryKey(json.readTree("{}"), huge))
        .as("a long id is kept by its hash")
        .hasSizeLessThan(100);
  }
}
