package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;
import java.util.Map;

/** A compiled slug; a slug of one app can be released on another app of the account. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Slug(
    String id,
    String commit,
    String commitDescription,
    Map<String, String> processTypes,
    Long size,
    Ref stack,
    Instant createdAt,
    Instant updatedAt) {}
