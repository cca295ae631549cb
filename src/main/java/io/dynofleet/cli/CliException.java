package io.dynofleet.cli;

/** Ends a command with a message on stderr and the given exit code (see {@link Cli}). */
final class CliException extends RuntimeException {
  final int exitCode;

  CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }
}
