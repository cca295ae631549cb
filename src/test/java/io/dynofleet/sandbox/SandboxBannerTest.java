package io.dynofleet.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Audit 22 L4: on a port other than 8080 the banner told the CLI the token only, and the CLI tried
 * localhost:8080.
 */
class SandboxBannerTest {

  @Test
  void theTokenLineExportsTheUrlTheCliNeeds() {
    String banner =
        SandboxDemo.bannerText(
            "http://127.0.0.1:41929/", true, 18080, "localhost", "/_dynofleet", "so_tok");
    assertThat(banner)
        .contains(
            "API token:  so_tok   (export DYNOFLEET_API_TOKEN=so_tok"
                + " DYNOFLEET_URL=http://localhost:18080)\n")
        .contains("traffic:    curl http://localhost:18080/\n");
  }

  @Test
  void withoutAGeneratedTokenTheUrlIsStillSaid() {
    String banner =
        SandboxDemo.bannerText(
            "http://127.0.0.1:41929/", false, 9000, "admin.test", "/_dynofleet", null);
    assertThat(banner)
        .as("an admin host the CLI would refuse plain http to: the banner allows it")
        .contains(
            "CLI:        export DYNOFLEET_URL=http://admin.test:9000 DYNOFLEET_ALLOW_HTTP=true\n")
        .doesNotContain("traffic:")
        .doesNotContain("DYNOFLEET_API_TOKEN=");
  }
}
