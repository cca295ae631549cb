package io.dynofleet.heroku;

import io.dynofleet.sandbox.SandboxMode;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * At start, on a Heroku dyno outside sandbox mode, asks Heroku once which dyno size this process
 * type of Dynofleet's own app runs on ({@code GET /apps/{app}/formation/{type}}), and warns when it
 * is eco. An eco dyno sleeps after 30 minutes without traffic: asleep, Dynofleet reconciles
 * nothing, and the first request after a quiet spell waits for the JVM to start. {@code heroku
 * create} leaves the type to Heroku's default, which the Deploy button's Basic formation does not
 * (audit 20 L7).
 *
 * <p>A dyno does not know its own size: the app comes from Heroku's dyno metadata ({@code
 * HEROKU_APP_ID} or {@code HEROKU_APP_NAME}, with {@code heroku labs:enable runtime-dyno-metadata})
 * and the process type from {@code DYNO}. Without them, or when Heroku does not answer (a key of
 * another account, a one-off dyno's type), nothing is said above DEBUG: the check is advice, never
 * the start's problem. Off the start path, on a thread of its own.
 */
@ApplicationScoped
public class EcoDynoCheck {
  private static final Logger LOG = Logger.getLogger(EcoDynoCheck.class);

  private final HerokuClient client;
  private final SandboxMode mode;
  private final Config raw;

  EcoDynoCheck(HerokuClient client, SandboxMode mode, Config raw) {
    this.client = client;
    this.mode = mode;
    this.raw = raw;
  }

  void onStart(@Observes StartupEvent event) {
    Optional<String> dyno = env("DYNO");
    if (mode.sandbox() || dyno.isEmpty()) {
      return;
    }
    Optional<String> app = env("HEROKU_APP_ID").or(() -> env("HEROKU_APP_NAME"));
    if (app.isEmpty()) {
      LOG.debug(
          "dyno size not checked: no HEROKU_APP_ID or HEROKU_APP_NAME (heroku labs:enable"
              + " runtime-dyno-metadata)");
      return;
    }
    start(client, app.get(), env("HEROKU_APP_NAME").orElse(app.get()), processType(dyno.get()));
  }

  private Optional<String> env(String name) {
    return raw.getOptionalValue(name, String.class).map(String::trim).filter(v -> !v.isEmpty());
  }

  /** The process type of a dyno name: {@code web} for {@code web.1}. */
  static String processType(String dyno) {
    int dot = dyno.indexOf('.');
    return dot > 0 ? dyno.substring(0, dot) : dyno;
  }

  /**
   * Runs {@link #check} on a daemon thread and logs a warning it gives; the future completes with
   * it (empty when there is none or Heroku did not answer).
   */
  public static CompletableFuture<Optional<String>> start(
      HerokuClient client, String app, String appName, String type) {
    CompletableFuture<Optional<String>> done = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              Optional<String> warning = Optional.empty();
              try {
                warning = check(client, app, appName, type);
                warning.ifPresent(LOG::warn);
              } catch (RuntimeException e) {
                LOG.debugf("dyno size of %s %s not checked: %s", appName, type, e.toString());
              }
              done.complete(warning);
            },
            "dynofleet-dyno-size-check");
    t.setDaemon(true);
    t.start();
    return done;
  }

  /**
   * One {@code GET /apps/{app}/formation/{type}}: a warning when the type runs on eco dynos. {@code
   * appName} is what the warning's command names.
   */
  public static Optional<String> check(
      HerokuClient client, String app, String appName, String type) {
    Formation f = client.formation(app, type);
    if (!"eco".equalsIgnoreCase(f.size())) {
      return Optional.empty();
    }
    return Optional.of(
        "Dynofleet runs on eco dynos ("
            + type
            + " of app "
            + appName
            + "): an eco dyno sleeps after 30 minutes without traffic, and asleep it reconciles no"
            + " pool, and the first request after a quiet spell waits for Dynofleet to start. Use"
            + " basic or larger: heroku ps:type "
            + type
            + "=basic -a "
            + appName);
  }
}
