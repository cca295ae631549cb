package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.heroku.HerokuException;
import io.dynofleet.reconcile.Platform.PlatformException;
import io.dynofleet.reconcile.Platform.PlatformException.Kind;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Heroku's errors become the reconciler's kinds: what it retries, adopts, or reports. */
class HerokuPlatformTest {

  static Kind kind(HerokuException e) {
    return HerokuPlatform.translate(e).kind();
  }

  @Test
  void permanentErrorsByStatusAndId() {
    assertThat(kind(new HerokuException.Permanent(404, "not_found", "Couldn't find that app.")))
        .isEqualTo(Kind.NOT_FOUND);
    assertThat(
            kind(
                new HerokuException.Permanent(
                    422, "invalid_params", "Name demo-abc is already taken")))
        .isEqualTo(Kind.NAME_TAKEN);
    assertThat(
            kind(new HerokuException.Permanent(422, "invalid_params", "Invalid dyno size huge.")))
        .isEqualTo(Kind.INVALID);
    assertThat(
            kind(
                new HerokuException.Permanent(
                    401, "unauthorized", "Invalid credentials provided.")))
        .isEqualTo(Kind.UNAUTHORIZED);
    assertThat(kind(new HerokuException.Permanent(403, "forbidden", "You do not have access.")))
        .isEqualTo(Kind.FORBIDDEN);
    assertThat(
            kind(
                new HerokuException.Permanent(
                    409, "conflict", "App is already coupled to a pipeline.")))
        .isEqualTo(Kind.INVALID);
    // review 6: a 402 was INVALID, so "already attached/coupled" and "InvalidSpec"
    assertThat(
            kind(
                new HerokuException.Permanent(
                    402, "verification_required", "Please verify your account.")))
        .isEqualTo(Kind.BILLING);
  }

  @Test
  void rateLimitsKeepTheirWaitAndServerErrorsAreTransient() {
    PlatformException limited =
        HerokuPlatform.translate(
            new HerokuException.RateLimited(
                "rate_limit", "Your account reached the API rate limit", Duration.ofSeconds(7)));
    assertThat(limited.kind()).isEqualTo(Kind.RATE_LIMITED);
    assertThat(limited.retryAfter()).isEqualTo(Duration.ofSeconds(7));
    assertThat(limited.transientFailure()).isTrue();
    PlatformException down =
        HerokuPlatform.translate(new HerokuException.Transient(503, null, "unavailable", null));
    assertThat(down.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(down.transientFailure()).isTrue();
    assertThat(
            HerokuPlatform.translate(new HerokuException.Transient(0, null, null, null))
                .getMessage())
        .isEqualTo("Heroku error 0");
  }

  /**
   * Review 24 #1: a 5xx, a gateway's 502/503/504 above all, may come for a request the API service
   * still carries out; only "no answer" counted, and a release answered 504 was sent again.
   */
  @Test
  void noAnswerAndEvery5xxMayHaveLandedA4xxDidNot() {
    for (int status : new int[] {0, 500, 502, 503, 504}) {
      assertThat(
              HerokuPlatform.translate(new HerokuException.Transient(status, null, null, null))
                  .mayLand())
          .as("status %d", status)
          .isTrue();
    }
    // a 201 whose body could not be read: made for certain, never sent again (review 25 #8)
    assertThat(
            HerokuPlatform.translate(
                    new HerokuException.Transient(201, null, "unreadable response", null))
                .mayLand())
        .isTrue();
    assertThat(
            HerokuPlatform.translate(
                    new HerokuException.Permanent(422, "invalid_params", "Name is too long."))
                .mayLand())
        .isFalse();
    assertThat(
            HerokuPlatform.translate(
                    new HerokuException.RateLimited("rate_limit", "limit", Duration.ofSeconds(1)))
                .mayLand())
        .isFalse();
  }
}
