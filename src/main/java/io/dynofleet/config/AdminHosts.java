package io.dynofleet.config;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where the reserved prefix is served ({@link DynofleetConfig#adminHosts()}): every host when none
 * is configured, else only those, which are then never proxied.
 */
@ApplicationScoped
public class AdminHosts {
  private final Set<String> hosts;

  @jakarta.inject.Inject
  public AdminHosts(DynofleetConfig config) {
    this(config.adminHosts().orElse(java.util.List.of()));
  }

  AdminHosts(java.util.List<String> names) {
    this.hosts =
        names.stream()
            .map(String::trim)
            .filter(h -> !h.isEmpty())
            .map(AdminHosts::normal)
            .collect(Collectors.toUnmodifiableSet());
  }

  /** True when admin hosts are configured: the prefix is not served on every host. */
  public boolean restricted() {
    return !hosts.isEmpty();
  }

  /** Whether a request's {@code Host} header names an admin host (port and final dot ignored). */
  public boolean admin(String hostHeader) {
    return hostHeader != null && hosts.contains(normal(hostHeader));
  }

  /** Whether the prefix is served for a request with this {@code Host}. */
  public boolean servesPrefix(String hostHeader) {
    return hosts.isEmpty() || admin(hostHeader);
  }

  /** The configured names, lower case. */
  public Set<String> names() {
    return hosts;
  }

  /**
   * A {@code Host} as pools and admin hosts are matched: lower case, without its port or a fully
   * qualified name's final dot (as nginx and Envoy).
   */
  public static String normal(String host) {
    String h = io.dynofleet.proxy.RoutingTable.stripPort(host.trim()).toLowerCase(Locale.ROOT);
    return h.length() > 1 && h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }
}
