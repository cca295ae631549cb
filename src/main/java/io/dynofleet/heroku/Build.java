package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/** A build of a source tarball into a slug. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Build(
    String id,
    String status,
    Ref app,
    SourceBlob sourceBlob,
    Ref slug,
    Ref release,
    Instant createdAt,
    Instant updatedAt) {}
