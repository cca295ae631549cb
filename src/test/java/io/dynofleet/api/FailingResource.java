package io.dynofleet.api;

import jakarta.persistence.PersistenceException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import java.sql.SQLException;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * A test-only route that fails as nothing in the API should (review 12: the {@code internal} 500
 * was never triggered). Hidden from the OpenAPI document, so the route walks of other tests do not
 * see it; behind the API's token like every other route.
 */
@Path("/v1/__test/fail/{kind}")
public class FailingResource {
  /** A credential the failures quote, as a config var would be in a refused row. */
  static final String SECRET = "sk_live_0123456789secret";

  @GET
  @Operation(hidden = true)
  public String fail(@PathParam("kind") String kind) throws Exception {
    if (kind.equals("database")) {
      // what a refused write looks like: PostgreSQL quotes the data it refused
      throw new PersistenceException(
          "could not execute statement [configVars " + SECRET + "]",
          new SQLException(
              "ERROR: value too long; CONTEXT: JSON data, line 1: {\"TOKEN\": \"" + SECRET + "\"",
              "22001"));
    }
    throw new IllegalStateException("a bug, holding " + SECRET);
  }
}
