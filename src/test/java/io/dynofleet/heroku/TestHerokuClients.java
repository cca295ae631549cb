package io.dynofleet.heroku;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;

/** Test seam: a {@link HerokuClient} against another endpoint or key (a wrong key, a dead port). */
public final class TestHerokuClients {
  private TestHerokuClients() {}

  /** A client of its own (own budget and ETag cache) talking to {@code url} with {@code key}. */
  public static HerokuClient client(
      HerokuConfig config, MeterRegistry meters, String url, String key) {
    return new HerokuClient(
        config,
        new RateBudget(config),
        meters,
        () -> new ApiEndpoint(url, key),
        d -> Thread.sleep(d.toMillis()));
  }

  /**
   * {@code config} with a shorter read timeout (and, when {@code maxAttempts} is given, that many
   * attempts per call): for the tests that play a Heroku slower than the client, without waiting
   * the real 30 s timeout out. Every other key reads as in {@code config}.
   */
  public static HerokuConfig impatient(
      HerokuConfig config, Duration readTimeout, Integer maxAttempts) {
    return (HerokuConfig)
        java.lang.reflect.Proxy.newProxyInstance(
            HerokuConfig.class.getClassLoader(),
            new Class<?>[] {HerokuConfig.class},
            (proxy, m, args) ->
                switch (m.getName()) {
                  case "readTimeout" -> readTimeout;
                  case "maxAttempts" -> maxAttempts != null ? maxAttempts : m.invoke(config, args);
                  default -> m.invoke(config, args);
                });
  }

  /**
   * {@code config} with a shorter read timeout: see {@link #impatient(HerokuConfig, Duration,
   * Integer)}.
   */
  public static HerokuConfig impatient(HerokuConfig config, Duration readTimeout) {
    return impatient(config, readTimeout, null);
  }
}
