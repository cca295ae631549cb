package io.dynofleet.proxy;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Static backends whose host name resolves to a link-local address (security review 5 S5-8). */
@QuarkusTest
@TestProfile(LinkLocalNameProfile.class)
@Timeout(90)
class LinkLocalNameTests {
  @Inject RoutingTable table;

  final TestBackends backends = new TestBackends();

  @AfterEach
  void stop() {
    table.replaceAll(List.of());
    backends.close();
  }

  /**
   * A static backend URL whose host name resolves to a link-local address (here the cloud metadata
   * address, by the profile's hosts file) is not connected to: the API refuses such literals only,
   * and the proxy and its probes went where the name led. Its requests get 502 {@code
   * connect-failed} (another backend of the pool takes a retried one), its probes fail saying why,
   * and one WARN per backend says so, not one per request or probe. A static URL naming loopback by
   * name is connected to as before, by its resolved address, its Host kept.
   */
  @Test
  void aStaticBackendWhoseNameResolvesToALinkLocalAddressIsNotConnected() throws Exception {
    java.util.concurrent.atomic.AtomicReference<String> hostSeen =
        new java.util.concurrent.atomic.AtomicReference<>();
    URI loopback =
        backends.start(
            req -> {
              hostSeen.set(req.getHeader("Host"));
              req.response().putHeader("X-Backend", "good").end("good");
            });
    String good = "http://localhost:" + loopback.getPort();
    String metadata = "http://" + LinkLocalNameProfile.NAME + ":80";
    String why = "resolves to link-local address 169.254.169.254: not connected";
    try (io.dynofleet.LogCapture logs = io.dynofleet.LogCapture.of(Backend.class)) {
      table.put(
          TestBackends.pool(
              "llonly", List.of("llonly.example"), false, RouteSync.targets(List.of(metadata))));

      for (int i = 0; i < 3; i++) {
        given()
            .header("Host", "llonly.example")
            .get("/latest/meta-data/")
            .then()
            .statusCode(502)
            .header("X-Dynofleet-Error", "connect-failed");
      }
      assertThat(backendOf("llonly", LinkLocalNameProfile.NAME + ":80").lastFailure())
          .isEqualTo(why);

      table.put(
          new PoolRoute(
              "llmixed",
              List.of("llmixed.example"),
              false,
              Algorithm.ROUND_ROBIN,
              Duration.ofSeconds(4),
              1,
              0,
              0,
              Duration.ZERO,
              new HealthCheckSpec("/health", Duration.ofMillis(100), Duration.ofSeconds(4), 1, 2),
              RouteSync.targets(List.of(metadata, good))));
      Backend probed = backendOf("llmixed", LinkLocalNameProfile.NAME + ":80");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> probed.probeFailures == 2 && !probed.healthy);
      assertThat(probed.lastProbeResult).isEqualTo(why);
      for (int i = 0; i < 4; i++) {
        given()
            .header("Host", "llmixed.example")
            .get("/")
            .then()
            .statusCode(200)
            .header("X-Backend", "good");
      }
      assertThat(hostSeen.get())
          .as("the name kept as Host")
          .isEqualTo("localhost:" + loopback.getPort());
      assertThat(logs.records())
          .filteredOn(r -> r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
          .extracting(io.dynofleet.LogCapture::text)
          .as("one WARN per backend (two pools), not per request or probe")
          .hasSize(2)
          .allSatisfy(
              l ->
                  assertThat(l)
                      .startsWith(
                          "static backend not connected: backend=\""
                              + LinkLocalNameProfile.NAME
                              + ":80\" host=\""
                              + LinkLocalNameProfile.NAME
                              + "\" address=169.254.169.254 reason=\"its host resolves to a link-local address\""));
    }
  }

  private Backend backendOf(String pool, String id) {
    return table.pools().get(pool).backends().stream()
        .filter(b -> b.target.id().equals(id))
        .findFirst()
        .orElseThrow();
  }
}
