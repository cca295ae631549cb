package io.dynofleet.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** An RFC 9457 problem document; {@code errors} names each bad field of a rejected request. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(
    String type,
    String title,
    int status,
    String detail,
    String instance,
    List<FieldError> errors) {

  public static final String MEDIA_TYPE = "application/problem+json";
  static final String TYPE_BASE = "https://dynofleet.dev/problems/";

  public static Problem of(int status, String code, String title, String detail) {
    return new Problem(TYPE_BASE + code, title, status, detail, null, null);
  }
}
