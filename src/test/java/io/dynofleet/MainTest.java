package io.dynofleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Main} as a process: any argument list is the CLI (which exits at once), only an empty one
 * starts the server. Audit defect 1: a global flag before the verb, or a mistyped verb, booted the
 * whole server (embedded PostgreSQL, simulated Heroku, port 8080) and never exited.
 */
class MainTest {
  @TempDir Path dir;

  record Exit(int code, String err) {}

  /** Runs {@code io.dynofleet.Main} in a child JVM on the test classpath; a run over 30 s fails. */
  Exit main(String... args) throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.dynofleet.Main"));
    cmd.addAll(List.of(args));
    Path err = dir.resolve("err.txt");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectError(err.toFile())
            .redirectOutput(dir.resolve("out.txt").toFile());
    pb.environment().remove("DYNOFLEET_URL");
    pb.environment().remove("DYNOFLEET_API_TOKEN");
    Process p = pb.start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor();
      throw new AssertionError(
          "still running after 30 s (a server was started?): " + String.join(" ", args));
    }
    return new Exit(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void onlyAnEmptyCommandLineStartsTheServer() {
    assertThat(Main.startsServer()).isTrue();
    assertThat(Main.startsServer("-Dquarkus.http.port=1")).isFalse();
    assertThat(Main.startsServer("--url", "http://x")).isFalse();
  }

  @Test
  void globalFlagsBeforeTheVerbRunTheCli() throws Exception {
    // a port bound and never listened on (as CliTests does): connects are refused, so the CLI
    // exits 5 (cannot connect) at once
    try (Socket held = new Socket()) {
      held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = held.getLocalPort();
      Exit url = main("--url", "http://127.0.0.1:" + port, "get", "pools");
      assertThat(url.code()).as(url.err()).isEqualTo(5);
      assertThat(url.err()).contains("cannot connect");
      Exit token = main("--token", "X", "--url=http://127.0.0.1:" + port, "get", "pools");
      assertThat(token.code()).as(token.err()).isEqualTo(5);
    }
  }

  @Test
  void anUnknownVerbOrAMisplacedJvmOptionIsAUsageError() throws Exception {
    for (String[] args :
        List.of(
            new String[] {"frobnicate"},
            new String[] {"gte", "pools"},
            new String[] {"-Dquarkus.http.port=1"})) {
      Exit e = main(args);
      assertThat(e.code()).as(String.join(" ", args) + ": " + e.err()).isEqualTo(2);
      assertThat(e.err()).contains("unknown command " + args[0]).contains("dynofleet help");
    }
    assertThat(main("-Dquarkus.http.port=1").err()).contains("before -jar");
  }
}
