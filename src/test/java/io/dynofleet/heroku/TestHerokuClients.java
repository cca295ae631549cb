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
   * A client of its own against the simulator at {@code url} whose every wait (backoff, turn, 429)
   * is added to {@code sleeps} before it is slept (a turn's as the client waits it: woken early
   * when the budget recovers).
   */
  public static HerokuClient recording(
      HerokuConfig config,
      RateBudget budget,
      MeterRegistry meters,
      String url,
      String key,
      java.util.List<Duration> sleeps) {
    return new HerokuClient(
        config,
        budget,
        meters,
        () -> new ApiEndpoint(url, key),
        new HerokuClient.Sleeper() {
          @Override
          public void sleep(Duration d) throws InterruptedException {
            sleeps.add(d);
            Thread.sleep(d.toMillis());
          }

          @Override
          public Duration awaitTurn(RateBudget budget, Duration d) throws InterruptedException {
            sleeps.add(d);
            return budget.await(d);
          }
        });
  }

  /**
   * {@code config} with the settings named in {@code overrides} (by method name) read as given;
   * every other one as in {@code config} (none without it: a plain unit test's config).
   */
  public static HerokuConfig with(HerokuConfig config, java.util.Map<String, Object> overrides) {
    return (HerokuConfig)
        java.lang.reflect.Proxy.newProxyInstance(
            HerokuConfig.class.getClassLoader(),
            new Class<?>[] {HerokuConfig.class},
            (proxy, m, args) -> {
              if (overrides.containsKey(m.getName())) {
                return overrides.get(m.getName());
              }
              if (config == null) {
                throw new UnsupportedOperationException(m.getName());
              }
              return m.invoke(config, args);
            });
  }

  /**
   * {@code config} with a shorter read timeout (and, when {@code maxAttempts} is given, that many
   * attempts per call): for the tests that play a Heroku slower than the client, without waiting
   * the real 30 s timeout out. Every other key reads as in {@code config}.
   */
  public static HerokuConfig impatient(
      HerokuConfig config, Duration readTimeout, Integer maxAttempts) {
    return maxAttempts == null
        ? with(config, java.util.Map.of("readTimeout", readTimeout))
        : with(config, java.util.Map.of("readTimeout", readTimeout, "maxAttempts", maxAttempts));
  }

  /**
   * {@code config} with a shorter read timeout: see {@link #impatient(HerokuConfig, Duration,
   * Integer)}.
   */
  public static HerokuConfig impatient(HerokuConfig config, Duration readTimeout) {
    return impatient(config, readTimeout, null);
  }
}
