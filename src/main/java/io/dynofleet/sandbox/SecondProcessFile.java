package io.dynofleet.sandbox;

import io.dynofleet.api.ApiAuth;
import io.dynofleet.db.PrivateFiles;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * The settings a second Dynofleet process needs to run beside a sandbox as a second dyno: the same
 * database and the same simulated Heroku account. The simulator's API key and the embedded
 * database's password are drawn at random and never shown (audit 23 L6: a sandbox could not be run
 * as two dynos), so they are written, with the API token and webhook secret the two processes must
 * share, into a file only this user may read (0600, in a directory of the sandbox's that only this
 * user may enter, 0700), never into the log: the banner names the file, and a shell reads it into
 * the second process's environment ({@code set -a; . FILE; set +a}). It goes when this process
 * stops, as the sandbox's database and account do.
 *
 * <p>The second process runs with the simulator's key as its {@code HEROKU_API_KEY}, so it is no
 * sandbox of its own: it starts no simulator and no embedded database, and acts on this one's.
 */
@ApplicationScoped
public class SecondProcessFile {
  private static final Logger LOG = Logger.getLogger(SecondProcessFile.class);
  static final String NAME = "second-process.env";

  private final Simulator simulator;
  private final ApiAuth auth;
  private final Config config;
  private volatile Path written;

  SecondProcessFile(Simulator simulator, ApiAuth auth, Config config) {
    this.simulator = simulator;
    this.auth = auth;
    this.config = config;
  }

  /** The file once written, else empty. */
  public Optional<Path> path() {
    return Optional.ofNullable(written);
  }

  /**
   * Writes the file (once) and gives its path; empty, with a WARN naming the directory only, when
   * it could not be written (the sandbox runs on, as one process).
   */
  synchronized Optional<Path> write() {
    if (written != null) {
      return Optional.of(written);
    }
    Path dir = null;
    try {
      dir = PrivateFiles.createTempDirectory("dynofleet-sandbox-");
      Path file = dir.resolve(NAME);
      PrivateFiles.createFile(file);
      Files.writeString(file, text(settings()));
      written = file;
      return Optional.of(file);
    } catch (IOException | RuntimeException e) {
      LOG.warnf(
          "sandbox: the settings of a second process were not written%s: %s",
          dir == null ? "" : " (in " + dir + ")", e.getClass().getSimpleName());
      return Optional.empty();
    }
  }

  /** The environment a second process needs, by variable name, in the order written. */
  Map<String, String> settings() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("QUARKUS_DATASOURCE_JDBC_URL", required("quarkus.datasource.jdbc.url"));
    value("quarkus.datasource.username").ifPresent(v -> env.put("QUARKUS_DATASOURCE_USERNAME", v));
    value("quarkus.datasource.password").ifPresent(v -> env.put("QUARKUS_DATASOURCE_PASSWORD", v));
    env.put("HEROKU_API_URL", simulator.url().replaceAll("/$", ""));
    env.put("HEROKU_API_KEY", simulator.apiKey());
    // the simulated account refills as this sandbox's does (its client paced by it too)
    value("dynofleet.heroku.rate-limit-refill-per-hour")
        .ifPresent(v -> env.put("DYNOFLEET_HEROKU_RATE_LIMIT_REFILL_PER_HOUR", v));
    env.put(
        "DYNOFLEET_API_TOKEN",
        auth.sandboxToken().orElseGet(() -> required("dynofleet.api.token").trim()));
    value("dynofleet.api.read-token").ifPresent(v -> env.put("DYNOFLEET_READ_TOKEN", v.trim()));
    // a rotation's previous tokens: the two processes accept the same ones
    value("dynofleet.api.token-previous")
        .ifPresent(v -> env.put("DYNOFLEET_API_TOKEN_PREVIOUS", v.trim()));
    value("dynofleet.api.read-token-previous")
        .ifPresent(v -> env.put("DYNOFLEET_READ_TOKEN_PREVIOUS", v.trim()));
    String hookSecret = auth.webhookSecret();
    if (hookSecret != null) {
      // each pool's webhook secret derives from it: the two processes must agree
      env.put("DYNOFLEET_WEBHOOK_SECRET", hookSecret);
    }
    // with a key the second process would listen on every interface; the sandbox listens where
    // it does (loopback on a laptop): its proxy and API have the same token
    value("quarkus.http.host").ifPresent(v -> env.put("QUARKUS_HTTP_HOST", v));
    return env;
  }

  /**
   * The file's text: a comment, then {@code NAME='value'} lines a POSIX shell reads as they are.
   */
  static String text(Map<String, String> env) {
    StringBuilder b =
        new StringBuilder(
            "# Dynofleet sandbox: a second process on the same database and simulated Heroku account.\n"
                + "# Secrets: readable by you only; removed when the sandbox stops. Start one with\n"
                + "#   (set -a; . THIS_FILE; set +a; PORT=8081 java -jar target/quarkus-app/quarkus-run.jar)\n");
    env.forEach((k, v) -> b.append(k).append("='").append(v.replace("'", "'\\''")).append("'\n"));
    return b.toString();
  }

  /** The file and its directory go with the sandbox. */
  void onStop(@Observes ShutdownEvent e) {
    Path file = written;
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
      Files.deleteIfExists(file.getParent());
    } catch (IOException ignored) {
      // a temporary directory: the OS clears it
    }
  }

  private Optional<String> value(String name) {
    return config.getOptionalValue(name, String.class).filter(v -> !v.isBlank());
  }

  private String required(String name) {
    return value(name).orElseThrow(() -> new IllegalStateException(name + " is not set"));
  }
}
