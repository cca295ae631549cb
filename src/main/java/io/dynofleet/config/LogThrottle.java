package io.dynofleet.config;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Says when a repeated failure is worth a line again (audit 18 #7): the first time, when what it
 * says changes, and then at most once per {@code every}, with how many were not told since. Keyed
 * (a pool, "sweep"), so each key has its own spell; {@link #clear} ends one, for a recovery line.
 */
public final class LogThrottle {
  private final long everyNanos;
  private final LongSupplier nanos;
  private final Map<String, Spell> spells = new HashMap<>();

  private static final class Spell {
    String text;
    long toldAt;
    long untold;
    long count;
  }

  /** {@code every} null: once per spell (and again when the text changes). */
  public LogThrottle(Duration every, LongSupplier nanos) {
    this.everyNanos = every == null ? Long.MAX_VALUE : every.toNanos();
    this.nanos = nanos;
  }

  public LogThrottle(Duration every) {
    this(every, System::nanoTime);
  }

  /**
   * One more failure of {@code key} saying {@code text}: -1 when it is not worth a line now, else
   * how many failures went untold since the last line (0: the first, or a new text).
   */
  public synchronized long tell(String key, String text) {
    long now = nanos.getAsLong();
    Spell s = spells.get(key);
    if (s == null || !java.util.Objects.equals(s.text, text)) {
      if (s == null) {
        s = new Spell();
        spells.put(key, s);
      }
      s.text = text;
      s.toldAt = now;
      s.untold = 0;
      s.count++;
      return 0;
    }
    s.count++;
    if (everyNanos != Long.MAX_VALUE && now - s.toldAt >= everyNanos) {
      long untold = s.untold;
      s.toldAt = now;
      s.untold = 0;
      return untold;
    }
    s.untold++;
    return -1;
  }

  /** Forgets the spells of keys not in {@code live} (their subjects are gone), untold. */
  public synchronized void retain(java.util.Set<String> live) {
    spells.keySet().retainAll(live);
  }

  /** The spell of {@code key} is over: how many failures it had, or -1 when none was open. */
  public synchronized long clear(String key) {
    Spell s = spells.remove(key);
    return s == null ? -1 : s.count;
  }
}
