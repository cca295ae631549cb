package io.dynofleet.heroku;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Audit 12, finding 16: outside sandbox mode nothing checked HEROKU_API_KEY at start, and nothing
 * in the start log said Dynofleet ran against a real Platform API. The check against the simulator
 * over HTTP, with its key, a wrong one, and a slow API.
 */
@QuarkusTest
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HerokuKeyCheckTests {
  @Inject Simulator sim;
  @Inject HerokuConfig config;
  @Inject MeterRegistry registry;

  @BeforeEach
  @AfterEach
  void cleanUp() {
    sim.resetFaults();
  }

  @Test
  void aGoodKeyIsLoggedWithTheApiUrlAndTheAccountNeverTheKey() {
    HerokuKeyCheck.Outcome o =
        HerokuKeyCheck.check(
            TestHerokuClients.client(config, registry, sim.url(), sim.apiKey()), sim.url());
    assertThat(o.level()).isEqualTo(Logger.Level.INFO);
    assertThat(o.line())
        .contains(sim.url().replaceAll("/$", ""), "s***@dynofleet.local", "HEROKU_API_KEY")
        .doesNotContain(sim.apiKey());
  }

  /**
   * Security review 7 S7-5: a HEROKU_API_URL with {@code user:password@} (an egress gateway with
   * basic auth) was logged whole in the start's INFO line.
   */
  @Test
  void theApiUrlIsLoggedWithoutItsUserAndPassword() {
    String plain = sim.url().replaceAll("/$", "");
    String withUser = plain.replace("://", "://user7:URLPW7secret@");
    HerokuKeyCheck.Outcome o =
        HerokuKeyCheck.check(
            TestHerokuClients.client(config, registry, sim.url(), sim.apiKey()), withUser);
    assertThat(o.line())
        .contains("Heroku Platform API at " + plain + ":")
        .doesNotContain("URLPW7secret")
        .doesNotContain("user7");
    assertThat(ApiEndpoint.shown("https://u:p@ss@api.example.com:8443/x?y=@#@"))
        .isEqualTo("https://api.example.com:8443/x?y=@#@");
    // review 32 R32-7: a password holding / ? # (and @) unencoded is hidden too
    for (String pw : java.util.List.of("pa/ss", "pa?ss", "pa#ss", "p@ss/w", "p/@?#w", "12/x")) {
      assertThat(ApiEndpoint.shown("https://gw:" + pw + "@egress.example.com:8443/v1?q=1"))
          .as(pw)
          .isEqualTo("https://egress.example.com:8443/v1?q=1");
      assertThat(ApiEndpoint.shown("https://gw:" + pw + "@egress.example.com"))
          .as(pw)
          .isEqualTo("https://egress.example.com");
    }
    assertThat(ApiEndpoint.shown("http://gw:p/w@[::1]:8080/")).isEqualTo("http://[::1]:8080/");
    // no host after any @: nothing after :// is shown
    assertThat(ApiEndpoint.shown("https://gw:pa/ss@")).isEqualTo("https://(credentials hidden)");
    assertThat(ApiEndpoint.shown("https://api.heroku.com")).isEqualTo("https://api.heroku.com");
    assertThat(ApiEndpoint.shown("not a url @ all")).isEqualTo("not a url @ all");
    assertThat(new ApiEndpoint("http://a:b@h", "KEY").toString())
        .isEqualTo("ApiEndpoint[url=http://h, key=***]");
  }

  @Test
  void aRefusedKeyIsAnErrorThatSaysHowToMakeANewOne() {
    String wrong = "HRKU-wrong-key-check";
    HerokuKeyCheck.Outcome o =
        HerokuKeyCheck.check(
            TestHerokuClients.client(config, registry, sim.url(), wrong), sim.url());
    assertThat(o.level()).isEqualTo(Logger.Level.ERROR);
    assertThat(o.line())
        .contains(
            "HEROKU_API_KEY",
            "heroku authorizations:create",
            "heroku config:set",
            "Invalid credentials provided")
        .doesNotContain(wrong);
  }

  @Test
  void theCheckRunsOffTheStartPath() throws Exception {
    sim.apiLatency(Duration.ofSeconds(3)); // a slow Platform API must not hold the start
    CompletableFuture<HerokuKeyCheck.Outcome> done =
        HerokuKeyCheck.start(
            TestHerokuClients.client(config, registry, sim.url(), sim.apiKey()), sim.url());
    assertThat(done).as("start() returned before Heroku answered").isNotDone();
    assertThat(done.get(30, TimeUnit.SECONDS).level()).isEqualTo(Logger.Level.INFO);
  }
}
