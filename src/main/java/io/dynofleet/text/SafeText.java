package io.dynofleet.text;

import java.util.regex.Pattern;

/**
 * Text from outside (a backend's log lines, a release's output, a backend's malformed answer, a
 * config var's name, a server's header) as it may reach an operator's terminal, log viewer or
 * browser: the one definition, for the server and the CLI, of the characters that must not pass
 * raw. Those are the C0 controls but tab and newline, DEL, the C1 controls U+0080-U+009F (terminals
 * that decode UTF-8 before parsing, VTE-based ones among them, take U+009B as CSI and U+009D as
 * OSC: a screen clear, a recolouring, a link whose text lies, a write to the clipboard), the line
 * separators U+2028/U+2029, and the bidi and zero-width formatting characters (U+061C, U+200B,
 * U+200E/F, U+202A-U+202E, U+2066-U+2069, U+FEFF) that make a name read backwards (security review
 * 6 S6-1), and the invisible ones that make two names look alike or a name look blank: U+00AD,
 * U+034F, U+180E, U+2060-U+206F, the Hangul fillers U+115F/U+1160/U+3164/U+FFA0 and the tag
 * characters U+E0000-U+E007F (a surrogate pair; review 31 R31-15).
 */
public final class SafeText {
  private SafeText() {}

  private static final Pattern ANSI = Pattern.compile("\\u001B\\[[0-9;?]*[ -/]*[@-~]");

  /** Whether {@code c} may not reach an operator raw; tab and newline may. */
  public static boolean unsafe(char c) {
    return c < 0x20 && c != '\t' && c != '\n'
        || c >= 0x7F && c <= 0x9F
        || c == '\u061C'
        || c == '\u200B'
        || c == '\u200E'
        || c == '\u200F'
        || c >= '\u2028' && c <= '\u202E'
        || c >= '\u2066' && c <= '\u2069'
        || c == '\uFEFF'
        || c == '\u00AD'
        || c == '\u034F'
        || c == '\u115F'
        || c == '\u1160'
        || c == '\u180E'
        || c >= '\u2060' && c <= '\u206F'
        || c == '\u3164'
        || c == '\uFFA0';
  }

  /** Whether a tag character (U+E0000-U+E007F, two chars) starts at {@code i}. */
  private static boolean tagAt(String t, int i) {
    return t.charAt(i) == '\uDB40'
        && i + 1 < t.length()
        && t.charAt(i + 1) >= '\uDC00'
        && t.charAt(i + 1) <= '\uDC7F';
  }

  private static boolean clean(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (unsafe(text.charAt(i)) || tagAt(text, i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Text as it can be stored and shown: 7-bit terminal colour codes dropped, the Unicode line
   * breaks (NEL, U+2028/9) made newlines, every other unsafe character replaced by U+FFFD (visible,
   * where dropping it would hide that something was there). Tab and newline are kept: a release's
   * output is many lines.
   */
  public static String printable(String text) {
    if (text == null || clean(text)) {
      return text;
    }
    String t = ANSI.matcher(text).replaceAll("");
    StringBuilder out = new StringBuilder(t.length());
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (tagAt(t, i)) {
        out.append('\uFFFD');
        i++;
        continue;
      }
      out.append(c == '\u0085' || c == '\u2028' || c == '\u2029' ? '\n' : unsafe(c) ? '\uFFFD' : c);
    }
    return out.toString();
  }

  /** Whether {@code text} holds a character that is {@link #unsafe}. */
  public static boolean hasUnsafe(String text) {
    return text != null && !clean(text);
  }

  /**
   * Text as a terminal may print it: every unsafe character written as a Java-style escape ({@code
   * \u009b}), visible and inert; with {@code oneLine}, newline and tab too ({@code \n}, {@code
   * \t}), for a table cell or a {@code key: value} line, where a line break forged a row. Without
   * it, a carriage return right before a newline passes: a {@code \r\n} line ending (the line
   * separator on Windows) is layout, not text, and escaped it put a visible {@code \u000d} at the
   * end of every line and broke {@code -o json} (review 31 R31-6); a lone one is escaped.
   */
  public static String visible(String text, boolean oneLine) {
    if (text == null) {
      return null;
    }
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      String esc =
          oneLine && c == '\n'
              ? "\\n"
              : oneLine && c == '\t'
                  ? "\\t"
                  : c == '\r' && oneLine
                      ? "\\r"
                      : c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n'
                          ? null
                          : tagAt(text, i)
                              ? String.format("\\u%04x\\u%04x", (int) c, (int) text.charAt(i + 1))
                              : unsafe(c) ? String.format("\\u%04x", (int) c) : null;
      if (esc != null && out == null) {
        out = new StringBuilder(text.length() + 16).append(text, 0, i);
      }
      if (out != null) {
        out.append(esc != null ? esc : String.valueOf(c));
      }
      if (esc != null && Character.isHighSurrogate(c)) {
        i++; // the tag's low half, written with it
      }
    }
    return out == null ? text : out.toString();
  }
}
