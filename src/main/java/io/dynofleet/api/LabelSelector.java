package io.dynofleet.api;

import io.dynofleet.pool.model.PoolRepository.LabelRequirement;
import io.dynofleet.pool.model.PoolRepository.LabelRequirement.Op;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Kubernetes equality-based label selectors: {@code a=b,c!=d,e,!f} ({@code ==} is {@code =}).
 * Set-based ones ({@code k in (a,b)}, {@code k notin (a)}) are not supported and say so.
 */
final class LabelSelector {
  static final String FORMS = "use k=v, k==v, k!=v, k (has k) or !k (has no k), joined by ','";

  /**
   * {@code in}/{@code notin} with a value list, or any parenthesis: Kubernetes' set-based syntax.
   */
  private static final Pattern SET_BASED = Pattern.compile("[()]|\\s(in|notin)\\s");

  private LabelSelector() {}

  static List<LabelRequirement> parse(String selector) {
    List<LabelRequirement> out = new ArrayList<>();
    if (selector == null || selector.isBlank()) {
      return out;
    }
    if (SET_BASED.matcher(selector).find()) {
      // one error for the whole selector: split at its commas, "team in (a,b)" would give a
      // misleading key error per piece
      throw invalid(
          List.of(
              new FieldError(
                  "labelSelector", "set-based selectors (in, notin) are not supported; " + FORMS)));
    }
    List<FieldError> errors = new ArrayList<>();
    for (String raw : selector.split(",")) {
      String part = raw.trim();
      LabelRequirement r;
      if (part.startsWith("!")) {
        r = new LabelRequirement(part.substring(1).trim(), Op.NOT_EXISTS, null);
      } else if (part.contains("!=")) {
        String[] kv = part.split("!=", 2);
        r = new LabelRequirement(kv[0].trim(), Op.NOT_EQUALS, kv[1].trim());
      } else if (part.contains("==")) {
        String[] kv = part.split("==", 2);
        r = new LabelRequirement(kv[0].trim(), Op.EQUALS, kv[1].trim());
      } else if (part.contains("=")) {
        String[] kv = part.split("=", 2);
        r = new LabelRequirement(kv[0].trim(), Op.EQUALS, kv[1].trim());
      } else {
        r = new LabelRequirement(part, Op.EXISTS, null);
      }
      PoolValidator.checkLabelName("labelSelector", r.key(), errors);
      if (r.value() != null
          && (r.value().length() > 63 || !PoolValidator.LABEL_NAME.matcher(r.value()).matches())) {
        errors.add(
            new FieldError("labelSelector", "'" + r.value() + "' is not a valid label value"));
      }
      out.add(r);
    }
    if (!errors.isEmpty()) {
      throw invalid(List.copyOf(new LinkedHashSet<>(errors))); // two bad keys: one message
    }
    return out;
  }

  private static ApiException invalid(List<FieldError> errors) {
    String detail =
        errors.size() == 1
            ? errors.get(0).field() + ": " + errors.get(0).message()
            : errors.size() + " errors in labelSelector";
    return new ApiException(422, "invalid", "Invalid label selector", detail, errors);
  }
}
