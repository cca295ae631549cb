package io.dynofleet.proxy;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Whether a raw request path, read the way a lenient server would (percent-decoded, backslashes as
 * slashes, empty and dot segments and ;parameters removed), lands under the reserved prefix. The
 * router already keeps the plain spelling away from the proxy; this catches the tricky ones ({@code
 * /%5Fdynofleet}, {@code //_dynofleet}, {@code /x/../_dynofleet}) so they are refused rather than
 * forwarded to a backend.
 */
final class ReservedPath {
  private ReservedPath() {}

  static boolean matches(String rawPath, String prefix) {
    if (rawPath == null) return false;
    // the common case, on every proxied request: nothing to decode or collapse
    if (plain(rawPath)) {
      return under(rawPath, prefix, true);
    }
    String p = decoded(rawPath);
    if (p == null) {
      return true; // malformed escapes: refuse rather than guess
    }
    p = p.replace('\\', '/');
    Deque<String> out = new ArrayDeque<>();
    for (String seg : p.split("/")) {
      int semi = seg.indexOf(';');
      if (semi >= 0) seg = seg.substring(0, semi);
      if (seg.isEmpty() || seg.equals(".")) continue;
      if (seg.equals("..")) {
        out.pollLast();
        continue;
      }
      out.addLast(seg);
    }
    return under("/" + String.join("/", out), prefix, true);
  }

  /** Whether the path has an escape that does not decode ({@code %zz}, a lone {@code %}). */
  static boolean malformed(String rawPath) {
    return decoded(rawPath) == null;
  }

  /**
   * The path percent-decoded (up to three times: double encoding), or null when it does not decode.
   */
  private static String decoded(String rawPath) {
    String p = rawPath;
    try {
      for (int i = 0; i < 3 && p.indexOf('%') >= 0; i++) {
        p = URLDecoder.decode(p.replace("+", "%2B"), StandardCharsets.UTF_8);
      }
      return p;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * {@code path} is {@code prefix} itself or below it ({@code /_dynofleet/x}, not {@code
   * /_dynofleetx}).
   */
  static boolean under(String path, String prefix, boolean ignoreCase) {
    int n = prefix.length();
    return path.regionMatches(ignoreCase, 0, prefix, 0, n)
        && (path.length() == n || path.charAt(n) == '/');
  }

  /**
   * Starts with '/', no escapes, backslashes, parameters, empty or dot segments: already canonical.
   */
  private static boolean plain(String p) {
    if (p.isEmpty() || p.charAt(0) != '/') return false;
    char prev = 0;
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c == '%' || c == '\\' || c == ';' || (prev == '/' && (c == '/' || c == '.')))
        return false;
      prev = c;
    }
    return true;
  }
}
