package io.dynofleet.sandbox;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed Heroku {@code Range} header: {@code <field> [\]]<start>..[<end>][; order=desc, max=N]}.
 * A leading {@code ]} makes the start exclusive (what {@code Next-Range} sends).
 */
record RangeSpec(String field, String start, boolean exclusive, boolean desc, int max) {

  private static final Pattern RANGE =
      Pattern.compile("^\\s*([a-z_]+)\\s*(\\]?)([^;]*?)\\.\\.([^;]*?)\\s*(?:;(.*))?$");

  static RangeSpec parse(String header, String defaultField, int defaultMax) {
    if (header == null || header.isBlank()) {
      return new RangeSpec(defaultField, "", false, false, defaultMax);
    }
    Matcher m = RANGE.matcher(header);
    if (!m.matches()) {
      throw new IllegalArgumentException("bad Range: " + header);
    }
    boolean desc = false;
    int max = defaultMax;
    if (m.group(5) != null) {
      for (String option : m.group(5).split(",")) {
        String[] kv = option.trim().split("=", 2);
        if (kv.length == 2 && kv[0].trim().equals("order")) {
          desc = kv[1].trim().equals("desc");
        } else if (kv.length == 2 && kv[0].trim().equals("max")) {
          max = Integer.parseInt(kv[1].trim());
        }
      }
    }
    return new RangeSpec(m.group(1), m.group(3).trim(), !m.group(2).isEmpty(), desc, max);
  }

  /** The {@code Next-Range} continuing after {@code lastKey}. */
  String next(String lastKey) {
    return field + " ]" + lastKey + ".." + "; " + (desc ? "order=desc, " : "") + "max=" + max;
  }
}
