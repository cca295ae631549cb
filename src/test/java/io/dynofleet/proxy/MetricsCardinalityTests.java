package io.dynofleet.proxy;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.net.URL;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 21 M5: a latency histogram per backend and status class is 21 series, some 26,000 on each
 * dyno at 300 backends. With {@code dynofleet.proxy.metrics.backend-histograms=off} the histograms
 * are per pool and each backend keeps its counts.
 */
@QuarkusTest
@TestProfile(MetricsCardinalityTests.Profile.class)
@Timeout(120)
class MetricsCardinalityTests {
  public static class Profile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      Map<String, String> m = new HashMap<>(new ProxyProfile().getConfigOverrides());
      m.put("dynofleet.proxy.metrics.backend-histograms", "off");
      return m;
    }
  }

  @jakarta.inject.Inject RoutingTable table;

  @TestHTTPResource("/")
  URL app;

  final TestBackends backends = new TestBackends();
  final HttpClient client =
      TestBackends.VERTX.createHttpClient(new HttpClientOptions().setMaxPoolSize(40));

  @AfterEach
  void stop() {
    table.replaceAll(List.of());
    backends.close();
    client.close();
  }

  /** 30 pools of 10 backends; 10 requests of each status class to each pool. */
  @Test
  void offRecordsLatencyPerPoolAndCountsPerBackend() throws Exception {
    URI server =
        backends.start(
            req ->
                req.response()
                    .setStatusCode(Integer.parseInt(req.path().substring(1)))
                    .putHeader("Location", "/")
                    .end());
    List<PoolRoute> pools = new ArrayList<>();
    for (int p = 0; p < 30; p++) {
      List<BackendTarget> t = new ArrayList<>();
      for (int i = 0; i < 10; i++) t.add(TestBackends.target("mc" + p + "b" + i, server));
      pools.add(TestBackends.pool("mc" + p, List.of("mc" + p + ".test"), false, t));
    }
    table.replaceAll(pools);
    // each pool's 40 at once, on a client of the tests' own (1,200 one by one were too slow)
    for (int p = 0; p < 30; p++) {
      List<Future<Integer>> sent = new ArrayList<>();
      for (int status : new int[] {200, 302, 404, 500}) {
        for (int i = 0; i < 10; i++) {
          RequestOptions o =
              new RequestOptions()
                  .setHost("127.0.0.1")
                  .setPort(app.getPort())
                  .setURI("/" + status)
                  .putHeader("Host", "mc" + p + ".test");
          sent.add(
              client
                  .request(o)
                  .compose(r -> r.send())
                  .compose(r -> r.body().map(b -> r.statusCode())));
        }
      }
      List<Integer> statuses =
          Future.all(sent)
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS)
              .list();
      assertThat(statuses).as("pool mc" + p).containsOnly(200, 302, 404, 500);
      assertThat(statuses.stream().filter(x -> x == 500)).hasSize(10);
    }
    String metrics =
        given()
            .header("Authorization", "Bearer " + "test-token-0123456789")
            .get("/_dynofleet/q/metrics")
            .asString();
    List<String> histogram =
        metrics.lines().filter(l -> l.startsWith("dynofleet_proxy_requests_seconds")).toList();
    assertThat(histogram).as("per-backend histogram lines").noneMatch(l -> l.contains("backend="));
    // 30 pools × 4 status classes × (17 buckets, +Inf, count, sum, max)
    assertThat(histogram).hasSize(30 * 4 * 21);
    assertThat(metrics)
        .contains(
            "dynofleet_proxy_requests_seconds_bucket{dyno=\"local\",pool=\"mc7\",status=\"4xx\",le=\"300.0\"} 10.0")
        .contains(
            "dynofleet_proxy_requests_seconds_count{dyno=\"local\",pool=\"mc7\",status=\"5xx\"} 10.0");
    // each backend's counts: per pool and class, they add up to the histogram's
    Pattern counter =
        Pattern.compile(
            "^dynofleet_proxy_backend_requests_total\\{backend=\"(mc\\d+b\\d+)\",dyno=\"local\",pool=\"(mc\\d+)\",status=\"(\\dxx)\"\\} ([0-9.]+)$");
    Map<String, Double> byPoolAndClass = new HashMap<>();
    java.util.Set<String> backendsCounted = new java.util.HashSet<>();
    for (String l : metrics.lines().toList()) {
      Matcher m = counter.matcher(l);
      if (!m.matches()) continue;
      assertThat(m.group(1)).startsWith(m.group(2) + "b");
      backendsCounted.add(m.group(1));
      byPoolAndClass.merge(
          m.group(2) + " " + m.group(3), Double.parseDouble(m.group(4)), Double::sum);
    }
    assertThat(backendsCounted).as("backends with counts").hasSizeGreaterThan(250);
    assertThat(byPoolAndClass).hasSize(120).allSatisfy((k, v) -> assertThat(v).as(k).isEqualTo(10));
    // about 30,000 lines with a histogram per backend
    assertThat(metrics.lines().count()).as("lines scraped").isLessThan(8_000);
  }
}
