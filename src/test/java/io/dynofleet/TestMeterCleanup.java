package io.dynofleet;

import io.micrometer.core.instrument.Metrics;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

/**
 * Empties Micrometer's global registry when a test application stops. The test applications of one
 * Maven run share a JVM and Micrometer's classes, so a meter one of them registered stays in {@link
 * Metrics#globalRegistry} and is handed to the next application's Prometheus registry, which then
 * refuses a meter of the same name with other tag keys (the per-pool latency histograms of one test
 * against the per-backend ones of the next). Quarkus does this itself in dev mode only.
 */
@Singleton
public class TestMeterCleanup {

  void stopped(@Observes ShutdownEvent event) {
    Metrics.globalRegistry.getMeters().forEach(Metrics.globalRegistry::remove);
  }
}
