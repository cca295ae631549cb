package io.dynofleet.api;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs a webhook notification as Heroku does: base64 of its body's HMAC-SHA256 under the secret.
 */
public final class HookSignature {
  /** The default test profile's {@code dynofleet.api.webhook-secret}. */
  public static final String TEST_SECRET = "test-webhook-secret";

  private HookSignature() {}

  public static String sign(String secret, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return Base64.getEncoder().encodeToString(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
