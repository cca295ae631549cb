package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/** A running dyno; {@code state} is starting, up, crashed, idle or down. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Dyno(
    String id,
    String name,
    String type,
    String state,
    String size,
    String command,
    ReleaseRef release,
    Ref app,
    Instant createdAt,
    Instant updatedAt) {

  /** The release a dyno runs. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record ReleaseRef(String id, Integer version) {}
}
