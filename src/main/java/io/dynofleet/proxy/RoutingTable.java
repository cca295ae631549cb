package io.dynofleet.proxy;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The data plane's view of the pools. Writers swap immutable snapshots atomically; backends keep
 * their health and stats across puts (identity by id + url); removed backends drain.
 */
@ApplicationScoped
public class RoutingTable {
  private volatile Map<String, Pool> pools = Map.of();

  /** Host → pool, built at each swap: a request looks its pool up, it scans no host list. */
  private volatile HostIndex hosts = HostIndex.of(Map.of());

  /**
   * Whether the pools stored in the database were loaded once ({@link #replaceAll}, the route
   * sync's full load): until then a host in no pool may be a pool's not known yet (audit 23 M1).
   */
  private volatile boolean synced;

  private volatile java.util.function.BiConsumer<String, Backend> onRemoved = (p, b) -> {};
  private volatile Runnable onSwap = () -> {};
  private volatile Consumer<Pool> onPoolRemoved = p -> {};

  public synchronized void put(PoolRoute route) {
    Map<String, Pool> next = new HashMap<>(pools);
    next.put(route.name(), build(route, pools.get(route.name())));
    swap(next);
  }

  public synchronized void remove(String pool) {
    Map<String, Pool> next = new HashMap<>(pools);
    next.remove(pool);
    swap(next);
  }

  public synchronized void replaceAll(Collection<PoolRoute> routes) {
    Map<String, Pool> next = new HashMap<>();
    for (PoolRoute r : routes) next.put(r.name(), build(r, pools.get(r.name())));
    swap(next);
    synced = true;
  }

  /** Whether the stored pools were loaded at least once since the start. */
  public boolean synced() {
    return synced;
  }

  /** For tests: as a process that has not loaded the stored pools yet. */
  void unsynced() {
    synced = false;
  }

  public Optional<PoolRoute> route(String pool) {
    Pool p = pools.get(pool);
    return p == null ? Optional.empty() : Optional.of(p.route());
  }

  public List<BackendStats> stats(String pool) {
    Pool p = pools.get(pool);
    if (p == null) return List.of();
    return p.backends().stream().map(Backend::stats).toList();
  }

  Map<String, Pool> pools() {
    return pools;
  }

  /** Called for a backend no longer in the table, with the name of the pool it was in. */
  void onRemoved(java.util.function.BiConsumer<String, Backend> listener) {
    this.onRemoved = listener;
  }

  /** Called for a pool no longer in the table, with its last snapshot. */
  void onPoolRemoved(Consumer<Pool> listener) {
    this.onPoolRemoved = listener;
  }

  /** Called after every swap (queued requests may now fit on new backends). */
  void onSwap(Runnable listener) {
    this.onSwap = listener;
  }

  /**
   * Host header (port and the fully qualified name's final dot ignored, as nginx and Envoy do) →
   * pool; else the default pool; else null.
   */
  Pool select(String hostHeader) {
    String host = hostHeader == null ? "" : io.dynofleet.config.AdminHosts.normal(hostHeader);
    HostIndex ix = hosts;
    Pool exact = ix.exact().get(host);
    if (exact != null) return exact;
    for (Map.Entry<String, Pool> w : ix.wildcards())
      if (wildcard(host, w.getKey())) return w.getValue();
    return ix.fallback();
  }

  /**
   * Exact names (lower case), wildcards longest first (the more specific wins), and the default
   * pool; a name two pools claim (the API refuses it; a configured pool may not) goes to either.
   */
  record HostIndex(
      Map<String, Pool> exact, List<Map.Entry<String, Pool>> wildcards, Pool fallback) {
    static HostIndex of(Map<String, Pool> pools) {
      Map<String, Pool> exact = new HashMap<>();
      List<Map.Entry<String, Pool>> wild = new ArrayList<>();
      Pool fallback = null;
      for (Pool p : pools.values()) {
        for (String h : p.route().hosts()) {
          String name = h.toLowerCase(java.util.Locale.ROOT);
          if (name.startsWith("*.")) wild.add(Map.entry(name, p));
          else exact.putIfAbsent(name, p);
        }
        if (p.route().defaultPool() && fallback == null) fallback = p;
      }
      wild.sort((a, b) -> Integer.compare(b.getKey().length(), a.getKey().length()));
      return new HostIndex(Map.copyOf(exact), List.copyOf(wild), fallback);
    }
  }

  /**
   * {@code *.example.com} matches a name with one or more labels before {@code .example.com} (as
   * nginx's {@code server_name}), not {@code example.com} itself; an exact name always wins, and of
   * two wildcards the longer. The labels must be host name labels: a {@code Host} of {@code
   * *.example.com}, {@code .example.com} or {@code a..example.com} is no sub-domain.
   */
  static boolean wildcard(String host, String pattern) {
    int suffix = pattern.length() - 1;
    int end = host.length() - suffix;
    return end > 0 && host.regionMatches(true, end, pattern, 1, suffix) && labels(host, end);
  }

  /**
   * Whether {@code host[0, end)} is one or more non-empty labels of letters, digits, '-' and '_'.
   */
  private static boolean labels(String host, int end) {
    boolean empty = true;
    for (int i = 0; i < end; i++) {
      char c = host.charAt(i);
      if (c == '.') {
        if (empty) return false;
        empty = true;
      } else if ((c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || (c >= 'A' && c <= 'Z')) {
        empty = false;
      } else {
        return false;
      }
    }
    return !empty;
  }

  public static String stripPort(String host) {
    if (host.startsWith("[")) {
      int end = host.indexOf(']');
      return end > 0 ? host.substring(0, end + 1) : host;
    }
    int c = host.lastIndexOf(':');
    return c >= 0 ? host.substring(0, c) : host;
  }

  private static Pool build(PoolRoute route, Pool previous) {
    Map<String, Backend> old = new HashMap<>();
    if (previous != null) for (Backend b : previous.backends()) old.put(b.key(), b);
    List<Backend> list = new ArrayList<>();
    for (BackendTarget t : route.backends()) {
      Backend b = old.get(t.id() + "|" + t.url());
      if (b != null && t.assumeHealthy()) b.publishedReady();
      list.add(b != null ? b : new Backend(t));
    }
    return new Pool(
        route,
        List.copyOf(list),
        previous != null ? previous.cursor() : new AtomicInteger(),
        previous != null ? previous.queue() : new WaitQueue(),
        previous != null ? previous.ejector() : new Ejector());
  }

  private void swap(Map<String, Pool> next) {
    Map<String, Pool> prev = pools;
    Map<String, Pool> copy = Map.copyOf(next);
    // first: a request selecting meanwhile gets a new pool, never a removed one
    hosts = HostIndex.of(copy);
    pools = copy;
    java.util.Set<Backend> live =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Pool p : pools.values()) live.addAll(p.backends());
    for (Pool p : prev.values())
      for (Backend b : p.backends())
        if (!live.contains(b) && !b.draining) {
          b.draining = true;
          onRemoved.accept(p.route().name(), b);
        }
    for (Pool p : prev.values())
      if (!pools.containsKey(p.route().name())) {
        p.queue().failAll(new NoPoolException());
        onPoolRemoved.accept(p);
      }
    onSwap.run();
  }

  /** A queued request's pool was removed. */
  static final class NoPoolException extends RuntimeException {
    NoPoolException() {
      super("pool removed", null, false, false);
    }
  }
}
