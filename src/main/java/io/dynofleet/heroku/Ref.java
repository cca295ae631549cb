package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * A reference to another Heroku object ({@code {id, name}}), e.g. an app, region, stack or slug.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Ref(String id, String name) {
  /** A reference by id or name, as request bodies accept. */
  public static Ref of(String idOrName) {
    return new Ref(null, idOrName);
  }
}
