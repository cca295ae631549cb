package io.dynofleet.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.jboss.logging.Logger;

/**
 * The embedded PostgreSQL of sandbox mode and of the tests: real PostgreSQL binaries shipped as a
 * Maven artifact. Started once per JVM on first use (several Quarkus restarts in one test JVM share
 * it) and stopped by a shutdown hook once the application has stopped (a SIGTERM lets in-flight
 * work finish first: stopping the database at once made every pass of those seconds fail). Its data
 * lives in a temporary directory and survives nothing.
 */
public final class EmbeddedDatabase {
  private static final Logger LOG = Logger.getLogger(EmbeddedDatabase.class);
  private static EmbeddedPostgres instance;

  /**
   * The password of the server's one role, drawn at class load, required of every connection
   * (scram-sha-256): zonky's initdb trusts every local connection, so any other user of the machine
   * was superuser, and with COPY ... FROM PROGRAM ran commands as the user who started Dynofleet
   * (security review 2).
   */
  private static final String PASSWORD = randomPassword();

  private EmbeddedDatabase() {}

  /** The JDBC URL of the running embedded server, starting it on first call. */
  public static synchronized String jdbcUrl() {
    return jdbcUrl(false);
  }

  /**
   * The same; {@code realKey}: a Heroku API key is configured (in any config source), so this is no
   * sandbox, and the start says what a throw-away database means then.
   */
  static synchronized String jdbcUrl(boolean realKey) {
    if (instance == null) {
      long start = System.nanoTime();
      try {
        // initdb and the first start can take long on a busy machine: wait up to a minute, not 10 s
        // a port below the ephemeral range: zonky's own pick (bind 0, close, start the server) left
        // it to any program's port-0 pick until PostgreSQL bound it
        // zonky's own shutdown hook stopped the server at the signal, under the requests still
        // draining: ours (below) stops it once the application has stopped
        // initdb's own options after zonky's "-A trust" (its locale options are passed on as
        // --key=value): the server never trusts a connection, not even for the moment between
        // its start and a change of pg_hba.conf (review 19)
        java.nio.file.Path pwfile = passwordFile();
        try {
          instance =
              EmbeddedPostgres.builder()
                  .setPort(io.dynofleet.sandbox.PortHold.pickFree())
                  .setLocaleConfig("auth", "scram-sha-256")
                  .setLocaleConfig("pwfile", pwfile.toString())
                  .setConnectConfig("password", PASSWORD)
                  .setPGStartupWait(java.time.Duration.ofSeconds(60))
                  .setRegisterShutdownHook(false)
                  .start();
        } finally {
          java.nio.file.Files.deleteIfExists(pwfile);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("could not start the embedded PostgreSQL", e);
      }
      EmbeddedPostgres pg = instance;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      awaitApplicationStop();
                      pg.close();
                    } catch (IOException ignored) {
                      // the JVM is going away; the temp dir is removed by the OS or the next start
                    }
                  },
                  "embedded-postgres-stop"));
      if (!realKey) {
        LOG.infof(
            "embedded PostgreSQL started port=%d millis=%d (sandbox database, nothing persists)",
            pg.getPort(), (System.nanoTime() - start) / 1_000_000);
      } else {
        // DYNOFLEET_DATABASE_EMBEDDED=true with a real key: no sandbox (audit 13: it said so)
        LOG.warnf(
            "embedded PostgreSQL started port=%d millis=%d: a throw-away database with a real"
                + " HEROKU_API_KEY; the pools are lost when this process stops, and the apps they made keep"
                + " running and billing",
            pg.getPort(), (System.nanoTime() - start) / 1_000_000);
      }
    }
    return instance.getJdbcUrl("postgres", "postgres");
  }

  /** The password of the embedded server's role {@code postgres}. */
  public static String password() {
    return PASSWORD;
  }

  private static String randomPassword() {
    byte[] b = new byte[24];
    new java.security.SecureRandom().nextBytes(b);
    return java.util.HexFormat.of().formatHex(b);
  }

  /** The password for initdb, in a file only this user may read (deleted once the server runs). */
  private static java.nio.file.Path passwordFile() throws IOException {
    java.nio.file.Path f = PrivateFiles.createTempFile("dynofleet-pg", ".pw");
    java.nio.file.Files.writeString(f, PASSWORD + "\n");
    return f;
  }

  /**
   * Quarkus stops in its own shutdown hook, which runs alongside this one: wait for it, bounded.
   */
  private static void awaitApplicationStop() {
    io.quarkus.runtime.Application app = io.quarkus.runtime.Application.currentApplication();
    if (app == null) return;
    Thread waiter = new Thread(app::awaitShutdown, "embedded-postgres-await-stop");
    waiter.setDaemon(true);
    waiter.start();
    try {
      waiter.join(29_000); // Heroku kills the dyno 30 s after SIGTERM anyway
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
