package io.dynofleet;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The log records of some classes' loggers while it is open (try-with-resources), for tests that
 * assert what is logged and at which level.
 */
public final class LogCapture extends Handler implements AutoCloseable {
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final List<Logger> loggers;

  private LogCapture(List<Logger> loggers) {
    this.loggers = loggers;
    loggers.forEach(l -> l.addHandler(this));
  }

  /** Captures what the loggers named after {@code classes} log from now on. */
  public static LogCapture of(Class<?>... classes) {
    return new LogCapture(
        java.util.Arrays.stream(classes).map(c -> Logger.getLogger(c.getName())).toList());
  }

  /**
   * Captures what the loggers named {@code prefix} and below log from now on ({@code
   * "io.dynofleet"}: every class of Dynofleet's, package-private ones too).
   */
  public static LogCapture under(String prefix) {
    return new LogCapture(List.of(Logger.getLogger(prefix)));
  }

  /** Captures what the loggers named each of {@code prefixes} and below log from now on. */
  public static LogCapture under(String... prefixes) {
    return new LogCapture(java.util.Arrays.stream(prefixes).map(Logger::getLogger).toList());
  }

  /** The records so far, oldest first. */
  public List<LogRecord> records() {
    return records;
  }

  /** A record's message with its parameters filled in. */
  public static String text(LogRecord r) {
    return r instanceof org.jboss.logmanager.ExtLogRecord e
        ? e.getFormattedMessage()
        : r.getMessage();
  }

  @Override
  public void publish(LogRecord r) {
    records.add(r);
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    loggers.forEach(l -> l.removeHandler(this));
  }
}
