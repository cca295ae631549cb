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

  /**
   * True when {@code host} (as {@link java.net.URI#getHost} gives it) is a link-local address
   * written as an IP literal, where a cloud's metadata service answers: {@code 169.254/16} in any
   * spelling a resolver takes as a number (dotted, one decimal {@code 2852039166}, hex {@code
   * 0xa9fea9fe}, octal, 2 or 3 parts, a trailing dot: inet_aton's forms, which getaddrinfo takes),
   * {@code fe80::/10}, and {@code 169.254/16} inside an IPv6 literal (IPv4-mapped, -compatible,
   * NAT64), a zone aside. A name is never looked up. Loopback and private addresses are not
   * link-local: static backends may be there (the sandbox and the benchmarks use loopback).
   */
  public static boolean namesLinkLocal(String host) {
    if (host == null || host.isEmpty()) return false;
    if (host.startsWith("[") && host.endsWith("]")) {
      String literal = host.substring(1, host.length() - 1);
      int zone = literal.indexOf('%');
      if (zone >= 0) literal = literal.substring(0, zone);
      try {
        // in brackets, parsed as an IPv6 literal or refused, never looked up
        return isLinkLocal(InetAddress.getByName("[" + literal + "]"));
      } catch (UnknownHostException | IllegalArgumentException e) {
        return false;
      }
    }
    long v = ipv4Number(host.endsWith(".") ? host.substring(0, host.length() - 1) : host);
    return v >= 0 && linkLocalV4((int) (v >>> 24), (int) (v >>> 16) & 0xff);
  }

  /**
   * Whether {@code a}, an address written out or resolved, is link-local, where a cloud's metadata
   * service answers: {@code 169.254/16}, {@code fe80::/10}, or {@code 169.254/16} inside an IPv6
   * address (IPv4-mapped, -compatible, NAT64). The rule of {@link #namesLinkLocal} (a URL's
   * literal) and of the proxy's look-up of a static backend's name ({@link
   * Backend#connectOptions}), in one place.
   */
  public static boolean isLinkLocal(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length == 4) return linkLocalV4(b[0] & 0xff, b[1] & 0xff);
    if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) return true; // fe80::/10
    boolean compatible = zero(b, 0, 12);
    boolean mapped = zero(b, 0, 10) && b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    boolean nat64 =
        b[0] == 0 && b[1] == 0x64 && b[2] == (byte) 0xff && b[3] == (byte) 0x9b && zero(b, 4, 12);
    return (compatible || mapped || nat64) && linkLocalV4(b[12] & 0xff, b[13] & 0xff);
  }

  /**
   * {@code host} (as {@link java.net.URI#getHost} gives it: an IPv6 literal in brackets) resolved
   * by Vert.x's resolver, the one its clients use (its cache, its hosts file), for a caller that
   * checks the address and then connects to it as resolved: a name that resolves again to another
   * address (DNS rebinding) cannot change the target between the check and the connect.
   */
  static io.vertx.core.Future<InetAddress> resolve(io.vertx.core.Vertx vertx, String host) {
    io.vertx.core.Promise<InetAddress> resolved = io.vertx.core.Promise.promise();
    ((io.vertx.core.impl.VertxInternal) vertx)
        .resolveAddress(
            host.startsWith("[") ? host.substring(1, host.length() - 1) : host, resolved);
    return resolved.future();
  }

  private static boolean linkLocalV4(int first, int second) {
    return first == 169 && second == 254;
  }

  /**
   * An IPv4 address as inet_aton reads it (1 to 4 parts; each decimal, {@code 0x} hex or {@code
   * 0}-led octal; the last fills the bytes left), or -1 if the text is not one.
   */
  static long ipv4Number(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length > 4) return -1;
    long value = 0;
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      if (p.startsWith("+") || p.startsWith("-")) return -1;
      long n;
      try {
        if (p.length() > 2 && (p.startsWith("0x") || p.startsWith("0X"))) {
          n = Long.parseLong(p.substring(2), 16);
        } else if (p.length() > 1 && p.startsWith("0")) {
          n = Long.parseLong(p.substring(1), 8);
        } else {
          n = Long.parseLong(p);
        }
      } catch (NumberFormatException e) {
        return -1;
      }
      int bits = i == parts.length - 1 ? 8 * (4 - i) : 8;
      if (n < 0 || n >= 1L << bits) return -1;
      value = value << bits | n;
    }
    return value;
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
