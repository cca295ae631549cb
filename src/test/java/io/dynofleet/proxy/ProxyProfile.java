package io.dynofleet.proxy;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * The data plane tests drive the routing table directly: the database poll is off (it would replace
 * their pools), ejection is quick, the body limit small enough to reach, backends' test
 * certificates are self-signed. Shared by every proxy and data-plane reliability test class, so
 * Quarkus starts once for all of them.
 */
public class ProxyProfile implements QuarkusTestProfile {
  @Override
  public Map<String, String> getConfigOverrides() {
    return Map.ofEntries(
        Map.entry("dynofleet.proxy.sync-interval", "off"),
        Map.entry("dynofleet.proxy.trust-all", "true"),
        Map.entry("dynofleet.proxy.ejection-consecutive-failures", "3"),
        Map.entry("dynofleet.proxy.ejection-base-time", "2s"),
        Map.entry("dynofleet.proxy.slow-start", "0s"),
        // short, so a removed backend's series go while one of its requests still runs
        Map.entry("dynofleet.proxy.drain-timeout", "2s"),
        Map.entry("dynofleet.proxy.max-body-size", "31457280"),
        // no webhook secret here (the default profile has one): ProxyAbuseTests sees a signature
        // alone open nothing
        Map.entry("dynofleet.api.webhook-secret", ""),
        // short, so the slow-header test sees a stalled connection dropped within its time limit
        Map.entry("quarkus.http.idle-timeout", "4s"));
  }
}
