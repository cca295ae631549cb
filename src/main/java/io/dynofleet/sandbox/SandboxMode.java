package io.dynofleet.sandbox;

import io.dynofleet.heroku.ApiEndpoint;
import io.dynofleet.heroku.HerokuConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
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

  SandboxMode(HerokuConfig config, Simulator simulator) {
    this.config = config;
    this.simulator = simulator;
  }

  /** True when Dynofleet runs against the built-in simulator instead of Heroku. */
  public boolean sandbox() {
    return config.apiKey().filter(k -> !k.isBlank()).isEmpty();
  }

  /** Where the Heroku client should connect, with which key (starts the simulator if needed). */
  public ApiEndpoint endpoint() {
    if (!sandbox()) {
      return new ApiEndpoint(config.apiUrl(), config.apiKey().orElseThrow());
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
