package io.dynofleet.heroku;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.LogCapture;
import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 20 L7: Dynofleet on an eco dyno sleeps after 30 minutes without traffic (no reconciling, a
 * slow first request) and nothing said so. The start's one look at its own formation, against the
 * simulator over HTTP: eco is a WARN naming the command, basic is nothing, and an app Heroku does
 * not know is nothing above DEBUG, off the start path.
 */
@QuarkusTest
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EcoDynoCheckTests {
  private static final AtomicInteger SEQ = new AtomicInteger();

  @Inject Simulator sim;
  @Inject HerokuConfig config;
  @Inject MeterRegistry registry;

  private HerokuClient client;
  private String app;

  @BeforeEach
  void world() {
    sim.resetFaults();
    client = TestHerokuClients.client(config, registry, sim.url(), sim.apiKey());
    app = "lb" + SEQ.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 100000, 36);
    sim.createSourceApp(app);
  }

  @AfterEach
  void cleanUp() {
    sim.resetFaults();
  }

  @Test
  void anEcoWebDynoIsAWarningThatSaysWhatToRun() throws Exception {
    client.updateFormation(app, "web", 1, "eco");
    String id = sim.app(app).id();
    try (LogCapture capture = LogCapture.of(EcoDynoCheck.class)) {
      Optional<String> warning =
          EcoDynoCheck.start(client, id, app, "web").get(30, TimeUnit.SECONDS);
      assertThat(warning)
          .hasValueSatisfying(
              w ->
                  assertThat(w)
                      .contains("eco dynos", "sleeps after 30 minutes")
                      .contains("heroku ps:type web=basic -a " + app));
      assertThat(capture.records())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.getLevel().getName()).isIn("WARN", "WARNING");
                assertThat(LogCapture.text(r)).isEqualTo(warning.get());
              });
    }
  }

  @Test
  void aBasicDynoSaysNothing() {
    client.updateFormation(app, "web", 1, "basic");
    assertThat(EcoDynoCheck.check(client, app, app, "web")).isEmpty();
  }

  @Test
  void anAppHerokuDoesNotKnowSaysNothingAboveDebugAndTheStartDoesNotWait() throws Exception {
    sim.apiLatency(Duration.ofSeconds(2));
    try (LogCapture capture = LogCapture.of(EcoDynoCheck.class)) {
      CompletableFuture<Optional<String>> done =
          EcoDynoCheck.start(client, "no-such-app-here", "no-such-app-here", "web");
      assertThat(done).as("start() returned before Heroku answered").isNotDone();
      assertThat(done.get(30, TimeUnit.SECONDS)).isEmpty();
      assertThat(capture.records())
          .allSatisfy(r -> assertThat(r.getLevel().getName()).isIn("DEBUG", "FINE"));
    }
  }

  @Test
  void theProcessTypeIsTheDynosNameBeforeItsNumber() {
    assertThat(EcoDynoCheck.processType("web.1")).isEqualTo("web");
    assertThat(EcoDynoCheck.processType("web")).isEqualTo("web");
  }
}
