package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** A Heroku release webhook of a source app schedules exactly the pools copying that app. */
@QuarkusTest
class HooksTests {
  static final String HOOK = "/_dynofleet/api/v1/hooks/heroku";

  static String pool(String name, String source) {
    return """
        {"metadata": {"name": "%s"}, "spec": {"pipeline": "shop", "replicas": 1,
         "template": {"sourceApp": "%s"}}}"""
        .formatted(name, source);
  }

  static String event(String app) {
    return event("a1", app);
  }

  static String event(String id, String app) {
    return event(java.util.UUID.randomUUID().toString(), java.time.Instant.now(), id, app);
  }

  /** A notification as Heroku sends it: its event's id and creation time, and the release. */
  static String event(String eventId, java.time.Instant created, String id, String app) {
    return """
        {"id": "%s", "created_at": "%s", "resource": "release", "action": "create",
         "data": {"id": "r1", "version": 7, "status": "succeeded", "app": {"id": "%s", "name": "%s"}}}
        """
        .formatted(eventId, created, id, app);
  }

  /**
   * One delivery of an event, as Heroku sends it to each subscription: the event's id at the top
   * and in {@code webhook_metadata}, with the delivery's own id.
   */
  static String delivery(String eventId, String deliveryId, String app) {
    return """
        {"id": "%s", "created_at": "%s", "resource": "release", "action": "create",
         "data": {"id": "r1", "version": 7, "status": "succeeded", "app": {"id": "%s", "name": "%s"}},
         "webhook_metadata": {"attempt": {"id": "%s"}, "delivery": {"id": "%s"},
          "event": {"id": "%s", "include": "api:release"}, "webhook": {"id": "%s"}}}
        """
        .formatted(
            eventId,
            java.time.Instant.now(),
            app,
            app,
            java.util.UUID.randomUUID(),
            deliveryId,
            eventId,
            java.util.UUID.randomUUID());
  }

  /** A notification signed as Heroku signs it, with the test profile's webhook secret. */
  static io.restassured.specification.RequestSpecification signed(String body) {
    return given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.sign(HookSignature.TEST_SECRET, body))
        .body(body);
  }

  /**
   * A notification to a pool's own URL ({@code ?pool=}), signed with that pool's own secret, as
   * Heroku signs the deliveries of the subscription Dynofleet makes for the pool.
   */
  static io.restassured.specification.RequestSpecification signedFor(String pool, String body) {
    return given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.signFor(pool, body))
        .queryParam("pool", pool)
        .body(body);
  }

  /**
   * Audit 17: a NUL in the app's name or id was a 500 (PostgreSQL's text refuses it), each retry
   * too.
   */
  @Test
  void anAppNameOrIdNoHerokuAppHasIsIgnored() {
    String source = uniqueName("src");
    String a = uniqueName("hook-n");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    signed(event("a\\u0000", source + "\\u0000"))
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", empty());
    // what a notification says goes into the log printable: a line break forged a line (review 21)
    java.util.List<String> logged;
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.under("")) {
      signed(
              """
          {"id": "e1\\nFORGED id", "resource": "release\\nFORGED resource", "action": "create",
           "data": {"app": {"id": "x\\ny", "name": "%s\\r\\nFORGED name"}}}"""
                  .formatted(source))
          .post(HOOK)
          .then()
          .statusCode(202)
          .body("reconciling", empty());
      logged = capture.records().stream().map(io.dynofleet.LogCapture::text).toList();
    }
    assertThat(logged)
        .as("the webhook's log line")
        .anyMatch(l -> l.contains("heroku webhook"))
        .noneMatch(
            l -> l.contains("\nFORGED") || l.contains("\rFORGED") || l.contains("\r\nFORGED"));
    signed(event(java.util.UUID.randomUUID().toString(), source))
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", contains(a));
  }

  @Test
  void aReplayedNotificationSchedulesNothing() {
    String source = uniqueName("src");
    String a = uniqueName("hook-r");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    double duplicates = notifications("duplicate");
    String body = event(source);
    String signature = HookSignature.sign(SECRET, body);
    given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", signature)
        .body(body)
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", contains(a))
        .body("$", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasKey("skipped")));
    for (int i = 0; i < 3; i++) { // the same signed notification again: genuine, and no news
      given()
          .contentType("application/json")
          .header("Heroku-Webhook-Hmac-SHA256", signature)
          .body(body)
          .post(HOOK)
          .then()
          .statusCode(202)
          .body("reconciling", empty())
          .body("skipped", org.hamcrest.Matchers.equalTo("duplicate"));
    }
    org.assertj.core.api.Assertions.assertThat(notifications("duplicate") - duplicates)
        .isEqualTo(3);
    // another event of the same release (Heroku's update when it settles) is news
    signed(event(source)).post(HOOK).then().statusCode(202).body("reconciling", contains(a));
  }

  @Test
  void aStaleNotificationSchedulesNothing() {
    String source = uniqueName("src");
    String a = uniqueName("hook-o");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    java.time.Instant now = java.time.Instant.now();
    String old =
        event(
            java.util.UUID.randomUUID().toString(),
            now.minus(java.time.Duration.ofMinutes(11)),
            source,
            source);
    given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.sign(SECRET, old))
        .body(old)
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", empty())
        .body("skipped", org.hamcrest.Matchers.equalTo("stale"));
    // nine minutes late (a retried delivery) still counts, and so does a clock a little ahead
    for (java.time.Duration skew :
        new java.time.Duration[] {
          java.time.Duration.ofMinutes(-9), java.time.Duration.ofMinutes(2)
        }) {
      signed(event(java.util.UUID.randomUUID().toString(), now.plus(skew), source, source))
          .post(HOOK)
          .then()
          .statusCode(202)
          .body("reconciling", contains(a));
    }
    // nor is one dated far ahead fresh for as long as it likes (security review 4 S4-8)
    signed(
            event(
                java.util.UUID.randomUUID().toString(),
                now.plus(java.time.Duration.ofDays(365)),
                source,
                source))
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", empty())
        .body("skipped", org.hamcrest.Matchers.equalTo("stale"));
  }

  @Test
  void aNotificationWithoutIdOrDateIsTakenEachTime() {
    // a hand-made notification (signed by hand) has neither: each one asks for a pass
    String source = uniqueName("src");
    String a = uniqueName("hook-h");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    for (int i = 0; i < 2; i++) {
      signed("{\"resource\": \"release\", \"data\": {\"app\": {\"name\": \"" + source + "\"}}}")
          .post(HOOK)
          .then()
          .statusCode(202)
          .body("reconciling", contains(a));
    }
  }

  @Test
  void releaseOfASourceAppSchedulesItsPools() {
    String source = uniqueName("src");
    String a = uniqueName("hook-a");
    String other = uniqueName("hook-b");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    api().body(pool(other, "another-app")).post(POOLS).then().statusCode(201);

    signed(event(source))
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("app", org.hamcrest.Matchers.equalTo(source))
        .body("reconciling", contains(a));
    signed(event("unrelated-app")).post(HOOK).then().statusCode(202).body("reconciling", empty());
  }

  @Test
  void poolsNamingTheSourceAppByIdAreScheduledToo() {
    String id = java.util.UUID.randomUUID().toString();
    String byId = uniqueName("hook-id");
    String byName = uniqueName("hook-name");
    String source = uniqueName("src");
    api().body(pool(byId, id)).post(POOLS).then().statusCode(201);
    api().body(pool(byName, source)).post(POOLS).then().statusCode(201);
    signed(event(id, source))
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", containsInAnyOrder(byId, byName));
  }

  @Test
  void needsASignatureAndAJsonEvent() {
    given().contentType("application/json").body(event("x")).post(HOOK).then().statusCode(401);
    signed("not json").post(HOOK).then().statusCode(400).contentType("application/problem+json");

    // strict as the rest of the API: a key twice (which app?), or more after the event
    String source = uniqueName("src");
    api().body(pool(uniqueName("hook-j"), source)).post(POOLS).then().statusCode(201);
    String twice = event(source).replaceFirst("\\{\"id\"", "{\"id\": \"first\", \"id\"");
    signed(twice)
        .post(HOOK)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("detail", org.hamcrest.Matchers.containsString("'id' twice"));
    signed(event(source) + " {}")
        .post(HOOK)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("detail", org.hamcrest.Matchers.containsString("more after"));
  }

  static final String SECRET = HookSignature.TEST_SECRET;

  @Test
  void aNotificationSignedWithTheWebhookSecretNeedsNoToken() {
    String source = uniqueName("src");
    String a = uniqueName("hook-s");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    String body = event(source);
    given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.sign(SECRET, body))
        .body(body)
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", contains(a));
  }

  @Test
  void aBadSignatureIsRefused() {
    String source = uniqueName("src");
    api().body(pool(uniqueName("hook-x"), source)).post(POOLS).then().statusCode(201);
    // said at WARN once, not per refusal (audit 18 L8: DEBUG only before), and nothing secret
    HooksResource.REFUSED_LOG.clear("refused");
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(HooksResource.class)) {
      String body = event(source);
      for (String signature :
          new String[] {
            HookSignature.sign("another-secret", body), // signed by someone else
            HookSignature.sign(SECRET, event("another-app")), // a genuine signature of another body
            "not base64 !",
            ""
          }) {
        given()
            .contentType("application/json")
            .header("Heroku-Webhook-Hmac-SHA256", signature)
            .body(body)
            .post(HOOK)
            .then()
            .statusCode(401)
            .contentType("application/problem+json")
            .body("type", org.hamcrest.Matchers.endsWith("bad-signature"))
            .body(org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString(SECRET)));
      }
      assertThat(capture.records())
          .filteredOn(r -> r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
          .extracting(io.dynofleet.LogCapture::text)
          .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
          .contains("heroku webhook refused", "signature header present")
          .doesNotContain(SECRET);
    }
  }

  @Test
  void aSignatureOpensTheHookOnly() {
    // elsewhere in the API a signature is no credential, whatever it signs
    given()
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.sign(SECRET, ""))
        .get(POOLS)
        .then()
        .statusCode(401);
    given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.sign(SECRET, "{}"))
        .body("{}")
        .post(POOLS)
        .then()
        .statusCode(401);
    // and a GET of the hook is not a notification
    given()
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.sign(SECRET, ""))
        .get(HOOK)
        .then()
        .statusCode(401);
  }

  @jakarta.inject.Inject io.micrometer.core.instrument.MeterRegistry meters;

  private double notifications(String outcome) {
    var c = meters.find("dynofleet.hook.notifications").tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void everyNotificationIsCountedByWhatCameOfIt() {
    // duplicate and stale: aReplayedNotificationSchedulesNothing,
    // aStaleNotificationSchedulesNothing
    String source = uniqueName("src");
    api().body(pool(uniqueName("hook-m"), source)).post(POOLS).then().statusCode(201);
    double scheduled = notifications("scheduled");
    double ignored = notifications("ignored");
    double refused = notifications("refused");
    double malformed = notifications("malformed");
    signed(event(source)).post(HOOK).then().statusCode(202);
    signed(event("nobody-copies-this")).post(HOOK).then().statusCode(202);
    String body = event(source);
    given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.sign("other", body))
        .body(body)
        .post(HOOK)
        .then()
        .statusCode(401);
    signed("[1]").post(HOOK).then().statusCode(400);
    org.assertj.core.api.Assertions.assertThat(
            new double[] {
              notifications("scheduled") - scheduled,
              notifications("ignored") - ignored,
              notifications("refused") - refused,
              notifications("malformed") - malformed
            })
        .containsExactly(1, 1, 1, 1);
  }

  /**
   * Security review 4 S4-6: whoever holds a pool's webhook secret (Heroku does) called up a pass,
   * and Platform API calls, with every notification: 876 in a minute.
   */
  @Test
  void aPoolsNotificationsBringOnePassPerInterval() {
    String source = uniqueName("src");
    String a = uniqueName("hook-r");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    double scheduled = notifications("scheduled");
    double deferred = notifications("deferred");
    for (int i = 0; i < 5; i++) {
      signedFor(a, event(source))
          .post(HOOK)
          .then()
          .statusCode(202)
          .body("reconciling", contains(a));
    }
    assertThat(
            new double[] {
              notifications("scheduled") - scheduled, notifications("deferred") - deferred
            })
        .containsExactly(1, 4);
  }

  @jakarta.inject.Inject io.agroal.api.AgroalDataSource dataSource;

  /**
   * Review 29 R29-12: a notification within hook-pass-interval of the last one deferred its pass in
   * this process's memory only, neither stored nor recorded as heard: a dyno stopped within the
   * deferral (a deploy, the daily restart) left the release it told of to the pool's idle turn. The
   * look is stored at the deferral's end, where every dyno's takeover finds it.
   */
  @Test
  void aDeferredNotificationsLookIsStoredForEveryDyno() throws Exception {
    String source = uniqueName("src");
    String a = uniqueName("hook-d");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    signedFor(a, event(source)).post(HOOK).then().statusCode(202);
    // its pass ran and stored the pool's idle turn, well after the interval
    update(
        "update pool_sweeps set next_look_at = now() + interval '1 hour', webhook_heard_at = null"
            + " where pool_id = (select id from pools where name = ?)",
        a);
    double deferred = notifications("deferred");
    signedFor(a, event(source)).post(HOOK).then().statusCode(202);
    assertThat(notifications("deferred") - deferred).isEqualTo(1);
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "select extract(epoch from s.next_look_at - now()), s.webhook_heard_at"
                    + " from pool_sweeps s join pools p on p.id = s.pool_id where p.name = ?")) {
      st.setString(1, a);
      try (java.sql.ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getDouble(1))
            .as("the stored look: the deferral's end, within the 15 s interval")
            .isBetween(0.0, 15.0);
        assertThat(rs.getObject(2)).as("recorded as heard").isNotNull();
      }
    }
  }

  private void update(String sql, String arg) throws java.sql.SQLException {
    try (java.sql.Connection c = dataSource.getConnection();
        java.sql.PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, arg);
      assertThat(st.executeUpdate()).isEqualTo(1);
    }
  }

  @io.quarkus.test.common.http.TestHTTPResource("/")
  java.net.URL app;

  /**
   * POSTs {@code body} to the hook in 64 KB chunks over a raw socket and returns all that came
   * back.
   */
  private String chunkedPost(String signature, byte[] body) throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", app.getPort())) {
      s.setSoTimeout(10_000);
      var out = s.getOutputStream();
      out.write(
          ("POST "
                  + HOOK
                  + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + "Heroku-Webhook-Hmac-SHA256: "
                  + signature
                  + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      for (int off = 0; off < body.length; off += 65536) {
        int n = Math.min(65536, body.length - off);
        out.write(
            (Integer.toHexString(n) + "\r\n")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        out.write(body, off, n);
        out.write("\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      }
      out.write("0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      out.flush();
      return new String(
          s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void aChunkedNotificationIsBoundedByTheApisLimit() throws Exception {
    // a signature header alone lets a body through to the signature check: a chunked one was
    // buffered up to the server-wide 100 MB before it was refused
    byte[] big = new byte[3 * 1024 * 1024];
    java.util.Arrays.fill(big, (byte) ' ');
    String tooLarge = chunkedPost("bogus", big);
    org.assertj.core.api.Assertions.assertThat(tooLarge)
        .startsWith("HTTP/1.1 413")
        .contains("application/problem+json")
        .contains("body-too-large");
    // within the limit, a chunked notification is read whole and checked as any other
    String source = uniqueName("src");
    String a = uniqueName("hook-c");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    String body = event(source);
    String ok =
        chunkedPost(
            HookSignature.sign(SECRET, body),
            body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    org.assertj.core.api.Assertions.assertThat(ok).startsWith("HTTP/1.1 202").contains(a);
  }

  @jakarta.inject.Inject ApiAuth auth;

  /**
   * Opens a socket from {@code from} (a loopback address: each is a client of its own) and sends a
   * hook's headers and the start of a body it never finishes.
   */
  private java.net.Socket heldHook(String from) throws Exception {
    var s = fromAddress(from);
    s.setSoTimeout(30_000);
    var out = s.getOutputStream();
    out.write(
        ("POST "
                + HOOK
                + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Heroku-Webhook-Hmac-SHA256: AAAA\r\nContent-Length: 60000\r\n\r\n{\"id\":")
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    out.flush();
    return s;
  }

  /** A socket to the app from a loopback address of its own (Linux answers all of 127/8). */
  private java.net.Socket fromAddress(String from) throws Exception {
    return new java.net.Socket(
        java.net.InetAddress.getByName("127.0.0.1"),
        app.getPort(),
        java.net.InetAddress.getByName(from),
        0);
  }

  /** POSTs a whole signed notification from {@code from} and returns all that came back. */
  private String signedFrom(String from, String body) throws Exception {
    try (java.net.Socket s = fromAddress(from)) {
      s.setSoTimeout(30_000);
      byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      var out = s.getOutputStream();
      out.write(
          ("POST "
                  + HOOK
                  + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
                  + "Heroku-Webhook-Hmac-SHA256: "
                  + HookSignature.sign(SECRET, body)
                  + "\r\nContent-Length: "
                  + bytes.length
                  + "\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      out.write(bytes);
      out.flush();
      return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /**
   * Security review 4 S4-1: a signature header of any value had a body of up to the API's 1 MiB
   * read before the signature was checked, any number at once: 300 held open took a 256 MB heap.
   */
  @Test
  void aNotificationIsBoundedByTheHooksOwnLimit() {
    String big = "{\"pad\": \"" + " ".repeat(100 * 1024) + "\"}";
    given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", "bogus")
        .body(big)
        .post(HOOK)
        .then()
        .statusCode(413)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("body-too-large"))
        .body("detail", org.hamcrest.Matchers.containsString("webhook"));
  }

  @Test
  void notificationsReadAtOnceAreBoundedInNumberAndTime() throws Exception {
    var held = new java.util.ArrayList<java.net.Socket>();
    try {
      // from four clients, each holding all it may
      for (int i = 0; i < ApiAuth.HOOK_READS; i++) {
        held.add(heldHook("127.0.0." + (2 + i / ApiAuth.HOOK_READS_PER_CLIENT)));
      }
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .until(() -> auth.hookReadsInUse() == ApiAuth.HOOK_READS);
      // one more is turned away at once, and the API's own requests are not
      String source = uniqueName("src");
      String a = uniqueName("hook-b");
      api().body(pool(a, source)).post(POOLS).then().statusCode(201);
      signed(event(source))
          .post(HOOK)
          .then()
          .statusCode(503)
          .header("Retry-After", "5")
          .body("type", org.hamcrest.Matchers.endsWith("hook-busy"));
      // a client that goes away gives its slot back
      for (int i = 0; i < ApiAuth.HOOK_READS / 2; i++) {
        held.remove(0).close();
      }
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .until(
              () -> auth.hookReadsInUse() == ApiAuth.HOOK_READS / 2 && auth.hookReadersHeld() == 2);
      signed(event(source)).post(HOOK).then().statusCode(202);
      // the others are answered 408 at the deadline, and their slots come back
      for (java.net.Socket s : held) {
        String answer =
            new String(
                s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(answer).startsWith("HTTP/1.1 408").contains("body-timeout");
      }
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .until(() -> auth.hookReadsInUse() == 0 && auth.hookReadersHeld() == 0);
    } finally {
      for (java.net.Socket s : held) {
        s.close();
      }
    }
  }

  /**
   * Review 29 R29-11: the 16 slots were the only bound, so one client that trickled 16 bodies held
   * every slot and each real notification got 503. A client holds at most its share; others are
   * read meanwhile.
   */
  @Test
  void oneClientHoldsAtMostItsShareOfTheNotificationsReadAtOnce() throws Exception {
    var held = new java.util.ArrayList<java.net.Socket>();
    try {
      for (int i = 0; i < ApiAuth.HOOK_READS_PER_CLIENT; i++) {
        held.add(heldHook("127.0.0.9"));
      }
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .until(() -> auth.hookReadsInUse() == ApiAuth.HOOK_READS_PER_CLIENT);
      String source = uniqueName("src");
      String a = uniqueName("hook-s");
      api().body(pool(a, source)).post(POOLS).then().statusCode(201);
      // the same client's next one, a whole and rightly signed notification, is turned away
      assertThat(signedFrom("127.0.0.9", event(source)))
          .startsWith("HTTP/1.1 503")
          .containsIgnoringCase("Retry-After: 5")
          .contains("hook-busy")
          .contains("this client has " + ApiAuth.HOOK_READS_PER_CLIENT);
      assertThat(auth.hookReadsInUse()).isEqualTo(ApiAuth.HOOK_READS_PER_CLIENT);
      // another client's is read
      assertThat(signedFrom("127.0.0.10", event(source))).startsWith("HTTP/1.1 202").contains(a);
      signed(event(source)).post(HOOK).then().statusCode(202);
      // a slot given back is the client's again
      held.remove(0).close();
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .until(() -> auth.hookReadsInUse() == ApiAuth.HOOK_READS_PER_CLIENT - 1);
      assertThat(signedFrom("127.0.0.9", event(source))).startsWith("HTTP/1.1 202");
    } finally {
      for (java.net.Socket s : held) {
        s.close();
      }
    }
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(20))
        .until(() -> auth.hookReadsInUse() == 0 && auth.hookReadersHeld() == 0);
  }

  /**
   * Audit 21 H2: each pool copying an app has its own subscription ({@code ?pool=NAME}), and each
   * delivery scheduled every pool copying the app: N pools, N × N passes per release. A pool's
   * delivery schedules that pool only, if it copies the app; one without a pool (a subscription
   * made by hand) still schedules them all.
   */
  @Test
  void aPoolsOwnDeliverySchedulesThatPoolOnly() {
    String source = uniqueName("src");
    String a = uniqueName("hook-pa");
    String b = uniqueName("hook-pb");
    String other = uniqueName("hook-po");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    api().body(pool(b, source)).post(POOLS).then().statusCode(201);
    api().body(pool(other, uniqueName("src"))).post(POOLS).then().statusCode(201);
    // the same event to each pool's subscription, each delivery with its own id (as Heroku and the
    // simulator send them): heard once per pool, not a duplicate
    String eventId = java.util.UUID.randomUUID().toString();
    String body = delivery(eventId, java.util.UUID.randomUUID().toString(), source);
    for (String p : java.util.List.of(a, b)) {
      signedFor(
              p,
              p.equals(a)
                  ? body
                  : delivery(eventId, java.util.UUID.randomUUID().toString(), source))
          .post(HOOK)
          .then()
          .statusCode(202)
          .body("reconciling", contains(p));
    }
    signedFor(a, body)
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("skipped", org.hamcrest.Matchers.equalTo("duplicate"));
    // a pool that does not copy the app is not scheduled by it
    signedFor(other, event(source)).post(HOOK).then().statusCode(202).body("reconciling", empty());
    signed(event(source))
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", containsInAnyOrder(a, b));
    // not a pool name: a problem, nothing scheduled
    signedFor("Not_A_Pool", event(source))
        .post(HOOK)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("invalid-pool"));
  }

  /**
   * Security review 3 #1: the hook took the API token as well as a signature, and the docs said to
   * store the token in a source app's webhook, where whoever manages that app's webhooks may point
   * it elsewhere and receive the token. Only a signature counts now.
   */
  @Test
  void theApiTokenAloneIsRefusedAndSchedulesNothing() {
    String source = uniqueName("src");
    String a = uniqueName("hook-t");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    double scheduled = notifications("scheduled");
    api()
        .body(event(source))
        .post(HOOK)
        .then()
        .statusCode(401)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("bad-signature"))
        .body("detail", org.hamcrest.Matchers.containsString("must be signed"))
        .body("detail", org.hamcrest.Matchers.containsString("DYNOFLEET_WEBHOOK_SECRET"))
        .body("detail", org.hamcrest.Matchers.containsString("--secret"));
    assertThat(notifications("scheduled") - scheduled).as("nothing scheduled").isZero();
    // the token with a wrong signature: still the signature that decides
    String body = event(source);
    api()
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.sign("another-secret", body))
        .body(body)
        .post(HOOK)
        .then()
        .statusCode(401)
        .body("type", org.hamcrest.Matchers.endsWith("bad-signature"));
    // without the token and unsigned: told how to sign, not which token to send
    given()
        .contentType("application/json")
        .body(event(source))
        .post(HOOK)
        .then()
        .statusCode(401)
        .contentType("application/problem+json")
        .body("detail", org.hamcrest.Matchers.containsString("must be signed"));
    assertThat(notifications("scheduled") - scheduled).as("nothing scheduled").isZero();
    // the signed form still schedules
    signed(event(source)).post(HOOK).then().statusCode(202).body("reconciling", contains(a));
  }

  /**
   * Security review 3 #4: replays were told apart by event id and the unsigned {@code ?pool=}, so
   * one captured delivery posted with {@code ?pool=nosuch1}, {@code ?pool=nosuch2}, ... was news
   * each time (a query and a remembered entry each). It is the same delivery whatever the URL says.
   */
  @Test
  void aReplayUnderAnotherPoolIsADuplicate() {
    String source = uniqueName("src");
    String a = uniqueName("hook-rp");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    for (String body :
        java.util.List.of(
            delivery(
                java.util.UUID.randomUUID().toString(),
                java.util.UUID.randomUUID().toString(),
                source),
            event(source))) { // a hand-made one without webhook_metadata: its event id
      signedFor(a, body).post(HOOK).then().statusCode(202).body("reconciling", contains(a));
      // signed for a: under another pool's name it is not signed at all (security review 3 #4)
      for (String spelling : java.util.List.of("nosuch1", "nosuch2")) {
        given()
            .contentType("application/json")
            .header("Heroku-Webhook-Hmac-SHA256", HookSignature.signFor(a, body))
            .queryParam("pool", spelling)
            .body(body)
            .post(HOOK)
            .then()
            .statusCode(401)
            .body("type", org.hamcrest.Matchers.endsWith("bad-signature"));
      }
      signedFor(a, body)
          .post(HOOK)
          .then()
          .statusCode(202)
          .body("reconciling", empty())
          .body("skipped", org.hamcrest.Matchers.equalTo("duplicate"));
      // the master secret's signature of it, without a pool: the same delivery
      signed(body)
          .post(HOOK)
          .then()
          .statusCode(202)
          .body("skipped", org.hamcrest.Matchers.equalTo("duplicate"));
    }
  }

  /**
   * Security review 3 #4: a pool's own subscription ({@code ?pool=}) schedules that pool only if
   * the app the signed body names is the pool's source app (by name or by id).
   */
  @Test
  void aPoolsDeliveryNamingAnotherAppSchedulesNothing() {
    String source = uniqueName("src");
    String sourceId = java.util.UUID.randomUUID().toString();
    String shop = uniqueName("hook-sw");
    String byId = uniqueName("hook-si");
    api().body(pool(shop, source)).post(POOLS).then().statusCode(201);
    api().body(pool(byId, sourceId)).post(POOLS).then().statusCode(201);
    String otherApp = uniqueName("other");
    api().body(pool(uniqueName("hook-oa"), otherApp)).post(POOLS).then().statusCode(201);
    for (String p : java.util.List.of(shop, byId)) {
      signedFor(p, event(otherApp))
          .post(HOOK)
          .then()
          .statusCode(202)
          .body("app", org.hamcrest.Matchers.equalTo(otherApp))
          .body("reconciling", empty());
    }
    // its own source, by name or by id, does
    signedFor(shop, event(java.util.UUID.randomUUID().toString(), source))
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", contains(shop));
    signedFor(byId, event(sourceId, "renamed-" + source))
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", contains(byId));
  }

  /**
   * Security review 3 #4: one secret signed for every pool, and whoever was handed it to subscribe
   * one app could sign for any pool and app at any rate. A pool's URL takes the pool's own secret,
   * and no other pool's nor (its subscription recorded as given the pool's own, or none recorded)
   * the master secret; the URL without a pool keeps the master secret.
   */
  @Test
  void aPoolsOwnSecretSignsForThatPoolOnly() {
    String source = uniqueName("src");
    String a = uniqueName("hook-ka");
    String b = uniqueName("hook-kb");
    api().body(pool(a, source)).post(POOLS).then().statusCode(201);
    api().body(pool(b, source)).post(POOLS).then().statusCode(201);
    double scheduled = notifications("scheduled");
    // a's secret, b's URL: refused, nothing scheduled
    String body = event(source);
    given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.signFor(a, body))
        .queryParam("pool", b)
        .body(body)
        .post(HOOK)
        .then()
        .statusCode(401)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("bad-signature"))
        .body("detail", org.hamcrest.Matchers.containsString("webhook-secret"));
    // the master secret on a's URL (a's subscription is not one the release before made)
    signed(body)
        .queryParam("pool", a)
        .post(HOOK)
        .then()
        .statusCode(401)
        .body("type", org.hamcrest.Matchers.endsWith("bad-signature"));
    // a's secret on the URL without a pool (it would wake every pool copying the app)
    given()
        .contentType("application/json")
        .header("Heroku-Webhook-Hmac-SHA256", HookSignature.signFor(a, body))
        .body(body)
        .post(HOOK)
        .then()
        .statusCode(401);
    assertThat(notifications("scheduled") - scheduled).as("nothing scheduled").isZero();
    // a's secret on a's URL: a, and not b
    signedFor(a, body).post(HOOK).then().statusCode(202).body("reconciling", contains(a));
    // the master secret without a pool still wakes every pool copying the app
    signed(event(source))
        .post(HOOK)
        .then()
        .statusCode(202)
        .body("reconciling", containsInAnyOrder(a, b));
  }

  /**
   * Security review 3 #4: the docs gave the master secret to whoever subscribes an app Dynofleet's
   * key may not touch. The API gives the pool's own secret instead, to the API token only, and it
   * is never cached.
   */
  @Test
  void thePoolsOwnSecretIsForTheApiTokenOnly() {
    String a = uniqueName("hook-sec");
    api().body(pool(a, uniqueName("src"))).post(POOLS).then().statusCode(201);
    String path = POOLS + "/" + a + "/webhook-secret";
    api()
        .get(path)
        .then()
        .statusCode(200)
        .header("Cache-Control", "no-store")
        .body("pool", org.hamcrest.Matchers.equalTo(a))
        .body(
            "secret",
            org.hamcrest.Matchers.equalTo(HookSignature.poolSecret(HookSignature.TEST_SECRET, a)))
        .body("url", org.hamcrest.Matchers.endsWith("/_dynofleet/api/v1/hooks/heroku?pool=" + a));
    // matrix parameters are dropped before routing: each spelling still routes to the secret, and
    // must still be refused (review 27 #1)
    for (String p :
        java.util.List.of(
            path,
            path + "/",
            path + ";x=1",
            path + ";",
            POOLS + "/" + a + ";a=b/webhook-secret",
            POOLS + "/" + a + "/webhook-secret;x=1/")) {
      String body =
          given()
              .urlEncodingEnabled(false)
              .header("Authorization", "Bearer test-read-token-0123456789")
              .get(p)
              .then()
              .statusCode(403)
              .contentType("application/problem+json")
              .body("type", org.hamcrest.Matchers.endsWith("read-only-token"))
              .extract()
              .asString();
      assertThat(body).as(p).doesNotContain(HookSignature.poolSecret(HookSignature.TEST_SECRET, a));
    }
    api()
        .get(POOLS + "/" + uniqueName("nosuch") + "/webhook-secret")
        .then()
        .statusCode(404)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("not-found"));
    given().get(path).then().statusCode(401);
  }
}
