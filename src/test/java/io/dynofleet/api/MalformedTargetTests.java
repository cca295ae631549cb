package io.dynofleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request targets no URI parser accepts (sent raw: every client library would encode them) get a
 * 400 problem document from Dynofleet's own endpoints, never an empty 400 or a 500.
 */
@QuarkusTest
class MalformedTargetTests {
  @TestHTTPResource("/")
  URL base;

  static String raw(URL base, String target, String auth) throws IOException {
    return raw(
        base,
        "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + auth + "Connection: close\r\n\r\n");
  }

  /** Sends a request as written and reads until the server closes. */
  static String raw(URL base, String request) throws IOException {
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/_dynofleet/api/v1/pools?continue=%%%",
        "/_dynofleet/api/v1/pools?limit=%zz",
        "/_dynofleet/api/v1/pools/%%%",
        "/_dynofleet/%%%",
        "/x%%/y"
      })
  void answeredWithAProblem(String target) throws IOException {
    String response = raw(base, target, "Authorization: Bearer " + ApiFixtures.TOKEN + "\r\n");
    assertThat(response).startsWith("HTTP/1.1 400");
    assertThat(response.toLowerCase()).contains("content-type: application/problem+json");
    assertThat(response).contains("/problems/malformed-request");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/anything", "/_dynofleet/api/v1/pools"})
  void anHttp11RequestWithoutHostGetsAProblem(String target) throws IOException {
    String response = raw(base, "GET " + target + " HTTP/1.1\r\nConnection: close\r\n\r\n");
    assertThat(response).startsWith("HTTP/1.1 400");
    assertThat(response.toLowerCase()).contains("content-type: application/problem+json");
    assertThat(response).contains("/problems/missing-host");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/_dynofleet/api/v1/pools?continue=%%%"})
  void theTokenIsStillChecked(String target) throws IOException {
    assertThat(raw(base, target, "")).startsWith("HTTP/1.1 401");
  }
}
