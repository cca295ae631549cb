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
import static org.hamcrest.Matchers.hasItem;

import io.quarkus.test.junit.QuarkusTest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every validation rule, table-driven: each row is a body and the field the problem must name.
 * After each rejection the pool must not exist (nothing written).
 */
@QuarkusTest
class PoolValidationTests {

  static Stream<Arguments> invalidSpecs() {
    return Stream.of(
        row("\"metadata\": {\"name\": \"Bad_Name\"}", "metadata.name"),
        row("\"metadata\": {\"name\": \"-x\"}", "metadata.name"),
        row("\"metadata\": {\"name\": \"" + "a".repeat(64) + "\"}", "metadata.name"),
        row("\"metadata\": {}", "metadata.name"),
        row(
            "\"metadata\": {\"name\": \"%N\", \"labels\": {\"bad key\": \"v\"}}",
            "metadata.labels.bad key"),
        row("\"metadata\": {\"name\": \"%N\", \"labels\": {\"k\": 3}}", "metadata.labels.k"),
        row("\"metadata\": {\"name\": \"%N\", \"owner\": \"x\"}", "metadata.owner"),
        row("\"metadata\": {\"name\": \"%N\"}, \"extra\": 1", "extra"),
        row("\"apiVersion\": \"v2\"", "apiVersion"),
        row("\"kind\": \"Pod\"", "kind"),
        spec("\"replicas\": 101", "spec.replicas"),
        spec("\"replicas\": -1", "spec.replicas"),
        spec("\"replicas\": \"3\"", "spec.replicas"),
        spec("\"replicas\": 2.5", "spec.replicas"),
        spec("\"pipeline\": \"Bad Pipe\"", "spec.pipeline"),
        spec("\"paused\": \"yes\"", "spec.paused"),
        spec("\"surprise\": true", "spec.surprise"),
        tmpl("\"sourceApp\": \"X\"", "spec.template.sourceApp"),
        tmpl("\"sourceApp\": \"ok-app\", \"dynoSize\": \"free\"", "spec.template.dynoSize"),
        tmpl("\"sourceApp\": \"ok-app\", \"dynoSize\": \"huge\"", "spec.template.dynoSize"),
        tmpl("\"sourceApp\": \"ok-app\", \"region\": \"mars\"", "spec.template.region"),
        // review 6: Private Space regions and sizes and the container stack cannot take a slug app
        tmpl("\"sourceApp\": \"ok-app\", \"region\": \"virginia\"", "spec.template.region"),
        tmpl("\"sourceApp\": \"ok-app\", \"dynoSize\": \"private-s\"", "spec.template.dynoSize"),
        tmpl("\"sourceApp\": \"ok-app\", \"stack\": \"container\"", "spec.template.stack"),
        // review 6: eco dynos share the account's 1000
        // hours; two always-probed backends use them up
        spec(
            "\"replicas\": 2, \"template\": {\"sourceApp\": \"shop-web\", \"dynoSize\": \"eco\"}",
            "spec.replicas"),
        tmpl("\"sourceApp\": \"ok-app\", \"stack\": \"cedar-14\"", "spec.template.stack"),
        tmpl("\"sourceApp\": \"ok-app\", \"stage\": \"prod\"", "spec.template.stage"),
        tmpl("\"sourceApp\": \"ok-app\", \"namePrefix\": \"Has_Caps\"", "spec.template.namePrefix"),
        tmpl(
            "\"sourceApp\": \"ok-app\", \"namePrefix\": \"" + "p".repeat(24) + "\"",
            "spec.template.namePrefix"),
        tmpl(
            "\"sourceApp\": \"ok-app\", \"configVars\": {\"1BAD\": \"x\"}",
            "spec.template.configVars.1BAD"),
        tmpl(
            "\"sourceApp\": \"ok-app\", \"configVars\": {\"DYNOFLEET_POOL\": \"x\"}",
            "spec.template.configVars.DYNOFLEET_POOL"),
        // audit 20 H2: the pool's secret is Dynofleet's, and never in a spec the API shows
        tmpl(
            "\"sourceApp\": \"ok-app\", \"configVars\": {\"DYNOFLEET_PROXY_SECRET\": \"x\"}",
            "spec.template.configVars.DYNOFLEET_PROXY_SECRET"),
        tmpl("\"sourceApp\": \"ok-app\", \"configVars\": {\"N\": 1}", "spec.template.configVars.N"),
        // audit 17: Heroku's 32 kB for all of an app's
        // config vars, and its app names' last character
        tmpl(
            "\"sourceApp\": \"ok-app\", \"configVars\": {\"A\": \""
                + "a".repeat(17_000)
                + "\", \"B\": \""
                + "b".repeat(17_000)
                + "\"}",
            "spec.template.configVars"),
        tmpl("\"sourceApp\": \"demo-\"", "spec.template.sourceApp"),
        tmpl("\"region\": \"us\"", "spec.template.sourceApp"),
        tmpl(
            "\"sourceApp\": \"ok-app\", \"restartedAt\": \"two words\"",
            "spec.template.restartedAt"),
        tmpl("\"sourceApp\": \"ok-app\", \"restartedAt\": 5", "spec.template.restartedAt"),
        tmpl(
            "\"sourceApp\": \"ok-app\", \"restartedAt\": \"" + "x".repeat(65) + "\"",
            "spec.template.restartedAt"),
        spec("\"healthCheck\": {\"path\": \"nohead\"}", "spec.healthCheck.path"),
        spec("\"healthCheck\": {\"path\": \"/a b\"}", "spec.healthCheck.path"),
        spec("\"healthCheck\": {\"intervalSeconds\": 0}", "spec.healthCheck.intervalSeconds"),
        spec(
            "\"healthCheck\": {\"intervalSeconds\": 5, \"timeoutSeconds\": 6}",
            "spec.healthCheck.timeoutSeconds"),
        spec("\"healthCheck\": {\"timeoutSeconds\": 11}", "spec.healthCheck.timeoutSeconds"),
        spec("\"rollout\": {\"maxSurge\": 0}", "spec.rollout"),
        spec("\"healthCheck\": {\"healthyThreshold\": 11}", "spec.healthCheck.healthyThreshold"),
        spec("\"healthCheck\": {\"unhealthyThreshold\": 0}", "spec.healthCheck.unhealthyThreshold"),
        spec(
            "\"healthCheck\": {\"replaceAfterSeconds\": 5}",
            "spec.healthCheck.replaceAfterSeconds"),
        spec("\"rollout\": {\"maxSurge\": 0, \"maxUnavailable\": 0}", "spec.rollout"),
        spec("\"rollout\": {\"maxSurge\": -2}", "spec.rollout.maxSurge"),
        spec("\"routing\": {\"hosts\": [\"bad host\"]}", "spec.routing.hosts[0]"),
        spec("\"routing\": {\"hosts\": \"x.com\"}", "spec.routing.hosts"),
        spec("\"routing\": {\"algorithm\": \"fastest\"}", "spec.routing.algorithm"),
        spec("\"routing\": {\"timeoutSeconds\": 0}", "spec.routing.timeoutSeconds"),
        spec("\"routing\": {\"retries\": 4}", "spec.routing.retries"),
        spec("\"routing\": {\"maxInFlightPerBackend\": -1}", "spec.routing.maxInFlightPerBackend"),
        spec("\"staticBackends\": [\"ftp://x\"]", "spec.staticBackends[0]"),
        spec("\"staticBackends\": [\"http://\"]", "spec.staticBackends[0]"),
        spec("\"staticBackends\": [\"http://u:p@h.com\"]", "spec.staticBackends[0]"),
        spec("\"staticBackends\": [\"http://h .com\"]", "spec.staticBackends[0]"),
        spec("\"staticBackends\": \"http://x.com\"", "spec.staticBackends"),
        spec(
            "\"staticBackends\": [\"http://a.example\", \"http://b.example\", \"HTTP://A.example:80/\"]",
            "spec.staticBackends[2]"),
        spec(
            "\"staticBackends\": [\"https://a.example/x\", \"https://a.example:443/y\"]",
            "spec.staticBackends[1]"),
        // security review 5 S5-8: the proxy and its probes sent into the dyno's metadata service
        spec(
            "\"staticBackends\": [\"http://169.254.169.254/latest/meta-data/\"]",
            "spec.staticBackends[0]"),
        spec(
            "\"staticBackends\": [\"http://a.example\", \"http://2852039166:80/\"]",
            "spec.staticBackends[1]"),
        spec("\"staticBackends\": [\"http://0xA9FEA9FE/\"]", "spec.staticBackends[0]"),
        spec("\"staticBackends\": [\"https://[fe80::1]:8443/\"]", "spec.staticBackends[0]"),
        spec("\"staticBackends\": [\"http://[fe80::1%25eth0]/\"]", "spec.staticBackends[0]"),
        spec(
            "\"staticBackends\": [\"http://[::ffff:169.254.169.254]/\"]", "spec.staticBackends[0]"),
        // review 25 #7: fetched inside every dyno's network, then served publicly
        page("https://169.254.169.254/latest/meta-data/"),
        page("https://10.0.0.1/"),
        page("https://[::1]/"),
        page("https://localhost/"),
        page("https://LOCALHOST.:8443/down.html"),
        page("https://admin.localhost/"),
        page("https://127.0.0.1:8443/"),
        page("https://0.0.0.0/"),
        page("https://172.16.0.1/"),
        page("https://192.168.1.1/"),
        page("https://100.64.0.1/"),
        page("https://[fd00::1]/"),
        page("https://[fe80::1]/"),
        page("https://[::ffff:10.0.0.1]/"),
        row("\"metadata\": {\"name\": \"%N\"}, \"spec\": {\"pipeline\": \"p-1\"}", "spec"),
        row(
            "\"metadata\": {\"name\": \"%N\"}, \"spec\": {\"template\": {\"sourceApp\": \"a-b\"}}",
            "spec.pipeline"),
        row("\"metadata\": {\"name\": \"%N\"}", "spec"));
  }

  private static Arguments row(String inner, String field) {
    return Arguments.of("{" + inner + "}", field);
  }

  private static Arguments spec(String specExtra, String field) {
    // the defaults a row does not give itself (a key given twice is malformed JSON, not a rule)
    String templ =
        specExtra.contains("staticBackends")
            ? ""
            : (specExtra.contains("\"pipeline\"") ? "" : "\"pipeline\": \"shop\", ")
                + (specExtra.contains("\"template\"")
                    ? ""
                    : "\"template\": {\"sourceApp\": \"shop-web\"}, ");
    return Arguments.of(
        "{\"metadata\": {\"name\": \"%N\"}, \"spec\": {" + templ + specExtra + "}}", field);
  }

  private static Arguments page(String url) {
    return spec(
        "\"routing\": {\"maintenancePageUrl\": \"" + url + "\"}",
        "spec.routing.maintenancePageUrl");
  }

  private static Arguments tmpl(String templateBody, String field) {
    return Arguments.of(
        "{\"metadata\": {\"name\": \"%N\"}, \"spec\": {\"pipeline\": \"shop\", \"template\": {"
            + templateBody
            + "}}}",
        field);
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("invalidSpecs")
  void everyRuleNamesItsFieldAndWritesNothing(String bodyTemplate, String field) {
    String name = uniqueName("v");
    String body = bodyTemplate.replace("%N", name);
    api()
        .body(body)
        .post(POOLS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("status", equalTo(422))
        .body("title", equalTo("Invalid pool"))
        .body("errors.field", hasItem(field));
    api().get(POOLS + "/" + name).then().statusCode(404);
  }

  /**
   * Security review 5 S5-8: a link-local static backend is refused saying why; loopback and private
   * addresses stay allowed (the sandbox and the benchmarks serve from loopback).
   */
  @Test
  void aLinkLocalStaticBackendIsRefusedSayingWhyAndLoopbackIsNot() {
    String name = uniqueName("v");
    api()
        .body(
            """
            {"metadata": {"name": "%s"},
             "spec": {"staticBackends": ["http://10.0.0.1/", "http://169.254.169.254/"]}}"""
                .formatted(name))
        .post(POOLS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("errors.field", org.hamcrest.Matchers.contains("spec.staticBackends[1]"))
        .body("errors[0].message", containsString("link-local"))
        .body("errors[0].message", containsString("169.254.0.0/16"));
    api().get(POOLS + "/" + name).then().statusCode(404);
    try {
      api()
          .body(
              """
              {"metadata": {"name": "%s"},
               "spec": {"staticBackends": ["http://127.0.0.1:9/", "http://[::1]:9/",
                                           "http://10.0.0.1/", "http://192.168.1.1/"]}}"""
                  .formatted(name))
          .post(POOLS)
          .then()
          .statusCode(201);
    } finally {
      api().delete(POOLS + "/" + name);
    }
  }

  @Test
  void allBadFieldsAreNamedAtOnce() {
    String body =
        "{\"metadata\": {\"name\": \"X\"}, \"spec\": {\"pipeline\": \"shop\", \"replicas\": 500,"
            + " \"template\": {\"sourceApp\": \"shop-web\", \"dynoSize\": \"giant\", \"nope\": 1}}}";
    api()
        .body(body)
        .post(POOLS)
        .then()
        .statusCode(422)
        .body("errors.field", hasItem("metadata.name"))
        .body("errors.field", hasItem("spec.replicas"))
        .body("errors.field", hasItem("spec.template.dynoSize"))
        .body("errors.field", hasItem("spec.template.nope"));
  }

  /**
   * Audit 22 L6: a typo got "unknown field" alone; a field that differs from a known one at its
   * place only by case or by two letters at most is answered with that one, in the same {@code
   * field}/{@code message} shape. One far from every known field gets no guess.
   */
  @Test
  void aMisspeltFieldSaysWhichWasMeant() {
    String name = uniqueName("typo");
    String body =
        "{\"metadata\": {\"name\": \""
            + name
            + "\"}, \"spec\": {\"pipeline\": \"shop\", \"replica\": 2, \"healthcheck\": {},"
            + " \"routing\": {\"maintainance\": true}, \"zzzzzz\": 1,"
            + " \"template\": {\"sourceApp\": \"shop-web\", \"dynosize\": \"basic\"}}}";
    var errors =
        api()
            .body(body)
            .post(POOLS)
            .then()
            .statusCode(422)
            .contentType("application/problem+json")
            .extract()
            .jsonPath();
    assertThat(errors.getList("errors", java.util.Map.class))
        .contains(
            java.util.Map.of(
                "field", "spec.replica", "message", "unknown field (did you mean replicas?)"),
            java.util.Map.of(
                "field",
                "spec.healthcheck",
                "message",
                "unknown field (did you mean healthCheck?)"),
            java.util.Map.of(
                "field",
                "spec.routing.maintainance",
                "message",
                "unknown field (did you mean maintenance?)"),
            java.util.Map.of(
                "field",
                "spec.template.dynosize",
                "message",
                "unknown field (did you mean dynoSize?)"),
            java.util.Map.of("field", "spec.zzzzzz", "message", "unknown field"));
    api()
        .body("{\"Replicas\": 2}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(422)
        .body("errors.message", hasItem("unknown field (did you mean replicas?)"));
    api().get(POOLS + "/" + name).then().statusCode(404);
  }

  /**
   * Audit 20 H1: {@code spec.routing.httpsRedirect} is a boolean, like the other switches: any
   * other value is refused by name; {@code false} is taken and read back.
   */
  @Test
  void httpsRedirectIsTrueOrFalse() {
    for (String bad : new String[] {"\"yes\"", "\"false\"", "0", "{}"}) {
      String name = uniqueName("https");
      api()
          .body(
              pool(name, 1)
                  .replace(
                      "\"basic\"}", "\"basic\"}, \"routing\": {\"httpsRedirect\": " + bad + "}"))
          .post(POOLS)
          .then()
          .statusCode(422)
          .contentType("application/problem+json")
          .body("errors.field", hasItem("spec.routing.httpsRedirect"))
          .body("errors.message", hasItem("must be true or false"));
      api().get(POOLS + "/" + name).then().statusCode(404);
    }
    String name = uniqueName("https");
    api()
        .body(
            pool(name, 1)
                .replace("\"basic\"}", "\"basic\"}, \"routing\": {\"httpsRedirect\": false}"))
        .post(POOLS)
        .then()
        .statusCode(201)
        .body("spec.routing.httpsRedirect", equalTo(false));
  }

  /** Review 6: scaling an eco pool past one backend uses up the account's eco hours. */
  @Test
  void anEcoPoolCannotScalePastOne() {
    String name = uniqueName("eco");
    api().body(pool(name, 1).replace("\"basic\"", "\"eco\"")).post(POOLS).then().statusCode(201);
    api()
        .body("{\"replicas\": 2}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("errors.field", hasItem("replicas"))
        .body("errors[0].message", org.hamcrest.Matchers.containsString("1000 hours"));
    api().get(POOLS + "/" + name).then().statusCode(200).body("spec.replicas", equalTo(1));
  }

  /**
   * Audit 20 M4: backends defaulted to us whatever the source's region. {@code source} is accepted
   * and is the default, stored as such; an unknown region lists what is accepted.
   */
  @Test
  void regionSourceIsTheDefaultAndAnUnknownRegionListsTheAcceptedOnes() {
    String name = uniqueName("region");
    api()
        .body(pool(name, 1))
        .post(POOLS)
        .then()
        .statusCode(201)
        .body("spec.template.region", equalTo("source"));
    api().get(POOLS + "/" + name).then().body("spec.template.region", equalTo("source"));
    for (String region : new String[] {"source", "eu", "us"}) {
      api()
          .body(
              pool(uniqueName("region"), 1)
                  .replace("\"basic\"", "\"basic\", \"region\": \"" + region + "\""))
          .post(POOLS)
          .then()
          .statusCode(201)
          .body("spec.template.region", equalTo(region));
    }
    String mars = uniqueName("region");
    api()
        .body(pool(mars, 1).replace("\"basic\"", "\"basic\", \"region\": \"mars\""))
        .post(POOLS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("errors.field", hasItem("spec.template.region"))
        .body("detail", containsString("[eu, source, us]"))
        .body(
            "errors[0].message", containsString("source (the default) is the source app's region"));
    api().get(POOLS + "/" + mars).then().statusCode(404);
  }

  /**
   * Audit 20 L5: the stage defaulted to production whatever the source app's. {@code source} is
   * accepted and is the default, stored as such; an unknown stage lists what is accepted.
   */
  @Test
  void stageSourceIsTheDefaultAndAnUnknownStageListsTheAcceptedOnes() {
    String name = uniqueName("stage");
    api()
        .body(pool(name, 1))
        .post(POOLS)
        .then()
        .statusCode(201)
        .body("spec.template.stage", equalTo("source"));
    api().get(POOLS + "/" + name).then().body("spec.template.stage", equalTo("source"));
    for (String stage : new String[] {"source", "staging", "production", "development", "review"}) {
      api()
          .body(
              pool(uniqueName("stage"), 1)
                  .replace("\"basic\"", "\"basic\", \"stage\": \"" + stage + "\""))
          .post(POOLS)
          .then()
          .statusCode(201)
          .body("spec.template.stage", equalTo(stage));
    }
    String prod = uniqueName("stage");
    api()
        .body(pool(prod, 1).replace("\"basic\"", "\"basic\", \"stage\": \"prod\""))
        .post(POOLS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("errors.field", hasItem("spec.template.stage"))
        .body("detail", containsString("[development, production, review, source, staging]"))
        .body("errors[0].message", containsString("source (the default) is the source app's own"));
    api().get(POOLS + "/" + prod).then().statusCode(404);
  }

  @Test
  void everyAcceptedSizeAndHobbyAlias() {
    for (String size :
        new String[] {"eco", "basic", "Standard-1X", "standard-2x", "performance-m", "hobby"}) {
      String name = uniqueName("size");
      String expected = size.equalsIgnoreCase("hobby") ? "basic" : size.toLowerCase();
      api()
          .body(pool(name, 1).replace("\"basic\"", "\"" + size + "\""))
          .post(POOLS)
          .then()
          .statusCode(201)
          .body("spec.template.dynoSize", equalTo(expected));
    }
  }

  @Test
  void malformedBodiesAreClear4xx() {
    api()
        .body("{\"metadata\": ")
        .post(POOLS)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("detail", containsString("line"));
    api().body("").post(POOLS).then().statusCode(400).contentType("application/problem+json");
    api().body("[1,2]").post(POOLS).then().statusCode(422);
    api().body("null").post(POOLS).then().statusCode(422);
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("text/plain")
        .body("hi")
        .post(POOLS)
        .then()
        .statusCode(415)
        .contentType("application/problem+json");
    given()
        .header("Authorization", "Bearer " + TOKEN)
        .contentType("application/json")
        .body("{\"x\": \"" + "a".repeat(2 * 1024 * 1024) + "\"}")
        .post(POOLS)
        .then()
        .statusCode(413)
        .contentType("application/problem+json");
    api()
        .get(POOLS + "/does-not-exist")
        .then()
        .statusCode(404)
        .contentType("application/problem+json")
        .body("detail", containsString("does-not-exist"));
    api()
        .get("/_dynofleet/api/v1/nothing-here")
        .then()
        .statusCode(404)
        .contentType("application/problem+json");
    api().body("{}").delete(POOLS).then().statusCode(405).contentType("application/problem+json");
    api()
        .body("{\"replicas\": 1, \"x\": 2}")
        .put(POOLS + "/whatever/scale")
        .then()
        .statusCode(422)
        .body("errors.field", hasItem("x"));
    api()
        .body("{\"replicas\": \"many\"}")
        .put(POOLS + "/whatever/scale")
        .then()
        .statusCode(422)
        .body("errors.field", hasItem("replicas"))
        .body("title", equalTo("Invalid request"));
    // a query parameter is no pool either
    api()
        .get(POOLS + "?limit=0")
        .then()
        .statusCode(422)
        .body("title", equalTo("Invalid request"))
        .body("errors.field", hasItem("limit"));
    api()
        .get(POOLS + "?continue=garbage")
        .then()
        .statusCode(422)
        .body("title", equalTo("Invalid request"));
  }

  /**
   * Audit defect 5: a body with something after the document, or a key given twice, was applied
   * (the rest ignored, the last duplicate winning: {"name":"v1","name":"v2"} made pool v2). Every
   * body-taking route refuses both as malformed JSON and writes nothing.
   */
  @Test
  void trailingTokensAndDuplicateKeysAreMalformedOnEveryWrite() {
    String name = uniqueName("strict");
    String other = uniqueName("strict");
    String body = pool(name, 1);
    api()
        .body(body + " {\"x\": 1}")
        .post(POOLS)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("type", containsString("malformed-json"))
        .body("detail", containsString("more after its JSON document"));
    api()
        .body(
            body.replace(
                "\"name\": \"" + name + "\"",
                "\"name\": \"" + name + "\", \"name\": \"" + other + "\""))
        .post(POOLS)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("type", containsString("malformed-json"))
        .body("detail", containsString("the key 'name' twice"));
    api().get(POOLS + "/" + name).then().statusCode(404);
    api().get(POOLS + "/" + other).then().statusCode(404);

    api().body(body).post(POOLS).then().statusCode(201);
    String rv = api().get(POOLS + "/" + name).path("metadata.resourceVersion");
    api()
        .body(pool(name, 2) + "[]")
        .put(POOLS + "/" + name)
        .then()
        .statusCode(400)
        .body("type", containsString("malformed-json"));
    api()
        .body(pool(name, 2).replace("\"replicas\": 2", "\"replicas\": 2, \"replicas\": 3"))
        .put(POOLS + "/" + name)
        .then()
        .statusCode(400)
        .body("type", containsString("malformed-json"));
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\":{\"replicas\":3}} {}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(400)
        .body("type", containsString("malformed-json"));
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\":{\"replicas\":3,\"replicas\":4}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(400)
        .body("type", containsString("malformed-json"));
    api()
        .body("{\"replicas\": 3} 4")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(400)
        .body("type", containsString("malformed-json"));
    api()
        .body("{\"replicas\": 3, \"replicas\": 4}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(400)
        .body("type", containsString("malformed-json"));
    api()
        .get(POOLS + "/" + name)
        .then()
        .body("spec.replicas", equalTo(1))
        .body("metadata.resourceVersion", equalTo(rv));
  }

  /**
   * Audit defect 6: PostgreSQL's jsonb refuses NUL, so a NUL anywhere in a pool was a 500 (whose
   * log quoted the spec); a lone surrogate was stored as '?'. Both are now a 422 naming the field
   * once (a key is shown escaped), and nothing changes.
   */
  @Test
  void nulAndLoneSurrogatesAre422NamingTheFieldOnce() {
    String name = uniqueName("nul");
    String tmpl =
        "{\"metadata\": {\"name\": \"%s\", \"labels\": {\"k\": \"%s\"}}, \"spec\": {\"pipeline\": \"shop\","
            + " \"replicas\": 0, \"template\": {\"sourceApp\": \"shop-web\", \"configVars\": {%s}}}}";
    api()
        .body(tmpl.formatted(name, "v", "\"NUL\": \"a\\u0000b\""))
        .post(POOLS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("errors.size()", equalTo(1))
        .body("errors[0].field", equalTo("spec.template.configVars.NUL"))
        .body("errors[0].message", containsString("NUL"));
    api()
        .body(tmpl.formatted(name, "v", "\"X\": \"\\ud800\""))
        .post(POOLS)
        .then()
        .statusCode(422)
        .body("errors.size()", equalTo(1))
        .body("errors[0].field", equalTo("spec.template.configVars.X"));
    api()
        .body(tmpl.formatted(name, "a\\u0000", "\"X\": \"\\udc00x\""))
        .post(POOLS)
        .then()
        .statusCode(422)
        .body("errors.size()", equalTo(2))
        .body("errors.field", hasItem("metadata.labels.k"))
        .body("errors.field", hasItem("spec.template.configVars.X"));
    api()
        .body(tmpl.formatted(name, "v", "\"A\\u0000\": \"x\", \"B\\ud800\": \"y\""))
        .post(POOLS)
        .then()
        .statusCode(422)
        .body("errors.field", hasItem("spec.template.configVars.A\\u0000"))
        .body("errors.field", hasItem("spec.template.configVars.B\\ud800"));
    api()
        .body(tmpl.formatted(name + "\\u0000", "v", ""))
        .post(POOLS)
        .then()
        .statusCode(422)
        .body("errors.size()", equalTo(1))
        .body("errors[0].field", equalTo("metadata.name"));
    // a valid pair (an emoji) is a character like any other
    api()
        .body(tmpl.formatted(name, "v", "\"E\": \"\\ud83d\\ude00\""))
        .post(POOLS)
        .then()
        .statusCode(201);
    String rv = api().get(POOLS + "/" + name).path("metadata.resourceVersion");

    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\":{\"template\":{\"configVars\":{\"X\":\"\\u0000\"}}}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(422)
        .body("errors[0].field", equalTo("spec.template.configVars.X"));
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\":{\"healthCheck\":{\"path\":\"/\\ud800\"}}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(422)
        .body("errors[0].field", equalTo("spec.healthCheck.path"));
    api()
        .body("{\"replicas\": 1, \"x\\ud800\": 1}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(422)
        .body("errors.field", hasItem("x\\ud800"));
    api()
        .get(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("metadata.resourceVersion", equalTo(rv))
        .body("spec.template.configVars.E", equalTo("\ud83d\ude00"));
  }

  /**
   * The other half of defect 6: a database error's message quotes the data it refused, so the 500
   * it becomes logs its classes, SQL state and frames, never its messages.
   */
  @Test
  void aDatabaseErrorIsLoggedWithoutItsMessages() {
    var lines = new java.util.concurrent.ConcurrentLinkedQueue<String>();
    java.util.logging.Handler capture =
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord record) {
            java.io.StringWriter w = new java.io.StringWriter();
            if (record.getThrown() != null) {
              record.getThrown().printStackTrace(new java.io.PrintWriter(w));
            }
            lines.add(record.getMessage() + " " + w);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    java.util.logging.Logger logger =
        java.util.logging.Logger.getLogger(ProblemMappers.class.getName());
    logger.addHandler(capture);
    try {
      java.sql.SQLException sql =
          new java.sql.SQLException(
              "ERROR: unsupported Unicode escape sequence\n"
                  + "  Where: JSON data, line 1: ...\"configVars\":{\"DB_PASSWORD\":\"hunter2-s3cret",
              "22P05");
      RuntimeException e =
          new jakarta.persistence.PersistenceException(
              "could not execute statement",
              new org.hibernate.exception.DataException(
                  "could not execute statement [" + sql.getMessage() + "]", sql));
      jakarta.ws.rs.core.Response r = new ProblemMappers().unexpected(e, null);
      org.assertj.core.api.Assertions.assertThat(r.getStatus()).isEqualTo(500);
    } finally {
      logger.removeHandler(capture);
    }
    org.assertj.core.api.Assertions.assertThat(String.join("\n", lines))
        .contains("api unexpected error", "DataException", "22P05", "PoolValidationTests")
        .doesNotContain("hunter2", "DB_PASSWORD", "configVars");
  }

  @Test
  void renamingThroughPutOrPatchIsRefused() {
    String name = uniqueName("ren");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    api()
        .body(pool(name + "x", 1))
        .put(POOLS + "/" + name)
        .then()
        .statusCode(422)
        .body("errors.field", hasItem("metadata.name"));
    api()
        .contentType("application/merge-patch+json")
        .body("{\"metadata\":{\"name\":\"other\"}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(422);
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\":{\"replicas\": 1000}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(422)
        .body("errors.field", hasItem("spec.replicas"));
    api()
        .get(POOLS + "/" + name)
        .then()
        .body("spec.replicas", equalTo(1))
        .body("metadata.generation", equalTo(1));
  }

  /** What a create accepts, with defaults filled in, a later patch of another field accepts too. */
  @Test
  void defaultsNeverMakeAStoredPoolInvalid() {
    String name = uniqueName("dflt");
    api()
        .body(
            """
        {"metadata":{"name":"%s"},"spec":{"pipeline":"shop","replicas":1,"template":{"sourceApp":"ok-app"},
         "healthCheck":{"intervalSeconds":1},"rollout":{"maxUnavailable":1}}}"""
                .formatted(name))
        .post(POOLS)
        .then()
        .log()
        .ifValidationFails()
        .statusCode(201)
        .body("spec.healthCheck.timeoutSeconds", equalTo(1));
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\":{\"paused\": true}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("spec.paused", equalTo(true));
  }

  /**
   * A page host the API cannot tell from a public one without a lookup is taken: a name (the proxy
   * checks the address it resolves to before each fetch), a public address written out.
   */
  @Test
  void aMaintenancePageOnAPublicLookingHostIsAccepted() {
    for (String url :
        java.util.List.of(
            "https://pages.example.com/down.html",
            "https://localhost.example.com/",
            "https://93.184.215.14/down.html",
            "https://[2606:4700::1111]/")) {
      String name = uniqueName("page");
      api()
          .body(
              """
              {"metadata":{"name":"%s"},"spec":{"staticBackends":["https://a.example"],
               "routing":{"maintenancePageUrl":"%s"}}}"""
                  .formatted(name, url))
          .post(POOLS)
          .then()
          .log()
          .ifValidationFails()
          .statusCode(201)
          .body("spec.routing.maintenancePageUrl", equalTo(url));
    }
  }
}
