package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/**
 * A log session of an app ({@code POST /apps/{app}/log-sessions}): {@code logplexUrl} streams the
 * app's log lines as plain text. The url is a capability of its own (anyone holding it reads the
 * app's logs): never log it.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record LogSession(String id, String logplexUrl, Instant createdAt, Instant updatedAt) {

  /** Not the url: a record's default would print it wherever the session is logged. */
  @Override
  public String toString() {
    return "LogSession[id=" + id + "]";
  }
}
