package io.dynofleet.sandbox;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Settings of the built-in Platform API simulator (sandbox mode: no {@code HEROKU_API_KEY}). */
@ConfigMapping(prefix = "dynofleet.sandbox")
public interface SandboxConfig {

  /** Loopback port of the simulated Platform API; 0 picks a free port. */
  @WithDefault("0")
  int port();

  /** How long a release (and a build or app setup) stays {@code pending} before it succeeds. */
  @WithDefault("1s")
  Duration releaseDelay();

  /** How long a backend is down during a dyno restart. */
  @WithDefault("500ms")
  Duration restartDowntime();

  /** Largest page the simulator answers (Heroku: 1000); a smaller value forces paging. */
  @WithDefault("1000")
  int pageSize();

  /**
   * Seed a demo source app, pipeline and pool of 3 at first start (when the store has no pools).
   */
  @WithDefault("true")
  boolean demo();

  /**
   * Allow sandbox mode on a Heroku dyno ({@code DYNOFLEET_SANDBOX_ON_DYNO}). Off: a dyno ({@code
   * DYNO} set) without {@code HEROKU_API_KEY} stops the start, for a key lost in production would
   * otherwise run the simulator against the real database (its pools failing, the apps of pools
   * deleted meanwhile left running). On a dyno the sandbox also needs {@code DYNOFLEET_API_TOKEN}.
   */
  @WithDefault("false")
  boolean onDyno();

  /**
   * Apps the simulated account may have ({@code DYNOFLEET_SANDBOX_APP_LIMIT}; Heroku: 100), source
   * apps included; 0: no limit. A create past it is refused with Heroku's 422, so the sandbox can
   * show a pool that cannot grow ({@code CreateFailed}).
   */
  @WithDefault("0")
  int appLimit();

  /** The simulated account rate limit. */
  RateLimit rateLimit();

  /** Token bucket of the simulated rate limit. */
  interface RateLimit {
    /** Bucket size: calls available at once (Heroku: 4500). */
    @WithDefault("4500")
    int capacity();

    /** Calls refilled per hour, gradually (Heroku: 4500). */
    @WithDefault("4500")
    int refillPerHour();
  }
}
