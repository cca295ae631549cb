package io.dynofleet.proxy;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ProxyTests {
  @Inject RoutingTable table;
  static final Vertx vertx = Vertx.vertx();
  final List<HttpServer> servers = new ArrayList<>();

  URI backend(String name) throws Exception {
    HttpServer s = vertx.createHttpServer().requestHandler(req -> {
      StringBuilder sb = new StringBuilder(name).append('\n');
      req.headers().forEach(e -> sb.append(e.getKey().toLowerCase()).append(": ").append(e.getValue()).append('\n'));
      req.response().putHeader("X-Backend", name).end(sb.toString());
    }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    servers.add(s);
    return URI.create("http://127.0.0.1:" + s.actualPort());
  }

  static PoolRoute pool(String name, List<String> hosts, boolean dflt, List<BackendTarget> b) {
    return new PoolRoute(name, hosts, dflt, Algorithm.LEAST_REQUEST, Duration.ofSeconds(2), 1, 0, 0,
        Duration.ZERO, null, b);
  }

  @AfterEach
  void stop() {
    table.replaceAll(List.of());
    servers.forEach(HttpServer::close);
  }

  @Test
  void noPoolIs404() {
    given().header("Host", "nowhere.example").get("/x").then().statusCode(404)
        .header("X-Dynofleet-Error", "no-pool");
  }

  @Test
  void reservedPrefixIsNeverProxied() throws Exception {
    table.put(pool("d", List.of(), true, List.of(new BackendTarget("a", backend("a"), true))));
    given().get("/_dynofleet/q/health/live").then().statusCode(200).body(containsString("UP"));
    given().get("/_dynofleet/nothing-here").then().header("X-Backend", (String) null);
  }

  @Test
  void distributesAndRewritesHeaders() throws Exception {
    URI a = backend("a");
    URI b = backend("b");
    table.put(pool("p", List.of("app.example"), false,
        List.of(new BackendTarget("a", a, true), new BackendTarget("b", b, true))));
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      Response r = given().header("Host", "app.example:1234").header("X-Forwarded-For", "10.0.0.1")
          .header("X-Request-Id", "rid-" + i).get("/hello");
      r.then().statusCode(200).header("X-Request-Id", "rid-" + i);
      String body = r.asString();
      String name = r.header("X-Backend");
      URI u = name.equals("a") ? a : b;
      assertThat(body).contains("host: 127.0.0.1:" + u.getPort())
          .contains("x-forwarded-for: 10.0.0.1, 127.0.0.1").contains("via: 1.1 dynofleet")
          .contains("x-request-id: rid-" + i);
      seen.merge(name, 1, Integer::sum);
    }
    assertThat(seen).containsKeys("a", "b");
  }

  @Test
  void deadBackendGetIsRetriedPostIsNot() throws Exception {
    URI dead = URI.create("http://127.0.0.1:1");
    table.put(pool("d", List.of(), true,
        List.of(new BackendTarget("dead", dead, true), new BackendTarget("a", backend("a"), true))));
    for (int i = 0; i < 20; i++) given().get("/r").then().statusCode(200);
    table.put(pool("d", List.of(), true, List.of(new BackendTarget("dead2", dead, true))));
    given().body("x").post("/r").then().statusCode(502).header("X-Dynofleet-Error", "backend-error");
  }

  @Test
  void slowBackendIs504() throws Exception {
    HttpServer s = vertx.createHttpServer().requestHandler(req -> {})
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    servers.add(s);
    PoolRoute r = new PoolRoute("s", List.of(), true, Algorithm.ROUND_ROBIN, Duration.ofMillis(300), 0,
        0, 0, Duration.ZERO, null,
        List.of(new BackendTarget("s", URI.create("http://127.0.0.1:" + s.actualPort()), true)));
    table.put(r);
    given().get("/slow").then().statusCode(504).header("X-Dynofleet-Error", "timeout");
  }

  @Test
  void emptyPoolIs503() {
    table.put(pool("e", List.of(), true, List.of()));
    given().get("/x").then().statusCode(503).header("X-Dynofleet-Error", "no-backend");
  }
}
