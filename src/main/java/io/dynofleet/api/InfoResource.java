package io.dynofleet.api;

import io.dynofleet.config.DynofleetConfig;
import io.dynofleet.heroku.HerokuConfig;
import io.dynofleet.pool.model.PoolRepository;
import io.dynofleet.sandbox.SandboxMode;
import io.dynofleet.sandbox.Simulator;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.jboss.logging.Logger;

/**
 * What this Dynofleet is: its version, whether it runs against the built-in simulator (sandbox) or
 * Heroku, the Platform API URL (never the key), the reserved prefix and how many pools it holds.
 */
@Path("/v1/info")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "token")
public class InfoResource {
  private static final Logger LOG = Logger.getLogger(InfoResource.class);

  /**
   * The answer; {@code poolCount} is absent while the database cannot be read. {@code warnings}:
   * what the start warned of in this configuration (a read-only token that is the API token, a
   * previous token still set, a weak token), never a token's text; empty when nothing is amiss. To
   * the read-only token without a weak token's length or the admin hosts' names (R32-1).
   */
  public record Info(
      String version,
      boolean sandbox,
      String herokuApiUrl,
      String prefix,
      Long poolCount,
      java.util.List<String> warnings) {}

  private final SandboxMode mode;
  private final Simulator simulator;
  private final HerokuConfig heroku;
  private final DynofleetConfig dynofleet;
  private final PoolRepository pools;
  private final Config config;
  private final ApiAuth auth;

  InfoResource(
      SandboxMode mode,
      Simulator simulator,
      HerokuConfig heroku,
      DynofleetConfig dynofleet,
      PoolRepository pools,
      Config config,
      ApiAuth auth) {
    this.auth = auth;
    this.mode = mode;
    this.simulator = simulator;
    this.heroku = heroku;
    this.dynofleet = dynofleet;
    this.pools = pools;
    this.config = config;
  }

  @GET
  @Operation(
      summary = "Version, sandbox or Heroku, Platform API URL (never the key), prefix, pool count")
  public Info info(@Context UriInfo uri, @Context io.vertx.ext.web.RoutingContext rc) {
    QueryCheck.only(uri);
    boolean sandbox = mode.sandbox();
    String url =
        sandbox
            ? simulator.url().replaceAll("/$", "")
            : io.dynofleet.heroku.ApiEndpoint.shown(heroku.apiUrl());
    String version =
        config.getOptionalValue("quarkus.application.version", String.class).orElse("dev");
    // the read-only token's holders get the warnings without a token's length or the admin hosts
    boolean reader = rc == null || rc.get(ApiAuth.READER) != null;
    return new Info(
        version, sandbox, url, dynofleet.prefix(), poolCount(), auth.configWarnings(!reader));
  }

  private Long poolCount() {
    try {
      return pools.count();
    } catch (RuntimeException e) {
      // Info must answer while the database is down (it says what this process is, not its data).
      if (!ProblemMappers.isDatabaseDown(e)) {
        throw e;
      }
      LOG.debugf("info without pool count: %s", e.getClass().getSimpleName());
      return null;
    }
  }
}
