package io.dynofleet.proxy;

import static io.dynofleet.proxy.ReverseProxy.rewrittenLocation;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Which redirects of a backend point at the client's host instead (pure logic; ProxyEdgeTests runs
 * it live).
 */
class LocationRewriteTest {
  private static final String APP = "shop-x1y2z3.herokuapp.com";

  @Test
  void aHerokuBackendsSelfRedirectWhateverItsScheme() {
    // https://<app>.herokuapp.com as the backend (port 443 by its scheme)
    assertThat(
            rewrittenLocation(
                "http://" + APP + "/login?x=1", APP, 443, true, "www.shop.example", "https"))
        .isEqualTo("https://www.shop.example/login?x=1");
    assertThat(
            rewrittenLocation(
                "https://SHOP-X1Y2Z3.herokuapp.com:443/a#f",
                APP,
                443,
                true,
                "www.shop.example",
                "https"))
        .isEqualTo("https://www.shop.example/a#f");
  }

  @Test
  void otherRedirectsAreLeftAlone() {
    assertThat(
            rewrittenLocation(
                "https://elsewhere.example/x", APP, 443, true, "www.shop.example", "https"))
        .isNull();
    assertThat(rewrittenLocation("/relative", APP, 443, true, "www.shop.example", "https"))
        .isNull();
    assertThat(
            rewrittenLocation(
                "https://u@" + APP + "/x", APP, 443, true, "www.shop.example", "https"))
        .isNull();
    assertThat(
            rewrittenLocation(
                "https://" + APP + ":8443/x", APP, 443, true, "www.shop.example", "https"))
        .isNull();
    // audit 8: a backend on a port of its own; the default port of its host is another service
    assertThat(
            rewrittenLocation(
                "http://127.0.0.1/", "127.0.0.1", 19421, false, "www.shop.example", "http"))
        .isNull();
    assertThat(
            rewrittenLocation(
                "http://127.0.0.1:19421/p", "127.0.0.1", 19421, false, "www.shop.example", "http"))
        .isEqualTo("http://www.shop.example/p");
  }

  /**
   * Audit 8: a trusted X-Forwarded-Host was used as it came ("", "evil.example/x?", "user@host").
   */
  @Test
  void theClientsHostMustBeAPlainAuthority() {
    for (String bad : new String[] {"", "evil.example/x?", "user@host", "a b", "h\"x"}) {
      assertThat(rewrittenLocation("https://" + APP + "/x", APP, 443, true, bad, "https"))
          .as(bad)
          .isNull();
    }
    assertThat(rewrittenLocation("https://" + APP + "/x", APP, 443, true, "[::1]:8080", "https"))
        .isEqualTo("https://[::1]:8080/x");
  }
}
