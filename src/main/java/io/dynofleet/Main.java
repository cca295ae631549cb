package io.dynofleet;

import io.dynofleet.cli.Cli;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * One jar, two programs: {@code java -jar quarkus-run.jar} with no arguments starts the server; any
 * argument runs the CLI without booting Quarkus (no database, no HTTP server).
 *
 * <p>The server takes no arguments: its configuration comes from the environment and from {@code
 * -D} options given to the JVM <em>before</em> {@code -jar} (Quarkus does not read {@code -D} words
 * after the jar as configuration). So any argument list is a CLI command line, and one the CLI does
 * not understand (a global flag first, a mistyped verb, a misplaced {@code -D}) is a usage error,
 * never a server started by accident.
 */
@QuarkusMain
public class Main {
  static final String NO_URI_VALIDATION = "vertx.disableURIValidation";

  public static void main(String... args) {
    if (!startsServer(args)) {
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

  /** True only for the server's command line: no arguments at all. */
  static boolean startsServer(String... args) {
    return args.length == 0;
  }
}
