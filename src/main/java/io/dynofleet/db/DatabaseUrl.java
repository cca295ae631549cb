package io.dynofleet.db;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Heroku's {@code DATABASE_URL} ({@code postgres://user:pass@host:port/db?sslmode=...}) turned into
 * JDBC settings. Heroku Postgres needs SSL, so {@code sslmode=require} is the default unless the
 * URL names a loopback host or carries its own {@code sslmode}.
 */
public record DatabaseUrl(String jdbcUrl, String username, String password) {

  /** Parses a Heroku-style URL; throws {@link IllegalArgumentException} naming what is wrong. */
  public static DatabaseUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("DATABASE_URL is empty");
    }
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("DATABASE_URL is not a URL: " + e.getReason());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("postgres") && !scheme.equals("postgresql")) {
      throw new IllegalArgumentException(
          "DATABASE_URL must start with postgres:// or postgresql://");
    }
    String host = uri.getHost();
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("DATABASE_URL has no host");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String db = path.startsWith("/") ? path.substring(1) : path;
    if (db.isBlank()) {
      throw new IllegalArgumentException("DATABASE_URL has no database name");
    }
    int port = uri.getPort() > 0 ? uri.getPort() : 5432;
    String user = null;
    String pass = null;
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      pass = parts.length > 1 ? decode(parts[1]) : null;
    }
    String query = uri.getRawQuery();
    StringBuilder jdbc =
        new StringBuilder("jdbc:postgresql://")
            .append(host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host)
            .append(':')
            .append(port)
            .append('/')
            .append(db);
    boolean hasSslMode = query != null && query.toLowerCase(Locale.ROOT).contains("sslmode=");
    String params = query == null ? "" : query;
    if (!hasSslMode && !isLoopback(host)) {
      params = params.isEmpty() ? "sslmode=require" : params + "&sslmode=require";
    }
    if (!params.isEmpty()) {
      jdbc.append('?').append(params);
    }
    return new DatabaseUrl(jdbc.toString(), user, pass);
  }

  private static boolean isLoopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.equals("localhost") || h.startsWith("127.") || h.equals("[::1]") || h.equals("::1");
  }

  /**
   * Percent-decodes userinfo as RFC 3986 does: a {@code +} is a plus (URLDecoder is for form bodies
   * and made it a space, so such a password failed; audit 12).
   */
  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** Never print the password. */
  @Override
  public String toString() {
    return "DatabaseUrl[" + jdbcUrl + ", user=" + username + "]";
  }
}
