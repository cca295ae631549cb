package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.pool;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Audit 7 (the management API from outside): each answer its contract promised, and nothing
 * changed.
 */
@QuarkusTest
class ApiContractTests {
  @TestHTTPResource("/")
  URL base;

  private static String rv(String name) {
    return api().get(POOLS + "/" + name).path("metadata.resourceVersion");
  }

  /**
   * A non-numeric resourceVersion in a merge patch was a 500 with a stack trace; a PUT gave 422.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {"\"abc\"", "true", "{}", "\"\"", "\" 1\"", "\"99999999999999999999\"", "1.5"})
  void aBadResourceVersionInAPatchIs422(String value) {
    String name = uniqueName("rvp");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    String before = rv(name);
    api()
        .contentType("application/merge-patch+json")
        .body("{\"metadata\": {\"resourceVersion\": " + value + "}, \"spec\": {\"replicas\": 3}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("detail", containsString("metadata.resourceVersion"));
    assertThat(rv(name)).isEqualTo(before);
  }

  /** A NUL in the pool name of a path was a 500 on every per-pool route (PostgreSQL refuses it). */
  @Test
  void aNulInThePoolNameIsNotFound() {
    for (String sub : List.of("", "/status", "/events", "/stats")) {
      api()
          .urlEncodingEnabled(false)
          .get(POOLS + "/a%00b" + sub)
          .then()
          .statusCode(404)
          .contentType("application/problem+json");
    }
    api().urlEncodingEnabled(false).delete(POOLS + "/a%00b").then().statusCode(404);
    api()
        .urlEncodingEnabled(false)
        .body("{\"replicas\": 1}")
        .put(POOLS + "/a%00b/scale")
        .then()
        .statusCode(404);
  }

  /**
   * A static backend on port 99999 or 0 was taken, reported Ready, and its probe threw every
   * interval.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {"http://127.0.0.1:99999", "http://127.0.0.1:0", "https://h.example:65536/x"})
  void aStaticBackendNeedsAValidPort(String url) {
    String name = uniqueName("port");
    api()
        .body(
            "{\"metadata\": {\"name\": \""
                + name
                + "\"}, \"spec\": {\"staticBackends\": [\""
                + url
                + "\"]}}")
        .post(POOLS)
        .then()
        .statusCode(422)
        .body("detail", containsString("spec.staticBackends[0]"));
    api().get(POOLS + "/" + name).then().statusCode(404);
  }

  /**
   * A managed pool switched to static left its apps running, unseen and billed, until the pool
   * went.
   */
  @Test
  void aPoolCannotSwitchBetweenManagedAndStatic() {
    String name = uniqueName("kind");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    String before = rv(name);
    api()
        .contentType("application/merge-patch+json")
        .body(
            "{\"spec\": {\"template\": null, \"replicas\": null, \"pipeline\": null,"
                + " \"staticBackends\": [\"http://127.0.0.1:9\"]}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(422)
        .body("detail", containsString("managed"));
    assertThat(rv(name)).isEqualTo(before);
    String stat = uniqueName("kind");
    api()
        .body(
            "{\"metadata\": {\"name\": \""
                + stat
                + "\"}, \"spec\": {\"staticBackends\": [\"http://127.0.0.1:9\"]}}")
        .post(POOLS)
        .then()
        .statusCode(201);
    api().body(pool(stat, 1)).put(POOLS + "/" + stat).then().statusCode(422);
  }

  /** Hosts differing only in case were stored once each ("a.example" three times). */
  @Test
  void hostsAreStoredOnceEach() {
    String name = uniqueName("hosts");
    api()
        .body(
            "{\"metadata\": {\"name\": \""
                + name
                + "\"}, \"spec\": {\"staticBackends\": [\"http://127.0.0.1:9\"],"
                + " \"routing\": {\"hosts\": [\""
                + name
                + ".example\", \""
                + name.toUpperCase()
                + ".EXAMPLE\", \""
                + name
                + ".example\"]}}}")
        .post(POOLS)
        .then()
        .statusCode(201)
        .body("spec.routing.hosts", org.hamcrest.Matchers.contains(name + ".example"));
  }

  /** Audit 7: a body without a Content-Type was taken as JSON; the docs promise 415. */
  @Test
  void aBodyWithoutAContentTypeIs415() throws Exception {
    String name = uniqueName("ct");
    String body = pool(name, 1);
    String answer =
        MalformedTargetTests.raw(
            base,
            "POST "
                + POOLS
                + " HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer "
                + ApiFixtures.TOKEN
                + "\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length
                + "\r\nConnection: close\r\n\r\n"
                + body);
    assertThat(answer).startsWith("HTTP/1.1 415").contains("unsupported-media-type");
    api().get(POOLS + "/" + name).then().statusCode(404);
  }

  /** Audit 7: a label key prefix took a wildcard and upper case; a DNS subdomain has neither. */
  @ParameterizedTest
  @ValueSource(strings = {"*.foo/x", "Foo.Bar/x"})
  void aLabelKeyPrefixIsALowerCaseSubdomain(String key) {
    String name = uniqueName("lbl");
    api()
        .body(
            "{\"metadata\": {\"name\": \""
                + name
                + "\", \"labels\": {\""
                + key
                + "\": \"v\"}},"
                + " \"spec\": {\"staticBackends\": [\"http://127.0.0.1:9\"]}}")
        .post(POOLS)
        .then()
        .statusCode(422);
  }

  /** Audit 7: a 1 MB body of unknown keys got a 4 MB 422 naming every one. */
  @Test
  void a422NamesAtMostAHundredFields() {
    StringBuilder sb =
        new StringBuilder(
            "{\"metadata\": {\"name\": \""
                + uniqueName("many")
                + "\"}, \"spec\": {\"staticBackends\": [\"http://127.0.0.1:9\"]}");
    for (int i = 0; i < 500; i++) {
      sb.append(", \"x").append(i).append("\": 1");
    }
    sb.append('}');
    api()
        .body(sb.toString())
        .post(POOLS)
        .then()
        .statusCode(422)
        .body("errors.size()", equalTo(100))
        .body("detail", containsString("500 fields are invalid (the first 100 are listed)"));
  }

  /**
   * Every 401 under the prefix was its own URI tag in the public metrics: anyone could fill all
   * 100.
   */
  @Test
  void unmatchedPathsShareOneMetricsName() throws Exception {
    for (int i = 0; i < 3; i++) {
      given().get("/_dynofleet/api/x-audit-" + i).then().statusCode(401);
      // and the proxy's own early refusals of public paths under the prefix (review 4)
      assertThat(
              MalformedTargetTests.raw(
                  base,
                  "GET /_dynofleet/ui/x-audit-"
                      + i
                      + " HTTP/1.1\r\nHost: a\r\n"
                      + ": v\r\nConnection: close\r\n\r\n"))
          .startsWith("HTTP/1.1 400");
      // and what Quarkus and Vert.x answer on their own (audit 8)
      MalformedTargetTests.raw(
          base,
          "GET /_dynofleet/x-audit-%%" + i + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      MalformedTargetTests.raw(
          base, "GET /_dynofleet/x-audit-" + i + " HTTP/1.1\r\nConnection: close\r\n\r\n");
      MalformedTargetTests.raw(
          base,
          "GET /_dynofleet/x-audit-"
              + i
              + "/../q/health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    }
    // review 5: a made-up method was a tag value of its own too
    for (int i = 0; i < 3; i++) {
      given().request("XAUDIT" + i, "/_dynofleet/api/v1/pools").then().statusCode(401);
    }
    String metrics =
        given()
            .header("Authorization", "Bearer " + ApiFixtures.TOKEN)
            .get("/_dynofleet/q/metrics")
            .asString();
    assertThat(metrics)
        .doesNotContain("x-audit-")
        .doesNotContain("XAUDIT")
        .contains("uri=\"/_dynofleet/unmatched\"");
  }

  /**
   * A body over the limit by Content-Length got its 413 (or 401) at once, but the connection stayed
   * open unread: a client that writes its whole body first (urllib) waited for its own timeout.
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void anAnswerBeforeTheBodyEndsTheConnection(boolean authorized) throws Exception {
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      int size = 3 * 1024 * 1024;
      out.write(
          ("POST "
                  + POOLS
                  + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  + (authorized ? "Authorization: Bearer " + ApiFixtures.TOKEN + "\r\n" : "")
                  + "Content-Length: "
                  + size
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      byte[] chunk = new byte[64 * 1024];
      java.util.Arrays.fill(chunk, (byte) ' ');
      for (int sent = 0; sent < size; sent += chunk.length) {
        out.write(chunk); // the whole body first, as urllib does: this blocked
      }
      out.flush();
      InputStream in = s.getInputStream();
      // until the server closes
      String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(answer)
          .startsWith(authorized ? "HTTP/1.1 413" : "HTTP/1.1 401")
          .containsIgnoringCase("connection: close");
    }
  }
}
