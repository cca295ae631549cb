package io.dynofleet.proxy;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynofleet.reconcile.PoolKey;
import io.dynofleet.reconcile.Reconciler;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.net.URI;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What a pool's status says of a backend the proxy ejected for failed requests. */
@QuarkusTest
@TestProfile(ProxyProfile.class)
@Timeout(60)
class EjectedStatusTests {
  static final String TOKEN = "test-token-0123456789";
  @Inject RouteSync sync;
  @Inject RoutingTable table;
  @Inject Reconciler reconciler;
  @Inject DataSource ds;
  final TestBackends backends = new TestBackends();

  @AfterEach
  void cleanUp() throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute("delete from pools where name = 'ejst'");
    }
    sync.sync();
    table.replaceAll(List.of());
    backends.close();
  }

  /**
   * Review 16: a backend ejected for failed requests, whose probes pass, showed phase {@code
   * Unhealthy} in the pool's status, as if its health checks failed: the reconciler's view of the
   * data plane had no notion of ejection.
   */
  @Test
  void anEjectedBackendWhoseProbesPassShowsPhaseEjected() throws Exception {
    URI bad =
        backends.start(
            req -> req.response().setStatusCode(req.path().equals("/health") ? 200 : 500).end());
    URI good = backends.named("good");
    createPool(bad, good, 1, 1);
    String badId = bad.getAuthority();
    Backend b = backend(badId);
    for (int i = 0; i < 30 && !b.ejected(System.nanoTime()); i++)
      given().header("Host", "ejst.example").get("/");
    assertThat(b.ejected(System.nanoTime())).isTrue();
    // out for the whole test
    b.ejectedUntilNanos = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    await().atMost(Duration.ofSeconds(10)).until(() -> b.probePassing);
    reconciler.reconcile(new PoolKey("ejst"));
    JsonPath status =
        given()
            .auth()
            .oauth2(TOKEN)
            .get("/_dynofleet/api/v1/pools/ejst")
            .then()
            .statusCode(200)
            .extract()
            .jsonPath();
    Map<String, Object> ejected =
        status.getMap("status.backends.find { it.app == '" + badId + "' }");
    assertThat(ejected)
        .containsEntry("phase", "Ejected")
        .containsEntry("healthy", false)
        // what its requests met, not only that they failed (audit 18 L5)
        .containsEntry("lastFailure", "HTTP 500");
    assertThat((Integer) ejected.get("consecutiveFailures"))
        .as("the failures that ejected it")
        .isGreaterThanOrEqualTo(3);
    Map<String, Object> fine =
        status.getMap("status.backends.find { it.app == '" + good.getAuthority() + "' }");
    assertThat(fine).containsEntry("phase", "Ready").doesNotContainKey("lastFailure");
    // said as an ejection, not as failed health checks (review 13)
    assertThat(
            given()
                .auth()
                .oauth2(TOKEN)
                .get("/_dynofleet/api/v1/pools/ejst/events")
                .jsonPath()
                .getList("message", String.class))
        .anyMatch(
            m ->
                m.contains(
                    "static backend "
                        + badId
                        + " was ejected for failed requests (the last: HTTP 500), while its last"
                        + " health check passed: it gets no traffic until the ejection ends"));
  }

  /**
   * v23, audit 22 L6: a static URL ejected before any probe of it was told "its health checks
   * pass", and when its probes then failed no event came (the stored status already failed); one
   * never probed showed {@code Ready} as if a probe had passed. Now the event says it was not
   * probed, a URL whose probes then fail to the threshold gets {@code BackendUnhealthy} of its own,
   * and one not yet probed shows {@code probed: false}.
   */
  @Test
  void aStaticUrlEjectedBeforeItsFirstProbeIsToldSoAndItsFailingChecksAreToldToo()
      throws Exception {
    URI bad = backends.start(req -> req.response().setStatusCode(500).end());
    URI good = backends.named("good");
    createPool(bad, good, 2, 2);
    String badId = bad.getAuthority();
    String goodId = good.getAuthority();
    Backend b = backend(badId);
    Backend g = backend(goodId);
    // no probe of either yet (a static URL's first comes at a random point of the interval): the
    // prober skips a backend whose probe is out
    b.probing = true;
    g.probing = true;
    assertThat(b.lastProbe).isNull();
    for (int i = 0; i < 30 && !b.ejected(System.nanoTime()); i++)
      given().header("Host", "ejst.example").get("/");
    assertThat(b.ejected(System.nanoTime())).isTrue();
    b.ejectedUntilNanos = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    reconciler.reconcile(new PoolKey("ejst"));
    assertThat(backendStatus(badId)).containsEntry("phase", "Ejected");
    assertThat(backendStatus(goodId))
        .as("never probed: Ready, and said to be unprobed")
        .containsEntry("phase", "Ready")
        .containsEntry("probed", false);
    assertThat(messages())
        .contains(
            "static backend "
                + badId
                + " was ejected for failed requests (the last: HTTP 500), before any health check"
                + " of it: it gets no traffic until the ejection ends")
        .noneMatch(m -> m.contains("pass"));

    // its probes now run, and fail: Ejected below the threshold, then Unhealthy, told
    b.nextProbeNanos = System.nanoTime();
    g.nextProbeNanos = System.nanoTime();
    b.probing = false;
    g.probing = false;
    await().atMost(Duration.ofSeconds(20)).until(() -> !b.healthy);
    await().atMost(Duration.ofSeconds(20)).until(() -> g.lastProbe != null && g.probePassing);
    reconciler.reconcile(new PoolKey("ejst"));
    assertThat(backendStatus(badId)).containsEntry("phase", "Unhealthy");
    assertThat(backendStatus(goodId)).containsEntry("phase", "Ready").doesNotContainKey("probed");
    assertThat(messages())
        .contains(
            "static backend "
                + badId
                + " fails its health checks on /health (HTTP 500): it gets no traffic while it"
                + " fails");
  }

  /**
   * A static URL whose health checks failed ({@code Unhealthy}), then pass, and whose requests
   * eject it before a pass saw it back: {@code Ejected} is news too, as a managed backend's {@code
   * BackendEjected} is. The old code told nothing (its stored status already failed).
   */
  @Test
  void aStaticUrlGoingFromUnhealthyToEjectedIsTold() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean checksPass =
        new java.util.concurrent.atomic.AtomicBoolean();
    URI bad =
        backends.start(
            req ->
                req.response()
                    .setStatusCode(
                        req.path().equals("/health") ? (checksPass.get() ? 200 : 503) : 500)
                    .end());
    URI good = backends.named("good");
    createPool(bad, good, 1, 1);
    String badId = bad.getAuthority();
    Backend b = backend(badId);
    await().atMost(Duration.ofSeconds(20)).until(() -> b.lastProbe != null && !b.healthy);
    reconciler.reconcile(new PoolKey("ejst"));
    assertThat(backendStatus(badId)).containsEntry("phase", "Unhealthy");
    int told = messages().size();
    // its checks pass again, and its requests eject it before a pass sees it back
    checksPass.set(true);
    await().atMost(Duration.ofSeconds(20)).until(() -> b.healthy);
    for (int i = 0; i < 30 && !b.ejected(System.nanoTime()); i++)
      given().header("Host", "ejst.example").get("/");
    assertThat(b.ejected(System.nanoTime())).isTrue();
    b.ejectedUntilNanos = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    reconciler.reconcile(new PoolKey("ejst"));
    assertThat(backendStatus(badId)).containsEntry("phase", "Ejected");
    assertThat(messages())
        .hasSizeGreaterThan(told)
        .contains(
            "static backend "
                + badId
                + " was ejected for failed requests (the last: HTTP 500), while its last health"
                + " check passed: it gets no traffic until the ejection ends");
  }

  /**
   * Creates pool {@code ejst} over static URLs {@code bad} and {@code good}, health-checked on
   * {@code /health} every {@code intervalSeconds} and out after {@code unhealthyThreshold} failed
   * checks, round-robin without retries, and syncs the routing table to it.
   */
  private void createPool(URI bad, URI good, int intervalSeconds, int unhealthyThreshold) {
    given()
        .auth()
        .oauth2(TOKEN)
        .contentType("application/json")
        .body(
            """
        {"metadata":{"name":"ejst"},"spec":{"staticBackends":["%s","%s"],
         "healthCheck":{"path":"/health","intervalSeconds":%d,"timeoutSeconds":1,"healthyThreshold":1,"unhealthyThreshold":%d},
         "routing":{"hosts":["ejst.example"],"algorithm":"round-robin","retries":0}}}
        """
                .formatted(bad, good, intervalSeconds, unhealthyThreshold))
        .post("/_dynofleet/api/v1/pools")
        .then()
        .statusCode(201);
    assertThat(sync.sync()).isTrue();
  }

  private Backend backend(String id) {
    return table.pools().get("ejst").backends().stream()
        .filter(x -> x.target.id().equals(id))
        .findFirst()
        .orElseThrow();
  }

  private Map<String, Object> backendStatus(String id) {
    return given()
        .auth()
        .oauth2(TOKEN)
        .get("/_dynofleet/api/v1/pools/ejst")
        .then()
        .statusCode(200)
        .extract()
        .jsonPath()
        .getMap("status.backends.find { it.app == '" + id + "' }");
  }

  private List<String> messages() {
    return given()
        .auth()
        .oauth2(TOKEN)
        .get("/_dynofleet/api/v1/pools/ejst/events")
        .jsonPath()
        .getList("message", String.class);
  }
}
