package io.dynofleet.heroku;

/**
 * Where the client talks to and with which key: Heroku itself, or the sandbox simulator. {@link
 * #toString()} never shows the key.
 */
public record ApiEndpoint(String url, String key) {
  @Override
  public String toString() {
    return "ApiEndpoint[url=" + url + ", key=***]";
  }
}
