package io.dynofleet.config;

import io.quarkus.runtime.configuration.ConfigurationException;

/**
 * Dynofleet will not start as configured; the message says what to set. Quarkus prints such a
 * refusal's message alone to stderr and exits 1: as a plain exception it logged "Failed to start
 * application" with some thirty lines of stack, the reason far down in a "Caused by" (audit 12). It
 * has no cause, on purpose: Quarkus looks at the root cause.
 */
public final class StartRefused extends ConfigurationException {
  private static final long serialVersionUID = 1L;

  public StartRefused(String message) {
    super("Dynofleet did not start: " + message);
  }
}
