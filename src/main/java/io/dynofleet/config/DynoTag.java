package io.dynofleet.config;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Every meter carries the dyno it comes from ({@code dyno="web.1"}, from Heroku's {@code $DYNO};
 * {@code local} elsewhere). A scrape reaches one dyno, the one Heroku's router picked: without the
 * tag, two dynos' counters (or the old and new process of a preboot) took turns in one series, and
 * Prometheus read each drop as a reset, so {@code rate()} showed traffic that never was (audit 18).
 */
@Singleton
public class DynoTag {
  /** The tag's name. */
  public static final String NAME = "dyno";

  @Produces
  @Singleton
  MeterFilter dynoTag(@ConfigProperty(name = "dyno", defaultValue = "local") String dyno) {
    return MeterFilter.commonTags(Tags.of(NAME, value(dyno)));
  }

  /** The dyno's name as a tag value: printable and short, {@code local} when there is none. */
  static String value(String dyno) {
    String v = dyno == null ? "" : dyno.strip();
    if (v.isEmpty() || v.length() > 64 || !v.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      return "local";
    }
    return v;
  }
}
