package io.dynofleet.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Thousands of generated malformed, oversized and mistyped requests against the management API:
 * every answer is a 4xx problem document (never a 5xx), and the stored pools are byte-for-byte
 * unchanged afterwards. Seeded, so a failure reproduces. Sent raw with a Vert.x client: RestAssured
 * treats braces in a path as templates (and crawls on random paths), java.net.URI refuses bad
 * escapes.
 */
@QuarkusTest
@Tag("reliability")
class ApiFuzzTests {
  private static final String TOKEN = "test-token-0123456789";
  private static final String POOLS = "/_dynofleet/api/v1/pools";
  private static final int ROUNDS = 3000;
  private static final String[] METHODS = {
    "GET",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "TRACE",
    "PROPFIND",
    "FOO",
    "get",
    "M-SEARCH"
  };
  private static final String[] CONTENT_TYPES = {
    "application/json",
    "application/merge-patch+json",
    "text/plain",
    "application/xml",
    "application/json; charset=latin1",
    "multipart/form-data",
    ""
  };
  private static final String[] GARBAGE = {
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "-1",
    "1e999",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "NaN",
    "{\"a\":",
    "[[[[[[[[[[",
    "\u00ff\u00fe",
    "/*x*/"
  };

  private static final java.util.regex.Pattern BAD_ESCAPE =
      java.util.regex.Pattern.compile("%(?![0-9A-Fa-f]{2})");

  private final Random random = new Random(20261123);

  private static final Vertx VERTX = Vertx.vertx();
  private final HttpClient http =
      VERTX.createHttpClient(new HttpClientOptions().setMaxPoolSize(1).setConnectTimeout(5000));

  /** A response reduced to what the assertions read. */
  private record Answer(int statusCode, String contentType, String body) {}

  @AfterAll
  static void closeVertx() {
    VERTX.close();
  }

  @Test
  @Timeout(300)
  void generatedBadRequestsGetA4xxProblemAndChangeNothing() throws Exception {
    String name = "fuzz-target";
    send(
        "POST",
        POOLS,
        "application/json",
        """
        {"metadata": {"name": "fuzz-target", "labels": {"a": "b"}},
         "spec": {"pipeline": "shop", "replicas": 2, "template": {"sourceApp": "shop-web"}}}
        """,
        null);
    String before = snapshot();

    Map<Integer, Integer> statuses = new LinkedHashMap<>();
    List<String> failures = new ArrayList<>();
    int protocolRejects = 0;
    for (int i = 0; i < ROUNDS; i++) {
      String method = pick(METHODS);
      String path = path(name);
      String body = body();
      String ct = pick(CONTENT_TYPES);
      boolean bodyless =
          method.equals("GET")
              || method.equals("HEAD")
              || method.equals("OPTIONS")
              || method.equals("TRACE");
      String[] stale = {"\"x\"", "\"999999\"", "W/\"1\"", "\"" + "9".repeat(400) + "\""};
      String ifMatch = random.nextInt(10) == 0 ? pick(new String[] {"*", pick(stale)}) : null;
      if (method.equals("DELETE")) {
        // DELETE needs no body, so only a precondition that cannot hold keeps it from writing
        ifMatch = pick(stale);
      }
      Answer r = send(method, path, ct, bodyless ? null : body, ifMatch);
      int code = r.statusCode();
      statuses.merge(code, 1, Integer::sum);
      // A merge patch of only nulls on absent members is a legal no-op (RFC 7386): 200 is fine
      // there, and the snapshot comparison below proves nothing was written.
      boolean ok =
          code >= 400 && code < 500
              || (code == 200
                  && (method.equals("GET")
                      || method.equals("HEAD")
                      || method.equals("OPTIONS")
                      || method.equals("PATCH")));
      if (!ok) {
        failures.add(method + " " + path + " [" + ct + "] " + abbreviate(body) + " -> " + code);
      } else if (code >= 400 && !method.equals("HEAD")) {
        if (BAD_ESCAPE.matcher(path).find()) {
          protocolRejects++; // not valid percent-encoding: must be a problem document all the same
        }
        String type = r.contentType();
        if (type == null || !type.startsWith("application/problem+json")) {
          failures.add(
              method
                  + " "
                  + abbreviate(path)
                  + " -> "
                  + code
                  + " without a problem document ("
                  + type
                  + ")");
        }
      }
    }
    System.out.printf(
        "api fuzz: %d requests, statuses %s, of which undecodable targets %d, failures %d%n",
        ROUNDS, statuses, protocolRejects, failures.size());
    assertThat(failures).as("requests answered outside 4xx / without a problem body").isEmpty();
    assertThat(snapshot()).as("the database is unchanged").isEqualTo(before);
  }

  /** Sends the path as it is (no escaping or normalising, unlike java.net.URI). */
  private Answer send(String method, String path, String contentType, String body, String ifMatch)
      throws Exception {
    var options =
        new RequestOptions()
            .setMethod(HttpMethod.valueOf(method))
            .setHost("localhost")
            .setPort(RestAssured.port)
            .setURI(path)
            .setTimeout(20_000)
            .putHeader("Authorization", "Bearer " + TOKEN);
    if (contentType != null && !contentType.isEmpty()) {
      options.putHeader("Content-Type", contentType);
    }
    if (ifMatch != null) {
      options.putHeader("If-Match", ifMatch);
    }
    return http.request(options)
        .compose(req -> body == null ? req.send() : req.send(Buffer.buffer(body, "UTF-8")))
        .compose(
            res ->
                res.body()
                    .map(
                        b ->
                            new Answer(
                                res.statusCode(),
                                res.getHeader("Content-Type"),
                                b.toString(StandardCharsets.UTF_8))))
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  private String snapshot() throws Exception {
    return send("GET", POOLS + "?limit=500", null, null, null).body();
  }

  private String path(String target) {
    return switch (random.nextInt(13)) {
      case 0 -> POOLS;
      case 9 -> "/_dynofleet/" + enc(randomString(random.nextInt(40)));
      case 10 -> "/_dynofleet/api/" + enc(randomString(5)) + "/" + enc(randomString(5));
      case 11 ->
          POOLS
              + "?"
              + pick(new String[] {"limit=", "continue=", "labelSelector="})
              + enc(randomString(1000 + random.nextInt(2000)));
      case 12 -> POOLS + "/" + target + "/events?limit=" + "9".repeat(1 + random.nextInt(400));
      case 1 -> POOLS + "/" + target;
      case 2 -> POOLS + "/" + target + "/scale";
      case 3 ->
          POOLS + "/" + target + "/" + pick(new String[] {"status", "events", "x", "..", "%2e%2e"});
      case 4 -> POOLS + "/" + enc(randomString(random.nextInt(random.nextBoolean() ? 80 : 2000)));
      case 5 ->
          POOLS
              + "?"
              + pick(
                  new String[] {
                    "limit=-1",
                    "limit=x",
                    "limit=99999",
                    "continue=%%%",
                    "labelSelector=%3D%3D%3D",
                    "labelSelector=a%20b",
                    "continue=" + enc(randomString(20))
                  });
      case 6 -> "/_dynofleet/api/v1/" + enc(randomString(10));
      case 7 ->
          POOLS + "/" + target + "/events?limit=" + pick(new String[] {"0", "-5", "abc", "100000"});
      default -> POOLS + "/NOT_A_NAME/scale";
    };
  }

  /** A document with at least one definitely invalid part, so no request can legitimately write. */
  private String body() {
    return switch (random.nextInt(8)) {
      case 0 -> randomJsonGarbage();
      case 1 ->
          "{\"replicas\": "
              + pick(
                  new String[] {
                    "-1", "101", "\"3\"", "3.5", "null", "[]", "{}", "99999999999999999999"
                  })
              + "}";
      case 2 ->
          "{\"metadata\": {\"name\": \""
              + pick(new String[] {"UPPER", "", "-x", "a_b", "x".repeat(70)})
              + "\"}, \"spec\": "
              + specMutation()
              + "}";
      case 3 -> "{\"spec\": " + specMutation() + "}";
      case 4 ->
          "{\"metadata\": {\"name\": \"fuzz-target\"}, \"spec\": {\"replicas\": -3, \"template\": "
              + "{\"sourceApp\": "
              + randomValue()
              + "}}}";
      case 5 ->
          "{\"" + randomString(8) + "\": " + randomValue() + ", \"spec\": {\"replicas\": 500}}";
      case 6 -> "[".repeat(random.nextInt(3000)) + "]".repeat(random.nextInt(10));
      default ->
          "{\"spec\": {\"template\": {\"configVars\": {\""
              + randomString(5)
              + " \": \""
              + "v".repeat(random.nextInt(40000))
              + "\"}}, \"replicas\": -1}}";
    };
  }

  private String specMutation() {
    List<String> fields = new ArrayList<>(List.of("\"replicas\": -1"));
    String[] extras = {
      "\"pipeline\": " + randomValue(),
      "\"template\": " + randomValue(),
      "\"healthCheck\": {\"intervalSeconds\": " + randomValue() + "}",
      "\"rollout\": " + randomValue(),
      "\"routing\": {\"hosts\": [" + randomValue() + "]}",
      "\"staticBackends\": " + randomValue(),
      "\"paused\": " + randomValue(),
      "\"" + randomString(6) + "\": 1"
    };
    for (int i = 0; i < random.nextInt(4); i++) {
      fields.add(pick(extras));
    }
    java.util.Collections.shuffle(fields, random);
    return "{" + String.join(", ", fields) + "}";
  }

  private String randomValue() {
    return switch (random.nextInt(7)) {
      case 0 -> "\"" + randomString(random.nextInt(50)) + "\"";
      case 1 -> Integer.toString(random.nextInt() - random.nextInt());
      case 2 -> "null";
      case 3 -> "[" + random.nextInt(5) + ", \"x\"]";
      case 4 -> "{\"" + randomString(3) + "\": " + random.nextInt(10) + "}";
      case 5 -> random.nextBoolean() ? "true" : "false";
      default -> "1.5e3";
    };
  }

  private String randomJsonGarbage() {
    StringBuilder sb = new StringBuilder();
    int n = 1 + random.nextInt(30);
    for (int i = 0; i < n; i++) {
      sb.append(pick(GARBAGE));
    }
    return sb.toString();
  }

  private String randomString(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int c = random.nextInt(5) == 0 ? 0x20 + random.nextInt(0x5f) : 'a' + random.nextInt(26);
      if (c == '/' || c == '?' || c == '#' || c == '%' || c == '\\') {
        c = 'z';
      }
      sb.append((char) c);
    }
    return sb.toString().replace(" ", "-");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private String pick(String[] options) {
    return options[random.nextInt(options.length)];
  }

  private static String abbreviate(String s) {
    return s.length() > 120 ? s.substring(0, 120) + "…" : s;
  }
}
