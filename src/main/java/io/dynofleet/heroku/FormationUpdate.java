package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One entry of a formation update; null fields stay as they are. The size goes as {@code dyno_size:
 * {name}}: the schema calls {@code size} deprecated, and its batch update takes no other property
 * (review 6).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FormationUpdate(String type, Integer quantity, DynoSize dynoSize) {

  /** A dyno size by name ({@code basic}, {@code standard-1x}, ...). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record DynoSize(String name) {}

  /** An update of {@code type}; a null size stays as it is. */
  public static FormationUpdate of(String type, Integer quantity, String size) {
    return new FormationUpdate(type, quantity, size == null ? null : new DynoSize(size));
  }
}
