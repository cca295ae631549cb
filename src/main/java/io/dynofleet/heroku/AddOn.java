package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;
import java.util.List;

/** An add-on (e.g. heroku-postgresql) owned by an app; {@code configVars} are the vars it sets. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AddOn(
    String id,
    String name,
    Ref app,
    Ref addonService,
    Ref plan,
    List<String> configVars,
    String state,
    Instant createdAt,
    Instant updatedAt) {}
