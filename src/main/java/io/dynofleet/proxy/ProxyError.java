package io.dynofleet.proxy;

/**
 * The one failure type of the data plane: an HTTP status plus an {@code X-Dynofleet-Error} code.
 */
record ProxyError(int status, String code, String message) {
  static final ProxyError NO_POOL = new ProxyError(404, "no-pool", "No pool for this host\n");

  /**
   * No pool for this host, but the stored pools were never loaded (a process started while the
   * database was down): the host may be a pool's. A 503 with {@code Retry-After}, not a 404 that a
   * browser or a CDN may cache, for as long as the outage lasts (audit 23 M1).
   */
  static final ProxyError NOT_SYNCED =
      new ProxyError(
          503,
          "not-synced",
          "Pools not loaded yet (the database has not answered since this process started); try"
              + " again shortly\n");

  /** Seconds a {@link #NOT_SYNCED} answer asks the client to wait. */
  static final String NOT_SYNCED_RETRY_AFTER = "5";

  /**
   * A path that reaches the reserved prefix by another spelling. Said as such: a double slash from
   * {@code $DYNOFLEET_URL/} was the usual cause, and a bare "Not found" left a user nothing to go
   * on while the CLI, which strips the slash, worked (audit 12).
   */
  static final ProxyError RESERVED =
      new ProxyError(
          404,
          "reserved-path",
          "Not found: this path reaches the"
              + " reserved prefix only by another spelling (a double slash, an escape or a dot segment); write it plainly,"
              + " e.g. without the trailing / of $DYNOFLEET_URL\n");

  static final ProxyError NO_BACKEND = new ProxyError(503, "no-backend", "No backend available\n");

  /** A WebSocket upgrade after SIGTERM: the client should reconnect to another dyno. */
  static final ProxyError STOPPING =
      new ProxyError(503, "stopping", "Shutting down, connect again\n");

  static final ProxyError QUEUE_FULL =
      new ProxyError(503, "queue-full", "All backends busy, queue full\n");
  static final ProxyError QUEUE_TIMEOUT =
      new ProxyError(503, "queue-timeout", "All backends busy, waited too long\n");

  /**
   * The client hung up while queued (nginx's 499): never sent, but counted in the error metrics.
   */
  static final ProxyError CLIENT_GONE =
      new ProxyError(499, "client-gone", "Client closed the request\n");

  /**
   * Too many requests already wait for a pooled connection to the backend ({@code
   * dynofleet.proxy.connection-queue-per-backend}): nothing reached it.
   */
  static final ProxyError CONNECTION_QUEUE_FULL =
      new ProxyError(503, "connection-queue-full", "Backend connections busy, too many waiting\n");

  static final ProxyError TIMEOUT = new ProxyError(504, "timeout", "Backend timed out\n");
  static final ProxyError CONNECT = new ProxyError(502, "connect-failed", "Backend unreachable\n");
  static final ProxyError BACKEND = new ProxyError(502, "backend-error", "Backend failed\n");

  /**
   * A 1xx Vert.x cannot hear as interim (102, 104, an unasked 101): the answer cannot be relayed.
   */
  static final ProxyError INTERIM =
      new ProxyError(
          502,
          "backend-error",
          "Backend sent an interim (1xx) response that cannot be passed on\n");

  /** The client stopped sending its body (nginx's client_body_timeout); not the backend's fault. */
  static final ProxyError CLIENT_TIMEOUT =
      new ProxyError(408, "client-timeout", "Request body not received in time\n");

  /** RFC 9112 3.2; Heroku's router refuses it too ("Host of Troubles"). */
  static final ProxyError TWO_HOSTS =
      new ProxyError(400, "multiple-host", "More than one Host header\n");

  /**
   * A header line without a name (": value"), which Vert.x takes and a backend may read any way.
   */
  static final ProxyError BAD_HEADER =
      new ProxyError(400, "bad-header", "Header field without a name\n");

  /** A transfer coding other than chunked (RFC 9112 6.1), which Dynofleet does not decode. */
  static final ProxyError BAD_CODING =
      new ProxyError(400, "bad-transfer-encoding", "Unsupported Transfer-Encoding\n");

  /** CONNECT: a reverse proxy opens no tunnels. */
  static final ProxyError NO_CONNECT =
      new ProxyError(405, "method-not-allowed", "CONNECT is not supported\n");

  /**
   * TRACE (or TRACK): a backend that answers it echoes the request, headers included, and with them
   * the pool's proxy secret that lets an app trust X-Dynofleet-Client-Ip (review 24).
   */
  static final ProxyError NO_TRACE =
      new ProxyError(405, "method-not-allowed", "TRACE is not supported\n");

  /** A service worker script whose scope would cover the dashboard's (security review 1). */
  static final ProxyError SERVICE_WORKER =
      new ProxyError(
          403,
          "service-worker-refused",
          "A service worker here could control Dynofleet's dashboard; serve it from a subdirectory or set DYNOFLEET_ADMIN_HOSTS\n");

  /** A request that has passed through Dynofleet too often: a backend points back at it. */
  static final ProxyError LOOP =
      new ProxyError(508, "loop-detected", "Request loops through Dynofleet\n");

  /** An admin host ({@code DYNOFLEET_ADMIN_HOSTS}) outside the reserved prefix. */
  static final ProxyError ADMIN_HOST =
      new ProxyError(404, "admin-host", "This host serves Dynofleet only\n");

  static final ProxyError TOO_LARGE =
      new ProxyError(413, "body-too-large", "Request body too large\n");

  /** Carries a ProxyError through a failed future; no stack trace (it is an answer, not a bug). */
  static final class Rejected extends RuntimeException {
    final ProxyError error;

    Rejected(ProxyError error) {
      super(error.code(), null, false, false);
      this.error = error;
    }
  }
}
