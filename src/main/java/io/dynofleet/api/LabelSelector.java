package io.dynofleet.api;

import io.dynofleet.pool.model.PoolRepository.LabelRequirement;
import io.dynofleet.pool.model.PoolRepository.LabelRequirement.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * Kubernetes equality-based label selectors: {@code a=b,c!=d,e,!f} ({@code ==} is {@code =}).
 */
final class LabelSelector {
  private LabelSelector() {}

  static List<LabelRequirement> parse(String selector) {
    List<LabelRequirement> out = new ArrayList<>();
    if (selector == null || selector.isBlank()) {
      return out;
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
      if (r.value() != null && (r.value().length() > 63
          || !PoolValidator.LABEL_NAME.matcher(r.value()).matches())) {
        errors.add(new FieldError("labelSelector", "'" + r.value() + "' is not a valid label value"));
      }
      out.add(r);
    }
    if (!errors.isEmpty()) {
      throw ApiException.invalid(errors);
    }
    return out;
  }
}
