package io.dynofleet.proxy;

import java.net.URI;
import java.time.Instant;

/** Live numbers of one backend, for status and the dashboard. */
public record BackendStats(
    String id,
    URI url,
    boolean healthy,
    boolean ejected,
    int consecutiveFailures,
    /** What the last failed request of live traffic met ("HTTP 503", "connection refused"). */
    String lastFailure,
    Instant lastProbe,
    String lastProbeResult,
    long inFlight,
    long requests,
    long errors5xx,
    double requestsPerSecond,
    /** Failed requests (5xx, timeouts, resets, connect failures) over the last minute's, 0 to 1. */
    double errorRate,
    double p50Millis,
    double p99Millis,
    /** This process has a verdict on its health (see {@code Backend.judged}). */
    boolean judged,
    /**
     * Its last active probe passed (false before the first, and in pools without probes). With
     * {@code ejected}: a backend kept out for failed requests although its probes pass.
     */
    boolean probePassing) {}
