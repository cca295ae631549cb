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
  public static void main(String... args) {
    if (args.length > 0 && Cli.isVerb(args[0])) {
      System.exit(Cli.run(args, System.getenv(), System.out, System.err));
    }
    Quarkus.run(args);
  }
}
