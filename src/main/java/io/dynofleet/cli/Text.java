package io.dynofleet.cli;

import io.dynofleet.text.SafeText;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Small formatting helpers for the CLI's tables. */
final class Text {
  private Text() {}

  /**
   * Text from the server (or a host that answered in its place) as one line of a table cell or a
   * {@code key: value} line: newline and tab written as {@code \n} and {@code \t}, every control or
   * bidi character as {@code \u009b} ({@link SafeText#visible}): a newline in an event's message
   * forged whole rows (security review 6 S6-2), and a C1 CSI cleared the screen (S6-1).
   */
  static String safe(String s) {
    return SafeText.visible(s, true);
  }

  /** kubectl-style age: 42s, 5m, 3h, 2d. Display only, so it reads the wall clock. */
  static String age(String timestamp) {
    if (timestamp == null || timestamp.isEmpty()) {
      return "-";
    }
    try {
      Duration d = Duration.between(Instant.parse(timestamp), Instant.now());
      long s = Math.max(0, d.getSeconds());
      if (s < 120) {
        return s + "s";
      }
      if (s < 7200) {
        return s / 60 + "m";
      }
      if (s < 172800) {
        return s / 3600 + "h";
      }
      return s / 86400 + "d";
    } catch (DateTimeParseException e) {
      return "-";
    }
  }
}
