package io.dynofleet.proxy;

import java.net.URI;

/**
 * One backend of a pool. {@code id} is the app name, {@code url} its web_url; {@code assumeHealthy}
 * makes it routable at once, else it takes traffic only after passing active probes.
 */
public record BackendTarget(String id, URI url, boolean assumeHealthy) {}
