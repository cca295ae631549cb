package io.dynofleet.heroku;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.dynofleet.sandbox.SandboxCall;
import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every facade call against the simulator over real HTTP. */
@QuarkusTest
class HerokuClientTests {

  @Inject HerokuClient client;
  @Inject Simulator sim;
  @Inject MeterRegistry meters;

  @BeforeEach
  void clean() {
    sim.clear();
  }

  @Test
  void accountAndStandardHeaders() {
    long before = client.callCount();
    assertThat(client.account().email()).isEqualTo("sandbox@dynofleet.local");
    assertThat(client.callCount()).isEqualTo(before + 1);
    SandboxCall call = sim.callLog().get(sim.callLog().size() - 1);
    assertThat(call.accept()).isEqualTo("application/vnd.heroku+json; version=3");
    assertThat(call.userAgent()).startsWith("dynofleet/");
    assertThat(UUID.fromString(call.requestId())).isNotNull();
    assertThat(client.budget().remaining()).isLessThan(4500);
    assertThat(meters.find("dynofleet.heroku.calls").tag("method", "GET").tag("status", "200").counter())
        .isNotNull();
  }

  @Test
  void appsLifecycleAndErrors() {
    App app = client.createApp(new AppCreate("alpha-one", null, null));
    assertThat(app.webUrl()).startsWith("http://127.0.0.1:");
    assertThat(app.region().name()).isEqualTo("us");
    assertThat(client.app("alpha-one").id()).isEqualTo(app.id());
    assertThat(client.app(app.id()).name()).isEqualTo("alpha-one");
    assertThat(client.apps()).extracting(App::name).containsExactly("alpha-one");

    assertThatThrownBy(() -> client.createApp(new AppCreate("alpha-one", null, null)))
        .isInstanceOfSatisfying(HerokuException.Permanent.class, e -> {
          assertThat(e.isNameTaken()).isTrue();
          assertThat(e.status()).isEqualTo(422);
          assertThat(e.id()).isEqualTo("invalid_params");
        });
    assertThatThrownBy(() -> client.createApp(new AppCreate("9-Bad_Name", null, null)))
        .isInstanceOfSatisfying(HerokuException.Permanent.class, e -> assertThat(e.isNameTaken()).isFalse());

    assertThat(client.deleteApp("alpha-one").id()).isEqualTo(app.id());
    assertThatThrownBy(() -> client.app("alpha-one"))
        .isInstanceOfSatisfying(HerokuException.Permanent.class, e -> {
          assertThat(e.isNotFound()).isTrue();
          assertThat(e.id()).isEqualTo("not_found");
        });
  }

  @Test
  void configVarsMergeAndNullDeletes() {
    client.createApp(new AppCreate("cfg-app", null, null));
    client.updateConfigVars("cfg-app", Map.of("A", "1", "B", "2"));
    var changes = new HashMap<String, String>();
    changes.put("A", null);
    changes.put("C", "3");
    assertThat(client.updateConfigVars("cfg-app", changes)).containsOnly(Map.entry("B", "2"), Map.entry("C", "3"));
    assertThat(client.configVars("cfg-app")).containsOnly(Map.entry("B", "2"), Map.entry("C", "3"));
  }

  @Test
  void formationScaling() {
    sim.createSourceApp("form-src");
    assertThat(client.formations("form-src")).singleElement().satisfies(f -> {
      assertThat(f.type()).isEqualTo("web");
      assertThat(f.quantity()).isEqualTo(1);
    });
    assertThat(client.formation("form-src", "web").size()).isEqualTo("basic");
    assertThat(client.updateFormation("form-src", "web", 2, "standard-1x").quantity()).isEqualTo(2);
    assertThat(client.updateFormations("form-src", List.of(new FormationUpdate("web", 0, null))))
        .singleElement().satisfies(f -> assertThat(f.quantity()).isZero());
    assertThat(sim.app("form-src").serving()).isFalse();
    assertThatThrownBy(() -> client.updateFormation("form-src", "web", 3, "basic"))
        .isInstanceOfSatisfying(HerokuException.Permanent.class, e -> assertThat(e.status()).isEqualTo(422));
    assertThatThrownBy(() -> client.formation("form-src", "worker"))
        .isInstanceOfSatisfying(HerokuException.Permanent.class, e -> assertThat(e.isNotFound()).isTrue());
  }

  @Test
  void forkReleasesSourceSlugAsync() throws Exception {
    var src = sim.createSourceApp("rel-src");
    Release latest = client.latestRelease("rel-src").orElseThrow();
    assertThat(latest.slug().id()).isEqualTo(src.slugId());
    assertThat(latest.current()).isTrue();
    assertThat(client.slug("rel-src", src.slugId()).processTypes()).containsKey("web");

    App fork = client.createApp(new AppCreate("rel-fork", null, null));
    Release pending = client.createRelease("rel-fork", src.slugId(), "fork of rel-src");
    assertThat(pending.status()).isEqualTo("pending");
    await().atMost(Duration.ofSeconds(5))
        .until(() -> client.release("rel-fork", pending.id()).succeeded());
    assertThat(client.releases("rel-fork")).extracting(Release::version).containsExactly(1, 2);
    assertThat(client.release("rel-fork", "2").id()).isEqualTo(pending.id());
    await().atMost(Duration.ofSeconds(5)).until(() -> sim.app("rel-fork").serving());

    var http = HttpClient.newHttpClient();
    var res = http.send(HttpRequest.newBuilder(URI.create(fork.webUrl() + "health")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(res.body()).isEqualTo("ok");

    assertThatThrownBy(() -> client.createRelease("rel-fork", UUID.randomUUID().toString(), null))
        .isInstanceOfSatisfying(HerokuException.Permanent.class, e -> assertThat(e.isNotFound()).isTrue());
  }

  @Test
  void buildsAndAppSetups() {
    client.createApp(new AppCreate("build-app", null, null));
    Build build = client.createBuild("build-app", new SourceBlob("https://example.invalid/src.tgz", "v1", null));
    assertThat(build.status()).isEqualTo("pending");
    await().atMost(Duration.ofSeconds(5)).until(() -> client.build("build-app", build.id()).status().equals("succeeded"));
    assertThat(client.build("build-app", build.id()).slug().id()).isNotNull();

    AppSetup setup = client.createAppSetup(new AppSetupCreate(new AppCreate("setup-app", null, null),
        new SourceBlob("https://example.invalid/src.tgz", null, null), new AppSetupCreate.Overrides(Map.of("X", "y"))));
    assertThat(setup.app().name()).isEqualTo("setup-app");
    await().atMost(Duration.ofSeconds(5)).until(() -> client.appSetup(setup.id()).status().equals("succeeded"));
    assertThat(client.configVars("setup-app")).containsEntry("X", "y");
    await().atMost(Duration.ofSeconds(5)).until(() -> sim.app("setup-app").serving());
  }

  @Test
  void pipelinesAndCouplings() {
    String pipelineId = sim.createPipeline("pipe");
    client.createApp(new AppCreate("pipe-app", null, null));
    assertThat(client.pipeline("pipe").id()).isEqualTo(pipelineId);
    assertThat(client.pipeline(pipelineId).name()).isEqualTo("pipe");
    assertThat(client.appPipelineCoupling("pipe-app")).isEmpty();

    PipelineCoupling c = client.createPipelineCoupling("pipe-app", pipelineId, "production");
    assertThat(c.stage()).isEqualTo("production");
    assertThat(client.pipelineCouplings(pipelineId)).extracting(x -> x.app().name()).containsExactly("pipe-app");
    assertThat(client.appPipelineCoupling("pipe-app")).map(PipelineCoupling::id).contains(c.id());
    assertThatThrownBy(() -> client.createPipelineCoupling("pipe-app", pipelineId, "staging"))
        .isInstanceOfSatisfying(HerokuException.Permanent.class, e -> {
          assertThat(e.status()).isEqualTo(409);
          assertThat(e.id()).isEqualTo("conflict");
        });
    client.deletePipelineCoupling(c.id());
    assertThat(client.pipelineCouplings(pipelineId)).isEmpty();
    assertThatThrownBy(() -> client.pipeline("nope"))
        .isInstanceOfSatisfying(HerokuException.Permanent.class, e -> assertThat(e.isNotFound()).isTrue());
  }

  @Test
  void addonAttachmentsFollowCredentialRotation() {
    sim.createSourceApp("db-owner");
    client.createApp(new AppCreate("db-user", null, null));
    String addon = sim.createAddon("db-owner", "heroku-postgresql");
    assertThat(client.addons("db-owner")).singleElement().satisfies(a -> {
      assertThat(a.name()).isEqualTo(addon);
      assertThat(a.configVars()).containsExactly("DATABASE_URL");
    });

    AddOnAttachment att = client.createAddonAttachment(addon, "db-user", null);
    assertThat(att.name()).isEqualTo("DATABASE");
    String url = client.configVars("db-user").get("DATABASE_URL");
    assertThat(url).startsWith("postgres://").isEqualTo(client.configVars("db-owner").get("DATABASE_URL"));
    assertThat(client.addonAttachments("db-user")).extracting(AddOnAttachment::id).containsExactly(att.id());

    sim.rotateAddonCredentials(addon);
    String rotated = client.configVars("db-user").get("DATABASE_URL");
    assertThat(rotated).isNotEqualTo(url).isEqualTo(client.configVars("db-owner").get("DATABASE_URL"));

    client.deleteAddonAttachment(att.id());
    assertThat(client.configVars("db-user")).doesNotContainKey("DATABASE_URL");
  }

  @Test
  void dynosListAndRestart() {
    sim.createSourceApp("dyno-app");
    assertThat(client.dynos("dyno-app")).singleElement().satisfies(d -> {
      assertThat(d.name()).isEqualTo("web.1");
      assertThat(d.state()).isEqualTo("up");
      assertThat(d.release().version()).isEqualTo(2);
    });
    sim.restartDowntime(Duration.ofSeconds(2)); // room for a loaded machine between the 202 and the check
    client.restartAllDynos("dyno-app");
    assertThat(sim.app("dyno-app").serving()).isFalse();
    await().atMost(Duration.ofSeconds(5)).until(() -> sim.app("dyno-app").serving());
  }
}
