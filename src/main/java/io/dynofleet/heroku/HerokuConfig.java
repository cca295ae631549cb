package io.dynofleet.heroku;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** Settings of the Heroku Platform API client. */
@ConfigMapping(prefix = "dynofleet.heroku")
public interface HerokuConfig {

  /** Base URL of the Platform API (env {@code HEROKU_API_URL}). Ignored in sandbox mode. */
  @WithDefault("https://api.heroku.com")
  String apiUrl();

  /**
   * API key (env {@code HEROKU_API_KEY}). Without one Dynofleet runs in sandbox mode against the
   * built-in simulator. Never logged.
   */
  Optional<String> apiKey();

  /** Page size sent in {@code Range: ...; max=N} for lists (Heroku allows at most 1000). */
  @WithDefault("1000")
  int pageSize();

  /** TCP connect timeout. */
  @WithDefault("5s")
  Duration connectTimeout();

  /** Read timeout of one request. */
  @WithDefault("30s")
  Duration readTimeout();

  /** Attempts for safe (idempotent) requests on transient failures (5xx, connect); POST gets 1. */
  @WithDefault("3")
  int maxAttempts();

  /** First backoff delay after a transient failure; doubles per attempt, with jitter. */
  @WithDefault("200ms")
  Duration retryInitialDelay();

  /** Cap of one backoff delay after a transient failure. */
  @WithDefault("5s")
  Duration retryMaxDelay();

  /** First wait after a 429; doubles while the limit lasts. */
  @WithDefault("1s")
  Duration rateLimitInitialDelay();

  /**
   * Longest a call waits on the rate limit in all, its turns under the low watermark and the pauses
   * after 429s together, before it fails with {@code RateLimited} (unsent, when its turn would come
   * later).
   */
  @WithDefault("60s")
  Duration rateLimitMaxWait();

  /**
   * Below this {@code RateLimit-Remaining}, every call of the process takes a turn of one shared
   * limiter, refilled at the process's share of {@link #rateLimitRefillPerHour()} ({@link
   * RateBudget}); at or above it calls do not wait.
   */
  @WithDefault("500")
  int lowWatermark();

  /**
   * The account's refill, calls an hour (Heroku: 4500): the rate the limiter shares between the
   * fleet's dynos under the low watermark. Change it only if Heroku changed the account's limit. In
   * sandbox mode it defaults to the simulator's, {@code
   * dynofleet.sandbox.rate-limit.refill-per-hour} ({@code SandboxRefillConfigSourceFactory}).
   */
  @WithDefault("4500")
  int rateLimitRefillPerHour();

  /**
   * Apps the account (or team) may have (env {@code DYNOFLEET_HEROKU_APP_LIMIT}; Heroku: 100, an
   * Enterprise Team 200, more on request). A pool write whose {@code replicas} plus the surge its
   * rollouts make ({@code maxSurge}, at most {@code replicas}) exceed it is refused: those creates
   * would fail with {@code CreateFailed}. The pools together above it is a {@code Warning} event.
   */
  @WithDefault("100")
  int appLimit();

  /** Entries kept in the ETag cache of conditional GETs. */
  @WithDefault("2000")
  int etagCacheSize();
}
