package io.dynofleet.sandbox;

import io.dynofleet.db.DatabaseConfigSourceFactory;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.PropertiesConfigSource;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * In sandbox mode (no {@code HEROKU_API_KEY}) the client's limiter refills as the simulated account
 * does: {@code dynofleet.heroku.rate-limit-refill-per-hour} defaults to {@code
 * dynofleet.sandbox.rate-limit.refill-per-hour}. Both were 4500 by default, and a sandbox refilled
 * faster or slower paced its calls by Heroku's refill unless the operator set both. Below every
 * user-written source, so a value set for the client still chooses; with a key, Heroku's 4500
 * stands (a sandbox setting left behind does not change the client against Heroku).
 */
public class SandboxRefillConfigSourceFactory implements ConfigSourceFactory {
  static final String REFILL = "dynofleet.heroku.rate-limit-refill-per-hour";

  /** Below application.properties (250) and every other user-written source. */
  static final int ORDINAL = 90;

  @Override
  public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
    return sources(context, DatabaseConfigSourceFactory.buildingProductionApp(context));
  }

  /** {@code building}: the Quarkus build is packaging the application (it records no value). */
  static List<ConfigSource> sources(ConfigSourceContext context, boolean building) {
    if (building || DatabaseConfigSourceFactory.herokuKeySet(context)) {
      return List.of();
    }
    // an expression, resolved when read: the sandbox's setting as the profile and env give it
    return List.of(
        new PropertiesConfigSource(
            Map.of(REFILL, "${dynofleet.sandbox.rate-limit.refill-per-hour:4500}"),
            "sandbox-refill",
            ORDINAL));
  }
}
