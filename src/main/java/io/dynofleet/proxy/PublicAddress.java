package io.dynofleet.proxy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Whether an address is one a page fetched by every dyno and then served publicly may come from
 * (review 25 #7): not this host, its links or the networks it stands in. Refused: {@code
 * localhost}, loopback ({@code 127/8}, {@code ::1}), "this network" ({@code 0/8}, {@code ::}),
 * link-local ({@code 169.254/16}, the cloud metadata address among them, {@code fe80::/10}),
 * private ({@code 10/8}, {@code 172.16/12}, {@code 192.168/16}, {@code fc00::/7}, {@code
 * fec0::/10}), shared (CGNAT, {@code 100.64/10}), multicast and the reserved {@code 240/4}; an IPv4
 * address inside an IPv6 one (IPv4-compatible, IPv4-mapped, NAT64 {@code 64:ff9b::/96}) as that
 * IPv4 address. Pure logic: {@link #literal} never looks a name up.
 */
public final class PublicAddress {
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final Pattern IPV6 = Pattern.compile("\\[[0-9A-Fa-f:.]+]");

  private PublicAddress() {}

  /** True unless {@code a} is in a range above. */
  public static boolean isPublic(InetAddress a) {
    if (a.isAnyLocalAddress()
        || a.isLoopbackAddress()
        || a.isLinkLocalAddress()
        || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      return false;
    }
    byte[] b = a.getAddress();
    if (b.length == 4) {
      return publicV4(b[0] & 0xff, b[1] & 0xff);
    }
    if ((b[0] & 0xfe) == 0xfc) {
      return false; // unique local, fc00::/7
    }
    boolean compatible = zero(b, 0, 12);
    boolean mapped = zero(b, 0, 10) && b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    boolean nat64 = b[0] == 0 && b[1] == 0x64 && b[2] == (byte) 0xff && b[3] == (byte) 0x9b;
    if (compatible || mapped || (nat64 && zero(b, 4, 12))) {
      return publicV4(b[12] & 0xff, b[13] & 0xff);
    }
    return true;
  }

  /**
   * The address {@code host} (as {@link java.net.URI#getHost} gives it: an IPv6 literal in
   * brackets) spells, without a lookup, or empty when it is a name.
   */
  public static Optional<InetAddress> literal(String host) {
    if (!IPV4.matcher(host).matches() && !IPV6.matcher(host).matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByName(host)); // a literal: parsed, never looked up
    } catch (UnknownHostException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * True when {@code host} (as {@link java.net.URI#getHost} gives it) is {@code localhost} (or a
   * name under it, RFC 6761) or a literal address that is not public: a name the API can refuse
   * without a lookup. A name that resolves to such an address is caught where it is resolved.
   */
  public static boolean namesNoPublicAddress(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
    if (h.equals("localhost") || h.endsWith(".localhost")) return true;
    return literal(h).map(a -> !isPublic(a)).orElse(false);
  }

  private static boolean publicV4(int first, int second) {
    return !(first == 0 // this network
        || first == 10
        || first == 127
        || first >= 224 // multicast, reserved, broadcast
        || (first == 169 && second == 254)
        || (first == 172 && (second & 0xf0) == 16)
        || (first == 192 && second == 168)
        || (first == 100 && (second & 0xc0) == 64)); // shared address space (CGNAT)
  }

  private static boolean zero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) return false;
    }
    return true;
  }
}
