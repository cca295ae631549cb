package io.dynofleet.proxy;

/**
 * The one rule for a caller's {@code X-Request-Id} that Dynofleet keeps, in the proxy and the API
 * alike: Heroku's router's (Dev Center, "HTTP Request IDs"), 20 to 200 characters, each an ASCII
 * letter or digit, {@code +}, {@code /}, {@code =} or {@code -}; any other is replaced by a
 * generated one, as the router replaces it. The API kept {@code [A-Za-z0-9._:-]{1,200}} before, so
 * an id was kept by one and replaced by the other.
 */
public final class RequestIdForm {
  private RequestIdForm() {}

  /** Whether {@code id} is kept. A loop over the characters: nothing allocated. */
  public static boolean kept(String id) {
    int n = id.length();
    if (n < 20 || n > 200) return false;
    for (int i = 0; i < n; i++) {
      char c = id.charAt(i);
      if (!((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '+'
          || c == '/'
          || c == '=')) return false;
    }
    return true;
  }
}
