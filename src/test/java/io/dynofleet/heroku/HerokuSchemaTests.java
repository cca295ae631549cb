package io.dynofleet.heroku;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynofleet.sandbox.SandboxCall;
import io.dynofleet.sandbox.Simulator;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every Platform API request the client sends and every answer the simulator gives, checked against
 * Heroku's published JSON hyper-schema ({@link #SCHEMA}): the endpoint exists there with that
 * method; the request body fits the link's {@code schema}; the response body fits its {@code
 * targetSchema} (types, required, enums, strictProperties) and carries every property the schema
 * declares for the resource. No JSON-schema library resolves here for this draft's {@code
 * strictProperties}, so a small walker does it; it does not check {@code pattern} (the simulator's
 * web_url is loopback, not herokuapp.com) or formats.
 */
@QuarkusTest
@Timeout(120)
class HerokuSchemaTests {
  /**
   * The team's copy beside the project when there is one (it is the one kept up to date), else the
   * copy in the repository's test resources, so a clone on its own runs the suite (audit 16).
   */
  static final Path SCHEMA =
      Files.exists(Path.of("..", "shared", "heroku", "platform-api-schema.json"))
          ? Path.of("..", "shared", "heroku", "platform-api-schema.json")
          : Path.of("src", "test", "resources", "heroku", "platform-api-schema.json");

  private static final Pattern HREF_VAR = Pattern.compile("\\{\\([^)]*\\)}");

  @Inject HerokuClient client;
  @Inject Simulator sim;

  private final ObjectMapper json = new ObjectMapper();
  private JsonNode root;

  private record Link(String method, Pattern path, String href, JsonNode schema, JsonNode target) {}

  @Test
  void requestsAndResponsesOfEveryEndpointFitHerokusSchema() throws Exception {
    assertThat(SCHEMA).as("Heroku's schema").exists();
    root = json.readTree(Files.readString(SCHEMA));
    List<Link> links = links();

    sim.clear();
    exerciseEveryEndpoint();
    List<SandboxCall> log = sim.callLog();

    List<String> problems = new ArrayList<>();
    Set<String> endpoints = new TreeSet<>();
    for (SandboxCall call : log) {
      Link link =
          links.stream()
              .filter(
                  l -> l.method().equals(call.method()) && l.path().matcher(call.path()).matches())
              .findFirst()
              .orElse(null);
      if (link == null) {
        problems.add(call.method() + " " + call.path() + ": no such link in Heroku's schema");
        continue;
      }
      endpoints.add(call.method() + " " + link.href());
      String where = call.method() + " " + call.path();
      if (!call.requestBody().isBlank()) {
        if (link.schema() == null) {
          problems.add(where + ": sends a body where the schema takes none");
        } else {
          validate(
              json.readTree(call.requestBody()),
              link.schema(),
              where + " request",
              problems,
              false);
        }
      }
      if (call.status() >= 200
          && call.status() < 300
          && !call.responseBody().isBlank()
          && link.target() != null) {
        validate(
            json.readTree(call.responseBody()), link.target(), where + " response", problems, true);
      }
    }
    System.out.printf(
        "schema: %d calls over %d endpoints checked, %d problems%n",
        log.size(), endpoints.size(), problems.size());
    endpoints.forEach(e -> System.out.println("  " + e));
    assertThat(problems).as("mismatches with Heroku's schema").isEmpty();
    assertThat(endpoints).hasSizeGreaterThanOrEqualTo(25);
  }

  /** Calls every facade method, so the call log holds every endpoint the client uses. */
  private void exerciseEveryEndpoint() {
    client.account();
    var src = sim.createSourceApp("schema-src");
    client.createApp(new AppCreate("schema-app", "us", "heroku-24"));
    client.app("schema-app");
    client.apps();
    client.updateConfigVars("schema-app", Map.of("A", "1"));
    var delete = new java.util.HashMap<String, String>();
    delete.put("A", null);
    client.updateConfigVars("schema-app", delete);
    client.configVars("schema-src");
    client.formations("schema-src");
    client.formation("schema-src", "web");
    client.updateFormation("schema-src", "web", 1, "basic");
    client.updateFormations("schema-src", List.of(FormationUpdate.of("web", 1, "basic")));
    client.releases("schema-src");
    client.recentReleases("schema-src", 1).stream().findFirst();
    client.release("schema-src", "1");
    client.releaseConfigVars(
        "schema-src",
        client.recentReleases("schema-src", 1).stream().findFirst().orElseThrow().id());
    Release r = client.createRelease("schema-app", src.slugId(), "fork");
    client.slug("schema-src", src.slugId());
    Build b =
        client.createBuild(
            "schema-app", new SourceBlob("https://example.invalid/s.tgz", "v1", null));
    client.build("schema-app", b.id());
    AppSetup setup =
        client.createAppSetup(
            new AppSetupCreate(
                new AppCreate("schema-setup", null, null),
                new SourceBlob("https://example.invalid/s.tgz", null, null),
                new AppSetupCreate.Overrides(Map.of("X", "y"))));
    client.appSetup(setup.id());
    String teamPipeline = sim.createTeamPipeline("schema-team-pipe", "schema-team");
    client.team(client.pipeline(teamPipeline).teamId());
    client.createTeamApp(new TeamAppCreate("schema-team-app", "eu", null, "schema-team"));
    String pipelineId = sim.createPipeline("schema-pipe");
    client.pipeline("schema-pipe");
    PipelineCoupling c = client.createPipelineCoupling("schema-app", pipelineId, "production");
    client.pipelineCouplings(pipelineId);
    client.appPipelineCoupling("schema-app");
    String addon = sim.createAddon("schema-src", "heroku-postgresql");
    client.addons("schema-src").forEach(a -> client.addonService(a.addonService().id()));
    AddOnAttachment att = client.createAddonAttachment(addon, "schema-app", null);
    client.addonAttachments("schema-app");
    client.deleteAddonAttachment(att.id());
    client.createLogDrain("schema-app", "syslog+tls://logs.example.invalid:6514");
    sim.addAddonLogDrain(addon, "https://addon-logs.example.invalid/drain");
    client.logDrains("schema-src");
    client.logDrains("schema-app");
    client.appFeatures("schema-src");
    client.updateAppFeature("schema-app", "runtime-dyno-metadata", true);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> client.release("schema-app", r.id()).succeeded());
    AppWebhook hook =
        client.createWebhook(
            "schema-src", List.of("api:release"), "notify", "http://127.0.0.1:9/hook", "s3cret");
    client.webhooks("schema-src");
    client.updateWebhook(
        "schema-src", hook.id(), List.of("api:release", "api:build"), "sync", "other");
    client.deleteWebhook("schema-src", hook.id());
    client.dynos("schema-src");
    client.restartAllDynos("schema-src");
    sim.appLog("schema-app", "booting");
    client.logTail(client.createLogSession("schema-app", 10, "app", false).logplexUrl(), 10);
    client.deletePipelineCoupling(c.id());
    client.deleteApp("schema-app");
  }

  private List<Link> links() {
    List<Link> out = new ArrayList<>();
    for (Iterator<JsonNode> defs = root.path("definitions").elements(); defs.hasNext(); ) {
      for (JsonNode l : defs.next().path("links")) {
        String href = l.path("href").asText();
        String regex = "^" + HREF_VAR.matcher(href.replace(".", "\\.")).replaceAll("[^/]+") + "$";
        out.add(
            new Link(
                l.path("method").asText(),
                Pattern.compile(regex),
                href,
                l.has("schema") ? l.get("schema") : null,
                l.has("targetSchema") ? l.get("targetSchema") : null));
      }
    }
    return out;
  }

  private JsonNode resolve(JsonNode schema) {
    JsonNode s = schema;
    for (int i = 0; i < 20 && s.has("$ref"); i++) {
      String ref = s.get("$ref").asText();
      s = root.at(ref.substring(1));
      if (s.isMissingNode()) {
        throw new IllegalStateException("unresolvable $ref " + ref);
      }
    }
    return s;
  }

  /**
   * Checks {@code value} against {@code schema}. With {@code complete}, an object must also carry
   * every property the schema declares (the simulator answers whole resources, as Heroku does).
   */
  private void validate(
      JsonNode value, JsonNode schemaRef, String at, List<String> problems, boolean complete) {
    JsonNode schema = resolve(schemaRef);
    if (schema.has("anyOf") || schema.has("oneOf")) {
      JsonNode options = schema.has("anyOf") ? schema.get("anyOf") : schema.get("oneOf");
      for (JsonNode option : options) {
        List<String> local = new ArrayList<>();
        validate(value, option, at, local, complete);
        if (local.isEmpty()) {
          return;
        }
      }
      problems.add(at + ": matches none of " + options.size() + " alternatives: " + value);
      return;
    }
    Set<String> types = new LinkedHashSet<>();
    JsonNode t = schema.path("type");
    if (t.isArray()) {
      t.forEach(x -> types.add(x.asText()));
    } else if (t.isTextual()) {
      types.add(t.asText());
    }
    if (!types.isEmpty()
        && !types.contains(typeOf(value))
        && !(typeOf(value).equals("integer") && types.contains("number"))) {
      problems.add(
          at + ": is " + typeOf(value) + ", schema says " + types + " (" + abbreviate(value) + ")");
      return;
    }
    if (schema.has("enum") && !value.isNull()) {
      boolean found = false;
      for (JsonNode e : schema.get("enum")) {
        found |= e.equals(value);
      }
      if (!found) {
        problems.add(at + ": " + value + " not in " + schema.get("enum"));
      }
    }
    if (value.isObject()) {
      JsonNode props = schema.path("properties");
      for (JsonNode req : schema.path("required")) {
        if (!value.has(req.asText())) {
          problems.add(at + ": required property " + req.asText() + " missing");
        }
      }
      boolean strict =
          schema.path("strictProperties").asBoolean(false)
              || (schema.has("additionalProperties")
                  && schema.get("additionalProperties").isBoolean()
                  && !schema.get("additionalProperties").asBoolean());
      for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
        var f = it.next();
        if (props.has(f.getKey())) {
          if (!complete
              && resolve(props.get(f.getKey()))
                  .path("description")
                  .asText()
                  .toLowerCase()
                  .startsWith("deprecated")) {
            // review 6: the formation's size went as the deprecated "size", not "dyno_size"
            problems.add(
                at
                    + "."
                    + f.getKey()
                    + ": deprecated ("
                    + resolve(props.get(f.getKey())).path("description").asText()
                    + ")");
          }
          validate(f.getValue(), props.get(f.getKey()), at + "." + f.getKey(), problems, complete);
        } else if (schema.has("patternProperties")) {
          for (Iterator<Map.Entry<String, JsonNode>> pp = schema.get("patternProperties").fields();
              pp.hasNext(); ) {
            var p = pp.next();
            if (Pattern.compile(p.getKey()).matcher(f.getKey()).find()) {
              validate(f.getValue(), p.getValue(), at + "." + f.getKey(), problems, complete);
            }
          }
        } else if (strict) {
          problems.add(at + ": property " + f.getKey() + " not allowed (strictProperties)");
        }
      }
      if (complete) {
        for (Iterator<String> names = props.fieldNames(); names.hasNext(); ) {
          String name = names.next();
          if (!value.has(name)) {
            problems.add(at + ": property " + name + " of the schema missing");
          }
        }
      }
    } else if (value.isArray() && schema.has("items")) {
      int i = 0;
      for (JsonNode item : value) {
        validate(item, schema.get("items"), at + "[" + i++ + "]", problems, complete);
      }
    }
  }

  private static String typeOf(JsonNode v) {
    if (v.isNull()) {
      return "null";
    }
    if (v.isObject()) {
      return "object";
    }
    if (v.isArray()) {
      return "array";
    }
    if (v.isTextual()) {
      return "string";
    }
    if (v.isBoolean()) {
      return "boolean";
    }
    return v.isIntegralNumber() ? "integer" : "number";
  }

  private static String abbreviate(JsonNode v) {
    String s = v.toString();
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }
}
