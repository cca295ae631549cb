package io.dynofleet.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** The management API. */
@ConfigMapping(prefix = "dynofleet.api")
public interface ApiConfig {

  /**
   * Bearer token every management request must carry ({@code DYNOFLEET_API_TOKEN}). Required
   * outside sandbox mode; in sandbox mode a random one is generated and printed at start.
   */
  Optional<String> token();

  /**
   * A second bearer token that may only read ({@code DYNOFLEET_READ_TOKEN}): {@code GET} and {@code
   * HEAD} of the API, metrics and OpenAPI document, so a scraper, a dashboard viewer or a CI check
   * need not hold the token that can delete every app. Anything else with it gets 403.
   */
  Optional<String> readToken();

  /**
   * The API token before a rotation ({@code DYNOFLEET_API_TOKEN_PREVIOUS}): accepted as {@link
   * #token()} is while set, so that a token can be rotated without a window in which a client's
   * token works on some dynos only (security review 7 S7-1). Set it to the old value together with
   * the new {@code DYNOFLEET_API_TOKEN}, move every client to the new one, then unset it.
   */
  Optional<String> tokenPrevious();

  /**
   * The read-only token before a rotation ({@code DYNOFLEET_READ_TOKEN_PREVIOUS}): accepted as
   * {@link #readToken()} is (reads only) while set.
   */
  Optional<String> readTokenPrevious();

  /**
   * Serve {@code /_dynofleet/q/metrics} without the token ({@code DYNOFLEET_METRICS_PUBLIC}). Off
   * by default: on Heroku no network rule can keep a scraper's endpoint private, and the metrics
   * name every backend app (whose herokuapp.com address reaches it past the balancer) with its
   * errors.
   */
  @WithDefault("false")
  boolean metricsPublic();

  /**
   * Directory of declarative pool files ({@code *.yaml}, {@code *.yml}, {@code *.json}), applied at
   * start as {@code dynofleet apply -f} would: created when missing, replaced when changed.
   * Relative to the working directory (on Heroku: the app root, so pools can live in git next to
   * the app).
   */
  @WithDefault("config/pools")
  String poolsDir();

  /**
   * Secret of the Heroku app webhooks ({@code DYNOFLEET_WEBHOOK_SECRET}, the {@code --secret} /
   * {@code secret} given when the webhook is added). {@code POST .../v1/hooks/heroku} takes a
   * notification only with a valid {@code Heroku-Webhook-Hmac-SHA256} signature of its body, never
   * with the API token, so Heroku never holds the token (security review 3 #1). Unset: the hook
   * answers 401 to every notification, and no pool subscribes its source app.
   */
  Optional<String> webhookSecret();

  /**
   * Where Heroku reaches this Dynofleet app from outside ({@code DYNOFLEET_PUBLIC_URL}, e.g. {@code
   * https://my-dynofleet.herokuapp.com}): the base of the webhook URL Dynofleet subscribes on
   * source apps. Unset: {@code https://$HEROKU_APP_DEFAULT_DOMAIN_NAME} when Heroku's dyno metadata
   * gives it, this process's own loopback URL in sandbox mode, else none (no subscriptions).
   */
  Optional<String> publicUrl();

  /**
   * Pools the fleet may hold ({@code DYNOFLEET_API_MAX_POOLS}), pools being deleted included: a
   * create past it is refused (409 {@code pool-limit}); pools already stored stay and may be
   * replaced. Each new pool reads its source app in full and subscribes a webhook on it (about a
   * dozen Platform API calls), and a static pool probes its backends: without a bound a token
   * holder or a looping script spent the account's hourly budget in minutes (security review 5
   * S5-3, S5-8). 0: no limit.
   */
  @WithDefault("500")
  int maxPools();

  /**
   * Failed token attempts a client may make within {@link #authFailureWindow()} ({@code
   * DYNOFLEET_API_AUTH_FAILURES}); after them its requests that carry a credential get 429 until
   * the window ends. A client is the last {@code X-Forwarded-For} address on a dyno (the one
   * Heroku's router appends), else the connection's address. Counted per process. 0: no limit.
   */
  @WithDefault("20")
  int authFailures();

  /**
   * The window of {@link #authFailures()} ({@code DYNOFLEET_API_AUTH_FAILURE_WINDOW}), counted from
   * a client's first failure.
   */
  @WithDefault("10m")
  java.time.Duration authFailureWindow();

  /** Largest request body the API reads, in bytes; larger ones get 413. */
  @WithDefault("1048576")
  int maxBodyBytes();

  /**
   * The least time between two passes a pool's webhook notifications bring ({@code
   * DYNOFLEET_API_HOOK_PASS_INTERVAL}), per process: a notification within it has its pass at the
   * interval's end, one for all of them. A pool's webhook secret is handed to Heroku; whoever holds
   * it could otherwise call up a pass, and Platform API calls, at any rate.
   */
  @WithDefault("15s")
  java.time.Duration hookPassInterval();
}
