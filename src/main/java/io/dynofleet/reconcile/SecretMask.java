package io.dynofleet.reconcile;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What looks secret in text a backend printed (its release command's output, its last log lines),
 * masked before it goes to the pool's events and status, which the read-only token and every log
 * drain read (review 13, security review 3 #3, security review 5 S5-2).
 *
 * <p>Masked, case aside: the values of the config vars the backends get (six characters or more,
 * four or more when a word of the var's name says secret, those shorter than six only as a word of
 * their own and never {@code true}, {@code none} and the like), each as it is, stripped,
 * URL-encoded (a form or a query string) and JSON-escaped (a JSON log of settings); each line of a
 * value of several lines (a PEM key, which logs deliver one line an entry); a URL value's password,
 * as it is and decoded (as a driver prints it); any URL's password, up to the last {@code @} before
 * the host; the value of a {@code NAME=value}, {@code "name": "value"} or {@code name => value}
 * whose name says password, pass, pwd, secret, token, key, auth, credential or private; credential
 * headers ({@code Authorization}, {@code Cookie}, {@code Set-Cookie}) and {@code Bearer} tokens.
 *
 * <p>Not masked, and no mask can be sure of it: a value printed otherwise transformed (hashed,
 * base64-encoded, cut, split across lines, HTML-escaped), values shorter than the limits above, and
 * a secret the backend holds that is not one of the vars it was given.
 *
 * <p>The values' spellings are matched by one pattern, built once for a text or a log tail's lines:
 * one pass over the text, not one per value.
 */
public final class SecretMask {

  /**
   * A word of a var's name that says its value is secret, so its values of four characters are
   * masked too: the name's words, split at {@code _} and other non-alphanumerics, not its letters
   * (review 30 R30-11: {@code SHIPPING} holds "pin", {@code KEYSPACE} "key", {@code AUTHOR}
   * "auth").
   */
  private static final Pattern SECRET_WORD =
      Pattern.compile(
          "(?i)pass|passwords?|passwd|passphrase|passcode|pwd|secrets?|tokens?|keys?|apikey|auth"
              + "|credentials?|private|pin|\\w*(?:password|passwd|secret|token)");

  /** Where a var's name is split into words (a name may carry a note after it). */
  private static final Pattern NAME_SEPARATOR = Pattern.compile("[^A-Za-z0-9]+");

  /**
   * Values never masked when shorter than {@link #MIN_VALUE}, whatever their var's name: the words
   * of a switch, which a backend's output holds everywhere (review 30 R30-11).
   */
  private static final Set<String> COMMON_SHORT_VALUES =
      Set.of("true", "false", "none", "null", "nil", "yes", "no", "on", "off");

  /** The shortest value masked when its name does not say secret (words and numbers are common). */
  static final int MIN_VALUE = 6;

  /** The shortest value masked when its name says secret (a PIN), and the shortest URL password. */
  static final int MIN_SECRET_VALUE = 4;

  /** A line of a value of several lines is masked from this length (a PEM key's lines are 64). */
  private static final int MIN_LINE = 16;

  /** A URL's user information: to the last {@code @} before the path (a password may hold one). */
  private static final Pattern URL_USERINFO =
      Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#\\s]*)@");

  private static final Pattern URL_PASSWORD =
      Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://[^:/\\s@]*:)[^\\s/]+@");

  private static final Pattern SECRET_ASSIGNMENT =
      Pattern.compile(
          "(?i)(\\b\\w*(?:password|passwd|secret|token|key|credential|private"
              + "|(?:pass|pwd|auth)(?![a-z]))\\w*[\"']?\\s*(?:=>|[=:])\\s*[\"']?)"
              + "[^\\s,;|\"']+");

  /** A credential header as an app logs it, to the end of its line (or the next " | "). */
  private static final Pattern CREDENTIAL_HEADER =
      Pattern.compile(
          "(?i)\\b(authorization|proxy-authorization|cookie|set-cookie)([\"']?\\s*[:=]\\s*)[^|\\n]+");

  private static final Pattern BEARER = Pattern.compile("(?i)\\b(bearer\\s+)[A-Za-z0-9._~+/=-]+");

  /** All the values' spellings, longest first; null when there is none. */
  private final Pattern values;

  private SecretMask(Pattern values) {
    this.values = values;
  }

  /** The mask of {@code vars} (name to value; a name may carry a note after it). */
  static SecretMask of(Map<String, String> vars) {
    Set<String> needles = new LinkedHashSet<>();
    for (Map.Entry<String, String> e : vars.entrySet()) {
      String v = e.getValue();
      if (v == null) continue;
      int min = secretName(e.getKey()) ? MIN_SECRET_VALUE : MIN_VALUE;
      String stripped = v.strip();
      spellings(v, min, needles);
      spellings(stripped, min, needles);
      if (v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0) {
        for (String line : (Iterable<String>) stripped.lines()::iterator) {
          String l = line.strip();
          if (l.length() >= MIN_LINE) needles.add(l);
        }
      }
      Matcher m = URL_USERINFO.matcher(stripped);
      if (m.find()) {
        String userinfo = m.group(1);
        int colon = userinfo.indexOf(':');
        if (colon >= 0) {
          String password = userinfo.substring(colon + 1);
          spellings(password, MIN_SECRET_VALUE, needles);
          spellings(decoded(password), MIN_SECRET_VALUE, needles);
        }
      }
    }
    needles.removeIf(
        n -> n.length() < MIN_VALUE && COMMON_SHORT_VALUES.contains(n.toLowerCase(Locale.ROOT)));
    if (needles.isEmpty()) {
      return new SecretMask(null);
    }
    // a short needle only as a word of its own: a PIN 4821 in "pin=4821", not in "148210" or a
    // value "main" in "at Main.main(" (review 30 R30-11)
    String alternation =
        needles.stream()
            .sorted(Comparator.comparingInt(String::length).reversed())
            .map(
                n ->
                    n.length() < MIN_VALUE
                        ? "(?<![\\p{L}\\p{N}])" + Pattern.quote(n) + "(?![\\p{L}\\p{N}])"
                        : Pattern.quote(n))
            .collect(Collectors.joining("|"));
    return new SecretMask(
        Pattern.compile(alternation, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE));
  }

  /** Whether one of the words of the var's name {@code name} says its value is secret. */
  public static boolean secretName(String name) {
    if (name == null) return false;
    for (String word : NAME_SEPARATOR.split(name)) {
      if (SECRET_WORD.matcher(word).matches()) return true;
    }
    return false;
  }

  /** {@code value} as it is, URL-encoded and JSON-escaped, if at least {@code min} long. */
  private static void spellings(String value, int min, Set<String> into) {
    if (value == null || value.length() < min) return;
    into.add(value);
    String form = URLEncoder.encode(value, StandardCharsets.UTF_8);
    into.add(form);
    into.add(form.replace("+", "%20"));
    String json = new String(JsonStringEncoder.getInstance().quoteAsString(value));
    into.add(json);
    into.add(json.replace("/", "\\/"));
  }

  /** Percent-decoded, a stray {@code %} kept as it is. */
  private static String decoded(String s) {
    if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
    try {
      return URLDecoder.decode(
          s.replaceAll("%(?![0-9A-Fa-f]{2})", "%25").replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  /** {@code text} with what looks secret replaced by {@code ***}. */
  String apply(String text) {
    String out = values == null ? text : values.matcher(text).replaceAll("***");
    out = URL_PASSWORD.matcher(out).replaceAll("$1***@");
    out = CREDENTIAL_HEADER.matcher(out).replaceAll("$1$2***");
    out = BEARER.matcher(out).replaceAll("$1***");
    return SECRET_ASSIGNMENT.matcher(out).replaceAll("$1***");
  }
}
