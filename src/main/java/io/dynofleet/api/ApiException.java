package io.dynofleet.api;

import java.util.List;

/** An expected API failure that becomes a problem document with the given status. */
public class ApiException extends RuntimeException {
  private final int status;
  private final String code;
  private final String title;
  private final List<FieldError> errors;

  public ApiException(
      int status, String code, String title, String detail, List<FieldError> errors) {
    super(detail, null, false, false);
    this.status = status;
    this.code = code;
    this.title = title;
    this.errors = errors;
  }

  public ApiException(int status, String code, String title, String detail) {
    this(status, code, title, detail, null);
  }

  public static ApiException notFound(String name) {
    return new ApiException(404, "not-found", "Pool not found", "no pool named '" + name + "'");
  }

  public static ApiException invalid(List<FieldError> errors) {
    return invalid("Invalid pool", errors);
  }

  /** The same 422 for a query parameter or a body that is not a pool (scale): titled as such. */
  public static ApiException invalidRequest(List<FieldError> errors) {
    return invalid("Invalid request", errors);
  }

  /**
   * At most this many fields are named in one answer (a 1 MB body of unknown keys got a 4 MB 422).
   */
  static final int MAX_ERRORS = 100;

  private static ApiException invalid(String title, List<FieldError> errors) {
    String detail =
        errors.size() == 1
            ? errors.get(0).field() + ": " + errors.get(0).message()
            : oneReason(errors)
                ? String.join(
                        ", ",
                        errors.subList(0, errors.size() - 1).stream()
                            .map(FieldError::field)
                            .toList())
                    + " and "
                    + errors.get(errors.size() - 1).field()
                    + ": "
                    + errors.get(0).message()
                : errors.size()
                    + " fields are invalid"
                    + (errors.size() > MAX_ERRORS
                        ? " (the first " + MAX_ERRORS + " are listed)"
                        : "");
    List<FieldError> listed =
        errors.size() > MAX_ERRORS ? List.copyOf(errors.subList(0, MAX_ERRORS)) : errors;
    return new ApiException(422, "invalid", title, detail, listed);
  }

  /**
   * Whether a few fields are refused for one reason (replicas and its rollout's surge above the app
   * limit): the detail then names them and says it once, not "2 fields are invalid".
   */
  private static boolean oneReason(List<FieldError> errors) {
    return errors.size() <= 10 && errors.stream().map(FieldError::message).distinct().count() == 1;
  }

  public Problem problem(String instance) {
    return new Problem(Problem.TYPE_BASE + code, title, status, getMessage(), instance, errors);
  }

  public int status() {
    return status;
  }

  /** The problem code ({@code already-exists}, {@code host-taken}, ...). */
  public String code() {
    return code;
  }

  public List<FieldError> errors() {
    return errors == null ? List.of() : errors;
  }
}
