package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Review 13: a failed release phase's last lines went verbatim into the pool's events, status and
 * logs, which the read-only token and every log drain read; a failed migration often prints its
 * database URL, password included.
 */
class ReleaseOutputMaskTest {

  @Test
  void urlPasswordsConfigValuesAndSecretAssignmentsAreMasked() {
    String out =
        Reconciler.masked(
            "PG::ConnectionBad: postgres://u8k:p4ssw0rdXYZ@ec2-1-2.compute-1.amazonaws.com:5432/d1"
                + " | using stripe sk_live_abcdef123 | SECRET_KEY_BASE=deadbeef99 api_token: t0k3n!",
            Map.of("STRIPE_KEY", "sk_live_abcdef123", "SHORT", "abc"));
    assertThat(out)
        .doesNotContain("p4ssw0rdXYZ", "sk_live_abcdef123", "deadbeef99", "t0k3n!")
        .contains(
            "postgres://u8k:***@ec2-1-2.compute-1.amazonaws.com:5432/d1",
            "using stripe ***",
            "SECRET_KEY_BASE=***",
            "api_token: ***");
  }

  /**
   * Security review 3 #3: a multi-line secret (a PEM key) comes out of a log one line an entry,
   * none equal to the whole value; quoted keys and credential headers matched no rule.
   */
  @Test
  void multiLineValuesQuotedKeysAndCredentialHeadersAreMasked() {
    String pem =
        "-----BEGIN RSA PRIVATE KEY-----\n"
            + "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
            + "-----END RSA PRIVATE KEY-----\n";
    String tail =
        Reconciler.logTailText(
            List.of(
                "app[web.1]: invalid key:",
                "app[web.1]: MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
                "app[web.1]: -----END RSA PRIVATE KEY-----"),
            Map.of("JWT_PRIVATE_KEY", pem, "SIGNING_KEY", "s1gn1ng-k3y-value\n"),
            4000);
    assertThat(tail).doesNotContain("MIIEowIBAAKCAQEAu1SU1L").contains("invalid key:");
    assertThat(Reconciler.masked("key is s1gn1ng-k3y-value.", Map.of("K", "s1gn1ng-k3y-value\n")))
        .doesNotContain("s1gn1ng-k3y-value");

    String out =
        Reconciler.masked(
            "{\"password\":\"hunter2xyz\"} | :api_key => 'rk_live_777' | Authorization: Bearer"
                + " abcdef123456 | Cookie: _session=s3ss10n; theme=dark | curl -H 'Bearer zzz999yyy'",
            Map.of());
    assertThat(out)
        .doesNotContain("hunter2xyz", "rk_live_777", "abcdef123456", "s3ss10n", "zzz999yyy")
        .contains("{\"password\":\"***\"}", "Authorization: ***", "Cookie: ***", "Bearer ***");
  }

  @Test
  void ordinaryOutputIsLeftAsItIs() {
    String line =
        "rake aborted! | ActiveRecord::NoDatabaseError: database \"d1\" does not exist | abc";
    assertThat(Reconciler.masked(line, Map.of("SHORT", "abc", "N", "1"))).isEqualTo(line);
  }

  /**
   * Audit 20 M1: a failed backend's log lines are masked before each is cut (a line cut first at
   * its limit could leave the start of a password with nothing after it for the URL rule to match),
   * and the event keeps the last lines that fit, saying that earlier ones were left out.
   */
  @Test
  void logLinesAreMaskedThenCutAndTheLastThatFitAreKept() {
    String longLine =
        "x".repeat(Reconciler.LOG_TAIL_LINE_CHARS - 40)
            + " postgres://u8k:p4ssw0rdXYZ0123456789abcdefghij@ec2-1-2.compute-1.amazonaws.com/d1";
    String text =
        Reconciler.logTailText(
            java.util.List.of("first line", longLine, "Error: boot failed"), Map.of(), 1000);
    assertThat(text)
        .doesNotContain("p4ss")
        .contains("postgres://u8k:***@ec2-1-2")
        .startsWith("first line | ")
        .endsWith(" | Error: boot failed");
    assertThat(text.split(" \\| ")[1]).hasSize(Reconciler.LOG_TAIL_LINE_CHARS + 1).endsWith("…");

    String fitted =
        Reconciler.logTailText(
            java.util.List.of("a".repeat(30), "b".repeat(30), "c".repeat(30)), Map.of(), 70);
    assertThat(fitted).isEqualTo("… | " + "b".repeat(30) + " | " + "c".repeat(30));
  }

  /**
   * Security review 5 S5-2: a value was masked only as it is, six characters or more, case kept; a
   * value URL-encoded, JSON-escaped or upper-cased, a URL value's decoded password, a short PIN and
   * a {@code *_PASS=} were shown to the read-only token.
   */
  @Test
  void otherSpellingsOfAValueShortSecretsAndMoreSecretNamesAreMasked() {
    Map<String, String> vars =
        Map.of(
            "PROD_DB_PASSWORD", "s5-source-secret-XYZ",
            "API_PASS", "p4ss/w0rd+K=\"q",
            "SHORT_PIN", "93817",
            "DATABASE_URL", "postgres://user:Pa55%40word@host:5432/db");
    String out =
        Reconciler.masked(
            "pin is 93817 | urlencoded p4ss%2Fw0rd%2BK%3D%22q | {\"api_pass\":\"p4ss/w0rd+K=\\\"q\"}"
                + " | DATABASE_URL value Pa55@word | psycopg: postgresql://user:Pa55@word@host/db"
                + " | sec: S5-SOURCE-SECRET-XYZ | dsn host=h user=u pass=s5-source-secret-XYZ"
                + " | Uid=sa;Pwd=hunter22 | DB_PASS=zz9top | passed: 14 | author=Jo",
            vars);
    assertThat(out)
        .doesNotContain(
            "93817", "p4ss", "Pa55", "word@host", "S5-SOURCE", "s5-source", "hunter22", "zz9top")
        .contains(
            "pin is ***",
            "urlencoded ***",
            "{\"api_pass\":\"***\"}",
            "postgresql://user:***@host/db",
            "Pwd=***",
            "DB_PASS=***",
            "passed: 14",
            "author=Jo");
  }

  /**
   * Review 30 R30-11: the four-character rule took any name holding "pin", "key" or "auth" ({@code
   * SHIPPING_MODE}, {@code KEYSPACE}, {@code AUTHOR}) as secret, and masked its short values in any
   * case, inside words too, and a switch's {@code true} everywhere.
   */
  @Test
  void shortValuesAreMaskedOnlyForSecretWordsOfANameAsWordsOfTheirOwnAndNeverBooleans() {
    Map<String, String> vars =
        Map.ofEntries(
            Map.entry("SHIPPING_MODE", "fast"),
            Map.entry("FEATURE_KEY_ENABLED", "true"),
            Map.entry("KEYSPACE", "main"),
            Map.entry("AUTHOR", "prod"),
            Map.entry("OAUTH_ENABLED", "none"),
            Map.entry("MONKEY_KEYBOARD", "qwer"),
            Map.entry("DB_PIN", "4821"),
            Map.entry("APP_AUTH", "w9zq"),
            Map.entry("STRIPE_API_KEY", "sk9q"),
            Map.entry("DBPASSWORD", "d8b7"),
            Map.entry("SMTP_PASSWORD (the app's own)", "k7x2q"));
    String out =
        Reconciler.masked(
            "shipping fast | FAST path | enabled=TRUE, cache true | at Main.main(Main.java:12)"
                + " | env prod | sso none | keys qwer | pin=4821, id 148210 | auth W9ZQ"
                + " | stripe sk9q | db d8b7 | smtp k7x2q.",
            vars);
    assertThat(out)
        .isEqualTo(
            "shipping fast | FAST path | enabled=TRUE, cache true | at Main.main(Main.java:12)"
                + " | env prod | sso none | keys qwer | pin=***, id 148210 | auth ***"
                + " | stripe *** | db *** | smtp ***.");
  }
}
