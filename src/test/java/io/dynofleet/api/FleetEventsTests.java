package io.dynofleet.api;

import static io.dynofleet.api.ApiFixtures.POOLS;
import static io.dynofleet.api.ApiFixtures.api;
import static io.dynofleet.api.ApiFixtures.pool;
import static io.dynofleet.api.ApiFixtures.sql;
import static io.dynofleet.api.ApiFixtures.uniqueName;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.dynofleet.pool.model.EventRetention;
import io.dynofleet.pool.model.Pool;
import io.dynofleet.pool.model.PoolEvents;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The events of every pool in one list ({@code GET .../v1/events}), their retention by age and the
 * per-pool count cap (audit 21 L3).
 */
@QuarkusTest
class FleetEventsTests {
  static final String EVENTS = "/_dynofleet/api/v1/events";

  @Inject PoolEvents events;
  @Inject EventRetention retention;

  private UUID created(String name) {
    api().body(pool(name, 0)).post(POOLS).then().statusCode(201);
    return QuarkusTransaction.requiringNew()
        .call(() -> Pool.<Pool>find("name", name).firstResult().id);
  }

  /** Moves the event of {@code reason} on the pool to {@code at} (an SQL timestamp expression). */
  private static void seenAt(UUID pool, String reason, String at) {
    sql(
        "update pool_events set last_seen = "
            + at
            + ", first_seen = "
            + at
            + " where pool_id = '"
            + pool
            + "' and reason = '"
            + reason
            + "'");
  }

  @Test
  void everyPoolsEventsComeNewestFirstPageByPageWithTheirPool() {
    String a = uniqueName("fleet-a");
    String b = uniqueName("fleet-b");
    UUID ia = created(a);
    UUID ib = created(b);
    // six warnings, alternating pools, dated after anything else the shared database holds so
    // that they are the first six of the fleet's list
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      UUID id = i % 2 == 0 ? ia : ib;
      String reason = "FleetTest" + i;
      events.record(id, i % 2 == 0 ? a : b, PoolEvents.WARNING, reason, "warning " + i);
      seenAt(id, reason, "timestamptz '2100-01-01T00:00:00Z' + interval '" + i + " seconds'");
      expected.add(0, (i % 2 == 0 ? a : b) + "/" + reason);
    }
    List<String> seen = new ArrayList<>();
    String next = null;
    for (int page = 0; page < 3; page++) {
      var req = api().queryParam("type", "Warning").queryParam("limit", "2");
      if (next != null) {
        req.queryParam("continue", next);
      }
      JsonPath doc =
          req.get(EVENTS)
              .then()
              .statusCode(200)
              .body("kind", equalTo("EventList"))
              .extract()
              .jsonPath();
      List<String> pools = doc.getList("items.pool");
      List<String> reasons = doc.getList("items.reason");
      assertThat(reasons).hasSize(2);
      for (int i = 0; i < 2; i++) {
        seen.add(pools.get(i) + "/" + reasons.get(i));
      }
      next = doc.getString("metadata.continue");
      if (page < 2) {
        assertThat(next).as("a continue token after page %d", page).isNotBlank();
      }
    }
    assertThat(seen).containsExactlyElementsOf(expected);
    // the two pools' own lists still hold their events
    api()
        .get(POOLS + "/" + a + "/events")
        .then()
        .statusCode(200)
        .body("reason[0]", equalTo("FleetTest4"));
    api().delete(POOLS + "/" + a);
    api().delete(POOLS + "/" + b);
    sql("delete from pools where name in ('" + a + "', '" + b + "')");
  }

  @Test
  void typeAndSinceFilterAndAReadOnlyTokenMayRead() {
    String a = uniqueName("fleet-f");
    UUID ia = created(a);
    events.record(ia, a, PoolEvents.WARNING, "FleetOld", "two hours ago");
    seenAt(ia, "FleetOld", "now() - interval '2 hours'");
    events.record(ia, a, PoolEvents.WARNING, "FleetNew", "just now");

    List<String> lastHour =
        api()
            .queryParam("since", "1h")
            .queryParam("limit", "500")
            .get(EVENTS)
            .then()
            .statusCode(200)
            .extract()
            .jsonPath()
            .getList("items.reason");
    assertThat(lastHour).contains("FleetNew", "Created").doesNotContain("FleetOld");

    String threeHoursAgo = java.time.Instant.now().minusSeconds(3 * 3600).toString();
    List<String> warnings =
        given()
            .header("Authorization", "Bearer test-read-token-0123456789")
            .queryParam("since", threeHoursAgo)
            .queryParam("type", "Warning")
            .queryParam("limit", "500")
            .get(EVENTS)
            .then()
            .statusCode(200)
            .extract()
            .jsonPath()
            .getList("items.reason");
    assertThat(warnings).contains("FleetNew", "FleetOld").doesNotContain("Created");

    given().get(EVENTS).then().statusCode(401);
    sql("delete from pools where name = '" + a + "'");
  }

  /**
   * Security review 5 S5-7: a message holds outside text (a backend's log lines hold what its
   * clients sent); its quotes and U+2028 went into the WARN line as they were, and a logfmt parser
   * read {@code pool=payments reason=forged} from Dynofleet's own line.
   */
  @Test
  void outsideTextInAMessageCannotForgeFieldsOfTheLogLine() {
    String a = uniqueName("fleet-l");
    UUID ia = created(a);
    String forged =
        "app[web.1]: GET /\" level=error pool=payments reason=forged msg=\"injected"
            + " | GET /x\u2028FORGED-LINE level=error\\ | next\nline\u0085end";
    try (io.dynofleet.LogCapture logs = io.dynofleet.LogCapture.of(PoolEvents.class)) {
      events.record(ia, a, PoolEvents.WARNING, "FleetForged", forged);
      String line =
          logs.records().stream()
              .map(io.dynofleet.LogCapture::text)
              .filter(t -> t.contains("reason=FleetForged"))
              .findFirst()
              .orElseThrow();
      // one message field, to the line's end: every quote inside it escaped
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(
                  "event pool=(\\S+) type=Warning reason=FleetForged message=\"((?:[^\"\\\\]|\\\\.)*)\"")
              .matcher(line);
      assertThat(m.matches()).as(line).isTrue();
      assertThat(m.group(1)).isEqualTo(a);
      assertThat(line)
          .doesNotContain("\u2028", "\u0085", "\n")
          .contains(
              "GET /\\\" level=error pool=payments", "/x\\nFORGED", "error\\\\ |", "next\\nline");
    }
    // stored as it came, but for the Unicode line breaks, made newlines (security review 6)
    assertThat(
            api()
                .get(POOLS + "/" + a + "/events")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("message", String.class))
        .contains(forged.replace('\u2028', '\n').replace('\u0085', '\n'));
    sql("delete from pools where name = '" + a + "'");
  }

  /**
   * Security review 6 S6-1: a backend's log lines (what its clients sent) reached the events, the
   * CLI and the WARN line with C1 controls (U+009B CSI, U+009D OSC, U+0085 NEL) and bidi overrides
   * (U+202E) intact: a terminal that honours C1 cleared the screen or showed a lying link.
   */
  @Test
  void c1AndBidiControlsInOutsideTextAreNeitherStoredNorLogged() {
    String a = uniqueName("fleet-c");
    UUID ia = created(a);
    String evil =
        "app[web.1]: C1-CSI \u009b2J\u009b31mRED\u009b0m | OSC \u009d8;;https://evil.example/\u009c"
            + "click\u009d8;;\u009c | NEL\u0085FORGED | BIDI admin \u202egnp.exe\u202c \u2066x\u2069"
            + " \u200f\u061c\ufeff end";
    String[] controls = {
      "\u009b", "\u009d", "\u009c", "\u0085", "\u202e", "\u202c", "\u2066", "\u2069", "\u200f",
      "\u061c", "\ufeff"
    };
    try (io.dynofleet.LogCapture logs = io.dynofleet.LogCapture.of(PoolEvents.class)) {
      events.record(ia, a, PoolEvents.WARNING, "FleetC1", evil);
      String line =
          logs.records().stream()
              .map(io.dynofleet.LogCapture::text)
              .filter(t -> t.contains("reason=FleetC1"))
              .findFirst()
              .orElseThrow();
      assertThat(line).doesNotContain(controls).contains("C1-CSI", "gnp.exe", "end");
    }
    String stored =
        api()
            .get(POOLS + "/" + a + "/events")
            .then()
            .statusCode(200)
            .extract()
            .jsonPath()
            .getList("message", String.class)
            .stream()
            .filter(m -> m.contains("C1-CSI"))
            .findFirst()
            .orElseThrow();
    assertThat(stored)
        .doesNotContain(controls)
        .contains(
            "C1-CSI \ufffd2J\ufffd31mRED",
            "NEL\nFORGED",
            "admin \ufffdgnp.exe\ufffd \ufffdx\ufffd");
    sql("delete from pools where name = '" + a + "'");
  }

  @Test
  void badParametersAreNamedInOneProblem() {
    api()
        .queryParam("type", "Error")
        .queryParam("since", "yesterday")
        .queryParam("limit", "0")
        .queryParam("continue", "bm9wZQ")
        .get(EVENTS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json")
        .body("errors.field", equalTo(List.of("type", "since", "limit", "continue")));
    api()
        .queryParam("pool", "x")
        .get(EVENTS)
        .then()
        .statusCode(422)
        .contentType("application/problem+json");
  }

  @Test
  void eventsOlderThanTheRetentionGoAndAPoolKeepsAThousand() {
    String a = uniqueName("fleet-r");
    UUID ia = created(a);
    events.record(ia, a, PoolEvents.NORMAL, "FleetStale", "fifteen days ago");
    seenAt(ia, "FleetStale", "now() - interval '15 days'");
    events.record(ia, a, PoolEvents.NORMAL, "FleetKept", "thirteen days ago");
    seenAt(ia, "FleetKept", "now() - interval '13 days'");

    assertThat(retention.trim()).isGreaterThanOrEqualTo(1);
    List<String> left =
        api()
            .queryParam("limit", "1000")
            .get(POOLS + "/" + a + "/events")
            .then()
            .statusCode(200)
            .extract()
            .jsonPath()
            .getList("reason");
    assertThat(left).contains("FleetKept", "Created").doesNotContain("FleetStale");

    for (int i = 0; i < PoolEvents.MAX_PER_POOL + 5; i++) {
      events.record(ia, a, PoolEvents.NORMAL, "FleetMany", "event " + i);
    }
    long kept =
        QuarkusTransaction.requiringNew()
            .call(() -> io.dynofleet.pool.model.PoolEvent.count("poolId", ia));
    assertThat(kept).isEqualTo(PoolEvents.MAX_PER_POOL);
    sql("delete from pools where name = '" + a + "'");
  }
}
