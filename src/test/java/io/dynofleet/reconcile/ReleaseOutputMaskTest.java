package io.dynofleet.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

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

  @Test
  void ordinaryOutputIsLeftAsItIs() {
    String line =
        "rake aborted! | ActiveRecord::NoDatabaseError: database \"d1\" does not exist | abc";
    assertThat(Reconciler.masked(line, Map.of("SHORT", "abc", "N", "1"))).isEqualTo(line);
  }
}
