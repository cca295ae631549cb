package io.dynofleet.api;

/**
 * One bad field of a request, named by its JSON path (e.g. {@code spec.template.dynoSize}). A path
 * built from a submitted key is made printable: a NUL or an unpaired surrogate in it is written as
 * {@code \\u0000}-style text, since the problem document must serialise (a lone surrogate cannot be
 * written as UTF-8).
 */
public record FieldError(String field, String message) {
  public FieldError {
    field = field == null ? null : printable(field);
  }

  /** True when PostgreSQL can store {@code s} in jsonb/text: no NUL, no unpaired surrogate. */
  static boolean storable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == 0) {
        return false;
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++; // a pair: one supplementary character, fine
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code s} with every NUL and unpaired surrogate written as a JSON-style {@code \\u} escape
   * (four hex digits).
   */
  static String printable(String s) {
    if (storable(s)) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else if (c == 0 || Character.isSurrogate(c)) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
