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
  private final String herokuMessage;
  private final String call;
  private final String requestId;

  HerokuException(int status, String id, String message, Throwable cause) {
    this(status, id, message, null, null, cause);
  }

  /**
   * A failed answer to {@code call} ({@code "POST /apps"}): the message names the call, the status,
   * Heroku's error id and words (audit 18 #6), as {@code POST /apps → 422 invalid_params: Name is
   * too long.}; the Request-Id this client sent is {@link #requestId()}.
   */
  HerokuException(
      int status, String id, String herokuMessage, String call, String requestId, Throwable cause) {
    super(text(status, id, herokuMessage, call, requestId), cause);
    this.status = status;
    this.id = id;
    this.herokuMessage = herokuMessage;
    this.call = call;
    this.requestId = requestId;
  }

  private static String text(
      int status, String id, String herokuMessage, String call, String requestId) {
    if (call == null) {
      return herokuMessage;
    }
    StringBuilder b = new StringBuilder(call).append(" → ").append(status);
    if (id != null && !id.isBlank()) {
      b.append(' ').append(id);
    }
    if (herokuMessage != null && !herokuMessage.isBlank()) {
      b.append(": ").append(herokuMessage);
    }
    // not the Request-Id: it differs at every call, and this text becomes the pool's condition and
    // event, which then changed at every failed pass (a status write each time, a new event instead
    // of a count, a WARN line each time); it is kept in requestId() and logged at DEBUG
    return b.toString();
  }

  /**
   * What to tell a user whose key Heroku refused (401), around Heroku's own {@code message}: which
   * setting holds the key, and how to make and set a new one. Never the key itself.
   */
  public static String refusedKey(String message) {
    return refusal("401 " + message);
  }

  /** The same for a refusal that names its call (its message holds the status). */
  public static String refusedKey(HerokuException e) {
    return e.call == null ? refusedKey(e.getMessage()) : refusal(e.getMessage());
  }

  private static String refusal(String said) {
    return "Heroku refused HEROKU_API_KEY ("
        + said
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

  /** Heroku's own {@code message}, without the call around it; null when it sent none. */
  public String herokuMessage() {
    return herokuMessage;
  }

  /** The call that failed, {@code "GET /apps/x"}; null when not known. */
  public String call() {
    return call;
  }

  /** The Request-Id this client sent with the call (Heroku logs it); null when not known. */
  public String requestId() {
    return requestId;
  }

  /** 5xx, connection failure or timeout: worth retrying later. */
  public static final class Transient extends HerokuException {
    public Transient(int status, String id, String message, Throwable cause) {
      super(status, id, message, cause);
    }

    Transient(int status, String id, String message, String call, String requestId) {
      super(status, id, message, call, requestId, null);
    }
  }

  /** 429 {@code rate_limit} that did not clear within the configured wait. */
  public static final class RateLimited extends HerokuException {
    private final Duration retryAfter;

    public RateLimited(String id, String message, Duration retryAfter) {
      super(429, id, message, null);
      this.retryAfter = retryAfter;
    }

    RateLimited(String id, String message, String call, String requestId, Duration retryAfter) {
      super(429, id, message, call, requestId, null);
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

    Permanent(int status, String id, String message, String call, String requestId) {
      super(status, id, message, call, requestId, null);
    }

    public boolean isNotFound() {
      return status() == 404;
    }

    /** 422 on app create because the name is taken (Heroku: "Name ... is already taken"). */
    public boolean isNameTaken() {
      // Heroku's words only: the call's path names the app, and "mistaken-app" is a name
      return status() == 422
          && herokuMessage() != null
          && herokuMessage().toLowerCase(java.util.Locale.ROOT).contains("taken");
    }

    public boolean isUnauthorized() {
      return status() == 401;
    }
  }
}
