package io.dynofleet.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Small formatting helpers for the CLI's tables. */
final class Text {
  private Text() {}

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
