package io.dynofleet.reconcile;

import io.dynofleet.heroku.HerokuException;

/** For the client's tests in another package: how the reconciler reads a failed call. */
public final class HerokuPlatformAccess {
  private HerokuPlatformAccess() {}

  /** Whether the reconciler takes the failed call as one that may have been carried out. */
  public static boolean mayLand(HerokuException e) {
    return HerokuPlatform.translate(e).mayLand();
  }
}
