package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * An add-on service (heroku-postgresql, a partner's); {@code supportsSharing}: whether its add-ons
 * can be attached to apps other than the one billed for them.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AddOnService(String id, String name, Boolean supportsSharing) {}
