package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Map;

/** Body of {@code POST /app-setups}. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AppSetupCreate(AppCreate app, SourceBlob sourceBlob, Overrides overrides) {

  /** Config var overrides applied on top of app.json. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Overrides(Map<String, String> env) {}
}
