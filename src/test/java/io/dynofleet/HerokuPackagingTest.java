package io.dynofleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The files Heroku reads (app.json, Procfile, system.properties) say what the docs promise. */
class HerokuPackagingTest {

  @Test
  void appJsonIsWellFormedWithTheRequiredEnvAddonBuildpackAndFormation() throws IOException {
    JsonNode app = new ObjectMapper().readTree(Files.readString(Path.of("app.json")));
    JsonNode env = app.path("env");
    assertThat(env.path("HEROKU_API_KEY").path("required").asBoolean(false)).isTrue();
    assertThat(env.path("DYNOFLEET_API_TOKEN").path("generator").asText()).isEqualTo("secret");

    List<String> addons = new ArrayList<>();
    app.path("addons")
        .forEach(a -> addons.add(a.isTextual() ? a.asText() : a.path("plan").asText()));
    assertThat(addons).anyMatch(a -> a.startsWith("heroku-postgresql"));

    List<String> buildpacks = new ArrayList<>();
    app.path("buildpacks").forEach(b -> buildpacks.add(b.path("url").asText()));
    assertThat(buildpacks).contains("heroku/java");

    assertThat(app.path("formation").path("web").path("quantity").asInt(0))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void procfileWebBindsPortAndRunsTheQuarkusJar() throws IOException {
    String web =
        Files.readAllLines(Path.of("Procfile")).stream()
            .filter(l -> l.startsWith("web:"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("Procfile has no web process"));
    assertThat(web).contains("$PORT").contains("-jar target/quarkus-app/quarkus-run.jar");
  }

  @Test
  void systemPropertiesNamesJava17OrNewer() throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(Path.of("system.properties"))) {
      p.load(r);
    }
    String version = p.getProperty("java.runtime.version", "");
    Matcher m = Pattern.compile("^(?:1\\.)?(\\d+)").matcher(version.trim());
    assertThat(m.find()).as("java.runtime.version=" + version).isTrue();
    assertThat(Integer.parseInt(m.group(1))).isGreaterThanOrEqualTo(17);
  }
}
