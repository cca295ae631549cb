package io.dynofleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the CLI words what the server refused, and what it refuses before asking (audit 22 L6). */
class ApiClientTest {
  private final ApiClient client =
      new ApiClient("http://127.0.0.1:9", "t0ken", new ObjectMapper(), w -> {});

  @Test
  void aThrottledClientIsToldTheWaitOnce() {
    String body =
        "{\"type\": \"https://dynofleet.dev/problems/auth-throttled\", \"status\": 429,"
            + " \"detail\": \"too many requests with a wrong token came from this client: try"
            + " again in 599 s\"}";
    assertThatThrownBy(
            () -> client.check(new ApiClient.Response(429, body, null, Duration.ofSeconds(599))))
        .hasMessage(
            "too many requests with a wrong token came from this client: try again in 599 s"
                + " [429 auth-throttled]");
  }

  @Test
  void aWaitTheDetailDoesNotSayIsStillSaid() {
    String body =
        "{\"type\": \"https://dynofleet.dev/problems/database-unavailable\", \"status\": 503,"
            + " \"detail\": \"the database cannot be reached; retry shortly\"}";
    assertThatThrownBy(
            () -> client.check(new ApiClient.Response(503, body, null, Duration.ofSeconds(1))))
        .hasMessage(
            "the database cannot be reached; retry shortly (retry after 1 s) [503"
                + " database-unavailable]");
  }

  /**
   * The app limit's 422 names spec.replicas and spec.rollout.maxSurge with one sentence (as {@code
   * PoolService.checkAppLimit} answers it), which was printed twice, once under each.
   */
  @Test
  void fieldsRefusedForOneReasonAreNamedTogetherBeforeItOnce() {
    String why =
        "replicas 100 plus the rollout's surge 1 (maxSurge, at most replicas) make 101 apps, above"
            + " the account's app limit 100 (DYNOFLEET_HEROKU_APP_LIMIT)";
    String body =
        ("{\"type\": \"https://dynofleet.dev/problems/invalid\", \"status\": 422,"
                + " \"detail\": \"3 fields are invalid\", \"errors\": ["
                + "{\"field\": \"spec.replicas\", \"message\": \"%s\"},"
                + " {\"field\": \"metadata.name\", \"message\": \"must be lower case\"},"
                + " {\"field\": \"spec.rollout.maxSurge\", \"message\": \"%s\"}]}")
            .formatted(why, why);
    String nl = System.lineSeparator();
    assertThatThrownBy(() -> client.check(new ApiClient.Response(422, body, null, null)))
        .hasMessage(
            "3 fields are invalid [422 invalid]"
                + nl
                + "  spec.replicas and spec.rollout.maxSurge: "
                + why
                + nl
                + "  metadata.name: must be lower case");
  }

  /** The app limit's 422 alone: its detail says the shared line already, printed once. */
  @Test
  void fieldsRefusedForOneReasonTheDetailSaysAreNotSaidAgain() {
    String line = "spec.replicas and spec.rollout.maxSurge: make 101 apps, above the app limit 100";
    String body =
        ("{\"type\": \"https://dynofleet.dev/problems/invalid\", \"status\": 422,"
                + " \"detail\": \"%s\", \"errors\": ["
                + "{\"field\": \"spec.replicas\", \"message\": \"make 101 apps, above the app limit 100\"},"
                + " {\"field\": \"spec.rollout.maxSurge\", \"message\": \"make 101 apps, above the app limit 100\"}]}")
            .formatted(line);
    assertThatThrownBy(() -> client.check(new ApiClient.Response(422, body, null, null)))
        .hasMessage(line + " [422 invalid]");
  }

  /**
   * Review 31 R31-7: a redirect's Location was printed with its {@code user:password@}, the one URL
   * the CLI printed unmasked, from stderr into a CI log.
   */
  @Test
  void aRedirectsLocationIsShownWithoutItsUserinfo() {
    assertThatThrownBy(
            () ->
                client.check(
                    new ApiClient.Response(
                        301, "", "https://ops:s3cret@admin.example/_dynofleet/api/v1/pools", null)))
        .hasMessageContaining(
            "answered 301 (Location: https://admin.example/_dynofleet/api/v1/pools)")
        .message()
        .doesNotContain("s3cret", "ops:");
  }

  @Test
  void anEmptyTokenIsRefusedBeforeAnythingIsSent() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Cli.run(
            new String[] {"get", "pools"},
            Map.of("DYNOFLEET_URL", "http://127.0.0.1:9", "DYNOFLEET_API_TOKEN", " "),
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).isEqualTo(Cli.UNAUTHORIZED);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("error: DYNOFLEET_API_TOKEN is empty: set it to the API token")
        .doesNotContain("cannot connect");
  }
}
