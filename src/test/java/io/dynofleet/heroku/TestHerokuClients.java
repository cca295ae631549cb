package io.dynofleet.heroku;

import io.micrometer.core.instrument.MeterRegistry;

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
}
