package io.dynofleet.proxy;

import java.net.URI;

/**
 * One backend of a pool. {@code id} is the app name, {@code url} its web_url; {@code assumeHealthy}
 * makes it routable at once, else it takes traffic only after passing active probes. {@code
 * staticUrl}: a static backend's URL, whose host, when a name, is resolved and checked before each
 * connect ({@link Backend#connectOptions}).
 */
public record BackendTarget(String id, URI url, boolean assumeHealthy, boolean staticUrl) {
  /** A backend that is not a static URL (an app Dynofleet made). */
  public BackendTarget(String id, URI url, boolean assumeHealthy) {
    this(id, url, assumeHealthy, false);
  }
}
