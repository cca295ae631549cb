package io.dynofleet.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.junit.jupiter.api.Test;

/**
 * Security review 7 S7-5: the OpenAPI document listed the sandbox's routes on every Dynofleet,
 * where outside sandbox mode they answer 404 {@code not-sandbox}.
 */
class SandboxOpenApiFilterTest {
  static final String[] SANDBOX = {
    "/_dynofleet/api/v1/sandbox",
    "/_dynofleet/api/v1/sandbox/apps/{app}/releases",
    "/_dynofleet/api/v1/sandbox/apps/{app}/faults/{fault}"
  };
  static final String[] OTHERS = {
    "/_dynofleet/api/v1/pools", "/_dynofleet/api/v1/info", "/_dynofleet/api/v1/sandboxes"
  };

  static OpenAPI document() {
    var paths = OASFactory.createPaths();
    for (String p : SANDBOX) {
      paths.addPathItem(p, OASFactory.createPathItem());
    }
    for (String p : OTHERS) {
      paths.addPathItem(p, OASFactory.createPathItem());
    }
    return OASFactory.createOpenAPI().paths(paths);
  }

  @Test
  void outsideSandboxModeTheSandboxRoutesAreLeftOut() {
    OpenAPI doc = document();
    new SandboxOpenApiFilter(false).filterOpenAPI(doc);
    assertThat(doc.getPaths().getPathItems()).containsOnlyKeys(OTHERS);
  }

  @Test
  void inSandboxModeTheyAreListed() {
    OpenAPI doc = document();
    new SandboxOpenApiFilter(true).filterOpenAPI(doc);
    assertThat(doc.getPaths().getPathItems()).containsKeys(SANDBOX).containsKeys(OTHERS);
  }
}
