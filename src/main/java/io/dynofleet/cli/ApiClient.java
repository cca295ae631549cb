package io.dynofleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * The management API over plain {@link HttpClient}. Maps HTTP failures to the CLI's exit codes and
 * prints problem documents (detail and each field error). The token goes only into the
 * Authorization header, never into any output.
 */
final class ApiClient {
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ObjectMapper json;
  private final String pools;
  private final String root;
  private final String token;

  private final java.util.function.Consumer<String> warn;

  ApiClient(
      String baseUrl, String token, ObjectMapper json, java.util.function.Consumer<String> warn) {
    this.warn = warn;
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.root = base + "/_dynofleet/api/v1";
    this.pools = root + "/pools";
    this.token = token;
    this.json = json;
  }

  private static final java.util.regex.Pattern WARNING =
      java.util.regex.Pattern.compile("\\d{3} \\S+ \"(.*)\".*");

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** GET that answers null on 404 instead of failing. */
  JsonNode find(String path) {
    Response r = send("GET", path, null, null);
    return r.status == 404 ? null : check(r);
  }

  JsonNode get(String path) {
    return check(send("GET", path, null, null));
  }

  JsonNode call(String method, String path, JsonNode body, String contentType) {
    return check(send(method, path, body, contentType));
  }

  /** A call below {@code /_dynofleet/api/v1} rather than below the pools collection. */
  JsonNode callRoot(String method, String path) {
    return check(sendUrl(method, root + path, null, null));
  }

  record Response(int status, String body, String location, Duration retryAfter) {
    Response(int status, String body) {
      this(status, body, null, null);
    }
  }

  Response send(String method, String path, JsonNode body, String contentType) {
    return sendUrl(method, pools + path, body, contentType);
  }

  private Response sendUrl(String method, String url, JsonNode body, String contentType) {
    HttpRequest.Builder b;
    try {
      b =
          HttpRequest.newBuilder(URI.create(url))
              .timeout(Duration.ofSeconds(30))
              .header("Accept", "application/json");
    } catch (IllegalArgumentException e) {
      throw new CliException(Cli.USAGE, "bad --url: " + Cli.withoutUserinfo(e.getMessage()));
    }
    if (token != null && !token.isBlank()) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      if (body != null) {
        b.header("Content-Type", contentType == null ? "application/json" : contentType);
        b.method(method, HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body)));
      } else {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      // the server's warnings (a pool kept in a pool file), as kubectl prints them
      for (String w : r.headers().allValues("Warning")) {
        java.util.regex.Matcher m = WARNING.matcher(w);
        warn.accept(m.matches() ? m.group(1) : w);
      }
      return new Response(
          r.statusCode(),
          r.body(),
          r.headers().firstValue("Location").orElse(null),
          r.headers().firstValue("Retry-After").map(ApiClient::seconds).orElse(null));
    } catch (java.net.http.HttpConnectTimeoutException | java.net.ConnectException e) {
      throw new CliException(
          Cli.CONNECT,
          "cannot connect to "
              + base()
              + ": "
              + (e.getMessage() == null
                  ? e.getClass().getSimpleName()
                  : Cli.withoutUserinfo(e.getMessage()))
              + " (set --url or DYNOFLEET_URL)");
    } catch (java.net.http.HttpTimeoutException e) {
      // sent, and no answer: a write may have been applied (it said "cannot connect": audit 15)
      throw new CliException(
          Cli.CONNECT,
          "no answer from "
              + base()
              + " within 30 s"
              + (method.equals("GET")
                  ? ""
                  : ": the change may have been applied; look with dynofleet get pool"));
    } catch (javax.net.ssl.SSLException e) {
      throw new CliException(
          Cli.CONNECT,
          "TLS with "
              + base()
              + " failed (is its certificate trusted by this"
              + " Java?): "
              + e.getClass().getSimpleName());
    } catch (IOException e) {
      throw new CliException(
          Cli.CONNECT,
          "cannot connect to "
              + base()
              + ": "
              + (e.getMessage() == null
                  ? e.getClass().getSimpleName()
                  : Cli.withoutUserinfo(e.getMessage()))
              + " (set --url or DYNOFLEET_URL)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(Cli.FAILURE, "interrupted");
    }
  }

  /** The API's root as errors show it: without a {@code user:password@} (security review 5). */
  private String base() {
    return Cli.withoutUserinfo(pools.replace("/_dynofleet/api/v1/pools", ""));
  }

  private static Duration seconds(String retryAfter) {
    try {
      return Duration.ofSeconds(Math.max(0, Math.min(3600, Long.parseLong(retryAfter.trim()))));
    } catch (NumberFormatException e) {
      return null; // an HTTP date: not what Dynofleet sends
    }
  }

  JsonNode check(Response r) {
    JsonNode node = parse(r.body);
    if (r.status >= 300 && r.status < 400) {
      // not followed (the token would go with it), and not a success either: "pool/x created" on a
      // CDN's redirect to https, with nothing created (audit 15)
      throw new CliException(
          Cli.FAILURE,
          base()
              + " answered "
              + r.status
              + (r.location == null
                  ? ""
                  : " (Location: "
                      + Text.safe(Cli.withoutUserinfo(r.location))
                      + "): set --url to that"),
          r.status,
          null);
    }
    if (r.status < 300) {
      if (node == null && r.body != null && !r.body.isBlank()) {
        throw new CliException(
            Cli.FAILURE,
            base() + " answered " + r.status + " but not with JSON: is --url a" + " Dynofleet app?",
            r.status,
            null);
      }
      return node;
    }
    String detail =
        node != null && node.hasNonNull("detail")
            ? node.get("detail").asText()
            : node != null && node.hasNonNull("title")
                ? node.get("title").asText()
                : "HTTP " + r.status;
    StringBuilder fields = new StringBuilder();
    if (node != null && node.has("errors")) {
      // fields refused for one reason are named together before it, said once: the app limit's
      // sentence was printed twice, under spec.replicas and spec.rollout.maxSurge
      java.util.Map<String, List<String>> byMessage = new java.util.LinkedHashMap<>();
      for (JsonNode fe : node.get("errors")) {
        byMessage
            .computeIfAbsent(fe.path("message").asText(), m -> new java.util.ArrayList<>())
            .add(fe.path("field").asText());
      }
      for (var e : byMessage.entrySet()) {
        List<String> names = e.getValue();
        String line =
            (names.size() == 1
                    ? names.get(0)
                    : String.join(", ", names.subList(0, names.size() - 1))
                        + " and "
                        + names.get(names.size() - 1))
                + ": "
                + e.getKey();
        // one reason is the detail already ("replicas: must be ...", the app limit's "spec.replicas
        // and spec.rollout.maxSurge: ..."): not printed a second time
        if (byMessage.size() > 1 || !detail.contains(line)) {
          fields.append(System.lineSeparator()).append("  ").append(line);
        }
      }
    }
    String type = node == null ? "" : node.path("type").asText("");
    type = type.substring(type.lastIndexOf('/') + 1);
    int code =
        switch (r.status) {
          case 401, 403 -> Cli.UNAUTHORIZED;
          case 404 -> Cli.NOT_FOUND;
          default -> type.equals("auth-throttled") ? Cli.UNAUTHORIZED : Cli.FAILURE;
        };
    if (r.status == 401) {
      detail = detail + " (check --token or DYNOFLEET_API_TOKEN)";
    }
    if (r.retryAfter != null && !detail.contains(" " + r.retryAfter.toSeconds() + " s")) {
      // a 429 auth-throttled says "try again in 599 s" itself: the wait was said twice (audit 22)
      detail = detail + " (retry after " + r.retryAfter.toSeconds() + " s)";
    }
    if (!type.isEmpty() && !type.equals("about:blank")) {
      // the problem's type names the case for scripts
      // (grep "\[conflict\]"); the detail is for people
      detail = detail + " [" + r.status + " " + type + "]";
    }
    throw new CliException(code, detail + fields, r.status, r.retryAfter);
  }

  private JsonNode parse(String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      return json.readTree(body);
    } catch (IOException e) {
      return null;
    }
  }
}
