package io.dynofleet;

import io.dynofleet.cli.Cli;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * One jar, two programs: {@code java -jar quarkus-run.jar get pools} runs the CLI without booting
 * Quarkus (no database, no HTTP server); without a CLI verb it starts the server as before.
 */
@QuarkusMain
public class Main {
  static final String NO_URI_VALIDATION = "vertx.disableURIValidation";

  public static void main(String... args) {
    if (args.length > 0 && Cli.isVerb(args[0])) {
      System.exit(Cli.run(args, System.getenv(), System.out, System.err));
    }
    // Quarkus answers a request target java.net.URI cannot parse with an empty 400 before any
    // route runs. Let such requests in: the API answers them with a problem document
    // (RequestIds), the proxy passes them on as it received them, as nginx and HAProxy do.
    if (System.getProperty(NO_URI_VALIDATION) == null) {
      System.setProperty(NO_URI_VALIDATION, "true");
    }
    Quarkus.run(args);
  }
}
