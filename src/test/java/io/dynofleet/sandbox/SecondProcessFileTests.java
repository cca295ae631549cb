package io.dynofleet.sandbox;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Audit 23 L6: a sandbox could not be run as two dynos, since the simulator's API key and the
 * embedded database's password are random and never shown. The sandbox writes what a second process
 * needs into a file only its user may read; a shell reads it into the environment of a second
 * process, whose configuration then reaches the same database and the same simulated account.
 */
@QuarkusTest
class SecondProcessFileTests {
  private static final Set<String> NAMES =
      Set.of(
          "QUARKUS_DATASOURCE_JDBC_URL",
          "QUARKUS_DATASOURCE_USERNAME",
          "QUARKUS_DATASOURCE_PASSWORD",
          "HEROKU_API_URL",
          "HEROKU_API_KEY",
          "DYNOFLEET_API_TOKEN",
          "DYNOFLEET_READ_TOKEN",
          "DYNOFLEET_WEBHOOK_SECRET",
          "DYNOFLEET_HEROKU_RATE_LIMIT_REFILL_PER_HOUR",
          "QUARKUS_HTTP_HOST");

  @Inject SecondProcessFile second;
  @Inject Simulator simulator;

  @Test
  void aSecondProcessConfiguredFromTheFileReachesTheSameDatabaseAndAccount() throws Exception {
    await().atMost(Duration.ofSeconds(60)).until(() -> second.path().isPresent());
    Path file = second.path().orElseThrow();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
        .isEqualTo("rwx------");

    // read as the banner says: a POSIX shell's set -a and .
    Process sh =
        new ProcessBuilder("sh", "-c", "set -a; . \"$0\"; set +a; env -0", file.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(sh.waitFor()).as(out).isZero();
    Map<String, String> env = new HashMap<>();
    for (String line : out.split("\0")) {
      int eq = line.indexOf('=');
      if (eq > 0 && NAMES.contains(line.substring(0, eq))) {
        env.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    assertThat(env)
        .containsKeys(
            "QUARKUS_DATASOURCE_JDBC_URL",
            "QUARKUS_DATASOURCE_PASSWORD",
            "HEROKU_API_URL",
            "HEROKU_API_KEY",
            "DYNOFLEET_API_TOKEN");
    assertThat(env.get("HEROKU_API_KEY")).isEqualTo(simulator.apiKey());

    // the second process's configuration, from that environment
    SmallRyeConfig config =
        new SmallRyeConfigBuilder().withSources(new EnvConfigSource(env, 300)).build();
    String url = config.getValue("quarkus.datasource.jdbc.url", String.class);
    String user = config.getOptionalValue("quarkus.datasource.username", String.class).orElse(null);
    String password = config.getValue("quarkus.datasource.password", String.class);

    // the same database: a pool made through this process's API, with the file's token
    String name = "second-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    given()
        .header("Authorization", "Bearer " + env.get("DYNOFLEET_API_TOKEN"))
        .contentType("application/json")
        .body(
            "{\"metadata\": {\"name\": \""
                + name
                + "\"}, \"spec\": {\"staticBackends\": [\"http://127.0.0.1:9\"],"
                + " \"routing\": {\"hosts\": [\""
                + name
                + ".example\"]}}}")
        .post("/_dynofleet/api/v1/pools")
        .then()
        .statusCode(201);
    try (Connection c = DriverManager.getConnection(url, user, password);
        PreparedStatement st = c.prepareStatement("select count(*) from pools where name = ?")) {
      st.setString(1, name);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(1);
      }
    }

    // the same simulated account
    HttpResponse<String> account =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(env.get("HEROKU_API_URL") + "/apps"))
                    .header("Authorization", "Bearer " + env.get("HEROKU_API_KEY"))
                    .header("Accept", "application/vnd.heroku+json; version=3")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(account.statusCode()).isEqualTo(200);
    assertThat(account.body()).contains(SandboxDemo.SOURCE_APP);

    // the banner names the file, and nothing that is in it
    String banner = SandboxDemo.secondProcessText(file);
    assertThat(banner).contains(file.toString());
    assertThat(banner).doesNotContain(password, env.get("HEROKU_API_KEY"));
  }
}
