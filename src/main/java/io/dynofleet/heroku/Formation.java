package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/** One process type of an app ({@code web}, {@code worker}...), its quantity and dyno size. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Formation(
    String id,
    String type,
    int quantity,
    String size,
    String command,
    Ref app,
    Instant createdAt,
    Instant updatedAt) {}
