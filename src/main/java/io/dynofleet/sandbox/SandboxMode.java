package io.dynofleet.sandbox;

import io.dynofleet.config.StartRefused;
import io.dynofleet.heroku.ApiEndpoint;
import io.dynofleet.heroku.HerokuConfig;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Decides between Heroku and the simulator: without {@code dynofleet.heroku.api-key} (env {@code
 * HEROKU_API_KEY}) the simulator starts at application start and the client talks to it.
 */
@ApplicationScoped
public class SandboxMode {

  private static final Logger LOG = Logger.getLogger(SandboxMode.class);

  private final HerokuConfig config;
  private final Simulator simulator;
  private final SandboxConfig sandboxConfig;
  private final Config raw;

  SandboxMode(HerokuConfig config, Simulator simulator, SandboxConfig sandboxConfig, Config raw) {
    this.config = config;
    this.simulator = simulator;
    this.sandboxConfig = sandboxConfig;
    this.raw = raw;
  }

  /**
   * True on a Heroku dyno: Heroku sets {@code DYNO} ({@code web.1}) in every dyno's environment.
   */
  public boolean onDyno() {
    return raw.getOptionalValue("DYNO", String.class).filter(d -> !d.isBlank()).isPresent();
  }

  /**
   * A dyno without a key runs no sandbox unless told to: a key lost in production (unset while
   * rotating, renamed) started the simulator against the real database, every pool failing and the
   * apps of pools deleted meanwhile left running (security review 1). Before any other start work.
   */
  void refuseOnDyno(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) {
    if (sandbox()
        && onDyno()
        && !sandboxConfig.onDyno()
        && LaunchMode.current() == LaunchMode.NORMAL) {
      throw new StartRefused(
          "HEROKU_API_KEY is not set on this Heroku dyno: refusing to start in"
              + " sandbox mode (a simulated Platform API) against this app's database. Set HEROKU_API_KEY (heroku"
              + " config:set HEROKU_API_KEY=$(heroku authorizations:create --short)), or DYNOFLEET_SANDBOX_ON_DYNO=true"
              + " for a sandbox on Heroku on purpose");
    }
  }

  /**
   * A key with a character no Heroku key holds (a control character inside it, not a newline at its
   * end, which is trimmed; a space; a non-ASCII letter): one a header cannot carry failed every
   * Platform API call, each failure quoting the header, key and all (security review 2). Refused at
   * start, naming the position only.
   */
  void refuseUnsendableKey(
      @Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) {
    config
        .apiKey()
        .map(String::trim)
        .flatMap(SandboxMode::unsendable)
        .ifPresent(
            why -> {
              throw new StartRefused(why);
            });
  }

  /** Why {@code key} (trimmed) cannot be sent as a bearer token, or empty. */
  static java.util.Optional<String> unsendable(String key) {
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c <= 0x20 || c >= 0x7F) {
        return java.util.Optional.of(
            "HEROKU_API_KEY holds a character no Heroku API key holds (at position "
                + (i + 1)
                + " of "
                + key.length()
                + "): set it again, as `heroku authorizations:create --short` prints it");
      }
    }
    return java.util.Optional.empty();
  }

  /** True when Dynofleet runs against the built-in simulator instead of Heroku. */
  public boolean sandbox() {
    return config.apiKey().filter(k -> !k.isBlank()).isEmpty();
  }

  /** Where the Heroku client should connect, with which key (starts the simulator if needed). */
  public ApiEndpoint endpoint() {
    if (!sandbox()) {
      return new ApiEndpoint(config.apiUrl(), config.apiKey().orElseThrow().trim());
    }
    simulator.start();
    return new ApiEndpoint(simulator.url(), simulator.apiKey());
  }

  void onStart(@Observes StartupEvent event) {
    if (sandbox()) {
      simulator.start();
      LOG.infof(
          "sandbox mode: simulated Heroku Platform API at %s (no HEROKU_API_KEY)",
          simulator.url().replaceAll("/$", ""));
    }
  }
}
