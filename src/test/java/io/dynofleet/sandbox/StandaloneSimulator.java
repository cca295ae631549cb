package io.dynofleet.sandbox;

import java.time.Clock;
import java.time.Duration;

/**
 * The Platform API simulator outside Quarkus, for packaged tests: the test JVM plays Heroku for
 * Dynofleet child processes (HEROKU_API_URL / HEROKU_API_KEY point at it) and keeps the Java fault
 * hooks and the call log at hand. Test settings: fast releases and restarts, a bucket that refills
 * ten calls a second.
 */
public final class StandaloneSimulator {
  private StandaloneSimulator() {}

  public static Simulator start() {
    Simulator s = new Simulator(Clock.systemUTC(), new Settings());
    s.start();
    return s;
  }

  public static void stop(Simulator s) {
    s.stop();
  }

  private static final class Settings implements SandboxConfig {
    @Override
    public int port() {
      return 0;
    }

    @Override
    public Duration releaseDelay() {
      return Duration.ofMillis(50);
    }

    @Override
    public Duration restartDowntime() {
      return Duration.ofMillis(100);
    }

    @Override
    public int pageSize() {
      return 1000;
    }

    @Override
    public boolean demo() {
      return false;
    }

    @Override
    public boolean onDyno() {
      return false;
    }

    @Override
    public int appLimit() {
      return 0;
    }

    @Override
    public RateLimit rateLimit() {
      return new RateLimit() {
        @Override
        public int capacity() {
          return 4500;
        }

        @Override
        public int refillPerHour() {
          return 36000;
        }
      };
    }
  }
}
