package io.dynofleet.api;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.dynofleet.config.ApiConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Failed token attempts per client: after {@code dynofleet.api.auth-failures} of them within {@code
 * dynofleet.api.auth-failure-window} (counted from the first), the client's requests with a wrong
 * credential are refused unchecked until the window ends, so tokens cannot be guessed at full
 * speed; its right token too when a token is weak ({@link ApiAuth}: with strong ones it is served).
 * Other clients are not slowed at all. Only failures are counted: a success does not clear them
 * (the read-only token's holder would otherwise guess the other one with a success between
 * guesses). Per process, in a bounded cache (Caffeine, least-used clients evicted first), so an
 * attacker with many addresses costs memory for at most {@link #MAX_CLIENTS} of them.
 */
@ApplicationScoped
class AuthThrottle {
  static final int MAX_CLIENTS = 50_000;
  private static final Logger LOG = Logger.getLogger(AuthThrottle.class);

  /** A client's failures since {@code start}. */
  private record Window(Instant start, int failures) {}

  private final int limit;
  private final Duration window;
  private final Clock clock;
  private final Cache<String, Window> clients;

  @Inject
  AuthThrottle(ApiConfig config, Clock clock) {
    this(config.authFailures(), config.authFailureWindow(), clock);
  }

  AuthThrottle(int limit, Duration window, Clock clock) {
    this.limit = limit;
    this.window = window;
    this.clock = clock;
    // the expiry only frees memory; whether a window still holds is decided on the clock below
    this.clients = Caffeine.newBuilder().maximumSize(MAX_CLIENTS).expireAfterWrite(window).build();
  }

  /**
   * How long the client must wait before its credentials are looked at again; empty when they may
   * be (always when throttling is off: a limit of 0).
   */
  Optional<Duration> retryAfter(String client) {
    if (limit <= 0 || client == null) {
      return Optional.empty();
    }
    Window w = clients.getIfPresent(client);
    Instant now = clock.instant();
    if (w == null || w.failures() < limit || !now.isBefore(w.start().plus(window))) {
      return Optional.empty();
    }
    return Optional.of(Duration.between(now, w.start().plus(window)));
  }

  /** A request from this client carried a credential that matched no token. */
  void failed(String client) {
    if (limit <= 0 || client == null) {
      return;
    }
    Instant now = clock.instant();
    Window w =
        clients
            .asMap()
            .compute(
                client,
                (k, before) ->
                    before == null || !now.isBefore(before.start().plus(window))
                        ? new Window(now, 1)
                        : new Window(before.start(), before.failures() + 1));
    if (w.failures() == limit) {
      LOG.warnf(
          "auth-throttled client=%s failures=%d window=%s: its requests with a wrong token get 429 until %s",
          client, limit, window, w.start().plus(window));
    }
  }

  /** {@code Retry-After} in whole seconds, rounded up (at least 1). */
  static long seconds(Duration d) {
    long s = d.toSeconds() + (d.toNanosPart() > 0 ? 1 : 0);
    return Math.max(1, s);
  }
}
