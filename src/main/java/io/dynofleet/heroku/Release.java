package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/**
 * A release of an app; {@code status} is {@code pending}, {@code succeeded} or {@code failed}.
 * {@code outputStreamUrl}: where the output of its release phase (the slug's {@code release:}
 * command) streams as text, when it has one; null otherwise. {@code user}: who made it (its {@code
 * id}; Heroku's {@code email} is not read).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Release(
    String id,
    int version,
    String status,
    boolean current,
    String description,
    Ref slug,
    Ref app,
    Ref user,
    Instant createdAt,
    Instant updatedAt,
    String outputStreamUrl) {

  /** True once Heroku reports the release live. */
  public boolean succeeded() {
    return "succeeded".equals(status);
  }
}
