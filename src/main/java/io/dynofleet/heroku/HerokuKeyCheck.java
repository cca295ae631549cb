package io.dynofleet.heroku;

import io.dynofleet.sandbox.SandboxMode;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * At start, outside sandbox mode, asks Heroku once who {@code HEROKU_API_KEY} belongs to ({@code
 * GET /account}, a cheap auth check) and logs the answer: the Platform API URL and the account's
 * email, or that the key was refused and how to make a new one. Before, a dead key showed only once
 * a pool needed the Platform API, and the start log did not even say Dynofleet ran against Heroku
 * (audit 12). Off the start path, on a thread of its own: the proxy serves whatever Heroku answers,
 * or if it never does.
 */
@ApplicationScoped
public class HerokuKeyCheck {
  private static final Logger LOG = Logger.getLogger(HerokuKeyCheck.class);

  /** The line the check logs, at its level. */
  public record Outcome(Logger.Level level, String line) {}

  private final HerokuClient client;
  private final HerokuConfig config;
  private final SandboxMode mode;

  HerokuKeyCheck(HerokuClient client, HerokuConfig config, SandboxMode mode) {
    this.client = client;
    this.config = config;
    this.mode = mode;
  }

  void onStart(@Observes StartupEvent event) {
    if (!mode.sandbox()) {
      start(client, config.apiUrl());
    }
  }

  /** Runs {@link #check} on a daemon thread and logs its line; the future completes with it. */
  public static CompletableFuture<Outcome> start(HerokuClient client, String apiUrl) {
    CompletableFuture<Outcome> done = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                Outcome o = check(client, apiUrl);
                LOG.log(o.level(), o.line());
                done.complete(o);
              } catch (RuntimeException e) {
                // never the start's problem: said, and the reconciler meets the key on its own
                LOG.warnf(
                    "Heroku Platform API at %s: HEROKU_API_KEY could not be checked (%s)",
                    apiUrl, e.toString());
                done.completeExceptionally(e);
              }
            },
            "dynofleet-key-check");
    t.setDaemon(true);
    t.start();
    return done;
  }

  /**
   * An email as the log shows it: its first letter and its domain ({@code y***@example.com}); the
   * start line goes to every log drain at every start (review 13).
   */
  static String masked(String email) {
    int at = email.indexOf('@');
    return at <= 0 ? "***" : email.charAt(0) + "***" + email.substring(at);
  }

  /** One {@code GET /account}: what to log about the key (never the key). */
  public static Outcome check(HerokuClient client, String apiUrl) {
    String url = ApiEndpoint.shown(apiUrl).replaceAll("/+$", "");
    try {
      Account account = client.account();
      return new Outcome(
          Logger.Level.INFO,
          "Heroku Platform API at "
              + url
              + ": HEROKU_API_KEY belongs to "
              + (account.email() == null ? "account " + account.id() : masked(account.email())));
    } catch (HerokuException.Permanent e) {
      if (e.isUnauthorized()) {
        return new Outcome(
            Logger.Level.ERROR,
            "Heroku Platform API at "
                + url
                + ": "
                + HerokuException.refusedKey(e)
                + "; until then no pool can be reconciled (the proxy serves"
                + " the pools it has)");
      }
      return new Outcome(
          Logger.Level.WARN,
          "Heroku Platform API at " + url + ": " + e.getMessage() + "; the key was not confirmed");
    } catch (HerokuException e) {
      return new Outcome(
          Logger.Level.WARN,
          "Heroku Platform API at "
              + url
              + " could not be asked about HEROKU_API_KEY ("
              + e.getMessage()
              + "); the reconciler retries on its own, the proxy serves meanwhile");
    }
  }
}
