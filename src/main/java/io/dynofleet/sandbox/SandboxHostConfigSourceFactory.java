package io.dynofleet.sandbox;

import io.dynofleet.db.DatabaseConfigSourceFactory;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Sandbox mode off a dyno (a laptop: no {@code HEROKU_API_KEY}, no {@code DYNO}) listens on
 * loopback only: the banner prints the API token, and on all interfaces the local network reached
 * the proxy to the simulated backends and the API (audit 13). Below every user-written source, so
 * {@code QUARKUS_HTTP_HOST}, {@code -Dquarkus.http.host} or {@code config/application.properties}
 * still choose; on a dyno, or with a key, Quarkus's production default (all interfaces) stands, as
 * Heroku's router needs it.
 */
public class SandboxHostConfigSourceFactory implements ConfigSourceFactory {
  static final String HOST = "quarkus.http.host";

  /** Below application.properties (250) and every other user-written source. */
  static final int ORDINAL = 90;

  @Override
  public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
    return sources(context, DatabaseConfigSourceFactory.buildingProductionApp(context));
  }

  static List<ConfigSource> sources(ConfigSourceContext context, boolean building) {
    return loopback(context, building)
        ? List.of(
            new PropertiesConfigSource(Map.of(HOST, "127.0.0.1"), "sandbox-loopback", ORDINAL))
        : List.of();
  }

  /** {@code building}: the Quarkus build is packaging the application (it records no value). */
  static boolean loopback(ConfigSourceContext context, boolean building) {
    if (building || DatabaseConfigSourceFactory.developing(context)) {
      return false; // tests and dev mode choose their own host
    }
    ConfigValue dyno = context.getValue("DYNO");
    return (dyno == null || dyno.getValue() == null || dyno.getValue().isBlank())
        && !DatabaseConfigSourceFactory.herokuKeySet(context);
  }
}
