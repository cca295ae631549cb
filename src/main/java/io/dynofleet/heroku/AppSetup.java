package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/** An app setup (new app built from a tarball with app.json); poll until not pending. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AppSetup(
    String id,
    String status,
    String failureMessage,
    Ref app,
    Ref build,
    Instant createdAt,
    Instant updatedAt) {}
