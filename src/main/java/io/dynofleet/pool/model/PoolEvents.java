package io.dynofleet.pool.model;

import io.dynofleet.text.SafeText;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * The per-pool event log, like {@code kubectl describe} shows: an event equal to a recent one (same
 * type, reason and message) bumps its count instead of adding a row, and each pool keeps at most
 * {@link #MAX_PER_POOL} events, none older than {@code dynofleet.events.retention}.
 */
@ApplicationScoped
public class PoolEvents {
  /**
   * Events a pool keeps (audit 21 L3: 200 was about three rollouts of a 10-backend pool, too short
   * for an incident review of last week).
   */
  public static final int MAX_PER_POOL = 1000;

  /** The longest message an event keeps (a longer one is cut). */
  public static final int MAX_MESSAGE = 2000;

  public static final String NORMAL = "Normal";
  public static final String WARNING = "Warning";
  private static final Logger LOG = Logger.getLogger(PoolEvents.class);

  private final Clock clock;

  /** An event seen again after this long without it is logged again at its level. */
  static final Duration QUIET = Duration.ofMinutes(10);

  PoolEvents(Clock clock) {
    this.clock = clock;
  }

  /** Records an event and logs it as one key=value line. */
  @Transactional
  public void record(UUID poolId, String poolName, String type, String reason, String message) {
    write(poolId, poolName, type, reason, message);
  }

  /** {@link #record}, giving the row written or bumped. */
  private PoolEvent write(
      UUID poolId, String poolName, String type, String reason, String message) {
    Instant now = clock.instant();
    String msg = clip(message);
    PoolEvent last =
        PoolEvent.find(
                "poolId = ?1 and type = ?2 and reason = ?3 and message = ?4"
                    + " order by lastSeen desc",
                poolId,
                type,
                reason,
                msg)
            .firstResult();
    boolean recurs = false;
    if (last != null) {
      recurs = !last.lastSeen.plus(QUIET).isAfter(now);
      last.count++;
      last.lastSeen = now;
    } else {
      last = new PoolEvent();
      last.poolId = poolId;
      last.type = type;
      last.reason = reason;
      last.message = msg;
      last.count = 1;
      last.firstSeen = now;
      last.lastSeen = now;
      last.persist();
      PoolEvent.getEntityManager()
          .createNativeQuery(
              "delete from pool_events where pool_id = ?1 and id not in"
                  + " (select id from pool_events where pool_id = ?1 order by last_seen desc, id desc"
                  + " limit "
                  + MAX_PER_POOL
                  + ")")
          .setParameter(1, poolId)
          .executeUpdate();
    }
    if (last.count > 1 && !recurs) {
      // only its count bumped: said when it was new (audit 18 #7: a WARN every failed pass), and
      // again when it comes back after a quiet spell (review 23: a cause gone and back a day
      // later was only ever a DEBUG line)
      LOG.debugf(
          "event pool=%s type=%s reason=%s message=\"%s\" count=%d",
          poolName, type, reason, logged(msg), last.count);
    } else if (WARNING.equals(type)) {
      LOG.warnf(
          "event pool=%s type=%s reason=%s message=\"%s\"%s",
          poolName, type, reason, logged(msg), recurs ? " count=" + last.count : "");
    } else {
      LOG.infof(
          "event pool=%s type=%s reason=%s message=\"%s\"%s",
          poolName, type, reason, logged(msg), recurs ? " count=" + last.count : "");
    }
    return last;
  }

  /**
   * A message as it goes inside {@code message="..."} of the event's log line: {@code \\} and
   * {@code "} escaped, and line breaks of any kind ({@code \n}, {@code \r}, U+0085, U+2028, U+2029)
   * written as escapes. A message holds text from outside (a release's output, a backend's log
   * lines, which hold what its clients sent): a quote in it ended the field and what followed read
   * as fields of Dynofleet's own line ({@code pool=payments reason=forged}), and a viewer that
   * breaks lines at U+2028 showed a line of the client's (security review 5 S5-7). Any other
   * control or bidi character ({@link SafeText#unsafe}: C1's CSI, OSC) is written as an escape too
   * (security review 6 S6-1). The stored message is left as it is.
   */
  public static String logged(String message) {
    if (message == null) {
      return null;
    }
    StringBuilder out = null;
    for (int i = 0; i < message.length(); i++) {
      char c = message.charAt(i);
      String esc =
          switch (c) {
            case '\\' -> "\\\\";
            case '"' -> "\\\"";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            default -> SafeText.unsafe(c) ? String.format("\\u%04x", (int) c) : null;
          };
      if (esc != null && out == null) {
        out = new StringBuilder(message.length() + 16).append(message, 0, i);
      }
      if (out != null) {
        if (esc != null) {
          out.append(esc);
        } else {
          out.append(c);
        }
      }
    }
    return out == null ? message : out.toString();
  }

  /** A message as stored: printable, at most {@value #MAX_MESSAGE} characters. */
  private static String clip(String message) {
    String msg = printable(message);
    return msg.length() > MAX_MESSAGE ? msg.substring(0, MAX_MESSAGE) : msg;
  }

  /**
   * Text from outside (a release command's output, an error message, a backend's log lines) as it
   * can be stored and read: {@link SafeText#printable}: terminal colour codes dropped, control and
   * bidi characters but tab and newline replaced, C1 ones included (security review 6 S6-1). A NUL
   * cannot be stored by PostgreSQL at all (text or jsonb), and one in a failed release's output
   * failed every pass of the pool, saying nothing (audit 14).
   */
  public static String printable(String text) {
    return SafeText.printable(text);
  }

  /**
   * Records an event unless the pool's log already holds it (same type, reason and message) and its
   * cause has not been found gone since ({@link #cleared}): for a standing cause a pass may find
   * again after every process start, whose once-only memory went with the process (review 9:
   * AddonNotShared and RegionDiffers on every deploy and daily restart, on every dyno). A cause
   * that went and came back is said again (its row's count bumped); one said with another message
   * (a different add-on list) replaces the one before, which counts as gone. One indexed read, only
   * when the caller would record it.
   */
  @Transactional
  public void recordOnce(UUID poolId, String poolName, String type, String reason, String message) {
    String msg = clip(message);
    if (PoolEvent.count(
            "poolId = ?1 and type = ?2 and reason = ?3 and message = ?4 and clearedAt is null",
            poolId,
            type,
            reason,
            msg)
        > 0) {
      return;
    }
    cleared(poolId, List.of(reason));
    write(poolId, poolName, type, reason, message).clearedAt = null;
  }

  /**
   * The standing causes of these said-once reasons are gone from the pool: each is said again when
   * it comes back. One statement, which changes no row while nothing was said.
   */
  @Transactional
  public void cleared(UUID poolId, java.util.Collection<String> reasons) {
    if (reasons.isEmpty()) {
      return;
    }
    PoolEvent.update(
        "clearedAt = ?1 where poolId = ?2 and reason in ?3 and clearedAt is null",
        clock.instant(),
        poolId,
        reasons);
  }

  /**
   * Deletes the events last seen before {@code cutoff}, of every pool; gives how many. One
   * statement on the {@code last_seen} index.
   */
  @Transactional
  public long deleteOlderThan(Instant cutoff) {
    return PoolEvent.delete("lastSeen < ?1", cutoff);
  }

  /** An event with its pool's name, for the fleet-wide view. */
  public record Named(String pool, PoolEvent event) {}

  /**
   * The newest events of every pool first: of {@code type} (null: both), last seen at or after
   * {@code since} (null: any), and after the page that ended at {@code afterSeen}/{@code afterId}
   * (null: from the newest), at most {@code limit}.
   */
  @Transactional
  public List<Named> listAll(
      String type, Instant since, Instant afterSeen, Long afterId, int limit) {
    StringBuilder q =
        new StringBuilder("select p.name, e from PoolEvent e, Pool p" + " where p.id = e.poolId");
    java.util.Map<String, Object> params = new java.util.HashMap<>();
    if (type != null) {
      q.append(" and e.type = :type");
      params.put("type", type);
    }
    if (since != null) {
      q.append(" and e.lastSeen >= :since");
      params.put("since", since);
    }
    if (afterSeen != null) {
      // the first conjunct bounds the index scan: the OR alone is a filter after each row fetched,
      // so a deep page read every row above it (review 26 #5)
      q.append(" and e.lastSeen <= :seen and (e.lastSeen < :seen or e.id < :id)");
      params.put("seen", afterSeen);
      params.put("id", afterId);
    }
    q.append(" order by e.lastSeen desc, e.id desc");
    var query = PoolEvent.getEntityManager().createQuery(q.toString(), Object[].class);
    params.forEach(query::setParameter);
    return query.setMaxResults(limit).getResultList().stream()
        .map(r -> new Named((String) r[0], (PoolEvent) r[1]))
        .toList();
  }

  /** The newest events first. */
  @Transactional
  public List<PoolEvent> list(UUID poolId, int limit) {
    return PoolEvent.find("poolId = ?1 order by lastSeen desc, id desc", poolId)
        .page(0, limit)
        .list();
  }
}
