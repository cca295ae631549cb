package io.dynofleet.pool.model;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dynofleet.config.DynofleetConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The retention setting's floor (pure logic: no database is touched by the constructor). */
class EventRetentionTest {

  private static DynofleetConfig retention(Duration d) {
    return new DynofleetConfig() {
      @Override
      public String prefix() {
        return "/_dynofleet";
      }

      @Override
      public Optional<List<String>> adminHosts() {
        return Optional.empty();
      }

      @Override
      public Duration hstsMaxAge() {
        return Duration.ZERO;
      }

      @Override
      public boolean hstsIncludeSubdomains() {
        return false;
      }

      @Override
      public Duration eventRetention() {
        return d;
      }
    };
  }

  @Test
  void aRetentionUnderAnHourStopsTheStartNamingTheSetting() {
    assertThatThrownBy(
            () -> new EventRetention(null, Clock.systemUTC(), retention(Duration.ofMinutes(59))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("DYNOFLEET_EVENT_RETENTION");
    new EventRetention(null, Clock.systemUTC(), retention(Duration.ofHours(1)));
  }
}
