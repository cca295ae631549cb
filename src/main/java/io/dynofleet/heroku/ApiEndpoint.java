package io.dynofleet.heroku;

/**
 * Where the client talks to and with which key: Heroku itself, or the sandbox simulator. {@link
 * #toString()} never shows the key.
 */
public record ApiEndpoint(String url, String key) {
  @Override
  public String toString() {
    return "ApiEndpoint[url=" + shown(url) + ", key=***]";
  }

  /**
   * Where the host starts: an {@code @} followed by a host (a name, an IPv4 or a bracketed IPv6
   * literal) and an optional port, then the end or {@code /?#}.
   */
  private static final java.util.regex.Pattern HOST_AFTER_AT =
      java.util.regex.Pattern.compile(
          "@(?:[A-Za-z0-9._~%-]+|\\[[0-9A-Fa-f:.]+\\])(?::\\d*)?(?=[/?#]|$)");

  /**
   * {@code url} as it may be logged or shown ({@code HEROKU_API_URL} in the start's line and {@code
   * GET /info}, which the read-only token reads): without a {@code user:password@} it holds, as an
   * egress gateway with basic auth needs (security review 7 S7-5), whatever characters the password
   * holds unencoded ({@code / ? # @}; review 32 R32-7: the authority was taken to end at the first
   * {@code /?#}, inside such a password, which was then shown). Everything up to the last {@code @}
   * followed by a host is left out: a path or query holding {@code @name} is cut too (more hidden,
   * never the password).
   */
  public static String shown(String url) {
    if (url == null) {
      return null;
    }
    int start = url.indexOf("://");
    if (start < 0) {
      return url;
    }
    start += 3;
    if (url.indexOf('@', start) < 0) {
      return url;
    }
    java.util.regex.Matcher m = HOST_AFTER_AT.matcher(url);
    int at = -1;
    while (m.find(at + 1)) {
      at = m.start();
    }
    return at < start
        ? url.substring(0, start) + "(credentials hidden)"
        : url.substring(0, start) + url.substring(at + 1);
  }
}
