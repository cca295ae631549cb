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
   * {@code url} as it may be logged or shown ({@code HEROKU_API_URL} in the start's line and {@code
   * GET /info}, which the read-only token reads): without a {@code user:password@} it holds, as an
   * egress gateway with basic auth needs (security review 7 S7-5).
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
    int end = start;
    while (end < url.length() && "/?#".indexOf(url.charAt(end)) < 0) {
      end++;
    }
    int at = url.lastIndexOf('@', end - 1); // the host comes after the last '@' of the authority
    return at < start ? url : url.substring(0, start) + url.substring(at + 1);
  }
}
