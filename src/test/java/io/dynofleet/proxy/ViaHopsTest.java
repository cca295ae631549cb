package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

/**
 * Counting the Dynofleet proxies a request has passed, by its {@code Via} entries (RFC 9110 7.6.3).
 */
class ViaHopsTest {
  static int hops(String... lines) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    for (String l : lines) h.add("Via", l);
    return ReverseProxy.dynofleetHops(h);
  }

  @Test
  void countsTheReceivedByPseudonymInAnyCase() {
    assertThat(hops("1.1 dynofleet")).isEqualTo(1);
    assertThat(hops("1.1 dynofleet, 1.1 DynoFleet", "HTTP/1.1 DYNOFLEET (Dynofleet/1.0)"))
        .isEqualTo(3);
    assertThat(hops("1.1 vegur,1.1 dynofleet ,  2 dynofleet")).isEqualTo(2);
  }

  @Test
  void aWordThatOnlyContainsItIsNoHop() {
    // a substring was a hop: another proxy's name, or one's comment, spent the request's five hops
    assertThat(
            hops(
                "1.1 mydynofleetcache",
                "1.1 proxy.dynofleet.example",
                "1.0 squid (dynofleet dynofleet)"))
        .isZero();
    assertThat(hops("1.1 cache (via dynofleet, dynofleet), 1.1 dynofleet")).isEqualTo(1);
    assertThat(hops("dynofleet", "", " , ")).isZero(); // a pseudonym alone is no received-protocol
  }

  /**
   * Review 13: a client's "Via: 1.0 x (" opened a comment that never closed, and on a line a front
   * end merged, every Dynofleet entry after it was hidden: the loop check never fired.
   */
  @Test
  void aCommentNeverClosedHidesNoEntry() {
    assertThat(hops("1.0 x (, 1.1 dynofleet, 1.1 dynofleet, 1.1 DYNOFLEET")).isEqualTo(3);
    assertThat(hops("1.0 x (", "1.1 dynofleet")).isEqualTo(1);
  }
}
