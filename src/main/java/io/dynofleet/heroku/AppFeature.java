package io.dynofleet.heroku;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * A Heroku Labs feature of an app ({@code /apps/{app}/features}): the list holds every feature an
 * app may have, each {@code enabled} or not ({@code heroku labs:enable}, {@code features:enable}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AppFeature(String id, String name, boolean enabled, String state) {}
