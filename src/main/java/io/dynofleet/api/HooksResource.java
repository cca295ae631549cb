package io.dynofleet.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynofleet.reconcile.ReconcileLoop;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.jboss.logging.Logger;

/**
 * Receives Heroku app webhooks ({@code api:release}) of source apps, so a new release is rolled out
 * at once instead of at the next sweep. Only signed notifications are taken: a pool's own URL
 * ({@code ?pool=NAME}) with the pool's webhook secret, as in {@code heroku webhooks:add -i
 * api:release -l notify -u "https://LB/_dynofleet/api/v1/hooks/heroku?pool=NAME" --secret
 * "$(dynofleet webhook-secret NAME)" -a SOURCE_APP} (Heroku signs each notification's body with
 * it), the URL without a pool with {@code DYNOFLEET_WEBHOOK_SECRET} itself. Anything else, the API
 * token included, gets 401: a token given to a webhook is stored by Heroku and sent wherever
 * whoever manages the source app's webhooks points it (security review 3 #1), and a notification
 * needs no more power than "look now". The notification only says that: the reconciler reads the
 * release itself, so no notification can cause an action the spec does not ask for. A delivery
 * replayed (the same delivery id, whatever {@code ?pool=} it is posted with) or older than {@link
 * #FRESH} ({@code created_at}) causes nothing, so a captured one cannot spend the account's
 * Platform API budget on passes; the sweep notices what a late one meant.
 */
@Path(HooksResource.RESOURCE)
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "token")
@Blocking
public class HooksResource {
  static final String RESOURCE = "/v1/hooks/heroku";

  /** The hook's path under the reserved prefix. */
  static final String PATH = "/api" + RESOURCE;

  /** Heroku's signature of a notification's body, under the webhook's secret. */
  static final String SIGNATURE = "Heroku-Webhook-Hmac-SHA256";

  /** Why an unsigned notification (or any, without a webhook secret) is refused. */
  static final String UNSIGNED =
      "webhook notifications must be signed (the API token is not taken here): set"
          + " DYNOFLEET_WEBHOOK_SECRET and subscribe with heroku webhooks:add --secret";

  private static final Logger LOG = Logger.getLogger(HooksResource.class);
  private static final com.fasterxml.jackson.databind.ObjectReader JSON =
      StrictJson.reader(new ObjectMapper());

  /**
   * How old a notification may be (by its {@code created_at}) and still cause a pass; also how long
   * its event id is remembered. Heroku retries a failed delivery for up to 72 hours, but a late one
   * is no news: the sweep has run many times since.
   */
  static final Duration FRESH = Duration.ofMinutes(10);

  /**
   * The pools a notification scheduled for a pass; {@code skipped} says why it scheduled none
   * although it was genuine ({@code duplicate}: its event was heard before; {@code stale}: older
   * than ten minutes).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Accepted(String app, List<String> reconciling, String skipped) {}

  private final PoolService pools;
  private final ReconcileLoop loop;
  private final ApiAuth auth;
  private final MeterRegistry meters;
  private final Clock clock;
  private final java.time.Duration interval;

  /** At most this many deliveries are remembered (per process); past it the oldest go. */
  static final int HEARD_MAX = 10_000;

  /**
   * Deliveries heard, each until it could no longer pass as fresh. Per process: with several
   * Dynofleet dynos a replay may reach each once (a pass each, no more).
   */
  private final HeardDeliveries heard = new HeardDeliveries(HEARD_MAX);

  HooksResource(
      PoolService pools,
      ReconcileLoop loop,
      ApiAuth auth,
      MeterRegistry meters,
      Clock clock,
      io.dynofleet.config.ApiConfig config) {
    this.interval = config.hookPassInterval();
    this.pools = pools;
    this.loop = loop;
    this.auth = auth;
    this.meters = meters;
    this.clock = clock;
  }

  /** Every outcome of {@code dynofleet_hook_notifications_total}. */
  static final java.util.List<String> OUTCOMES =
      java.util.List.of(
          "scheduled", "deferred", "ignored", "duplicate", "stale", "refused", "malformed");

  /**
   * At 0 from the start: a resource is made at its first request, and a forged delivery's {@code
   * refused} series born at 1 showed the documented "growing" alert nothing (audit 27 F3).
   */
  void onStart(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent ev) {
    for (String outcome : OUTCOMES) {
      meters.counter("dynofleet.hook.notifications", "outcome", outcome);
    }
  }

  /** The refused-signature line: once, then at most once a minute. */
  static final io.dynofleet.config.LogThrottle REFUSED_LOG =
      new io.dynofleet.config.LogThrottle(java.time.Duration.ofMinutes(1));

  /**
   * Counts a notification by what came of it: scheduled, ignored (no pool copies the app),
   * duplicate, stale, refused or malformed.
   */
  private void count(String outcome) {
    meters.counter("dynofleet.hook.notifications", "outcome", outcome).increment();
  }

  @POST
  @Consumes(MediaType.WILDCARD)
  @Operation(summary = "Heroku app webhook: reconcile the pools copying the app now")
  public Response heroku(
      @HeaderParam("Authorization") String authorization,
      @HeaderParam(SIGNATURE) String signature,
      @QueryParam("pool") String pool,
      byte[] body) {
    byte[] raw = body == null ? new byte[0] : body;
    // only a signature counts here, never the API token: a token given to a webhook is stored by
    // Heroku and sent to wherever the source app's webhook is pointed (security review 3 #1)
    if (!signedFor(raw, signature, pool)) {
      boolean unset = auth.webhookSecret() == null;
      // a WARN at most once a minute (audit 18 L8: DEBUG only, so a subscription signing with an
      // old secret failed unseen and releases waited for the sweep); nothing in it is secret
      String said =
          "heroku webhook refused: "
              + (unset
                  ? "no webhook secret is set (DYNOFLEET_WEBHOOK_SECRET), and only signed"
                      + " notifications are taken"
                  : pool == null
                      ? "no signature of its body under the webhook secret"
                      : "no signature of its body under the webhook secret of the pool its URL"
                          + " names (?pool=)")
              + " (signature header "
              + (signature == null ? "absent" : "present")
              + ", Authorization header "
              + (authorization == null ? "absent" : "present: the API token is not taken here")
              + ", body "
              + raw.length
              + " bytes)";
      long untold = REFUSED_LOG.tell("refused", "refused");
      if (untold >= 0) {
        LOG.warn(said + (untold > 0 ? "; " + untold + " more refused since the last line" : ""));
      } else {
        LOG.debug(said);
      }
      count("refused");
      // one type for every refusal here; the detail says what to do (an empty header comes as none)
      throw new ApiException(
          401,
          "bad-signature",
          "Unauthorized",
          unset || signature == null
              ? UNSIGNED
              : pool == null
                  ? "the "
                      + SIGNATURE
                      + " header is not the body's signature under the webhook secret"
                  : "the "
                      + SIGNATURE
                      + " header is not the body's signature under the webhook secret of the"
                      + " pool the pool parameter names (dynofleet webhook-secret POOL prints it)");
    }
    JsonNode event;
    String why = "the body is not a Heroku webhook event";
    try {
      event = raw.length == 0 ? null : JSON.readTree(raw);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      event = null;
      why = StrictJson.describe(e); // as for the rest of the API: trailing data, a key twice
    } catch (java.io.IOException e) {
      event = null;
    }
    if (event == null || !event.isObject()) {
      count("malformed");
      throw new ApiException(400, "malformed-json", "Malformed JSON", why);
    }
    if (pool != null && (pool.length() > 63 || !PoolValidator.DNS_LABEL.matcher(pool).matches())) {
      // Dynofleet's own subscriptions name a pool (HookTarget); anything else is not one of them
      count("malformed");
      throw new ApiException(
          400,
          "invalid-pool",
          "Invalid pool",
          "the pool query parameter is not a pool name (as the pool's own subscription gives it)");
    }
    JsonNode app = event.path("data").path("app");
    // only what could name a Heroku app: a NUL reached the database as a 500 (a retried one, too),
    // and a line break the log (audit 17)
    String name = matching(app.path("name"), PoolValidator.APP_NAME);
    String id = matching(app.path("id"), PoolValidator.UUID_RE);
    String resource = event.path("resource").asText("");
    Instant now = clock.instant();
    String eventId = event.path("id").isTextual() ? event.path("id").asText() : null;
    String heardAs = deliveryKey(event, eventId);
    Instant created = createdAt(event);
    // remembered while it could still pass as fresh: a clock a little ahead makes that longer
    Instant until = (created != null && created.isAfter(now) ? created : now).plus(FRESH);
    String skipped =
        created != null && (created.isBefore(now.minus(FRESH)) || created.isAfter(now.plus(FRESH)))
            ? "stale"
            : heardAs != null && !heard.first(heardAs, until, now) ? "duplicate" : null;
    if (skipped != null) {
      count(skipped);
      // what the notification says, printable and short: a line break forged a log line (review 21)
      LOG.infof(
          "heroku webhook resource=%s app=%s event=%s skipped: %s",
          printable(resource),
          name != null ? name : id,
          eventId == null ? null : printable(eventId),
          skipped);
      return Response.accepted(new Accepted(name != null ? name : id, List.of(), skipped)).build();
    }
    List<String> scheduled = new ArrayList<>();
    boolean deferred = false;
    try {
      if ((name != null || id != null) && (resource.isEmpty() || resource.endsWith("release"))) {
        for (String p : pools.copying(Arrays.asList(name, id))) { // copying() skips the null one
          // a pool's own subscription (?pool=) schedules that pool only, if it copies the app: each
          // of the pools copying one app has its own, and each delivery scheduled all of them, so
          // one release was N × N passes (audit 21 H2). One made by hand (no pool) schedules all
          if (pool == null || pool.equals(p)) {
            // also recorded as heard, for every dyno (one statement, never failing the hook): the
            // longer idle turn trusts deliveries heard, not a subscription (review 25 #3)
            deferred |= wake(p);
            scheduled.add(p);
          }
        }
      }
    } catch (RuntimeException e) {
      if (heardAs != null) heard.forget(heardAs); // not acted on: Heroku's retry must be heard
      throw e;
    }
    count(scheduled.isEmpty() ? "ignored" : deferred ? "deferred" : "scheduled");
    LOG.infof(
        "heroku webhook resource=%s app=%s pools=%s",
        printable(resource), name != null ? name : id, scheduled);
    return Response.accepted(new Accepted(name != null ? name : id, scheduled, null)).build();
  }

  /** When each pool's last pass called up by a notification is (or was) due, in nanoTime. */
  private final java.util.concurrent.ConcurrentHashMap<String, Long> passDue =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * A pass for {@code pool}: now, or, within {@code hook-pass-interval} of the last one a
   * notification brought, at that interval's end, one pass for all that came in it (security review
   * 4 S4-6: a pool's secret posted 876 notifications in a minute, 784 Platform API calls). True
   * when deferred.
   */
  private boolean wake(String pool) {
    long now = System.nanoTime();
    long min = interval.toNanos();
    long[] delay = {0};
    passDue.compute(
        pool,
        (k, last) -> {
          if (last == null || now - last >= min) {
            return now;
          }
          if (last - now > 0) {
            delay[0] = last - now; // a deferred pass is due already: it is this one's too
            return last;
          }
          delay[0] = last + min - now;
          return last + min;
        });
    if (delay[0] == 0) {
      loop.wake(pool);
      return false;
    }
    // stored for the fleet, and heard: a dyno stopped within the deferral lost it (R29-12)
    loop.wakeLater(pool, java.time.Duration.ofNanos(delay[0]));
    return true;
  }

  /**
   * Whether the body is signed for where it was posted. A pool's URL ({@code ?pool=NAME}) takes the
   * pool's own secret ({@link ApiAuth#poolWebhookSecret}), so the pool is bound to the signature
   * and whoever holds one pool's secret can call up passes of that pool only (security review 3
   * #4). {@code DYNOFLEET_WEBHOOK_SECRET} signs for a URL without a pool (a subscription made by
   * hand for the whole fleet) and, for a pool's URL, only while the record says the pool's
   * subscription was last given it: one made by the release before, until the reconciler gives it
   * the pool's own secret at its next look at the subscription (the first pass after the start, as
   * the recorded fingerprint is not the pool's secret's). The record is read only when the master
   * secret matched, so an unsigned flood costs no query.
   */
  private boolean signedFor(byte[] raw, String signature, String pool) {
    if (pool == null) {
      return auth.signatureMatches(raw, signature);
    }
    if (ApiAuth.signatureMatches(raw, signature, auth.poolWebhookSecret(pool))) {
      return true;
    }
    if (pool.length() > 63
        || !PoolValidator.DNS_LABEL.matcher(pool).matches()
        || !auth.signatureMatches(raw, signature)) {
      return false;
    }
    boolean upgrading =
        HookTarget.fingerprint(auth.webhookSecret()).equals(pools.webhookSigned(pool));
    if (upgrading) {
      LOG.debugf(
          "heroku webhook for pool %s signed with DYNOFLEET_WEBHOOK_SECRET: taken until its"
              + " subscription is given the pool's own secret",
          pool);
    }
    return upgrading;
  }

  /**
   * What a delivery is remembered by: its delivery id ({@code webhook_metadata.delivery.id}), else
   * its event id; null with neither. Both are in the signed body, the {@code ?pool=} of the URL is
   * not, so a replay posted with another {@code ?pool=} is the same delivery (security review 3
   * #4). Not the event id alone: Heroku makes one event per release and one delivery of it per
   * subscription (its payload's {@code id} is {@code webhook_metadata.event.id}), so each pool
   * copying the app gets the same event id, under a delivery id of its own. An id longer than
   * Heroku's UUIDs is remembered by its hash, so a signed body cannot fill memory with it.
   */
  static String deliveryKey(JsonNode event, String eventId) {
    JsonNode delivery = event.path("webhook_metadata").path("delivery").path("id");
    String key =
        delivery.isTextual()
            ? "delivery " + delivery.asText()
            : eventId == null ? null : "event " + eventId;
    if (key == null || key.length() <= 100) {
      return key;
    }
    try {
      return "sha-256 "
          + java.util.HexFormat.of()
              .formatHex(
                  java.security.MessageDigest.getInstance("SHA-256")
                      .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String printable(String s) {
    String t = s.length() > 100 ? s.substring(0, 100) + "..." : s;
    return t.replaceAll("[^\\x20-\\x7e]", "?");
  }

  private static String matching(JsonNode value, java.util.regex.Pattern pattern) {
    return value.isTextual() && pattern.matcher(value.asText()).matches() ? value.asText() : null;
  }

  /** When the event says it was created; null without a (readable) date. */
  private static Instant createdAt(JsonNode event) {
    try {
      return event.path("created_at").isTextual()
          ? OffsetDateTime.parse(event.path("created_at").asText()).toInstant()
          : null;
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
