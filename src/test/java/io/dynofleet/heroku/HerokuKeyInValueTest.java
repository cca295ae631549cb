package io.dynofleet.heroku;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * Security review 5 S5-4: a source app holding Dynofleet's key is refused, but only its exact text
 * was looked for: base64-encoded (shown copied to a backend), upper-cased or URL-encoded, it was
 * not.
 */
class HerokuKeyInValueTest {
  private static final String KEY = "HRKU-sandbox-0b8e4b1c-5f3d-4c6e-9a7b-2d1e3f4a5b6c";

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void theKeyIsFoundInItsCommonEncodings() {
    assertThat(HerokuClient.holdsKey("https://:" + KEY + "@api.heroku.com", KEY)).isTrue();
    assertThat(HerokuClient.holdsKey(KEY.toUpperCase(), KEY)).isTrue();
    assertThat(HerokuClient.holdsKey(KEY.toLowerCase(), KEY)).isTrue();
    assertThat(HerokuClient.holdsKey(b64(KEY), KEY)).isTrue();
    // inside a longer encoded text, at each of base64's three offsets, and MIME-wrapped
    for (String lead : new String[] {"", "x", "xy", "machine api.heroku.com password "}) {
      String netrc = lead + KEY + "\n";
      assertThat(HerokuClient.holdsKey(b64(netrc), KEY)).as(lead).isTrue();
      assertThat(
              HerokuClient.holdsKey(
                  Base64.getUrlEncoder().encodeToString(netrc.getBytes(StandardCharsets.UTF_8)),
                  KEY))
          .as(lead)
          .isTrue();
      assertThat(
              HerokuClient.holdsKey(
                  Base64.getMimeEncoder(8, "\r\n".getBytes())
                      .encodeToString(netrc.getBytes(StandardCharsets.UTF_8)),
                  KEY))
          .as(lead)
          .isTrue();
    }
    assertThat(HerokuClient.holdsKey(b64(KEY.toLowerCase()), KEY)).isTrue();
    assertThat(HerokuClient.holdsKey(URLEncoder.encode(b64(KEY), StandardCharsets.UTF_8), KEY))
        .isTrue();
    StringBuilder every = new StringBuilder("100% ");
    for (byte b : KEY.getBytes(StandardCharsets.UTF_8)) every.append(String.format("%%%02x", b));
    assertThat(HerokuClient.holdsKey(every.toString(), KEY)).isTrue();
  }

  @Test
  void otherValuesAreNotTakenForTheKey() {
    assertThat(HerokuClient.holdsKey("HRKU-sandbox-another-key", KEY)).isFalse();
    assertThat(HerokuClient.holdsKey(b64("HRKU-sandbox-0b8e4b1c-5f3d"), KEY)).isFalse();
    assertThat(HerokuClient.holdsKey("postgres://u:p@h/d", KEY)).isFalse();
    assertThat(HerokuClient.holdsKey("", KEY)).isFalse();
    assertThat(HerokuClient.holdsKey("anything", "")).isFalse();
  }
}
