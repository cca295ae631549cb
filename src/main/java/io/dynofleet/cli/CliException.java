package io.dynofleet.cli;

import java.time.Duration;

/** Ends a command with a message on stderr and the given exit code (see {@link Cli}). */
final class CliException extends RuntimeException {
  final int exitCode;

  /** The HTTP status the API answered, 0 when none came. */
  final int status;

  /** The answer's {@code Retry-After}, or null. */
  final Duration retryAfter;

  CliException(int exitCode, String message) {
    this(exitCode, message, 0, null);
  }

  CliException(int exitCode, String message, int status, Duration retryAfter) {
    super(message);
    this.exitCode = exitCode;
    this.status = status;
    this.retryAfter = retryAfter;
  }

  /**
   * Whether waiting may mend it: no answer (a reset, a timeout, Dynofleet restarting), a 429, or a
   * 5xx (503 database-unavailable while Postgres fails over, the router's 503 while the app
   * restarts). What a waiter ({@code rollout status}, {@code delete --wait}) waits through.
   */
  boolean transientFailure() {
    return exitCode == Cli.CONNECT || status == 429 || status >= 500;
  }
}
