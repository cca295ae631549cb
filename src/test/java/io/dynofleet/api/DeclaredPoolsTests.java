package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pool files in config/pools are applied like `dynofleet apply -f`: created, left alone, replaced.
 */
@QuarkusTest
class DeclaredPoolsTests {
  static final Path DIR = Path.of("target/test-pools");

  @Inject DeclaredPools declared;

  @io.quarkus.test.common.http.TestHTTPResource("/")
  java.net.URL base;

  @BeforeEach
  @AfterEach
  void clean() throws IOException {
    if (Files.isDirectory(DIR)) {
      try (Stream<Path> s = Files.walk(DIR)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static String yaml(String name, int replicas) {
    return """
        apiVersion: dynofleet.io/v1
        kind: BackendPool
        metadata:
          name: %s
          labels: {team: gitops}
        spec:
          pipeline: shop
          replicas: %d
          template: {sourceApp: shop-web, dynoSize: hobby}
        """
        .formatted(name, replicas);
  }

  @Test
  void createsLeavesAloneAndReplaces() throws IOException {
    Files.createDirectories(DIR);
    Files.writeString(DIR.resolve("a.yaml"), yaml("git-a", 2));
    Files.writeString(
        DIR.resolve("b.json"),
        """
        {"metadata": {"name": "git-b"}, "spec": {"staticBackends": ["http://127.0.0.1:9/"]}}""");
    Files.writeString(DIR.resolve("notes.txt"), "not a pool");

    assertThat(declared.applyAll()).isEqualTo(2);
    JsonPath a = api().get(POOLS + "/git-a").then().statusCode(200).extract().jsonPath();
    assertThat(a.getInt("spec.replicas")).isEqualTo(2);
    assertThat(a.getString("spec.template.dynoSize")).isEqualTo("basic");
    api().get(POOLS + "/git-b").then().statusCode(200);

    assertThat(declared.applyAll()).isEqualTo(2);
    assertThat(api().get(POOLS + "/git-a").jsonPath().getString("metadata.resourceVersion"))
        .as("an unchanged file writes nothing")
        .isEqualTo(a.getString("metadata.resourceVersion"));

    Files.writeString(DIR.resolve("a.yaml"), yaml("git-a", 5));
    declared.applyAll();
    JsonPath a2 = api().get(POOLS + "/git-a").jsonPath();
    assertThat(a2.getInt("spec.replicas")).isEqualTo(5);
    assertThat(a2.getInt("metadata.generation")).isEqualTo(a.getInt("metadata.generation") + 1);
  }

  @Test
  void aBadFileIsRefusedAndTheOthersStillApply() throws IOException {
    Files.createDirectories(DIR);
    Files.writeString(DIR.resolve("1-bad.yaml"), yaml("git-bad", 1000));
    Files.writeString(DIR.resolve("2-broken.yaml"), "metadata: [unclosed");
    Files.writeString(DIR.resolve("3-good.yaml"), yaml("git-good", 1));

    assertThat(declared.applyAll()).isEqualTo(1);
    api().get(POOLS + "/git-bad").then().statusCode(404);
    api().get(POOLS + "/git-good").then().statusCode(200);
  }

  /**
   * A file that does not parse is refused with where, never with its text (config vars are
   * secrets).
   */
  @Test
  void aBrokenFileIsLoggedWithoutItsContent() throws IOException {
    Files.createDirectories(DIR);
    Files.writeString(
        DIR.resolve("leak.yaml"),
        yaml("git-leak", 1)
            .replace(
                "dynoSize: hobby}",
                "dynoSize: hobby, configVars: {DB_PASSWORD: \"hunter2-s3cret}"));
    Files.writeString(
        DIR.resolve("leak.json"),
        """
        {"metadata": {"name": "git-leakj"}, "spec": {"template": {"configVars": {"K": "hunter2-s3cret}}}}""");
    List<String> lines = new ArrayList<>();
    assertThat(applyLogging(lines)).isZero();
    assertThat(lines)
        .hasSize(2)
        .allMatch(l -> l.contains("pool file refused") && l.contains("line"));
    assertThat(String.join("\n", lines)).doesNotContain("hunter2").doesNotContain("s3cret");
  }

  /** Applies every file; the lines DeclaredPools logged meanwhile go into {@code lines}. */
  private int applyLogging(List<String> lines) {
    try (io.dynofleet.LogCapture logs = io.dynofleet.LogCapture.of(DeclaredPools.class)) {
      int applied = declared.applyAll();
      logs.records().stream().map(io.dynofleet.LogCapture::text).forEach(lines::add);
      return applied;
    }
  }

  /**
   * Audit (2026-11-24, pool files): an export ({@code get pool X -o yaml}) carried uid and
   * resourceVersion, so it applied once and was refused at every later start (a status write moves
   * the version; a pool made again has another uid). What only the server sets is now left out.
   */
  @Test
  void anExportedPoolAppliesAtEveryStartAndWhateverItsUidAndVersion() throws IOException {
    Files.createDirectories(DIR);
    api()
        .body(
            """
        {"metadata": {"name": "git-exp"}, "spec": {"staticBackends": ["http://127.0.0.1:9/"]}}""")
        .post(POOLS)
        .then()
        .statusCode(201);
    String exported = api().get(POOLS + "/git-exp").then().statusCode(200).extract().asString();
    Files.writeString(DIR.resolve("exp.json"), exported);
    api()
        .contentType("application/merge-patch+json")
        .body("{\"metadata\": {\"labels\": {\"moved\": \"on\"}}}")
        // the exported resourceVersion is stale now
        .patch(POOLS + "/git-exp")
        .then()
        .statusCode(200);

    List<String> lines = new ArrayList<>();
    assertThat(applyLogging(lines)).as(String.join("\n", lines)).isEqualTo(1);
    assertThat(api().get(POOLS + "/git-exp").jsonPath().getMap("metadata.labels"))
        .doesNotContainKey("moved");
    // an export of an earlier pool of that name (deleted and made again): another uid
    String uid = api().get(POOLS + "/git-exp").jsonPath().getString("metadata.uid");
    Files.writeString(
        DIR.resolve("exp.json"), exported.replace(uid, java.util.UUID.randomUUID().toString()));
    assertThat(applyLogging(lines)).as(String.join("\n", lines)).isEqualTo(1);
    assertThat(applyLogging(lines)).as("and again, unchanged").isEqualTo(1);
    assertThat(lines).noneMatch(l -> l.contains("refused"));
  }

  /**
   * Audit 24 M1, M2: every start applies the pool files, and a pool paused in an incident was
   * resumed by its file (which leaves {@code paused} out) at the next restart, a maintenance ended
   * by an export's {@code maintenance: false}. A file without the levers keeps them; one that says
   * false still ends them (the file wins), and the log says so.
   */
  @Test
  void aStartKeepsAPauseAndAMaintenanceThatThePoolFileLeavesOut() throws IOException {
    Files.createDirectories(DIR);
    Files.writeString(DIR.resolve("lever.yaml"), yaml("git-lever", 1));
    List<String> lines = new ArrayList<>();
    assertThat(applyLogging(lines)).as(String.join("\n", lines)).isEqualTo(1);
    api()
        .contentType("application/merge-patch+json")
        .body("{\"spec\": {\"paused\": true, \"routing\": {\"maintenance\": true}}}")
        .patch(POOLS + "/git-lever")
        .then()
        .statusCode(200);
    int generation = api().get(POOLS + "/git-lever").jsonPath().getInt("metadata.generation");

    lines.clear();
    assertThat(applyLogging(lines)).as(String.join("\n", lines)).isEqualTo(1);
    JsonPath kept = api().get(POOLS + "/git-lever").jsonPath();
    assertThat(kept.getBoolean("spec.paused")).as("the restart resumed the pool").isTrue();
    assertThat(kept.getBoolean("spec.routing.maintenance")).isTrue();
    assertThat(kept.getInt("metadata.generation")).isEqualTo(generation);
    assertThat(lines).anyMatch(l -> l.contains("pool=git-lever unchanged"));

    // an export taken before this release: both levers written false
    Files.writeString(
        DIR.resolve("lever.yaml"),
        yaml("git-lever", 1)
            .replace("template:", "paused: false\n  routing: {maintenance: false}\n  template:"));
    lines.clear();
    assertThat(applyLogging(lines)).as(String.join("\n", lines)).isEqualTo(1);
    JsonPath ended = api().get(POOLS + "/git-lever").jsonPath();
    assertThat(ended.getBoolean("spec.paused")).isFalse();
    assertThat(ended.getBoolean("spec.routing.maintenance")).isFalse();
    assertThat(lines)
        .anyMatch(l -> l.contains("says spec.paused: false and resumed pool git-lever"))
        .anyMatch(
            l ->
                l.contains(
                    "says spec.routing.maintenance: false and ended the maintenance of pool git-lever"));
  }

  /** A static pool file; {@code routing}: its routing object in YAML flow style. */
  static String staticYaml(String name, String routing) {
    return """
        metadata: {name: %s}
        spec: {staticBackends: ["http://127.0.0.1:9/"], routing: %s}
        """
        .formatted(name, routing);
  }

  /**
   * Audit 20 H3: a pool without hosts was the default only while it was the only pool. A pool file
   * without hosts applied to an empty store is stored as the default, as an API create is, and the
   * next starts apply the file, which names no default, without changing that (nor anything else),
   * also once a second pool exists.
   */
  @Test
  void aPoolFileWithoutHostsIsStoredAsTheDefaultAndTheNextStartsKeepIt() throws IOException {
    ApiFixtures.noPools(); // the rule looks at every pool
    try {
      Files.createDirectories(DIR);
      Files.writeString(DIR.resolve("1-front.yaml"), staticYaml("git-front", "{}"));
      assertThat(declared.applyAll()).isEqualTo(1);
      JsonPath front = api().get(POOLS + "/git-front").jsonPath();
      assertThat(front.getBoolean("spec.routing.default")).isTrue();

      Files.writeString(DIR.resolve("2-api.yaml"), staticYaml("git-api", "{hosts: [api.example]}"));
      assertThat(declared.applyAll()).isEqualTo(2);
      JsonPath again = api().get(POOLS + "/git-front").jsonPath();
      assertThat(again.getBoolean("spec.routing.default")).isTrue();
      assertThat(again.getString("metadata.resourceVersion"))
          .as("an unchanged file writes nothing")
          .isEqualTo(front.getString("metadata.resourceVersion"));
    } finally {
      ApiFixtures.sql("delete from pools where name in ('git-front', 'git-api')");
    }
  }

  /**
   * Review 24 #5: on an empty store, whether the pool file without hosts became the default hung on
   * the file names: a pool with hosts whose file sorted first left it not the default, serving
   * nothing, without a word. Files without hosts that name no default go first; a pool left with
   * neither hosts nor the default is a WARN.
   */
  @Test
  void aSolePoolFileWithoutHostsIsTheDefaultWhateverTheFileNames() throws IOException {
    ApiFixtures.noPools(); // the rule looks at every pool
    try {
      Files.createDirectories(DIR);
      Files.writeString(DIR.resolve("1-api.yaml"), staticYaml("git-api", "{hosts: [api.example]}"));
      Files.writeString(DIR.resolve("2-shop.yaml"), staticYaml("git-shop", "{}"));
      assertThat(declared.applyAll()).isEqualTo(2);
      assertThat(api().get(POOLS + "/git-shop").jsonPath().getBoolean("spec.routing.default"))
          .isTrue();
      assertThat(api().get(POOLS + "/git-api").jsonPath().getBoolean("spec.routing.default"))
          .isFalse();

      Files.writeString(DIR.resolve("3-idle.yaml"), staticYaml("git-idle", "{}"));
      List<String> lines = new ArrayList<>();
      assertThat(applyLogging(lines)).isEqualTo(3);
      assertThat(lines)
          .anyMatch(
              l ->
                  l.contains("3-idle.yaml")
                      && l.contains("pool git-idle has no routing.hosts and is not the default"));
      assertThat(lines).noneMatch(l -> l.contains("pool git-shop has no routing.hosts"));
    } finally {
      ApiFixtures.sql("delete from pools where name in ('git-api', 'git-shop', 'git-idle')");
    }
  }

  /**
   * Audit 20 H3, for a store written before: a second pool made from a file stores the default of
   * the pool that was the default only as the only pool, and the log says so.
   */
  @Test
  void aSecondPoolFromAFileKeepsTheImplicitDefaultAndSaysSo() throws IOException {
    ApiFixtures.noPools();
    try {
      api()
          .body(
              """
          {"metadata": {"name": "git-old"}, "spec": {"staticBackends": ["http://127.0.0.1:9/"],
           "routing": {"default": false}}}""")
          .post(POOLS)
          .then()
          .statusCode(201);
      Files.createDirectories(DIR);
      Files.writeString(DIR.resolve("api.yaml"), staticYaml("git-api", "{hosts: [api.example]}"));
      List<String> lines = new ArrayList<>();
      assertThat(applyLogging(lines)).isEqualTo(1);
      assertThat(api().get(POOLS + "/git-old").jsonPath().getBoolean("spec.routing.default"))
          .isTrue();
      assertThat(lines)
          .anyMatch(
              l ->
                  l.contains("api.yaml")
                      && l.contains(
                          "pool git-old was the default pool only while it was the only"));
    } finally {
      ApiFixtures.sql("delete from pools where name in ('git-old', 'git-api')");
    }
  }

  @Test
  void aHostOrDefaultTakenIsTheFilesProblemSaidAsSuch() throws IOException {
    Files.createDirectories(DIR);
    api()
        .body(
            """
        {"metadata": {"name": "git-owner"}, "spec": {"staticBackends": ["http://127.0.0.1:9/"],
         "routing": {"hosts": ["taken.example"]}}}""")
        .post(POOLS)
        .then()
        .statusCode(201);
    Files.writeString(
        DIR.resolve("claim.yaml"),
        """
        metadata: {name: git-claim}
        spec: {staticBackends: ["http://127.0.0.1:9/"], routing: {hosts: [taken.example]}}
        """);
    List<String> lines = new ArrayList<>();
    assertThat(applyLogging(lines)).isZero();
    assertThat(lines)
        .anyMatch(
            l ->
                l.contains("status=409") && l.contains("taken.example") && l.contains("git-owner"));
    api().delete(POOLS + "/git-owner");
  }

  @Test
  void aReplacingFileLeavesAnEventAndOtherFilesAreNamedWhenSkipped() throws IOException {
    Files.createDirectories(DIR);
    Files.writeString(DIR.resolve("UPPER.YAML"), yaml("git-upper", 1));
    Files.writeString(DIR.resolve("readme.md"), "not a pool");
    Files.writeString(
        DIR.resolve("many.yaml"),
        yaml("git-many", 1000).replace("dynoSize: hobby", "dynoSize: huge"));
    List<String> lines = new ArrayList<>();
    assertThat(applyLogging(lines)).isEqualTo(1);
    assertThat(lines)
        .anyMatch(l -> l.contains("skipped") && l.contains("readme.md"))
        .anyMatch(
            l ->
                l.contains("many.yaml")
                    && l.contains("spec.replicas")
                    && l.contains("spec.template.dynoSize"));
    api().body("{\"replicas\": 3}").put(POOLS + "/git-upper/scale").then().statusCode(200);
    // files win over the change: said in the pool's events
    assertThat(applyLogging(lines)).isEqualTo(1);
    assertThat(api().get(POOLS + "/git-upper").jsonPath().getInt("spec.replicas")).isEqualTo(1);
    assertThat(api().get(POOLS + "/git-upper/events").jsonPath().getList("reason", String.class))
        .contains("Applied");
  }

  /**
   * Audit (today's behaviours): two files for one pool were both applied, the last one winning.
   * Audit 12: then the first in sort order claimed the name, so a bad file blocked a good one and
   * the refusal named only one of them. Now neither applies, and both are named.
   */
  @Test
  void aPoolDeclaredInTwoFilesIsAppliedFromNeitherAndBothAreNamed() throws IOException {
    Files.createDirectories(DIR);
    Files.writeString(
        DIR.resolve("A-twice.YML"),
        yaml("git-twice", 1).replace("dynoSize: hobby", "dynoSize: huge"));
    Files.writeString(DIR.resolve("b-twice.yaml"), yaml("git-twice", 2));
    List<String> lines = new ArrayList<>();
    assertThat(applyLogging(lines)).isZero();
    assertThat(
            lines.stream()
                .filter(
                    l ->
                        l.contains(
                            "declared in A-twice.YML and b-twice.yaml: none of them is applied")))
        .hasSize(2);
    api().get(POOLS + "/git-twice").then().statusCode(404);
  }

  /**
   * Audit 12: nothing said a pool was kept in a file, so a scale from the dashboard or the CLI
   * seemed to work and was undone at the next start (at least daily on Heroku).
   */
  @Test
  void aWriteToAPoolKeptInAFileIsWarnedAndItsCreationSaysWhere() throws IOException {
    Files.createDirectories(DIR);
    Files.writeString(DIR.resolve("kept.yaml"), yaml("git-kept", 1));
    assertThat(declared.applyAll()).isEqualTo(1);
    assertThat(api().get(POOLS + "/git-kept/events").jsonPath().getList("message", String.class))
        .anyMatch(m -> m.contains("created from kept.yaml in the pool files"));
    String warning =
        api()
            .body("{\"replicas\": 3}")
            .put(POOLS + "/git-kept/scale")
            .then()
            .statusCode(200)
            .extract()
            .header("Warning");
    assertThat(warning)
        .startsWith("299 - \"pool git-kept is kept in ")
        .contains("kept.yaml", "the file replaces this change at the next start");
    assertThat(
            api()
                .contentType("application/merge-patch+json")
                .body("{\"spec\":{\"paused\":true}}")
                .patch(POOLS + "/git-kept")
                .then()
                .statusCode(200)
                .extract()
                .header("Warning"))
        .isEqualTo(warning);
    // the CLI prints it, as kubectl prints a server's warnings
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int code =
        io.dynofleet.cli.Cli.run(
            new String[] {"scale", "pool", "git-kept", "--replicas", "2"},
            java.util.Map.of(
                "DYNOFLEET_URL", base.toString(), "DYNOFLEET_API_TOKEN", ApiFixtures.TOKEN),
            new java.io.PrintStream(out, true),
            new java.io.PrintStream(err, true));
    assertThat(code).as(err.toString()).isZero();
    assertThat(err.toString())
        .contains("warning: pool git-kept is kept in ", "kept.yaml", "change the file instead");
    // a pool no file keeps: no warning
    String other = "api-only-" + System.nanoTime() % 100000;
    api()
        .body(
            "{\"metadata\":{\"name\":\""
                + other
                + "\"},\"spec\":{\"staticBackends\":[\"http://127.0.0.1:9/\"]}}")
        .post(POOLS)
        .then()
        .statusCode(201);
    assertThat(
            api()
                .contentType("application/merge-patch+json")
                .body("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}")
                .patch(POOLS + "/" + other)
                .then()
                .statusCode(200)
                .extract()
                .header("Warning"))
        .isNull();
  }

  /** A key given twice, or a second document, is refused as the API refuses it (audit defect 5). */
  @Test
  void aFileWithAKeyTwiceOrASecondDocumentIsRefused() throws IOException {
    Files.createDirectories(DIR);
    Files.writeString(
        DIR.resolve("dup.yaml"),
        yaml("git-dup1", 1).replace("  name: git-dup1\n", "  name: git-dup1\n  name: git-dup2\n"));
    Files.writeString(DIR.resolve("two.yaml"), yaml("git-two1", 1) + "---\n" + yaml("git-two2", 1));
    Files.writeString(
        DIR.resolve("dup.json"),
        """
        {"metadata": {"name": "git-dupj1", "name": "git-dupj2"}, "spec": {"staticBackends": ["http://127.0.0.1:9/"]}}""");

    assertThat(declared.applyAll()).isZero();
    for (String name :
        new String[] {"git-dup1", "git-dup2", "git-two1", "git-two2", "git-dupj1", "git-dupj2"}) {
      api().get(POOLS + "/" + name).then().statusCode(404);
    }
  }
}
