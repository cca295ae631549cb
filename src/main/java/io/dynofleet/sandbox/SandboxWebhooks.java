package io.dynofleet.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynofleet.api.ApiAuth;
import io.dynofleet.sandbox.Simulator.ApiError;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * The simulator's app webhooks: subscriptions ({@code /apps/{app}/webhooks}), the events they
 * publish and their deliveries ({@code /apps/{app}/webhook-deliveries}). A delivery is a real HTTP
 * POST of Heroku's notification body, signed with the subscription's secret in {@code
 * Heroku-Webhook-Hmac-SHA256} (base64 of the body's HMAC-SHA256) and carrying its {@code
 * authorization}, if any, as {@code Authorization}. {@code notify} makes one attempt; {@code sync}
 * retries a failed one up to {@link #SYNC_ATTEMPTS} times, a second apart. Thread-safe on its own
 * monitor; the simulator calls it while holding its own, never the other way round.
 */
final class SandboxWebhooks {
  private static final Logger LOG = Logger.getLogger(SandboxWebhooks.class);

  /** The entities an app webhook may include (Heroku's list). */
  static final Set<String> ENTITIES =
      Set.of(
          "api:addon-attachment",
          "api:addon",
          "api:app",
          "api:build",
          "api:collaborator",
          "api:domain",
          "api:dyno",
          "api:formation",
          "api:release",
          "api:sni-endpoint",
          "dyno");

  static final String SIGNATURE = "Heroku-Webhook-Hmac-SHA256";
  static final int SYNC_ATTEMPTS = 3;
  private static final SecureRandom RANDOM = new SecureRandom();

  private static final class Hook {
    final String id = UUID.randomUUID().toString();
    final String appId;
    final String appName;
    List<String> include;
    String level;
    String url;
    String secret;
    String authorization;
    final Instant created;
    Instant updated;

    Hook(String appId, String appName, Instant created) {
      this.appId = appId;
      this.appName = appName;
      this.created = created;
      this.updated = created;
    }
  }

  private static final class Delivery {
    final String id = UUID.randomUUID().toString();
    final String eventId;
    final String include;
    final Hook hook;
    final Instant created;
    Instant updated;
    String status = "pending";
    int attempts;
    Integer code;
    String errorClass;

    Delivery(String eventId, String include, Hook hook, Instant created) {
      this.eventId = eventId;
      this.include = include;
      this.hook = hook;
      this.created = created;
      this.updated = created;
    }
  }

  private final Vertx vertx;
  private final Clock clock;
  private final ObjectMapper json;
  private final Map<String, Hook> hooks = new LinkedHashMap<>();
  private final List<Delivery> deliveries = new ArrayList<>();
  private HttpClient client;
  private boolean closed;

  SandboxWebhooks(Vertx vertx, Clock clock, ObjectMapper json) {
    this.vertx = vertx;
    this.clock = clock;
    this.json = json;
  }

  // ------------------------------------------------------------------ subscriptions

  /** A new subscription as answered, and the secret made for it when none was given (else null). */
  record Created(Map<String, Object> body, String madeSecret) {}

  /**
   * {@code POST /apps/{app}/webhooks}. Without a secret Heroku makes one: it is answered once, in
   * the {@code Heroku-Webhook-Secret} header.
   */
  synchronized Created create(String appId, String appName, JsonObject body) {
    Hook h = new Hook(appId, appName, now());
    h.include = include(body.getValue("include"), true);
    h.level = level(body.getValue("level"), true);
    h.url = url(body.getValue("url"), true);
    h.secret = optionalString(body, "secret");
    h.authorization = optionalString(body, "authorization");
    String generated = null;
    if (h.secret == null) {
      generated = HexFormat.of().formatHex(random(32));
      h.secret = generated;
    }
    taken(h, h.url);
    hooks.put(h.id, h);
    return new Created(render(h), generated);
  }

  /** {@code PATCH /apps/{app}/webhooks/{id}}: every field optional. */
  synchronized Map<String, Object> update(String appId, String id, JsonObject body) {
    Hook h = find(appId, id);
    List<String> include = include(body.getValue("include"), false);
    String level = level(body.getValue("level"), false);
    String url = url(body.getValue("url"), false);
    if (url != null) {
      taken(h, url);
    }
    if (include != null) {
      h.include = include;
    }
    if (level != null) {
      h.level = level;
    }
    if (url != null) {
      h.url = url;
    }
    if (body.containsKey("secret")) {
      h.secret = optionalString(body, "secret");
    }
    if (body.containsKey("authorization")) {
      h.authorization = optionalString(body, "authorization");
    }
    h.updated = now();
    return render(h);
  }

  synchronized Map<String, Object> get(String appId, String id) {
    return render(find(appId, id));
  }

  synchronized Map<String, Object> delete(String appId, String id) {
    Hook h = find(appId, id);
    hooks.remove(h.id);
    return render(h);
  }

  synchronized List<Map<String, Object>> list(String appId) {
    return hooks.values().stream().filter(h -> h.appId.equals(appId)).map(this::render).toList();
  }

  /** The secret each of the app's subscriptions signs with, by its id (null: none). */
  synchronized Map<String, String> secrets(String appId) {
    Map<String, String> out = new LinkedHashMap<>();
    hooks.values().stream()
        .filter(h -> h.appId.equals(appId))
        .forEach(h -> out.put(h.id, h.secret));
    return out;
  }

  /** {@code GET /apps/{app}/webhook-deliveries}. */
  synchronized List<Map<String, Object>> deliveries(String appId) {
    return deliveries.stream().filter(d -> d.hook.appId.equals(appId)).map(this::render).toList();
  }

  /** The app is gone, and its subscriptions with it. */
  synchronized void removeApp(String appId) {
    hooks.values().removeIf(h -> h.appId.equals(appId));
  }

  synchronized void clear() {
    hooks.clear();
    deliveries.clear();
  }

  void close() {
    HttpClient c;
    synchronized (this) {
      closed = true;
      c = client;
      client = null;
    }
    if (c != null) {
      c.close();
    }
  }

  // ------------------------------------------------------------------ events

  /**
   * An event of an app: every subscription of the app that includes {@code include} gets a
   * notification ({@code resource} and {@code action} as Heroku names them, {@code data} the
   * resource as the API renders it).
   */
  synchronized void publish(
      String appId, String include, String resource, String action, Map<String, Object> data) {
    String eventId = UUID.randomUUID().toString();
    for (Hook h : hooks.values()) {
      if (h.appId.equals(appId) && h.include.contains(include)) {
        Delivery d = new Delivery(eventId, include, h, now());
        deliveries.add(d);
        if (deliveries.size() > 1000) {
          deliveries.remove(0);
        }
        var body = new LinkedHashMap<String, Object>();
        body.put("id", eventId);
        body.put("action", action);
        body.put(
            "actor",
            Map.of(
                "email", "sandbox@dynofleet.local", "id", "3c5e8ab7-5f7b-4a5e-9d3a-8b1c2a7f0d11"));
        body.put("created_at", d.created.toString());
        body.put("data", data);
        body.put("previous_data", Map.of());
        body.put("published_at", d.created.toString());
        body.put("resource", resource);
        body.put("sequence", null);
        body.put("updated_at", d.created.toString());
        body.put("version", "application/vnd.heroku+json; version=3");
        body.put(
            "webhook_metadata",
            Map.of(
                "attempt", Map.of("id", UUID.randomUUID().toString()),
                "delivery", Map.of("id", d.id),
                "event", Map.of("id", eventId, "include", include),
                "webhook", Map.of("id", h.id)));
        send(d, write(body), h.secret, h.authorization);
      }
    }
  }

  private void send(Delivery d, String body, String secret, String authorization) {
    HttpClient c = client();
    if (c == null) {
      return; // the simulator stopped: no more deliveries, nor retries
    }
    URI uri = URI.create(d.hook.url);
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(uri.toString())
            .setTimeout(10_000)
            .putHeader("Content-Type", "application/json")
            .putHeader("Heroku-Webhook-Id", d.id);
    if (secret != null) {
      options.putHeader(
          SIGNATURE, ApiAuth.signature(secret, body.getBytes(StandardCharsets.UTF_8)));
    }
    if (authorization != null) {
      options.putHeader("Authorization", authorization);
    }
    c.request(options)
        .compose(req -> req.send(Buffer.buffer(body, "UTF-8")))
        .onComplete(
            ar -> {
              boolean retry;
              synchronized (this) {
                d.attempts++;
                d.updated = now();
                if (ar.succeeded()) {
                  d.code = ar.result().statusCode();
                  d.errorClass = null;
                  ar.result().body(); // read it so the connection is reused
                } else {
                  d.code = null;
                  d.errorClass = ar.cause().getClass().getSimpleName();
                }
                boolean ok = d.code != null && d.code >= 200 && d.code < 300;
                retry =
                    !ok
                        && "sync".equals(d.hook.level)
                        && d.attempts < SYNC_ATTEMPTS
                        && hooks.containsKey(d.hook.id);
                d.status = ok ? "succeeded" : retry ? "retrying" : "failed";
              }
              LOG.debugf(
                  "sandbox webhook delivery %s to %s: %s",
                  d.id,
                  d.hook.url,
                  ar.succeeded()
                      ? ar.result().statusCode()
                      // the receiver's bytes may be quoted: escaped
                      : io.dynofleet.text.SafeText.visible(ar.cause().toString(), true));
              if (retry) {
                vertx.setTimer(1000, t -> send(d, body, secret, authorization));
              }
            });
  }

  private synchronized HttpClient client() {
    if (client == null && !closed) {
      client =
          io.dynofleet.proxy.ClientConnections.client(
              vertx,
              new HttpClientOptions().setConnectTimeout(5_000),
              new io.vertx.core.http.PoolOptions().setHttp1MaxSize(4),
              LOG,
              "webhook receiver");
    }
    return client;
  }

  // ------------------------------------------------------------------ validation and rendering

  private Hook find(String appId, String id) {
    Hook h = hooks.get(id);
    if (h == null || !h.appId.equals(appId)) {
      throw new ApiError(404, "not_found", "Couldn't find that webhook.");
    }
    return h;
  }

  private void taken(Hook self, String url) {
    for (Hook other : hooks.values()) {
      if (other != self && other.appId.equals(self.appId) && other.url.equals(url)) {
        throw new ApiError(422, "invalid_params", "Url has already been taken.");
      }
    }
  }

  private static List<String> include(Object value, boolean required) {
    if (value == null) {
      if (required) {
        throw new ApiError(422, "invalid_params", "Missing include.");
      }
      return null;
    }
    if (!(value instanceof JsonArray array) || array.isEmpty()) {
      throw new ApiError(422, "invalid_params", "Include must be a non-empty array of entities.");
    }
    List<String> out = new ArrayList<>();
    for (Object o : array) {
      if (!(o instanceof String s) || !ENTITIES.contains(s)) {
        throw new ApiError(422, "invalid_params", "Include has an unknown entity: " + o + ".");
      }
      if (!out.contains(s)) {
        out.add(s);
      }
    }
    return List.copyOf(out);
  }

  private static String level(Object value, boolean required) {
    if (value == null) {
      if (required) {
        throw new ApiError(422, "invalid_params", "Missing level.");
      }
      return null;
    }
    if (!"notify".equals(value) && !"sync".equals(value)) {
      throw new ApiError(422, "invalid_params", "Level must be notify or sync.");
    }
    return (String) value;
  }

  private static String url(Object value, boolean required) {
    if (value == null) {
      if (required) {
        throw new ApiError(422, "invalid_params", "Missing url.");
      }
      return null;
    }
    if (value instanceof String s) {
      try {
        URI uri = new URI(s);
        if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
            && uri.getHost() != null) {
          return s;
        }
      } catch (java.net.URISyntaxException e) {
        // answered below
      }
    }
    throw new ApiError(422, "invalid_params", "Url must be an http or https URL.");
  }

  private static String optionalString(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v != null && !(v instanceof String)) {
      throw new ApiError(422, "invalid_params", "Invalid " + field + ".");
    }
    return v == null || ((String) v).isEmpty() ? null : (String) v;
  }

  private Map<String, Object> render(Hook h) {
    var m = new LinkedHashMap<String, Object>();
    m.put("app", Map.of("id", h.appId, "name", h.appName));
    m.put("created_at", h.created.toString());
    m.put("id", h.id);
    m.put("include", h.include);
    m.put("level", h.level);
    m.put("updated_at", h.updated.toString());
    m.put("url", h.url);
    return m;
  }

  private Map<String, Object> render(Delivery d) {
    var m = new LinkedHashMap<String, Object>();
    m.put("created_at", d.created.toString());
    m.put("event", Map.of("id", d.eventId, "include", d.include));
    m.put("id", d.id);
    m.put("num_attempts", d.attempts);
    m.put("next_attempt_at", null);
    var last = new LinkedHashMap<String, Object>();
    last.put("code", d.code);
    last.put("error_class", d.errorClass);
    last.put("status", d.status);
    last.put("updated_at", d.updated.toString());
    m.put("last_attempt", d.attempts == 0 ? null : last);
    m.put("status", d.status);
    m.put("updated_at", d.updated.toString());
    m.put("webhook", Map.of("id", d.hook.id, "level", d.hook.level));
    return m;
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.SECONDS);
  }

  private String write(Object body) {
    try {
      return json.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
