package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pure logic: which raw paths a lenient server would read as the reserved prefix. */
class ReservedPathTest {
  private static final String PREFIX = "/_dynofleet";

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/_dynofleet",
        "/_dynofleet/api/pools",
        "/_DYNOFLEET/api",
        "/_Dynofleet/", // plain spellings
        "/%5Fdynofleet/api",
        "/%255Fdynofleet",
        "//_dynofleet/api",
        "/x/../_dynofleet/api",
        "/./_dynofleet",
        "/_dynofleet;x=1/api",
        "\\_dynofleet\\api",
        "/x/..%2F_dynofleet",
        "/%zz"
      })
  void reserved(String path) {
    assertThat(ReservedPath.matches(path, PREFIX)).as(path).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/",
        "/index.html",
        "/_dynofleetx",
        "/_dynofleet-api",
        "/api/_dynofleet",
        "/a/b/c?q=1",
        "/x/./y",
        "/x/../y",
        "/%41pi",
        "/_dyno",
        "/static/app.v2.js",
        "/a;b",
        "//x"
      })
  void notReserved(String path) {
    assertThat(ReservedPath.matches(path, PREFIX)).as(path).isFalse();
  }
}
