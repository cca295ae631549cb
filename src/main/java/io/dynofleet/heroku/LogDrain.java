package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/**
 * A log drain of an app ({@code /apps/{app}/log-drains}): Logplex sends the app's log lines to
 * {@code url}. {@code addon} is the add-on that made it (a logging add-on's drain, which goes with
 * the add-on), null for one added by hand ({@code heroku drains:add}). The url may hold a secret (a
 * token in it): never log it.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record LogDrain(
    String id, String url, String token, Ref addon, Ref app, Instant createdAt, Instant updatedAt) {

  /** Not the url: a record's default would print it wherever the drain is logged. */
  @Override
  public String toString() {
    return "LogDrain[id=" + id + ", addon=" + (addon == null ? null : addon.name()) + "]";
  }
}
