package io.dynofleet.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Audit 13: the sandbox listened on all interfaces, so on a laptop the local network reached the
 * proxy to the simulated backends and the API whose token the banner prints. Off a dyno and without
 * a key it listens on loopback; elsewhere Quarkus's default (all interfaces) stands.
 */
class SandboxHostTest {

  @Test
  void loopbackOnlyForASandboxOffADyno() {
    List<String> prod = List.of("prod");
    assertThat(SandboxHostConfigSourceFactory.loopback(TestConfigContext.of(Map.of(), prod), false))
        .isTrue();
    assertThat(SandboxHostConfigSourceFactory.sources(TestConfigContext.of(Map.of(), prod), false))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.getValue("quarkus.http.host")).isEqualTo("127.0.0.1");
              assertThat(s.getOrdinal()).as("below every user-written source").isLessThan(100);
            });
    assertThat(
            SandboxHostConfigSourceFactory.loopback(
                TestConfigContext.of(Map.of("DYNO", "web.1"), prod), false))
        .isFalse();
    assertThat(
            SandboxHostConfigSourceFactory.loopback(
                TestConfigContext.of(Map.of("HEROKU_API_KEY", "k"), prod), false))
        .isFalse();
    assertThat(
            SandboxHostConfigSourceFactory.loopback(
                TestConfigContext.of(Map.of("dynofleet.heroku.api-key", "k"), prod), false))
        .isFalse();
    assertThat(
            SandboxHostConfigSourceFactory.loopback(
                TestConfigContext.of(Map.of(), List.of("test")), false))
        .isFalse();
    assertThat(SandboxHostConfigSourceFactory.loopback(TestConfigContext.of(Map.of(), prod), true))
        .as("the build records nothing")
        .isFalse();
  }
}
