package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.TOKEN;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.pool;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Audit 17: requests that were taken in a way their sender did not mean, each now refused with a
 * problem document and nothing changed.
 */
@QuarkusTest
class BadInputTests {
  @io.quarkus.test.common.http.TestHTTPResource("/")
  java.net.URL base;

  private static String problem(String code) {
    return "https://dynofleet.dev/problems/" + code;
  }

  private static Response read(String name) {
    return api().get(POOLS + "/" + name);
  }

  /** As text, bytes that are not UTF-8 became U+FFFD: a config var's value was stored changed. */
  @Test
  void bytesThatAreNotUtf8AreRefusedNotRepaired() {
    String name = uniqueName("utf");
    byte[] latin1 =
        pool(name, 1)
            .replace(
                "\"dynoSize\": \"basic\"",
                "\"dynoSize\": \"basic\", \"configVars\": {\"API_SECRET\": \"p\u00e4ss\"}")
            .getBytes(StandardCharsets.ISO_8859_1);
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body(latin1)
        .post(POOLS)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("type", equalTo(problem("malformed-json")))
        .body("detail", containsString("not UTF-8"));
    read(name).then().statusCode(404);
    // a charset parameter has no effect on JSON (RFC 8259
    // 11): the bytes are read as UTF-8 whatever it says
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json; charset=iso-8859-1")
        .body(latin1)
        .post(POOLS)
        .then()
        .statusCode(400)
        .body("type", equalTo(problem("malformed-json")));
    read(name).then().statusCode(404);
    // the same in UTF-8 is stored as sent, declared or not
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json; charset=UTF-8")
        .body(new String(latin1, StandardCharsets.ISO_8859_1).getBytes(StandardCharsets.UTF_8))
        .post(POOLS)
        .then()
        .statusCode(201)
        .body("spec.template.configVars.API_SECRET", equalTo("p\u00e4ss"));
  }

  /** Kubernetes' DeleteOptions and ?dryRun were read and dropped: a "dry run" deleted the pool. */
  @Test
  void aDeleteWithABodyOrADryRunDeletesNothing() {
    String name = uniqueName("dry");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    api()
        .body("{\"kind\":\"DeleteOptions\",\"dryRun\":[\"All\"]}")
        .delete(POOLS + "/" + name)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("type", equalTo(problem("body-not-allowed")));
    api()
        .delete(POOLS + "/" + name + "?dryRun=All&propagationPolicy=Orphan")
        .then()
        .statusCode(422)
        .body("errors.field", org.hamcrest.Matchers.contains("dryRun", "propagationPolicy"))
        .body("errors[0].message", containsString("there is no dry run"));
    api().body(pool(name, 3)).put(POOLS + "/" + name + "?dryRun=All").then().statusCode(422);
    read(name)
        .then()
        .statusCode(200)
        .body("metadata.deletionTimestamp", nullValue())
        .body("spec.replicas", equalTo(1))
        .body("metadata.generation", equalTo(1));
  }

  @jakarta.inject.Inject io.dynofleet.sandbox.Simulator simulator;

  /**
   * Only the pool routes checked their query: {@code ?dryRun=All} on a sandbox fault broke the app,
   * a repeated {@code ?type=} on the fleet's events used the first. Every API route refuses both,
   * acting on nothing.
   */
  @Test
  void everyApiRouteRefusesAnUnknownOrRepeatedQueryParameter() {
    api()
        .get("/_dynofleet/api/v1/info?verbose=1")
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("errors.field", org.hamcrest.Matchers.contains("verbose"))
        .body("errors[0].message", containsString("it takes none"));
    api()
        .get("/_dynofleet/api/v1/events?type=Normal&type=Warning")
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("errors.field", org.hamcrest.Matchers.contains("type"))
        .body("errors[0].message", containsString("given 2 times"));
    String app = uniqueName("q-src");
    simulator.createSourceApp(app);
    int release = simulator.app(app).release();
    api()
        .post("/_dynofleet/api/v1/sandbox/apps/" + app + "/faults/crashed?dryRun=All")
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("errors.field", org.hamcrest.Matchers.contains("dryRun"))
        .body("errors[0].message", containsString("there is no dry run"));
    api()
        .post("/_dynofleet/api/v1/sandbox/apps/" + app + "/releases?force=true")
        .then()
        .statusCode(422)
        .body("errors.field", org.hamcrest.Matchers.contains("force"));
    api()
        .get("/_dynofleet/api/v1/sandbox?app=" + app)
        .then()
        .statusCode(422)
        .body("errors.field", org.hamcrest.Matchers.contains("app"));
    // nothing acted on: the app serves, at the release it had
    io.restassured.RestAssured.given()
        .get(simulator.app(app).webUrl() + "health")
        .then()
        .statusCode(200);
    assertThat(simulator.app(app).release()).isEqualTo(release);
  }

  /**
   * A misspelled or repeated query parameter: every pool was listed, or the first selector only.
   */
  @Test
  void queryParametersAreTakenOnceAndOnlyWhereTheyMeanSomething() {
    api()
        .get(POOLS + "?labelselector=env=prod")
        .then()
        .statusCode(422)
        .body("errors[0].field", equalTo("labelselector"))
        .body("errors[0].message", containsString("it takes continue, labelSelector, limit"));
    api()
        .get(POOLS + "?labelSelector=team=web&labelSelector=env=prod")
        .then()
        .statusCode(422)
        .body("errors[0].message", equalTo("given 2 times: give it once"));
    api().get(POOLS + "?limit=1&continue=").then().statusCode(200);
    api()
        .get(POOLS + "/x/status?verbose=1")
        .then()
        .statusCode(422)
        .body("errors[0].message", containsString("(it takes none)"));
  }

  /** If-None-Match was read on GET only: PUT with If-None-Match: * overwrote. */
  @Test
  void ifNoneMatchHoldsOnWrites() {
    String name = uniqueName("inm");
    String etag = api().body(pool(name, 1)).post(POOLS).header("ETag");
    api()
        .header("If-None-Match", "*")
        .body(pool(name, 4))
        .put(POOLS + "/" + name)
        .then()
        .statusCode(412)
        .body("detail", containsString("the pool exists"));
    api()
        .header("If-None-Match", etag)
        .body("{\"replicas\": 4}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(412);
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .header("If-None-Match", "W/" + etag)
        .delete(POOLS + "/" + name)
        .then()
        .statusCode(412);
    read(name)
        .then()
        .body("spec.replicas", equalTo(1))
        .body("metadata.deletionTimestamp", nullValue());
    // an older version listed: the condition holds
    api()
        .header("If-None-Match", "\"1\"")
        .body("{\"replicas\": 2}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(200)
        .body("spec.replicas", equalTo(2));
  }

  /** An empty If-Match (a script's empty ETag variable) made the write unconditional. */
  @Test
  void anEmptyIfMatchIsAConditionNoVersionMeets() throws java.io.IOException {
    String name = uniqueName("empty");
    String etag = api().body(pool(name, 1)).post(POOLS).header("ETag");
    String body = "{\"spec\":{\"paused\":true}}";
    String answer =
        MalformedTargetTests.raw(
            base,
            "PATCH "
                + POOLS
                + "/"
                + name
                + " HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer "
                + TOKEN
                + "\r\nContent-Type: application/merge-patch+json\r\nIf-Match: \r\n"
                + "Content-Length: "
                + body.length()
                + "\r\nConnection: close\r\n\r\n"
                + body);
    assertThat(answer).startsWith("HTTP/1.1 412").contains("If-Match is empty");
    read(name).then().body("spec.paused", org.hamcrest.Matchers.not(equalTo(true)));
    // a weak tag naming the current version is told why it fails
    api()
        .header("If-Match", "W/" + etag)
        .body("{\"replicas\": 2}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(412)
        .body("detail", containsString("weak tag"));
    assertThat(read(name).header("ETag")).isEqualTo(etag);
    // a read's 412 does not speak of changes
    api()
        .header("If-Match", "\"1\"")
        .get(POOLS + "/" + name)
        .then()
        .statusCode(412)
        .body("detail", org.hamcrest.Matchers.not(containsString("nothing was changed")));
  }

  /** Valid JSON past the reader's depth limit was "not valid JSON". */
  @Test
  void aDocumentPastTheReadersLimitsIsToldSo() {
    api()
        .body("{\"a\":".repeat(2000) + "1" + "}".repeat(2000))
        .post(POOLS)
        .then()
        .statusCode(400)
        .body("type", equalTo(problem("malformed-json")))
        .body("detail", containsString("nests deeper than 1000 levels"));
  }

  /** Swagger UI shows the document a route takes, not a file upload for the bytes it reads. */
  @Test
  void theOpenApiDocumentDescribesTheBodiesAsJson() {
    io.restassured.path.json.JsonPath doc =
        given().accept("application/json").get("/_dynofleet/q/openapi?format=json").jsonPath();
    assertThat(
            doc.getString(
                "paths.'/_dynofleet/api/v1/pools'.post.requestBody.content.'application/json'.schema.'$ref'"))
        .endsWith("/PoolDocument");
    assertThat(
            doc.getString(
                "paths.'/_dynofleet/api/v1/pools/{name}/scale'.put.requestBody.content.'application/json'.schema.'$ref'"))
        .endsWith("/Scale");
    assertThat(
            doc.getString(
                "paths.'/_dynofleet/api/v1/pools/{name}'.patch.requestBody.content.'application/merge-patch+json'.schema.type"))
        .isEqualTo("object");
    // the preconditions are read from the request by
    // hand: the document still names them (review 21)
    for (String op : java.util.List.of("get", "put", "patch", "delete")) {
      assertThat(
              doc.getList(
                  "paths.'/_dynofleet/api/v1/pools/{name}'." + op + ".parameters.name",
                  String.class))
          .as(op)
          .contains("If-Match", "If-None-Match");
    }
    assertThat(
            doc.getList(
                "paths.'/_dynofleet/api/v1/pools/{name}/scale'.put.parameters.name", String.class))
        .contains("If-Match", "If-None-Match");
  }

  /**
   * The proxy's framing refusals answered Dynofleet's own paths in text, unlike the rest of the
   * API.
   */
  @Test
  void framingRefusalsOnTheApiAreProblems() throws java.io.IOException {
    String twoHosts =
        MalformedTargetTests.raw(
            base,
            "GET "
                + POOLS
                + " HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
                + "Authorization: Bearer "
                + TOKEN
                + "\r\nConnection: close\r\n\r\n");
    assertThat(twoHosts)
        .startsWith("HTTP/1.1 400")
        .containsIgnoringCase("content-type: application/problem+json")
        .contains(
            "\"type\":\"https://dynofleet.dev/problems/multiple-host\"",
            "X-Dynofleet-Error: multiple-host");
    String coding =
        MalformedTargetTests.raw(
            base,
            "POST "
                + POOLS
                + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n");
    assertThat(coding).startsWith("HTTP/1.1 400").contains("/problems/bad-transfer-encoding");
    // a proxied path keeps the proxy's short text answer
    assertThat(
            MalformedTargetTests.raw(
                base, "GET /elsewhere HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 400")
        .containsIgnoringCase("content-type: text/plain");
  }

  /** A uid that is no uid was told "the pool was deleted and created again" (409). */
  @Test
  void aMalformedUidIsNamedNotTakenForAnotherPool() {
    String name = uniqueName("uid");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    api()
        .contentType("application/merge-patch+json")
        .body("{\"metadata\":{\"uid\":{}}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(422)
        .body("errors[0].field", equalTo("metadata.uid"));
    api()
        .body(pool(name, 2).replace("\"labels\"", "\"uid\": 42, \"labels\""))
        .put(POOLS + "/" + name)
        .then()
        .statusCode(422)
        .body("errors[0].field", equalTo("metadata.uid"));
    read(name).then().body("spec.replicas", equalTo(1));
  }

  /** RFC 5789: a 415 for a JSON Patch, and OPTIONS, name the patch documents taken. */
  @Test
  void unsupportedPatchDocumentsAreAnsweredWithAcceptPatch() {
    String name = uniqueName("ap");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    api()
        .contentType("application/json-patch+json")
        .body("[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":2}]")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(415)
        .header("Accept-Patch", equalTo("application/merge-patch+json, application/json"));
    api()
        .options(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .header("Accept-Patch", equalTo("application/merge-patch+json, application/json"));
    api().options(POOLS).then().statusCode(200).header("Accept-Patch", nullValue());
  }

  /** The 409s named no field: a client could not point at the host without parsing English. */
  @Test
  void conflictsNameTheirField() {
    String a = uniqueName("ha");
    String b = uniqueName("hb");
    String host = a + ".example";
    api()
        .body(
            "{\"metadata\":{\"name\":\""
                + a
                + "\"},\"spec\":{\"staticBackends\":[\"http://127.0.0.1:9\"],"
                + "\"routing\":{\"hosts\":[\""
                + host
                + "\"]}}}")
        .post(POOLS)
        .then()
        .statusCode(201);
    api()
        .body(
            "{\"metadata\":{\"name\":\""
                + b
                + "\"},\"spec\":{\"staticBackends\":[\"http://127.0.0.1:9\"],"
                + "\"routing\":{\"hosts\":[\"free."
                + host
                + "\", \""
                + host
                + "\"]}}}")
        .post(POOLS)
        .then()
        .statusCode(409)
        .body("type", equalTo(problem("host-taken")))
        .body("errors[0].field", equalTo("spec.routing.hosts[1]"))
        .body("errors[0].message", containsString(a));
    api()
        .body(
            "{\"metadata\":{\"name\":\""
                + a
                + "\"},\"spec\":{\"staticBackends\":[\"http://127.0.0.1:9\"]}}")
        .post(POOLS)
        .then()
        .statusCode(409)
        .body("errors[0].field", equalTo("metadata.name"));
  }
}
