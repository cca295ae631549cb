package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.pool;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Round trips of every endpoint, generation/resourceVersion rules and optimistic concurrency. */
@QuarkusTest
class PoolsApiTests {
  @jakarta.inject.Inject io.dynofleet.pool.model.PoolRepository repository;
  @jakarta.inject.Inject io.dynofleet.proxy.RouteSync routes;

  @Test
  void createReadReplaceAndDefaults() {
    String name = uniqueName("rt");
    api()
        .body(pool(name, 2))
        .post(POOLS)
        .then()
        .statusCode(201)
        .header("Location", startsWith("http"))
        .header("ETag", notNullValue())
        .body("apiVersion", equalTo("dynofleet.io/v1"))
        .body("kind", equalTo("BackendPool"))
        .body("metadata.name", equalTo(name))
        .body("metadata.uid", notNullValue())
        .body("metadata.generation", equalTo(1))
        .body("metadata.creationTimestamp", notNullValue())
        .body("spec.replicas", equalTo(2))
        .body("spec.template.region", equalTo("source"))
        .body("spec.template.stage", equalTo("source"))
        .body("spec.template.namePrefix", equalTo(name))
        .body("spec.healthCheck.path", equalTo("/"))
        .body("spec.rollout.maxSurge", equalTo(1))
        .body("spec.routing.timeoutSeconds", equalTo(30))
        .body("spec.routing.httpsRedirect", equalTo(true))
        .body("spec.routing.maintenance", equalTo(false))
        .body(
            "spec.routing",
            org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasKey("maintenancePageUrl")))
        .body("status.observedGeneration", equalTo(0));

    Response got = api().get(POOLS + "/" + name);
    got.then().statusCode(200).body("metadata.labels.team", equalTo("web"));
    String rv = got.path("metadata.resourceVersion");
    assertThat(got.header("ETag")).isEqualTo("\"" + rv + "\"");

    String replaced = pool(name, 4).replace("\"basic\"", "\"hobby\"");
    api()
        .body(replaced)
        .put(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("metadata.generation", equalTo(2))
        .body("spec.replicas", equalTo(4))
        .body("spec.template.dynoSize", equalTo("basic"));
  }

  @Test
  void generationBumpsOnSpecOnlyResourceVersionOnEveryWrite() {
    String name = uniqueName("gen");
    Response created = api().body(pool(name, 1)).post(POOLS);
    long rv0 = Long.parseLong(created.path("metadata.resourceVersion"));

    Response labels =
        api()
            .contentType("application/merge-patch+json")
            .body("{\"metadata\":{\"labels\":{\"tier\":\"gold\"}}}")
            .patch(POOLS + "/" + name);
    labels
        .then()
        .statusCode(200)
        .body("metadata.generation", equalTo(1))
        .body("metadata.labels.tier", equalTo("gold"))
        .body("metadata.labels.team", equalTo("web"));
    long rv1 = Long.parseLong(labels.path("metadata.resourceVersion"));
    assertThat(rv1).isGreaterThan(rv0);

    Response spec =
        api()
            .contentType("application/merge-patch+json")
            .body("{\"spec\":{\"healthCheck\":{\"path\":\"/healthz\"}}}")
            .patch(POOLS + "/" + name);
    spec.then()
        .statusCode(200)
        .body("metadata.generation", equalTo(2))
        .body("spec.healthCheck.path", equalTo("/healthz"))
        .body("spec.healthCheck.intervalSeconds", equalTo(10));
    long rv2 = Long.parseLong(spec.path("metadata.resourceVersion"));
    assertThat(rv2).isGreaterThan(rv1);

    // writing the same spec again is a no-op: neither counter moves
    Response same =
        api()
            .contentType("application/merge-patch+json")
            .body("{\"spec\":{\"healthCheck\":{\"path\":\"/healthz\"}}}")
            .patch(POOLS + "/" + name);
    same.then().statusCode(200).body("metadata.generation", equalTo(2));
    assertThat(Long.parseLong(same.path("metadata.resourceVersion"))).isEqualTo(rv2);

    api()
        .body("{\"replicas\": 3}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(200)
        .body("spec.replicas", equalTo(3))
        .body("metadata.generation", equalTo(3));
  }

  /**
   * Audit 17 #8: hosts (and static backends) in another order bumped the generation and started a
   * pass, which also lifted a stalled rollout (the stall is kept per generation), so a tool that
   * sorts lists made apps again at a failing release on every apply. Stored as sent, nothing else.
   */
  @Test
  void hostsOrStaticBackendsInAnotherOrderKeepTheGeneration() {
    String name = uniqueName("order");
    String a = name + "-a.example";
    String b = name + "-b.example";
    api()
        .body(
            """
            {"metadata": {"name": "%s"},
             "spec": {"pipeline": "shop", "replicas": 1, "template": {"sourceApp": "shop-web"},
                      "routing": {"hosts": ["%s", "%s"]}}}
            """
                .formatted(name, a, b))
        .post(POOLS)
        .then()
        .statusCode(201);
    Response reordered =
        api()
            .contentType("application/merge-patch+json")
            .body(
                "{\"spec\":{\"routing\":{\"hosts\":[\""
                    + b.toUpperCase(java.util.Locale.ROOT)
                    + "\",\""
                    + a
                    + "\"]}}}")
            .patch(POOLS + "/" + name);
    reordered
        .then()
        .statusCode(200)
        .body("metadata.generation", equalTo(1))
        .body("spec.routing.hosts", contains(b, a));
    // a real change with it is one
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\":{\"replicas\":2,\"routing\":{\"hosts\":[\"" + a + "\"]}}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("metadata.generation", equalTo(2));
    assertThat(
            api()
                .get(POOLS + "/" + name + "/events")
                .jsonPath()
                .getList("findAll { it.reason == 'SpecChanged' }.message", String.class))
        .singleElement()
        .asString()
        .startsWith("generation 1 → 2: replicas 1 → 2; routing.hosts ");

    String fixed = uniqueName("order-static");
    String doc =
        """
        {"metadata": {"name": "%s"},
         "spec": {"staticBackends": [%s], "routing": {"hosts": ["%s.example"]}}}
        """;
    api()
        .body(doc.formatted(fixed, "\"http://127.0.0.1:1\", \"http://127.0.0.1:2\"", fixed))
        .post(POOLS)
        .then()
        .statusCode(201);
    api()
        .body(doc.formatted(fixed, "\"http://127.0.0.1:2\", \"http://127.0.0.1:1\"", fixed))
        .put(POOLS + "/" + fixed)
        .then()
        .statusCode(200)
        .body("metadata.generation", equalTo(1))
        .body("spec.staticBackends", contains("http://127.0.0.1:2", "http://127.0.0.1:1"));
  }

  @Test
  void everySpecChangeIsAnEventThatSaysWhatChangedWithoutConfigValues() {
    String name = uniqueName("chg");
    api().body(pool(name, 2)).post(POOLS).then().statusCode(201);
    api().body("{\"replicas\": 1}").put(POOLS + "/" + name + "/scale").then().statusCode(200);
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\":{\"paused\":true,\"template\":{\"dynoSize\":\"standard-1x\"}}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200);
    api()
        .contentType("application/merge-patch+json")
        .body(
            "{\"spec\":{\"template\":{\"restartedAt\":\"2026-11-25T22:00:00Z\","
                + "\"configVars\":{\"SECRET_TOKEN\":\"hunter2-value\"}}}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200);
    // a label alone, and a write of the same spec, change no spec: no event
    api()
        .contentType("application/merge-patch+json")
        .body("{\"metadata\":{\"labels\":{\"tier\":\"gold\"}}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200);
    api().body("{\"replicas\": 1}").put(POOLS + "/" + name + "/scale").then().statusCode(200);

    Response events = api().get(POOLS + "/" + name + "/events");
    List<String> changes =
        events.jsonPath().getList("findAll { it.reason == 'SpecChanged' }.message", String.class);
    assertThat(changes)
        .containsExactlyInAnyOrder(
            "generation 1 → 2: replicas 2 → 1",
            "generation 2 → 3: paused false → true; template.dynoSize basic → standard-1x",
            "generation 3 → 4: template.configVars changed: SECRET_TOKEN; rollout restart");
    assertThat(events.asString()).doesNotContain("hunter2-value");
    assertThat(
            events.jsonPath().getList("findAll { it.reason == 'SpecChanged' }.type", String.class))
        .containsOnly("Normal");
  }

  @Test
  void statusAndEventsEndpoints() {
    String name = uniqueName("st");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    api()
        .get(POOLS + "/" + name + "/status")
        .then()
        .statusCode(200)
        .body("observedGeneration", equalTo(0))
        .body("readyReplicas", equalTo(0));
    api()
        .get(POOLS + "/" + name + "/events")
        .then()
        .statusCode(200)
        .body("reason", hasItem("Created"))
        .body("[0].count", equalTo(1));
    api()
        .get(POOLS + "/nope-" + name + "/status")
        .then()
        .statusCode(404)
        .contentType("application/problem+json");
  }

  @Test
  void deleteMarksTerminatingAndFreezesSpec() {
    String name = uniqueName("del");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    api()
        .delete(POOLS + "/" + name)
        .then()
        .statusCode(202)
        .body("metadata.deletionTimestamp", notNullValue());
    api()
        .get(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("metadata.deletionTimestamp", notNullValue());
    api()
        .body("{\"replicas\": 5}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(409)
        .body("type", equalTo("https://dynofleet.dev/problems/terminating"));
    api().get(POOLS + "/" + name + "/events").then().body("reason", hasItem("Deleting"));
    api().delete(POOLS + "/nope-" + name).then().statusCode(404);
  }

  /**
   * Audit 24 L4: a POST of the name of a pool being deleted was 409 advising "PUT it to replace
   * it", and that PUT is refused (409 terminating): the answer says the pool is being deleted.
   */
  @Test
  void aCreateWhileThePoolIsDeletedSaysSoAndAdvisesNoPut() {
    String name = uniqueName("redo");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    api()
        .body(pool(name, 1))
        .post(POOLS)
        .then()
        .statusCode(409)
        .body("errors[0].message", containsString("PUT it to replace it"));
    api().delete(POOLS + "/" + name).then().statusCode(202);
    api()
        .body(pool(name, 1))
        .post(POOLS)
        .then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("type", equalTo("https://dynofleet.dev/problems/already-exists"))
        .body(
            "detail",
            equalTo(
                "a pool named '" + name + "' is being deleted: create it again once it is gone"))
        .body("errors[0].field", equalTo("metadata.name"))
        .body("errors[0].message", not(containsString("PUT")));
    api()
        .body(pool(name, 2))
        .put(POOLS + "/" + name)
        .then()
        .statusCode(409)
        .body("type", equalTo("https://dynofleet.dev/problems/terminating"));
  }

  @Test
  void duplicateNameIsAConflict() {
    String name = uniqueName("dup");
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    api()
        .body(pool(name, 1))
        .post(POOLS)
        .then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("status", equalTo(409));
  }

  @Test
  void listWithLabelSelectorsAndPaging() {
    String team = uniqueName("t");
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String name = uniqueName("ls");
      names.add(name);
      String body =
          pool(name, 1)
              .replace(
                  "\"team\": \"web\"", "\"team\": \"" + team + "\", \"n\": \"" + (i % 2) + "\"");
      api().body(body).post(POOLS).then().statusCode(201);
    }
    api()
        .queryParam("labelSelector", "team=" + team)
        .get(POOLS)
        .then()
        .statusCode(200)
        .body("kind", equalTo("BackendPoolList"))
        .body("items.size()", equalTo(5));
    api()
        .queryParam("labelSelector", "team=" + team + ",n!=1")
        .get(POOLS)
        .then()
        .body("items.size()", equalTo(3));
    api()
        .queryParam("labelSelector", "team==" + team + ",n=1")
        .get(POOLS)
        .then()
        .body("items.size()", equalTo(2));
    api()
        .queryParam("labelSelector", "team=" + team + ",!n")
        .get(POOLS)
        .then()
        .body("items.size()", equalTo(0));

    Set<String> seen = new TreeSet<>();
    String token = null;
    int pages = 0;
    do {
      var req = api().queryParam("labelSelector", "team=" + team).queryParam("limit", 2);
      if (token != null) {
        req.queryParam("continue", token);
      }
      Response page = req.get(POOLS);
      page.then().statusCode(200);
      List<String> got = page.path("items.metadata.name");
      assertThat(got.size()).isLessThanOrEqualTo(2);
      seen.addAll(got);
      token = page.path("metadata.continue");
      pages++;
    } while (token != null && pages < 10);
    assertThat(seen).containsExactlyInAnyOrderElementsOf(names);
    assertThat(pages).isEqualTo(3);

    api().queryParam("labelSelector", "bad key=x").get(POOLS).then().statusCode(422);
    api().queryParam("continue", "%%%").get(POOLS).then().statusCode(422);
    api().queryParam("limit", 0).get(POOLS).then().statusCode(422);
  }

  /** The ETag of the list of a label's pools (limit as given, or absent), checked weak. */
  private static String listTag(String selector, Integer limit) {
    var req = api().queryParam("labelSelector", selector);
    if (limit != null) {
      req.queryParam("limit", limit);
    }
    String tag = req.get(POOLS).then().statusCode(200).extract().header("ETag");
    assertThat(tag).startsWith("W/\"");
    return tag;
  }

  /**
   * Audit 21 L2: each dashboard tab read every pool's whole document every 2 s. The list has a weak
   * ETag: 304 without a body while none of its pools changed; a create, a status write (the
   * reconciler's, no spec change), a delete or a pool gone make a new one; another query has its
   * own.
   */
  @Test
  void theListAnswers304WhileItsPoolsAreUnchangedAndANewTagOnceOneIsAddedWrittenOrGone() {
    String team = uniqueName("etag");
    String selector = "team=" + team;
    String a = uniqueName("eta");
    String b = uniqueName("etb");
    api().body(pool(a, 1).replace("\"team\": \"web\"", "\"team\": \"" + team + "\"")).post(POOLS);
    String tag = listTag(selector, null);
    Response same =
        api().queryParam("labelSelector", selector).header("If-None-Match", tag).get(POOLS);
    same.then().statusCode(304).header("ETag", tag);
    assertThat(same.asString()).as("no body").isEmpty();
    api()
        .queryParam("labelSelector", selector)
        .header("If-None-Match", "\"x\", " + tag.substring(2))
        .get(POOLS)
        .then()
        .statusCode(304);

    api().body(pool(b, 1).replace("\"team\": \"web\"", "\"team\": \"" + team + "\"")).post(POOLS);
    String created = listTag(selector, null);
    assertThat(created).as("a pool created").isNotEqualTo(tag);
    api()
        .queryParam("labelSelector", selector)
        .header("If-None-Match", tag)
        .get(POOLS)
        .then()
        .statusCode(200)
        .body("items.size()", equalTo(2));

    io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
        .run(
            () ->
                repository.writeStatus(
                    repository.findByName(a).orElseThrow().id,
                    io.dynofleet.pool.model.PoolStatus.empty(),
                    java.time.Instant.now()));
    String statusWritten = listTag(selector, null);
    assertThat(statusWritten).as("a status written").isNotEqualTo(created);

    assertThat(listTag(selector, 1)).as("another limit").isNotEqualTo(statusWritten);
    assertThat(listTag(selector + ",n!=1", null))
        .as("another selector")
        .isNotEqualTo(statusWritten);

    api().delete(POOLS + "/" + b).then().statusCode(202);
    String deleting = listTag(selector, null);
    assertThat(deleting).as("a pool being deleted").isNotEqualTo(statusWritten);
    io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
        .run(() -> repository.delete("name", b));
    String gone = listTag(selector, null);
    assertThat(gone).as("a pool gone").isNotEqualTo(deleting).isNotEqualTo(tag);
    api()
        .queryParam("labelSelector", selector)
        .header("If-None-Match", gone)
        .get(POOLS)
        .then()
        .statusCode(304);
  }

  /**
   * Audit defect 3: a limit JAX-RS could not convert to Integer was a 404 "no such resource", which
   * a script reads as "the pool does not exist".
   */
  @Test
  void aNonIntegerLimitIs422NamingLimit() {
    String name = uniqueName("lim");
    api().body(pool(name, 0)).post(POOLS).then().statusCode(201);
    for (String limit : List.of("abc", "1.5", "1e2", "99999999999")) {
      api()
          .queryParam("limit", limit)
          .get(POOLS)
          .then()
          .statusCode(422)
          .contentType("application/problem+json")
          .body("detail", equalTo("limit: must be a whole number from 1 to 500"))
          .body("errors[0].field", equalTo("limit"));
      api()
          .queryParam("limit", limit)
          .get(POOLS + "/" + name + "/events")
          .then()
          .statusCode(422)
          .contentType("application/problem+json")
          .body("errors[0].field", equalTo("limit"));
    }
    api().queryParam("limit", "2").get(POOLS + "/" + name + "/events").then().statusCode(200);
  }

  @jakarta.inject.Inject io.dynofleet.sandbox.Simulator simulator;

  /** The same for the sandbox's slow fault: {@code ms=abc} names ms and breaks nothing. */
  @Test
  void aNonIntegerSlowFaultDelayIs400NamingMs() {
    String app = uniqueName("ms-src");
    simulator.createSourceApp(app);
    for (String ms : List.of("abc", "1.5", "-1")) {
      api()
          .post("/_dynofleet/api/v1/sandbox/apps/" + app + "/faults/slow?ms=" + ms)
          .then()
          .statusCode(400)
          .contentType("application/problem+json")
          .body("detail", equalTo("ms: must be a whole number from 0 to 600000"));
    }
    io.restassured.RestAssured.given()
        .get(simulator.app(app).webUrl() + "health")
        .then()
        .statusCode(200);
    api()
        .post("/_dynofleet/api/v1/sandbox/apps/" + app + "/faults/slow?ms=0")
        .then()
        .statusCode(200);
  }

  /**
   * Audit defect 7: a 405 said "allowed: null" and sent no Allow header (RFC 9110 requires one).
   */
  @Test
  void methodNotAllowedSendsAllowAndListsTheMethods() {
    String name = uniqueName("allow");
    api().body(pool(name, 0)).post(POOLS).then().statusCode(201);
    String[][] cases = {
      {"DELETE", POOLS, "GET, HEAD, OPTIONS, POST"},
      {"GET", POOLS + "/" + name + "/scale", "OPTIONS, PUT"},
      {"POST", POOLS + "/" + name, "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"},
      {"POST", POOLS + "/" + name + "/events", "GET, HEAD, OPTIONS"},
      {"GET", "/_dynofleet/api/v1/hooks/heroku", "OPTIONS, POST"},
    };
    for (String[] c : cases) {
      api()
          .request(c[0], c[1])
          .then()
          .statusCode(405)
          .contentType("application/problem+json")
          .header("Allow", equalTo(c[2]))
          .body("detail", equalTo("this resource answers " + c[2]));
    }
    api().get(POOLS + "/" + name).then().statusCode(200); // unchanged by any of it
  }

  /**
   * OPTIONS answered every path of a resource class with the methods of the whole class: {@code
   * /pools/x/scale} said it took GET, POST, PATCH and DELETE, {@code /pools} PUT and DELETE. Now
   * the path's own, as a 405 lists them.
   */
  @Test
  void optionsListsThePathsOwnMethods() {
    String name = uniqueName("options");
    api().body(pool(name, 0)).post(POOLS).then().statusCode(201);
    String[][] cases = {
      {POOLS, "GET, HEAD, OPTIONS, POST"},
      {POOLS + "/", "GET, HEAD, OPTIONS, POST"},
      {POOLS + "/" + name, "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"},
      {POOLS + "/" + name + "/scale", "OPTIONS, PUT"},
      {POOLS + "/" + name + "/status", "GET, HEAD, OPTIONS"},
      {POOLS + "/" + name + "/events", "GET, HEAD, OPTIONS"},
      {"/_dynofleet/api/v1/hooks/heroku", "OPTIONS, POST"},
      {"/_dynofleet/api/v1/info", "GET, HEAD, OPTIONS"},
    };
    for (String[] c : cases) {
      api().options(c[0]).then().statusCode(200).header("Allow", equalTo(c[1]));
    }
    api().options("/_dynofleet/api/v1/unknown").then().statusCode(404);
  }

  /**
   * A client that accepts only problem documents ({@code Accept: application/problem+json}, as some
   * RFC 9457 clients send for error handling) got 406 for every request, so the 404 or 422 it asked
   * about never reached it. Errors now answer it their problem; a success its JSON document (RFC
   * 9110 12.5.1 lets a server disregard Accept: the problem type is JSON too). A client accepting
   * no JSON at all still gets 406.
   */
  @Test
  void aClientAcceptingOnlyProblemsGetsTheProblem() {
    String name = uniqueName("accept");
    api()
        .accept("application/problem+json")
        .get(POOLS + "/" + name)
        .then()
        .statusCode(404)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("not-found"));
    api()
        .accept("application/problem+json")
        .body("{\"metadata\": {}}")
        .post(POOLS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("invalid"));
    api()
        .accept("application/problem+json; q=0.9")
        .body(pool(name, 0))
        .post(POOLS)
        .then()
        .statusCode(201)
        .contentType(org.hamcrest.Matchers.startsWith("application/json"));
    api()
        .accept("application/problem+json")
        .get(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("metadata.name", equalTo(name));
    api()
        .accept("application/xml")
        .get(POOLS + "/" + name)
        .then()
        .statusCode(406)
        .contentType("application/problem+json");
    api().accept("application/problem+json;q=0").get(POOLS + "/" + name).then().statusCode(406);
  }

  /**
   * Audit defect 8: "team in (shop,x)" was split at its comma into two bad keys: "2 fields are
   * invalid", the same key error twice, titled "Invalid pool". Now one error saying what is
   * supported.
   */
  @Test
  void setBasedSelectorsGetOneErrorNamingTheSupportedForms() {
    for (String sel : List.of("team in (shop,x)", "team notin (x)", "team in(x)", "(team)")) {
      api()
          .queryParam("labelSelector", sel)
          .get(POOLS)
          .then()
          .statusCode(422)
          .contentType("application/problem+json")
          .body("title", equalTo("Invalid label selector"))
          .body("errors.size()", equalTo(1))
          .body("errors[0].field", equalTo("labelSelector"))
          .body(
              "detail",
              equalTo(
                  "labelSelector: set-based selectors (in, notin) are not supported;"
                      + " use k=v, k==v, k!=v, k (has k) or !k (has no k), joined by ','"));
    }
    api()
        .queryParam("labelSelector", "bad key=x,other bad=y")
        .get(POOLS)
        .then()
        .statusCode(422)
        .body("title", equalTo("Invalid label selector"))
        .body("errors.size()", equalTo(1));
  }

  /**
   * Audit defect 9: a write answered with nanosecond timestamps from memory while PostgreSQL keeps
   * microseconds, so the next GET differed from the write's answer. Every write's document now
   * equals the one a GET returns right after it.
   */
  @Test
  void everyWritesAnswerEqualsTheNextGet() {
    String name = uniqueName("echo");
    String path = POOLS + "/" + name;
    // three rounds: a write whose nanoseconds happen to be whole microseconds (1 in 1000) hides it
    for (int round = 0; round < 3; round++) {
      String n = name + "-" + round;
      Response created = api().body(pool(n, 1)).post(POOLS);
      created.then().statusCode(201);
      assertThat(created.jsonPath().getMap(""))
          .isEqualTo(api().get(POOLS + "/" + n).jsonPath().getMap(""));
      Response deleted = api().delete(POOLS + "/" + n);
      deleted.then().statusCode(202);
      assertThat(deleted.jsonPath().getMap(""))
          .isEqualTo(api().get(POOLS + "/" + n).jsonPath().getMap(""));
    }
    api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
    Response replaced = api().body(pool(name, 2)).put(path);
    assertThat(replaced.jsonPath().getMap("")).isEqualTo(api().get(path).jsonPath().getMap(""));
    Response patched =
        api()
            .contentType("application/merge-patch+json")
            .body("{\"metadata\":{\"labels\":{\"x\":\"y\"}}}")
            .patch(path);
    assertThat(patched.jsonPath().getMap("")).isEqualTo(api().get(path).jsonPath().getMap(""));
    Response scaled = api().body("{\"replicas\": 3}").put(path + "/scale");
    assertThat(scaled.jsonPath().getMap("")).isEqualTo(api().get(path).jsonPath().getMap(""));
  }

  @Test
  void ifMatchStaleAnswers412AndChangesNothing() {
    String name = uniqueName("im");
    Response created = api().body(pool(name, 1)).post(POOLS);
    String etag = created.header("ETag");
    String createdRv = created.path("metadata.resourceVersion");
    api()
        .header("If-Match", etag)
        .body("{\"replicas\": 2}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(200);
    api()
        .header("If-Match", etag)
        .body("{\"replicas\": 7}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(412)
        .contentType("application/problem+json");
    api().get(POOLS + "/" + name).then().body("spec.replicas", equalTo(2));
    // a stale resourceVersion in a PUT body is a conflict, as in Kubernetes
    String body =
        pool(name, 9)
            .replace("\"labels\"", "\"resourceVersion\": \"" + createdRv + "\", \"labels\"");
    api().body(body).put(POOLS + "/" + name).then().statusCode(409);
    api().get(POOLS + "/" + name).then().body("spec.replicas", equalTo(2));
  }

  @jakarta.inject.Inject io.dynofleet.reconcile.Reconciler reconciler;

  static String staticPool(String name, String host) {
    return """
        {"metadata": {"name": "%s", "labels": {"v": "%s"}},
         "spec": {"staticBackends": ["http://127.0.0.1:1"], "routing": {"hosts": ["%s"]}}}
        """
        .formatted(name, host, host);
  }

  /**
   * Audit (2026-11-24, second round): resourceVersion restarted at 0 for every pool, so a client's
   * stale copy of a deleted pool matched the new pool of the same name once it had had as many
   * writes, and its PUT replaced the new pool's routing and labels.
   */
  @Test
  void aStaleWriteNeverLandsOnAPoolMadeAgainUnderTheSameName() {
    String name = uniqueName("aba");
    Response old = api().body(staticPool(name, "old.example")).post(POOLS);
    old.then().statusCode(201);
    String oldEtag = old.header("ETag");
    String oldUid = old.path("metadata.uid");
    api().delete(POOLS + "/" + name).then().statusCode(202);
    reconciler.reconcile(new io.dynofleet.reconcile.PoolKey(name)); // the finalizer: the row goes
    api().get(POOLS + "/" + name).then().statusCode(404);
    Response fresh = api().body(staticPool(name, "new.example")).post(POOLS);
    fresh.then().statusCode(201);
    assertThat(fresh.header("ETag")).isNotEqualTo(oldEtag);
    // a few writes, as many as the old one had seen and more
    for (int i = 0; i < 3; i++) {
      api()
          .contentType("application/merge-patch+json")
          .body("{\"metadata\":{\"labels\":{\"n\":\"" + i + "\"}}}")
          .patch(POOLS + "/" + name)
          .then()
          .statusCode(200);
    }
    String stale = staticPool(name, "old.example");
    api().header("If-Match", oldEtag).body(stale).put(POOLS + "/" + name).then().statusCode(412);
    // the old copy as read, uid and all, without If-Match: another object, a conflict
    String withUid = stale.replace("\"labels\"", "\"uid\": \"" + oldUid + "\", \"labels\"");
    api()
        .body(withUid)
        .put(POOLS + "/" + name)
        .then()
        .statusCode(409)
        .body("type", equalTo("https://dynofleet.dev/problems/uid-mismatch"));
    api()
        .get(POOLS + "/" + name)
        .then()
        .body("spec.routing.hosts", hasItem("new.example"))
        .body("metadata.labels.v", equalTo("new.example"));
    // its own uid is fine
    String own =
        stale.replace("\"labels\"", "\"uid\": \"" + fresh.path("metadata.uid") + "\", \"labels\"");
    api().body(own).put(POOLS + "/" + name).then().statusCode(200);
  }

  @Test
  void ifMatchComparesStrongly() {
    String name = uniqueName("weak");
    String etag = api().body(pool(name, 1)).post(POOLS).header("ETag");
    api()
        .header("If-Match", "W/" + etag)
        .body("{\"replicas\": 2}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(412);
    api()
        .header("If-Match", etag)
        .body("{\"replicas\": 2}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(200);
    // a GET revalidates: 304 while unchanged (weak comparison there), the document once it changed;
    // a stale If-Match on a GET is a 412
    String now = api().get(POOLS + "/" + name).header("ETag");
    api()
        .header("If-None-Match", now)
        .get(POOLS + "/" + name)
        .then()
        .statusCode(304)
        .header("ETag", now);
    api().header("If-None-Match", "W/" + now).get(POOLS + "/" + name).then().statusCode(304);
    api()
        .header("If-None-Match", etag)
        .get(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("spec.replicas", equalTo(2));
    api()
        .header("If-Match", etag)
        .get(POOLS + "/" + name)
        .then()
        .statusCode(412)
        .contentType("application/problem+json");
    // * is any current version (RFC 9110 13.1.1); a missing pool is a 404 as without it (13.2.1)
    api()
        .header("If-Match", "*")
        .body("{\"replicas\": 3}")
        .put(POOLS + "/" + name + "/scale")
        .then()
        .statusCode(200)
        .body("spec.replicas", equalTo(3));
    api().header("If-Match", "\"1\", *").get(POOLS + "/" + name).then().statusCode(200);
    api()
        .header("If-Match", "*")
        .body("{\"replicas\": 3}")
        .put(POOLS + "/" + name + "-missing/scale")
        .then()
        .statusCode(404);
  }

  /**
   * An older audit asked what {@code "replicas": null} in a merge patch does: it removes the field,
   * which takes its default (1), as leaving it out of a PUT does (docs/api.md); a field without a
   * default is refused.
   */
  @Test
  void aNullInAMergePatchSetsTheDefault() {
    String name = uniqueName("nullpatch");
    api().body(pool(name, 5)).post(POOLS).then().statusCode(201);
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\": {\"replicas\": null}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("spec.replicas", equalTo(1));
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\": {\"template\": null}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(422);
  }

  @Test
  void twoRacingWritersWithTheSameVersionOneWinsOneGets412() throws Exception {
    for (int round = 0; round < 5; round++) {
      String name = uniqueName("race");
      String etag = api().body(pool(name, 1)).post(POOLS).header("ETag");
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        List<Future<Integer>> results = new ArrayList<>();
        for (int replicas : new int[] {3, 4}) {
          Callable<Integer> write =
              () -> {
                go.await();
                return api()
                    .header("If-Match", etag)
                    .body("{\"replicas\": " + replicas + "}")
                    .put(POOLS + "/" + name + "/scale")
                    .statusCode();
              };
          results.add(pool.submit(write));
        }
        go.countDown();
        List<Integer> codes = new ArrayList<>();
        for (Future<Integer> f : results) {
          codes.add(f.get());
        }
        assertThat(codes).containsExactlyInAnyOrder(200, 412);
        int winner = codes.get(0) == 200 ? 3 : 4;
        api()
            .get(POOLS + "/" + name)
            .then()
            .body("spec.replicas", equalTo(winner))
            .body("metadata.generation", equalTo(2));
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void concurrentUnconditionalPatchesLoseNoUpdate() throws Exception {
    // and with preconditions every version meets (review
    // 22: If-Match: * that lost a race got a 412)
    for (String[] header :
        List.of(
            new String[] {"X-None", "-"},
            new String[] {"If-Match", "*"},
            new String[] {"If-None-Match", "\"1\""})) {
      String name = uniqueName("lost");
      api().body(pool(name, 1)).post(POOLS).then().statusCode(201);
      int writers = 8;
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      try {
        List<Future<Integer>> results = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
          String label = "{\"metadata\":{\"labels\":{\"w" + i + "\":\"x\"}}}";
          results.add(
              pool.submit(
                  () -> {
                    go.await();
                    return api()
                        .contentType("application/merge-patch+json")
                        .header(header[0], header[1])
                        .body(label)
                        .patch(POOLS + "/" + name)
                        .statusCode();
                  }));
        }
        go.countDown();
        for (Future<Integer> f : results) {
          assertThat(f.get()).as(header[0]).isEqualTo(200);
        }
      } finally {
        pool.shutdownNow();
      }
      Response got = api().get(POOLS + "/" + name);
      for (int i = 0; i < writers; i++) {
        assertThat((String) got.path("metadata.labels.w" + i)).as(header[0]).isEqualTo("x");
      }
    }
  }

  /**
   * Docs review: the host and default checks read the other pools with nothing to stop two writes
   * at once from both passing them. Writes that route are serialized, so exactly one wins.
   */
  @Test
  void concurrentPoolsClaimingOneHostOrTheDefaultLetExactlyOneWin() throws Exception {
    String tag = uniqueName("claim");
    for (String routing :
        List.of("\"hosts\": [\"" + tag + ".example.com\"]", "\"default\": true")) {
      // at each round: the first round's writes keep a sole hostless pool the default (stored),
      // as a second pool's write does, so the class run alone found one there (a full run has
      // more pools than one)
      ApiFixtures.noStoredDefault();
      int writers = 8;
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      List<String> names = new ArrayList<>();
      try {
        List<Future<Integer>> results = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
          String name = uniqueName("claim" + i);
          names.add(name);
          String body =
              """
              {"metadata": {"name": "%s"},
               "spec": {"staticBackends": ["http://127.0.0.1:9/"], "routing": {%s}}}
              """
                  .formatted(name, routing);
          results.add(
              pool.submit(
                  () -> {
                    go.await();
                    return api().body(body).post(POOLS).statusCode();
                  }));
        }
        go.countDown();
        List<Integer> codes = new ArrayList<>();
        for (Future<Integer> f : results) {
          codes.add(f.get());
        }
        assertThat(codes).as(routing).containsOnly(201, 409).filteredOn(c -> c == 201).hasSize(1);
      } finally {
        pool.shutdownNow();
        // gone for good, not only marked (no finalizer runs here): a default pool left in the
        // shared test database would be the default of every later test application (review)
        io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
            .run(() -> repository.delete("name in ?1", names));
      }
    }
  }

  /**
   * Audit 20 M4: {@code source} became the region's default, and existing pools keep the region
   * stored: a manifest or pool file that names none, applied again, changes nothing (it took the
   * default, and a pool made in eu then rolled to us).
   */
  @Test
  void aPutThatLeavesTheRegionOutKeepsTheStoredOne() {
    for (String region : List.of("eu", "us")) {
      String name = uniqueName("keep");
      String manifest = pool(name, 1);
      api()
          .body(manifest.replace("\"basic\"", "\"basic\", \"region\": \"" + region + "\""))
          .post(POOLS)
          .then()
          .statusCode(201);
      api()
          .body(manifest)
          .put(POOLS + "/" + name)
          .then()
          .statusCode(200)
          .body("spec.template.region", equalTo(region))
          .body("metadata.generation", equalTo(1));
      api()
          .contentType("application/merge-patch+json")
          .body("{\"spec\": {\"template\": {\"region\": null}}}")
          .patch(POOLS + "/" + name)
          .then()
          .statusCode(200)
          .body("spec.template.region", equalTo("source"));
    }
  }

  /**
   * Audit 24 M2: a pool paused in an incident was resumed by any PUT that left {@code paused} out
   * (an {@code apply} of its manifest, a pool file at every start), with only a new generation to
   * show. It is kept as {@code routing.maintenance} is, also when a PUT says {@code null}; {@code
   * false} resumes it.
   */
  @Test
  void aPutThatLeavesPausedOutKeepsAPause() {
    String name = uniqueName("keep-paused");
    String manifest = pool(name, 1);
    api().body(manifest).post(POOLS).then().statusCode(201);
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\": {\"paused\": true}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("metadata.generation", equalTo(2));
    String twoReplicas = manifest.replace("\"replicas\": 1", "\"replicas\": 2");
    putLeaves(name, manifest, true).body("metadata.generation", equalTo(2));
    putLeaves(name, twoReplicas, true).body("spec.replicas", equalTo(2));
    // null (a generated client's unset optional) is left out in a PUT, unlike in a merge patch
    putLeaves(
        name, twoReplicas.replace("\"replicas\": 2", "\"replicas\": 2, \"paused\": null"), true);
    putLeaves(
        name, twoReplicas.replace("\"replicas\": 2", "\"replicas\": 2, \"paused\": false"), false);
    // and a pool not paused stays so
    putLeaves(name, manifest, false);
  }

  /** PUTs {@code doc} to the pool, which is answered 200 with {@code spec.paused} as given. */
  private static io.restassured.response.ValidatableResponse putLeaves(
      String name, String doc, boolean paused) {
    return api()
        .body(doc)
        .put(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("spec.paused", equalTo(paused));
  }

  /**
   * Audit 20 L5: {@code source} became the stage's default, and existing pools keep the stage
   * stored: a manifest or pool file that names none, applied again, changes nothing (it took the
   * default, and a production pool of a staging source rolled to new apps in staging).
   */
  @Test
  void aPutThatLeavesTheStageOutKeepsTheStoredOne() {
    String name = uniqueName("keep");
    String manifest = pool(name, 1);
    api()
        .body(manifest.replace("\"basic\"", "\"basic\", \"stage\": \"production\""))
        .post(POOLS)
        .then()
        .statusCode(201);
    api()
        .body(manifest)
        .put(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("spec.template.stage", equalTo("production"))
        .body("metadata.generation", equalTo(1));
    api()
        .body(manifest.replace("\"basic\"", "\"basic\", \"stage\": \"staging\""))
        .put(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("spec.template.stage", equalTo("staging"));
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\": {\"template\": {\"stage\": null}}}")
        .patch(POOLS + "/" + name)
        .then()
        .statusCode(200)
        .body("spec.template.stage", equalTo("source"));
  }

  /** A static pool of one backend; {@code routing}: the inside of its routing object. */
  private static String staticPool(String name, java.net.URI backend, String routing) {
    return """
        {"metadata": {"name": "%s"},
         "spec": {"staticBackends": ["%s"], "routing": {%s}}}
        """
        .formatted(name, backend, routing);
  }

  /**
   * Audit 20 H3: a pool without hosts was the default only while it was the only pool, decided at
   * each route load, and its read-back said {@code default: false}. A second pool then took all of
   * its traffic (404 no-pool), without a word. The default is decided when the pool is written, and
   * stored.
   */
  @Test
  void theOnlyPoolWithoutHostsIsStoredAsTheDefaultAndASecondPoolLeavesItSo() {
    ApiFixtures.noPools(); // the rule looks at every pool
    String first = uniqueName("first");
    String second = uniqueName("second");
    try (io.dynofleet.proxy.TestBackends backends = new io.dynofleet.proxy.TestBackends()) {
      String firstBody = staticPool(first, backends.named("first"), "");
      api()
          .body(firstBody)
          .post(POOLS)
          .then()
          .statusCode(201)
          .body("spec.routing.default", equalTo(true));
      routes.sync();
      served("x.example", "first");

      api()
          .body(
              staticPool(
                  second, backends.named("second"), "\"hosts\": [\"" + second + ".example\"]"))
          .post(POOLS)
          .then()
          .statusCode(201)
          .header("Warning", org.hamcrest.Matchers.nullValue())
          .body("spec.routing.default", equalTo(false));
      routes.sync();
      served("x.example", "first");
      served(second + ".example", "second");
      api().get(POOLS + "/" + first).then().body("spec.routing.default", equalTo(true));

      // `apply` of the same manifest, which names no default, keeps it (and changes nothing)
      api()
          .body(firstBody)
          .put(POOLS + "/" + first)
          .then()
          .statusCode(200)
          .body("spec.routing.default", equalTo(true))
          .body("metadata.generation", equalTo(1));
      // a second default is refused, as before
      api()
          .body(staticPool(uniqueName("third"), backends.named("third"), "\"default\": true"))
          .post(POOLS)
          .then()
          .statusCode(409)
          .body("type", org.hamcrest.Matchers.endsWith("/default-taken"));
    } finally {
      ApiFixtures.sql("delete from pools where name in ('" + first + "', '" + second + "')");
      routes.sync();
    }
  }

  /**
   * Review 24 #6: the {@code default: true} stored for the only pool without hosts survived a PUT
   * that gave it hosts, so it stayed the catch-all for every unknown host, which the same document
   * on a fresh store does not give. A PUT with hosts that names no default is defaulted as a create
   * is; one that names it keeps it.
   */
  @Test
  void aPutThatGivesHostsAndNamesNoDefaultEndsTheStoredDefault() {
    ApiFixtures.noPools(); // the rule looks at every pool
    String name = uniqueName("hosts");
    try {
      java.net.URI backend = java.net.URI.create("http://127.0.0.1:9/");
      api()
          .body(staticPool(name, backend, ""))
          .post(POOLS)
          .then()
          .statusCode(201)
          .body("spec.routing.default", equalTo(true));
      String withHosts = "\"hosts\": [\"" + name + ".example\"]";
      api()
          .body(staticPool(name, backend, withHosts))
          .put(POOLS + "/" + name)
          .then()
          .statusCode(200)
          .body("spec.routing.default", equalTo(false))
          .body("metadata.generation", equalTo(2));
      assertThat(
              api()
                  .get(POOLS + "/" + name + "/events")
                  .jsonPath()
                  .getList("findAll { it.reason == 'SpecChanged' }.message", String.class))
          .anyMatch(m -> m.contains("routing.default true → false"));
      api()
          .body(staticPool(name, backend, withHosts + ", \"default\": true"))
          .put(POOLS + "/" + name)
          .then()
          .statusCode(200)
          .body("spec.routing.default", equalTo(true));
      api()
          .body(staticPool(name, backend, ""))
          .put(POOLS + "/" + name)
          .then()
          .statusCode(200)
          .body("spec.routing.default", equalTo(true));
    } finally {
      ApiFixtures.sql("delete from pools where name = '" + name + "'");
    }
  }

  /**
   * Audit 20 H3, for a store written before: the only pool, without hosts and stored with {@code
   * default: false}, is the default by the route load's rule. The write that makes a second pool
   * stores {@code default: true} on it, so it keeps its traffic, and says so: a Warning header on
   * the answer and a SpecChanged event on that pool.
   */
  @Test
  void aSecondPoolStoresTheDefaultOfAPoolThatWasTheDefaultOnlyAsTheOnlyPool() {
    ApiFixtures.noPools();
    String old = uniqueName("old");
    String second = uniqueName("second");
    try (io.dynofleet.proxy.TestBackends backends = new io.dynofleet.proxy.TestBackends()) {
      api().body(staticPool(old, backends.named("old"), "")).post(POOLS).then().statusCode(201);
      // as the release before stored it
      ApiFixtures.sql(
          "update pools set spec = jsonb_set(spec, '{routing,default}', 'false') where name = '"
              + old
              + "'");
      routes.sync();
      served("x.example", "old");

      api()
          .body(
              staticPool(
                  second, backends.named("second"), "\"hosts\": [\"" + second + ".example\"]"))
          .post(POOLS)
          .then()
          .statusCode(201)
          .header(
              "Warning",
              equalTo(
                  "299 - \"pool "
                      + old
                      + " was the default pool only while it was the only pool: routing.default"
                      + " true is now stored on it, so requests for hosts in no pool's"
                      + " routing.hosts still go to it (set routing.default false on "
                      + old
                      + " to stop that)\""));
      routes.sync();
      served("x.example", "old");
      served(second + ".example", "second");
      api()
          .get(POOLS + "/" + old)
          .then()
          .body("spec.routing.default", equalTo(true))
          .body("metadata.generation", equalTo(2));
      assertThat(
              api()
                  .get(POOLS + "/" + old + "/events")
                  .jsonPath()
                  .getList("findAll { it.reason == 'SpecChanged' }.message", String.class))
          .singleElement()
          .asString()
          .contains("generation 1 → 2: routing.default false → true")
          .contains("stored when pool " + second + " was created");
    } finally {
      ApiFixtures.sql("delete from pools where name in ('" + old + "', '" + second + "')");
      routes.sync();
    }
  }

  /** A request for {@code host} through the proxy is answered by the backend {@code backend}. */
  private static void served(String host, String backend) {
    io.restassured.RestAssured.given()
        .header("Host", host)
        .get("/a")
        .then()
        .statusCode(200)
        .header("X-Backend", backend);
  }

  @Test
  void staticPoolRoundTrip() {
    String name = uniqueName("static");
    String body =
        """
        {"metadata": {"name": "%s"},
         "spec": {"staticBackends": ["http://127.0.0.1:9/", "https://example.herokuapp.com"],
                  "routing": {"hosts": ["%s.example.com"], "algorithm": "round-robin"}}}
        """
            .formatted(name, name);
    api()
        .body(body)
        .post(POOLS)
        .then()
        .statusCode(201)
        .body("spec.staticBackends.size()", equalTo(2))
        .body("spec.routing.algorithm", equalTo("round-robin"));
    api().body("{\"replicas\": 2}").put(POOLS + "/" + name + "/scale").then().statusCode(422);
    // the same host on a second pool is refused
    String clash = body.replace("\"name\": \"" + name + "\"", "\"name\": \"" + name + "-b\"");
    api().body(clash).post(POOLS).then().statusCode(409);
  }
}
