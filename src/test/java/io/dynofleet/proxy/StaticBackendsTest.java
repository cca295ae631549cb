package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code static} pool of DYNOFLEET_STATIC_BACKENDS, and stored static lists, with repeats. */
class StaticBackendsTest {
  @Test
  void aBackendListedTwiceIsUsedOnce() {
    PoolRoute r =
        RouteSync.configuredRoute(
            List.of(
                "http://a.example",
                " HTTP://A.example:80/ ",
                "http://b.example:8080",
                "",
                "http://a.example/x"),
            Duration.ofSeconds(30));
    // it was three backends for a (two of them under one meter id): a took three shares of four
    assertThat(r.backends())
        .extracting(BackendTarget::url)
        .containsExactly(URI.create("http://a.example"), URI.create("http://b.example:8080"));
    assertThat(
            RouteSync.distinct(
                List.of("https://s.example/", "https://s.example:443", "http://s.example")))
        .containsExactly("https://s.example/", "http://s.example");
    assertThat(RouteSync.configuredRoute(List.of(" ", ""), Duration.ofSeconds(30))).isNull();
  }

  /**
   * Review 16: a backend's id was its URL's authority, so {@code http://a} and {@code https://a}
   * were one id: one meter, one metric label, one /stats name, one key in the reconciler's health
   * map. Where two URLs of a pool share an authority, the scheme is part of each id.
   */
  @Test
  void theSameHostOverTwoSchemesIsTwoBackendIds() {
    PoolRoute r =
        RouteSync.configuredRoute(
            List.of(
                "http://a.example",
                "https://a.example",
                "https://b.example",
                "http://c.example:8080"),
            Duration.ofSeconds(30));
    assertThat(r.backends())
        .extracting(BackendTarget::id)
        .containsExactly("http://a.example", "https://a.example", "b.example", "c.example:8080");
    // ids that differ only in case are one host too
    assertThat(RouteSync.targets(List.of("http://A.example:81", "https://a.example:81")))
        .extracting(BackendTarget::id)
        .doesNotHaveDuplicates()
        .containsExactly("http://A.example:81", "https://a.example:81");
  }

  /**
   * Security review 2: the API refuses a URL with credentials, the variable did not: the proxy
   * never sends them, and {@code user:pass@host} became every metric's backend label and the
   * ejection log lines' name. They are dropped; any other URL the API refuses stops the start, told
   * by position, the URL never printed.
   */
  @Test
  void aUrlTheApiWouldRefuseStopsTheStartWithoutBeingPrinted() {
    PoolRoute r =
        RouteSync.configuredRoute(
            List.of("https://user:s3cret@legacy.example:8443/x", "http://b.example"),
            Duration.ofSeconds(30));
    assertThat(r.backends())
        .as("credentials dropped, not refused: a dyno serving with them did not use them")
        .extracting(b -> b.id() + " " + b.url())
        .containsExactly(
            "legacy.example:8443 https://legacy.example:8443/x", "b.example http://b.example");
    for (String bad :
        List.of(
            "ftp://s3cret.example",
            "s3cret.example:80",
            "http://s3cret.example:0",
            "http://s3cret example")) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () ->
                  RouteSync.configuredRoute(
                      List.of("http://ok.example", bad), Duration.ofSeconds(30)))
          .isInstanceOf(io.dynofleet.config.StartRefused.class)
          .hasMessageStartingWith("Dynofleet did not start: DYNOFLEET_STATIC_BACKENDS: URL 2 of 2 ")
          .satisfies(e -> assertThat(e.getMessage()).as(bad).doesNotContain("s3cret"));
    }
  }

  /**
   * Security review 5 S5-8: a link-local URL (the cloud metadata address, in any spelling) made the
   * proxy and its probes a way into the dyno's metadata service: it stops the start, as the API
   * refuses it; loopback and private URLs start.
   */
  @Test
  void aLinkLocalUrlStopsTheStart() {
    for (String bad :
        List.of(
            "http://169.254.169.254/latest/meta-data/",
            "http://2852039166/",
            "http://0xa9fea9fe:80/",
            "http://[fe80::1]:8080/",
            "http://[::ffff:169.254.169.254]/")) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () ->
                  RouteSync.configuredRoute(
                      List.of("http://ok.example", bad), Duration.ofSeconds(30)))
          .as(bad)
          .isInstanceOf(io.dynofleet.config.StartRefused.class)
          .hasMessageStartingWith(
              "Dynofleet did not start: DYNOFLEET_STATIC_BACKENDS: URL 2 of 2 names a link-local"
                  + " address");
    }
    assertThat(
            RouteSync.configuredRoute(
                    List.of("http://127.0.0.1:8080", "http://10.0.0.1", "http://[::1]:9"),
                    Duration.ofSeconds(30))
                .backends())
        .hasSize(3);
  }

  /**
   * Review 13: a default timeout of 0 left the static pool's requests, and their clients,
   * unbounded.
   */
  @Test
  void aDefaultTimeoutOfZeroStopsTheStartNamingTheSetting() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ReverseProxy.checkDefaultTimeout(java.time.Duration.ZERO))
        .hasMessageContaining("DYNOFLEET_PROXY_DEFAULT_TIMEOUT")
        .hasMessageContaining("must be above 0");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ReverseProxy.checkDefaultTimeout(java.time.Duration.ofSeconds(-1)))
        .isInstanceOf(io.dynofleet.config.StartRefused.class);
    ReverseProxy.checkDefaultTimeout(java.time.Duration.ofSeconds(30)); // the default starts
  }
}
