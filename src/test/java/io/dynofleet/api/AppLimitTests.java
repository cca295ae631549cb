package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import io.dynofleet.LogCapture;
import io.dynofleet.heroku.HerokuConfig;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The account's app limit ({@code dynofleet.heroku.app-limit}) at its default, Heroku's 100: the
 * other tests run with none to speak of, as the pools every test class leaves in the shared
 * database would reach any real one together and give their creates an {@code AppLimit} warning.
 */
@QuarkusTest
@TestProfile(AppLimitTests.DefaultLimit.class)
class AppLimitTests {
  static final Path DIR = Path.of("target/app-limit-pools");

  /** A paused pool file of pipeline shop: its name and replicas to format in. */
  private static final String POOL_FILE =
      """
      metadata: {name: %s}
      spec:
        pipeline: shop
        replicas: %d
        paused: true
        template: {sourceApp: shop-web}
      """;

  /** The test profile's own limit undone: the setting's default, read from its declaration. */
  public static class DefaultLimit implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "dynofleet.heroku.app-limit", DEFAULT, "dynofleet.api.pools-dir", DIR.toString());
    }
  }

  static final String DEFAULT;

  static {
    try {
      DEFAULT =
          HerokuConfig.class
              .getMethod("appLimit")
              .getAnnotation(io.smallrye.config.WithDefault.class)
              .value();
    } catch (NoSuchMethodException e) {
      throw new AssertionError(e);
    }
  }

  @Inject DeclaredPools declared;

  @Test
  void theLimitIsTheDefault() {
    assertThat(DEFAULT).isEqualTo("100");
  }

  /**
   * t23: a pool file whose replicas and surge are above the app limit is refused at start (replicas
   * 100 is within the field's range, and the default maxSurge 1 makes 101 apps). The other files
   * apply; the refused one says in one line which fields, why, and what to change, not "2 fields
   * are invalid" followed by the same sentence twice.
   */
  @Test
  void aPoolFileAboveTheAppLimitIsRefusedSayingWhatToChange() throws IOException {
    String big = uniqueName("limit-file");
    String small = uniqueName("limit-file-ok");
    String yaml = POOL_FILE;
    Files.createDirectories(DIR);
    try {
      Files.writeString(DIR.resolve("big.yaml"), yaml.formatted(big, 100));
      Files.writeString(DIR.resolve("small.yaml"), yaml.formatted(small, 2));
      List<String> lines;
      try (LogCapture logs = LogCapture.of(DeclaredPools.class)) {
        assertThat(declared.applyAll()).isEqualTo(1);
        lines = logs.records().stream().map(LogCapture::text).toList();
      }
      api().get(POOLS + "/" + big).then().statusCode(404);
      api().get(POOLS + "/" + small).then().statusCode(200);
      assertThat(lines)
          .filteredOn(l -> l.contains("big.yaml"))
          .singleElement()
          .satisfies(
              l ->
                  assertThat(l)
                      .startsWith("pool file refused: file=" + DIR.resolve("big.yaml"))
                      .contains(
                          "spec.replicas and spec.rollout.maxSurge: replicas 100 plus the rollout's"
                              + " surge 1")
                      .contains("make 101 apps, above the account's app limit 100")
                      .contains("lower replicas")
                      .doesNotContain("fields are invalid"));
    } finally {
      api().delete(POOLS + "/" + small);
      try (java.util.stream.Stream<Path> s = Files.list(DIR)) {
        for (Path f : s.toList()) Files.delete(f);
      }
    }
  }

  /**
   * A pool file applied as a replace that takes the pools together above the app limit is warned of
   * in the log as a create from a file is: it said nothing (the answer's Warning had no reader).
   */
  @Test
  void aPoolFileReplaceTakingThePoolsAboveTheAppLimitIsWarnedOf() throws IOException {
    String wide = uniqueName("limit-file-wide");
    String kept = uniqueName("limit-file-kept");
    String yaml = POOL_FILE;
    Files.createDirectories(DIR);
    try {
      // a pool whose rollouts alone may make 100 apps: any other pool's apps are past the limit
      api()
          .body(
              """
              {"metadata": {"name": "%s"},
               "spec": {"pipeline": "shop", "replicas": 50, "paused": true,
                        "rollout": {"maxSurge": 50, "maxUnavailable": 0},
                        "template": {"sourceApp": "shop-web"}}}
              """
                  .formatted(wide))
          .post(POOLS)
          .then()
          .statusCode(201);
      Path file = DIR.resolve("kept.yaml");
      Files.writeString(file, yaml.formatted(kept, 0)); // no apps: nothing to warn of
      assertThat(declared.applyAll()).isEqualTo(1);
      Files.writeString(file, yaml.formatted(kept, 2));
      List<String> lines;
      try (LogCapture logs = LogCapture.of(DeclaredPools.class)) {
        assertThat(declared.applyAll()).isEqualTo(1);
        lines = logs.records().stream().map(LogCapture::text).toList();
      }
      api().get(POOLS + "/" + kept).then().body("spec.replicas", equalTo(2));
      assertThat(lines)
          .filteredOn(l -> l.contains("the managed pools together reach"))
          .singleElement()
          .satisfies(
              l ->
                  assertThat(l)
                      .startsWith("pool file applied: file=" + file)
                      .contains("app limit 100"));
    } finally {
      api().delete(POOLS + "/" + wide);
      api().delete(POOLS + "/" + kept);
      try (java.util.stream.Stream<Path> s = Files.list(DIR)) {
        for (Path f : s.toList()) Files.delete(f);
      }
    }
  }

  /**
   * Audit 17 #12: {@code replicas} 100 with the default {@code maxSurge} 1 was taken, and its
   * rollouts needed 101 apps on an account that may have 100: the creates past it failed with
   * CreateFailed. Here the account may have 100, the default. Refused now (the surge counted as a
   * rollout uses it: at most {@code replicas} new apps); the pools together above it are warned of,
   * not refused. The pools are paused and deleted at the end: no test's pass makes their apps.
   */
  @Test
  void replicasWithTheRolloutsSurgeAboveTheAppLimitAreRefused() {
    String doc =
        """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "shop", "replicas": %d, "paused": true,
                  "rollout": {"maxSurge": %d, "maxUnavailable": 0},
                  "template": {"sourceApp": "shop-web"}}}
        """;
    String big = uniqueName("limit");
    api()
        .body(doc.formatted(big, 100, 1))
        .post(POOLS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body(
            "errors.field",
            org.hamcrest.Matchers.contains("spec.replicas", "spec.rollout.maxSurge"))
        .body("errors[0].message", containsString("make 101 apps"))
        .body("errors[0].message", containsString("app limit 100"))
        // the detail says what is wrong, once, not "2 fields are invalid"
        .body(
            "detail",
            org.hamcrest.Matchers.startsWith(
                "spec.replicas and spec.rollout.maxSurge: replicas 100 plus the rollout's surge 1"))
        .body("detail", containsString("lower replicas"));
    api().get(POOLS + "/" + big).then().statusCode(404);
    // the surge a rollout uses is at most replicas: 50 + 50
    String wide = uniqueName("limit-wide");
    String fleet = uniqueName("limit-fleet");
    try {
      api().body(doc.formatted(wide, 50, 60)).post(POOLS).then().statusCode(201);
      api()
          .body("{\"replicas\": 51}")
          .put(POOLS + "/" + wide + "/scale")
          .then()
          .statusCode(422)
          .contentType("application/problem+json")
          .body("errors.field", org.hamcrest.Matchers.contains("replicas"))
          .body("errors[0].message", containsString("make 102 apps"));
      api()
          .contentType("application/merge-patch+json")
          .body("{\"spec\": {\"replicas\": 60}}")
          .patch(POOLS + "/" + wide)
          .then()
          .statusCode(422)
          .body(
              "errors.field",
              org.hamcrest.Matchers.contains("spec.replicas", "spec.rollout.maxSurge"))
          .body("errors[0].message", containsString("make 120 apps"));
      api()
          .get(POOLS + "/" + wide)
          .then()
          .body("spec.replicas", equalTo(50))
          .body("metadata.generation", equalTo(1));
      // within the limit alone, above it with the other pool: taken, with a warning
      api()
          .body(doc.formatted(fleet, 5, 1))
          .post(POOLS)
          .then()
          .statusCode(201)
          .header("Warning", containsString("app limit 100"));
      api()
          .get(POOLS + "/" + fleet + "/events")
          .then()
          .body("reason", hasItem("AppLimit"))
          .body("message", hasItem(containsString("the managed pools together reach")))
          // the source apps count against the limit too, each once (audit 25 F3)
          .body(
              "message",
              hasItem(
                  org.hamcrest.Matchers.matchesPattern(
                      "(?s).*each, and their \\d+ source apps?\\).*")));
    } finally {
      api().delete(POOLS + "/" + wide);
      api().delete(POOLS + "/" + fleet);
    }
  }

  /**
   * A scale-up or a patch that takes the pools together above the app limit was taken with an
   * AppLimit Warning event and no {@code Warning} header, which only a create carried: a script or
   * the CLI saw nothing. Each now answers with it, as a create does.
   */
  @Test
  void aScaleOrPatchTakingThePoolsAboveTheAppLimitAnswersWithAWarning() {
    String doc =
        """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "shop", "replicas": %d, "paused": true,
                  "rollout": {"maxSurge": 0, "maxUnavailable": 1},
                  "template": {"sourceApp": "shop-web"}}}
        """;
    String a = uniqueName("limit-scale-a");
    String b = uniqueName("limit-scale-b");
    try {
      api().body(doc.formatted(a, 60)).post(POOLS).then().statusCode(201);
      api().body(doc.formatted(b, 1)).post(POOLS).then().statusCode(201);
      api()
          .body("{\"replicas\": 50}")
          .put(POOLS + "/" + b + "/scale")
          .then()
          .statusCode(200)
          .header("Warning", containsString("app limit 100"))
          .body("spec.replicas", equalTo(50));
      api()
          .contentType("application/merge-patch+json")
          .body("{\"spec\": {\"replicas\": 55}}")
          .patch(POOLS + "/" + b)
          .then()
          .statusCode(200)
          .header("Warning", containsString("app limit 100"));
      api()
          .body("{\"replicas\": 54}")
          .put(POOLS + "/" + b + "/scale")
          .then()
          .statusCode(200)
          .header("Warning", org.hamcrest.Matchers.nullValue());
    } finally {
      api().delete(POOLS + "/" + a);
      api().delete(POOLS + "/" + b);
    }
  }

  @Inject io.agroal.api.AgroalDataSource dataSource;

  /**
   * Review 30 R30-I4: the warning counts the source apps the pools copy, each once, but a source
   * named by its id in one pool and by its name in another counted as two apps. Pool a copies
   * {@code shop-web}, pinned (as its pass pins it) to an id; a pool naming that id is warned of
   * with one app fewer than one naming an app no pool copies.
   */
  @Test
  void aSourceNamedByItsIdAndByItsNameIsOneApp() throws Exception {
    String doc =
        """
        {"metadata": {"name": "%s"},
         "spec": {"pipeline": "shop", "replicas": %d, "paused": true,
                  "rollout": {"maxSurge": 0, "maxUnavailable": 1},
                  "template": {"sourceApp": "%s"}}}
        """;
    String a = uniqueName("limit-pin-a");
    String b = uniqueName("limit-pin-b");
    String b2 = uniqueName("limit-pin-b");
    String pinned = java.util.UUID.randomUUID().toString();
    try {
      api().body(doc.formatted(a, 60, "shop-web")).post(POOLS).then().statusCode(201);
      try (java.sql.Connection c = dataSource.getConnection();
          java.sql.PreparedStatement st =
              c.prepareStatement(
                  "insert into pool_sweeps (pool_id, swept_at, source_app_pin, source_app_pin_for)"
                      + " select id, to_timestamp(0), ?, 'shop-web' || chr(10) from pools"
                      + " where name = ? on conflict (pool_id) do update set"
                      + " source_app_pin = excluded.source_app_pin,"
                      + " source_app_pin_for = excluded.source_app_pin_for")) {
        st.setString(1, pinned);
        st.setString(2, a);
        assertThat(st.executeUpdate()).isEqualTo(1);
      }
      int byId = warnedTotal(doc.formatted(b, 50, pinned.toUpperCase(java.util.Locale.ROOT)), b);
      int another = warnedTotal(doc.formatted(b2, 50, java.util.UUID.randomUUID()), b2);
      assertThat(another - byId)
          .as("the pinned app named by its id is the app pool a copies: counted once")
          .isEqualTo(1);
    } finally {
      api().delete(POOLS + "/" + a);
      api().delete(POOLS + "/" + b);
      api().delete(POOLS + "/" + b2);
    }
  }

  /**
   * The apps the AppLimit warning of {@code doc}'s create says the pools reach; deletes the pool
   * (it then counts no more: a pool being deleted is left out).
   */
  private int warnedTotal(String doc, String name) {
    String warning = api().body(doc).post(POOLS).then().statusCode(201).extract().header("Warning");
    api().delete(POOLS + "/" + name).then().statusCode(org.hamcrest.Matchers.lessThan(300));
    assertThat(warning).contains("app limit 100");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("together reach (\\d+) apps").matcher(warning);
    assertThat(m.find()).as(warning).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
