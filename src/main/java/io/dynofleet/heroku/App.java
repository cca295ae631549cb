package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/** A Heroku app. Read the host to route to from {@link #webUrl()}, never build it from the name. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record App(
    String id,
    String name,
    String webUrl,
    String gitUrl,
    Ref region,
    Ref stack,
    Ref buildStack,
    Ref owner,
    Ref team,
    Ref generation,
    Boolean maintenance,
    Instant createdAt,
    Instant updatedAt,
    Instant releasedAt) {}
