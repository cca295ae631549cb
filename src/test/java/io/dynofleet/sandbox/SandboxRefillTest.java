package io.dynofleet.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The client's refill followed Heroku's 4500 in sandbox mode whatever the simulated account's
 * refill ({@code DYNOFLEET_SANDBOX_RATE_LIMIT_REFILL_PER_HOUR}), unless the operator set both. It
 * defaults to the simulator's there; a value set for the client, or a key, still chooses.
 */
class SandboxRefillTest {

  /** The client's refill as read with the factory's sources below {@code user}'s settings. */
  private static String refill(Map<String, String> user, boolean building) {
    SmallRyeConfigBuilder b =
        new SmallRyeConfigBuilder()
            .addDefaultInterceptors() // expressions expanded, as in Quarkus
            .withSources(new PropertiesConfigSource(user, "user", 250))
            .withDefaultValue(SandboxRefillConfigSourceFactory.REFILL, "4500");
    SandboxRefillConfigSourceFactory.sources(TestConfigContext.of(user, List.of("prod")), building)
        .forEach(b::withSources);
    SmallRyeConfig config = b.build();
    return config.getValue(SandboxRefillConfigSourceFactory.REFILL, String.class);
  }

  @Test
  void inSandboxModeTheClientFollowsTheSimulatorsRefill() {
    assertThat(refill(Map.of("dynofleet.sandbox.rate-limit.refill-per-hour", "36000"), false))
        .isEqualTo("36000");
    assertThat(refill(Map.of(), false)).as("neither set: Heroku's").isEqualTo("4500");
    assertThat(
            refill(
                Map.of(
                    "dynofleet.sandbox.rate-limit.refill-per-hour",
                    "36000",
                    SandboxRefillConfigSourceFactory.REFILL,
                    "7200"),
                false))
        .as("set for the client: kept")
        .isEqualTo("7200");
  }

  @Test
  void withAKeyOrWhileBuildingHerokusStands() {
    assertThat(
            refill(
                Map.of(
                    "dynofleet.sandbox.rate-limit.refill-per-hour", "36000", "HEROKU_API_KEY", "k"),
                false))
        .isEqualTo("4500");
    assertThat(refill(Map.of("dynofleet.sandbox.rate-limit.refill-per-hour", "36000"), true))
        .isEqualTo("4500");
  }
}
