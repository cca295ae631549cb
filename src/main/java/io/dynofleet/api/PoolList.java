package io.dynofleet.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A page of pools; {@code metadata.continue} is the token for the next page, absent on the last.
 */
public record PoolList(
    String apiVersion, String kind, ListMeta metadata, List<PoolDocument> items) {

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ListMeta(
      @com.fasterxml.jackson.annotation.JsonProperty("continue") String continueToken) {}
}
