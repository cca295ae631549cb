package io.dynofleet.api;

import io.dynofleet.config.ApiConfig;
import io.dynofleet.config.DynofleetConfig;
import io.dynofleet.sandbox.SandboxMode;
import io.quarkus.vertx.http.HttpServer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Where and how Heroku should notify this Dynofleet of a source app's releases: the URL of {@link
 * HooksResource} on Dynofleet's public address, and the secret Heroku signs with. The reconciler
 * subscribes each managed pool with it; without a public address or a secret there is nothing to
 * subscribe with, and the sweep alone picks releases up.
 */
@ApplicationScoped
public class HookTarget {
  private static final Logger LOG = Logger.getLogger(HookTarget.class);

  /** A pool's webhook: the URL to notify (unique per pool) and the signing secret. */
  public record Target(String url, String secret) {
    @Override
    public String toString() {
      return "Target[url=" + url + "]"; // never the secret
    }
  }

  private final ApiConfig config;
  private final ApiAuth auth;
  private final Config raw;
  private final SandboxMode sandbox;
  private final Instance<HttpServer> server;
  private final String prefix;
  private final AtomicBoolean told = new AtomicBoolean();

  private final io.dynofleet.config.AdminHosts adminHosts;

  HookTarget(
      ApiConfig config,
      ApiAuth auth,
      Config raw,
      SandboxMode sandbox,
      Instance<HttpServer> server,
      DynofleetConfig dynofleet,
      io.dynofleet.config.AdminHosts adminHosts) {
    this.adminHosts = adminHosts;
    this.config = config;
    this.auth = auth;
    this.raw = raw;
    this.sandbox = sandbox;
    this.server = server;
    this.prefix = dynofleet.prefix();
  }

  /**
   * The pool's webhook, or empty when Dynofleet has no public address or no webhook secret. Its
   * secret is the pool's own ({@link ApiAuth#poolWebhookSecret}), never {@code
   * DYNOFLEET_WEBHOOK_SECRET}: the hook checks a {@code ?pool=} delivery against that pool's secret
   * (security review 3 #4).
   */
  public Optional<Target> of(String pool) {
    String secret = auth.poolWebhookSecret(pool);
    Optional<String> base = base().filter(this::servesHooks);
    if (told.compareAndSet(false, true)) {
      if (secret != null && base.isPresent()) {
        LOG.infof(
            "release webhooks: pools subscribe their source apps to %s%s%s",
            base.get(), prefix, HooksResource.PATH);
      } else {
        LOG.infof(
            "release webhooks: none subscribed, %s; source releases are noticed at the sweep",
            missing());
      }
    }
    if (secret == null || base.isEmpty()) {
      return Optional.empty();
    }
    // the pool in the URL makes each pool's subscription its own: Heroku allows one per URL and
    // app, and pools that copy one app must not share (nor delete) each other's
    return url(pool).map(u -> new Target(u, secret));
  }

  /**
   * The pool's hook URL ({@code ?pool=NAME}) on Dynofleet's public address, or empty without one
   * (or where the hook is not served).
   */
  public Optional<String> url(String pool) {
    return base()
        .filter(this::servesHooks)
        .map(b -> b + prefix + HooksResource.PATH + "?pool=" + pool);
  }

  /**
   * A short fingerprint of a secret (12 hex of SHA-256): what the database records of the secret a
   * pool's subscription was last given, never the secret.
   */
  public static String fingerprint(String secret) {
    try {
      byte[] d =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d).substring(0, 12);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Why {@link #of} is empty, for the pool's events. */
  public String missing() {
    if (auth.webhookSecret() == null) {
      return "no webhook secret (set DYNOFLEET_WEBHOOK_SECRET)";
    }
    Optional<String> base = base();
    if (base.isPresent() && !servesHooks(base.get())) {
      return "the public URL's host ("
          + URI.create(base.get()).getHost()
          + ") is not among DYNOFLEET_ADMIN_HOSTS,"
          + " where the hook is served (set DYNOFLEET_PUBLIC_URL to an admin host)";
    }
    if (configured().isPresent() && base.isEmpty()) {
      return "DYNOFLEET_PUBLIC_URL is not an http(s) URL with a host";
    }
    return "no public URL (set DYNOFLEET_PUBLIC_URL, or enable Heroku's runtime-dyno-metadata)";
  }

  /**
   * A configured public URL as the base of hook URLs: an http(s) URL with a host and no query or
   * fragment, without its trailing slash; empty when it is not one.
   */
  static Optional<String> publicBase(String url) {
    try {
      URI uri = new URI(url);
      if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))
          || uri.getHost() == null
          || uri.getRawQuery() != null
          || uri.getRawFragment() != null) {
        return Optional.empty();
      }
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
    return Optional.of(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
  }

  /**
   * Whether the hook answers at this base: with admin hosts, the prefix is served there only, and a
   * subscription elsewhere would have every notification refused with 404.
   */
  private boolean servesHooks(String base) {
    return adminHosts.servesPrefix(URI.create(base).getRawAuthority());
  }

  private Optional<String> configured() {
    return config.publicUrl().map(String::trim).filter(u -> !u.isEmpty());
  }

  private Optional<String> base() {
    Optional<String> configured = configured();
    if (configured.isPresent()) {
      return publicBase(configured.get());
    }
    Optional<String> domain =
        raw.getOptionalValue("HEROKU_APP_DEFAULT_DOMAIN_NAME", String.class)
            .map(String::trim)
            .filter(d -> !d.isEmpty());
    if (domain.isPresent()) {
      return Optional.of("https://" + domain.get());
    }
    if (sandbox.sandbox() && server.isResolvable()) {
      int port = server.get().getPort();
      return port > 0 ? Optional.of("http://localhost:" + port) : Optional.empty();
    }
    return Optional.empty();
  }
}
