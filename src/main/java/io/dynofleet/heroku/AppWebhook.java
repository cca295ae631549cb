package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;
import java.util.List;

/**
 * An app webhook subscription ({@code /apps/{app}/webhooks}). Heroku never shows its secret or
 * authorization again once set, so neither is a field here.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AppWebhook(
    String id,
    Ref app,
    List<String> include,
    String level,
    String url,
    Instant createdAt,
    Instant updatedAt) {}
