package io.dynofleet.sandbox;

import io.quarkus.smallrye.openapi.OpenApiFilter;
import java.util.List;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;

/**
 * Leaves the sandbox's routes ({@code /v1/sandbox...}) out of the OpenAPI document outside sandbox
 * mode, where each answers 404 {@code not-sandbox}: they were listed on every Dynofleet (security
 * review 7 S7-5). Runs once at start, when the Heroku key is known.
 */
@OpenApiFilter(OpenApiFilter.RunStage.RUNTIME_STARTUP)
public class SandboxOpenApiFilter implements OASFilter {
  private static final Pattern SANDBOX_PATH = Pattern.compile(".*/v1/sandbox(/.*)?");

  private final boolean sandbox;

  public SandboxOpenApiFilter() {
    // as SandboxMode decides: no Heroku key, a sandbox
    this(
        ConfigProvider.getConfig()
            .getOptionalValue("dynofleet.heroku.api-key", String.class)
            .filter(k -> !k.isBlank())
            .isEmpty());
  }

  SandboxOpenApiFilter(boolean sandbox) {
    this.sandbox = sandbox;
  }

  @Override
  public void filterOpenAPI(OpenAPI openAPI) {
    if (sandbox || openAPI.getPaths() == null || openAPI.getPaths().getPathItems() == null) {
      return;
    }
    List<String> gone =
        openAPI.getPaths().getPathItems().keySet().stream()
            .filter(p -> SANDBOX_PATH.matcher(p).matches())
            .toList();
    gone.forEach(openAPI.getPaths()::removePathItem);
  }
}
