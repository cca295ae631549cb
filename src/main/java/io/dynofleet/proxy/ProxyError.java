package io.dynofleet.proxy;

/** The one failure type of the data plane: an HTTP status plus an {@code X-Dynofleet-Error} code. */
record ProxyError(int status, String code, String message) {
  static final ProxyError NO_POOL = new ProxyError(404, "no-pool", "No pool for this host\n");
  static final ProxyError NO_BACKEND = new ProxyError(503, "no-backend", "No backend available\n");
  static final ProxyError TIMEOUT = new ProxyError(504, "timeout", "Backend timed out\n");
  static final ProxyError BACKEND = new ProxyError(502, "backend-error", "Backend failed\n");
  static final ProxyError TOO_LARGE = new ProxyError(413, "body-too-large", "Request body too large\n");
}
