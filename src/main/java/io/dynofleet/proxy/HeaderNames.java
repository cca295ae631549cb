package io.dynofleet.proxy;

import io.vertx.core.http.HttpHeaders;

/**
 * Header names the proxy reads or writes on every request, as Vert.x's optimised names: their
 * case-insensitive hash is computed once, where a {@code String} name is hashed at every look-up.
 */
final class HeaderNames {
  private HeaderNames() {}

  static final CharSequence X_REQUEST_ID = HttpHeaders.createOptimized("X-Request-Id");
  static final CharSequence X_REQUEST_START = HttpHeaders.createOptimized("X-Request-Start");
  static final CharSequence X_FORWARDED_FOR = HttpHeaders.createOptimized("X-Forwarded-For");
  static final CharSequence X_FORWARDED_PROTO = HttpHeaders.createOptimized("X-Forwarded-Proto");
  static final CharSequence X_FORWARDED_PORT = HttpHeaders.createOptimized("X-Forwarded-Port");
  static final CharSequence X_FORWARDED_HOST = HttpHeaders.createOptimized("X-Forwarded-Host");
  static final CharSequence PROXY_CONNECTION = HttpHeaders.createOptimized("Proxy-Connection");
  static final CharSequence FORWARDED = HttpHeaders.createOptimized("Forwarded");
  static final CharSequence VIA = HttpHeaders.createOptimized("Via");
  static final CharSequence VIA_DYNOFLEET = HttpHeaders.createOptimized("1.1 dynofleet");
  static final CharSequence WARNING = HttpHeaders.createOptimized("Warning");
  static final CharSequence CLEAR_SITE_DATA = HttpHeaders.createOptimized("Clear-Site-Data");
  static final CharSequence SERVICE_WORKER = HttpHeaders.createOptimized("Service-Worker");
  static final CharSequence SERVICE_WORKER_ALLOWED =
      HttpHeaders.createOptimized("Service-Worker-Allowed");
  static final CharSequence SET_COOKIE = HttpHeaders.createOptimized("Set-Cookie");
  static final CharSequence X_DYNOFLEET_ERROR = HttpHeaders.createOptimized("X-Dynofleet-Error");

  /** The client's address, for the backends (see ReverseProxy.forwardingHeaders). */
  static final CharSequence X_DYNOFLEET_CLIENT_IP =
      HttpHeaders.createOptimized("X-Dynofleet-Client-Ip");

  /** The pool's secret, for the backends (see ReverseProxy.forwardingHeaders). */
  static final CharSequence X_DYNOFLEET_PROXY_SECRET =
      HttpHeaders.createOptimized("X-Dynofleet-Proxy-Secret");

  /** Carries a backend's Date past the library (see ReverseProxy.keepBackendDate). */
  static final CharSequence BACKEND_DATE = HttpHeaders.createOptimized("X-Dynofleet-Backend-Date");
}
