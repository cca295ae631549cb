package io.dynofleet.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parsed command line: positional words and flags ({@code --flag value}, {@code --flag=value},
 * short aliases {@code -l -o -f -h}, valued ones also as {@code -ojson} and {@code -o=json}).
 * Unknown flags are a usage error (exit 2); {@code -} alone is a word (stdin).
 */
record Args(List<String> words, Map<String, String> flags) {
  private static final Set<String> VALUED =
      Set.of(
          "selector",
          "output",
          "filename",
          "replicas",
          "timeout",
          "url",
          "token",
          "release",
          "since");
  private static final Set<String> BOOLEAN = Set.of("wait", "help", "new-secret", "warnings");
  private static final Map<String, String> SHORT =
      Map.of("-l", "selector", "-o", "output", "-f", "filename", "-h", "help");

  static Args parse(String... argv) {
    List<String> words = new ArrayList<>();
    Map<String, String> flags = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      String name;
      String value = null;
      if (SHORT.containsKey(a)) {
        name = SHORT.get(a);
      } else if (a.length() > 2
          && a.charAt(0) == '-'
          && a.charAt(1) != '-'
          && SHORT.containsKey(a.substring(0, 2))
          && VALUED.contains(SHORT.get(a.substring(0, 2)))) {
        // kubectl's -ojson and -o=json
        name = SHORT.get(a.substring(0, 2));
        value = a.charAt(2) == '=' ? a.substring(3) : a.substring(2);
      } else if (a.length() > 1
          && a.charAt(0) == '-'
          && !a.startsWith("--")
          && !a.startsWith("-D")) {
        // (-D... stays a word: a JVM option after -jar, which the dispatcher explains)
        // a stray -w or -x was taken for a word: "delete pool p1 -w" deleted without waiting and
        // exited 0, "get pools -x" looked for a pool named -x (audit 13)
        throw new CliException(Cli.USAGE, "unknown flag " + a);
      } else if (a.startsWith("--") && a.length() > 2) {
        int eq = a.indexOf('=');
        name = eq < 0 ? a.substring(2) : a.substring(2, eq);
        value = eq < 0 ? null : a.substring(eq + 1);
      } else {
        words.add(a); // includes "-" (stdin) as a plain word
        continue;
      }
      if (flags.containsKey(name)) {
        // the last one won, silently: "apply -f a.yaml -f b.yaml" applied b alone (audit 15)
        throw new CliException(Cli.USAGE, "flag --" + name + " given twice");
      }
      if (BOOLEAN.contains(name)) {
        flags.put(name, value == null ? "true" : value);
      } else if (VALUED.contains(name)) {
        if (value == null) {
          if (i + 1 >= argv.length) {
            throw new CliException(Cli.USAGE, "flag " + a + " needs a value");
          }
          value = argv[++i];
        }
        flags.put(name, value);
      } else {
        throw new CliException(Cli.USAGE, "unknown flag " + a);
      }
    }
    return new Args(List.copyOf(words), Map.copyOf(flags));
  }

  String word(int i, String what) {
    if (words.size() <= i) {
      throw new CliException(Cli.USAGE, "missing " + what);
    }
    return words.get(i);
  }

  String flag(String name) {
    return flags.get(name);
  }

  boolean has(String name) {
    return flags.containsKey(name) && !"false".equals(flags.get(name));
  }

  int intFlag(String name) {
    String v = flags.get(name);
    if (v == null) {
      throw new CliException(Cli.USAGE, "missing --" + name);
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new CliException(Cli.USAGE, "--" + name + " must be a whole number, got " + v);
    }
  }

  Duration duration(String name, Duration dflt) {
    String v = flags.get(name);
    return v == null ? dflt : parseDuration(v);
  }

  /** {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}; a bare number is seconds. */
  static Duration parseDuration(String v) {
    try {
      String s = v.trim().toLowerCase();
      if (s.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
      }
      char unit = s.charAt(s.length() - 1);
      if (Character.isDigit(unit)) {
        return Duration.ofSeconds(Long.parseLong(s));
      }
      long n = Long.parseLong(s.substring(0, s.length() - 1));
      return switch (unit) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new NumberFormatException();
      };
    } catch (RuntimeException e) {
      throw new CliException(Cli.USAGE, "bad duration " + v + " (use e.g. 30s, 10m, 1h)");
    }
  }
}
