package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/**
 * A pipeline. Its owner is a user or a team: Heroku couples only apps of the same owner, so a
 * team's pipeline needs team apps ({@code POST /teams/apps}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Pipeline(String id, String name, Owner owner, Instant createdAt, Instant updatedAt) {

  /** {@code type} is {@code user} or {@code team}. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Owner(String id, String type) {}

  /** The owning team's id, or null for a user's pipeline. */
  public String teamId() {
    return owner != null && "team".equals(owner.type()) ? owner.id() : null;
  }
}
