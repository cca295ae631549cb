package io.dynofleet.sandbox;

import io.dynofleet.api.ApiException;
import io.dynofleet.api.PoolService;
import io.dynofleet.api.QueryCheck;
import io.dynofleet.reconcile.PoolKey;
import io.dynofleet.reconcile.ReconcileLoop;
import io.dynofleet.reconcile.Reconciler;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/**
 * Drives the simulated Heroku of a sandbox run through Dynofleet's own (authenticated) API, so the
 * README's walk-through is one command per step: break a backend, push a new release of the source
 * app. Outside sandbox mode every route answers 404: nothing here can touch real Heroku.
 */
@Path("/v1/sandbox")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "token")
@Blocking
public class SandboxResource {

  /** A simulated app as the sandbox user sees it (no config vars: they may hold credentials). */
  public record AppView(
      String name,
      String webUrl,
      int release,
      int webQuantity,
      String webSize,
      String stage,
      boolean serving) {
    static AppView of(SandboxApp a) {
      return new AppView(
          a.name(), a.webUrl(), a.release(), a.webQuantity(), a.webSize(), a.stage(), a.serving());
    }
  }

  /** What the sandbox is: where the simulated Platform API listens and its apps. */
  public record SandboxView(boolean sandbox, String platformApiUrl, List<AppView> apps) {}

  private final SandboxMode mode;
  private final Simulator simulator;
  private final PoolService pools;
  private final Reconciler reconciler;
  private final ReconcileLoop loop;

  SandboxResource(
      SandboxMode mode,
      Simulator simulator,
      PoolService pools,
      Reconciler reconciler,
      ReconcileLoop loop) {
    this.mode = mode;
    this.simulator = simulator;
    this.pools = pools;
    this.reconciler = reconciler;
    this.loop = loop;
  }

  @GET
  @Operation(summary = "The simulated Heroku of this sandbox run and its apps")
  public SandboxView sandbox(@Context UriInfo uri) {
    requireSandbox();
    QueryCheck.only(uri);
    return new SandboxView(true, simulator.url(), apps());
  }

  @POST
  @Path("apps/{app}/releases")
  @Operation(summary = "Push a new release of a simulated app, as git push heroku would")
  public AppView sandboxPush(@PathParam("app") String app, @Context UriInfo uri) {
    requireApp(app);
    QueryCheck.only(uri);
    SandboxApp pushed = simulator.pushRelease(app);
    // The pools copying this app look at it now, before this answers, so `dynofleet rollout
    // status` right after this sees the rollout (the release webhook the simulator delivers, if
    // the pools are subscribed, only asks for one more pass).
    for (String pool : pools.copying(List.of(app))) {
      reconciler.reconcile(new PoolKey(pool));
      loop.enqueue(pool, Duration.ZERO);
    }
    return AppView.of(pushed);
  }

  @POST
  @Path("apps/{app}/faults/{fault}")
  @Operation(
      summary = "Break or heal a simulated app's backend",
      description =
          "crashed (503 everywhere), dead (connection refused), hung (never answers),"
              + " slow (answers after ?ms=, default 2000), healthy")
  public AppView sandboxFault(
      @PathParam("app") String app,
      @PathParam("fault") String fault,
      @QueryParam("ms") String ms,
      @Context UriInfo uri) {
    requireApp(app);
    QueryCheck.only(uri, "ms");
    switch (fault) {
      case "crashed" -> simulator.backendCrashed(app);
      case "dead" -> simulator.backendDead(app);
      case "hung" -> simulator.backendHung(app);
      case "slow" -> {
        simulator.backendSlow(app, Duration.ofMillis(delayMillis(ms)));
      }
      case "healthy" -> simulator.backendHealthy(app);
      default ->
          throw new ApiException(
              404,
              "not-found",
              "Unknown fault",
              "fault '" + fault + "' is not one of crashed, dead, hung, slow, healthy");
    }
    return AppView.of(simulator.app(app));
  }

  /**
   * The {@code ms} of a slow fault, taken as text: a value that is not a whole number is a 400
   * naming {@code ms}, not the 404 JAX-RS makes of a failed conversion.
   */
  private static long delayMillis(String ms) {
    if (ms == null || ms.isEmpty()) {
      return 2000;
    }
    long n;
    try {
      n = Long.parseLong(ms);
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 0 || n > 600_000) {
      throw new ApiException(
          400, "invalid", "Invalid delay", "ms: must be a whole number from 0 to 600000");
    }
    return n;
  }

  private List<AppView> apps() {
    return simulator.apps().stream()
        .sorted(Comparator.comparing(SandboxApp::name))
        .map(AppView::of)
        .toList();
  }

  private void requireApp(String app) {
    requireSandbox();
    if (simulator.apps().stream().noneMatch(a -> a.name().equals(app))) {
      throw new ApiException(
          404, "not-found", "App not found", "no simulated app named '" + app + "'");
    }
  }

  private void requireSandbox() {
    if (!mode.sandbox()) {
      throw new ApiException(
          404,
          "not-sandbox",
          "Not a sandbox",
          "Dynofleet runs against Heroku (HEROKU_API_KEY is set): there is no simulator to drive");
    }
  }
}
