package io.dynofleet.heroku;

import java.time.Duration;

/**
 * A failed Platform API call, translated from Heroku's {@code {id, message}} error body. The
 * reconciler maps {@link Transient} and {@link RateLimited} to a backoff requeue and {@link
 * Permanent} to a status error without retry.
 */
public abstract sealed class HerokuException extends RuntimeException
    permits HerokuException.Transient, HerokuException.RateLimited, HerokuException.Permanent {

  private final int status;
  private final String id;

  HerokuException(int status, String id, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.id = id;
  }

  /**
   * What to tell a user whose key Heroku refused (401), around Heroku's own {@code message}: which
   * setting holds the key, and how to make and set a new one. Never the key itself.
   */
  public static String refusedKey(String message) {
    return "Heroku refused HEROKU_API_KEY (401 "
        + message
        + "): it was revoked, expired or mistyped. Create a new"
        + " one with 'heroku authorizations:create --description dynofleet --short' and set it with"
        + " 'heroku config:set HEROKU_API_KEY=<the new key> -a <this Dynofleet app>'";
  }

  /** HTTP status, or 0 when no response arrived (connection failure, timeout). */
  public int status() {
    return status;
  }

  /** Heroku's error id (e.g. {@code not_found}), or null when there was no error body. */
  public String id() {
    return id;
  }

  /** 5xx, connection failure or timeout: worth retrying later. */
  public static final class Transient extends HerokuException {
    public Transient(int status, String id, String message, Throwable cause) {
      super(status, id, message, cause);
    }
  }

  /** 429 {@code rate_limit} that did not clear within the configured wait. */
  public static final class RateLimited extends HerokuException {
    private final Duration retryAfter;

    public RateLimited(String id, String message, Duration retryAfter) {
      super(429, id, message, null);
      this.retryAfter = retryAfter;
    }

    /** How long to wait before calling again. */
    public Duration retryAfter() {
      return retryAfter;
    }
  }

  /** A 4xx other than 429: retrying the same request will not help. */
  public static final class Permanent extends HerokuException {
    public Permanent(int status, String id, String message) {
      super(status, id, message, null);
    }

    public boolean isNotFound() {
      return status() == 404;
    }

    /** 422 on app create because the name is taken (Heroku: "Name ... is already taken"). */
    public boolean isNameTaken() {
      return status() == 422
          && getMessage() != null
          && getMessage().toLowerCase(java.util.Locale.ROOT).contains("taken");
    }

    public boolean isUnauthorized() {
      return status() == 401;
    }
  }
}
