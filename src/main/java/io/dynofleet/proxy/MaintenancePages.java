package io.dynofleet.proxy;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The pages of pools in maintenance that name their own ({@code spec.routing.maintenancePageUrl},
 * as Heroku's {@code MAINTENANCE_PAGE_URL}), fetched off the request path by a client of their own
 * and kept in memory. A request in maintenance is answered from here at once: it never waits for a
 * fetch, and a page host that is slow or down never slows the answers. Until a page is fetched, and
 * when none could be, the built-in page is served ({@link #BUILT_IN}); a refresh that fails keeps
 * the copy fetched last.
 *
 * <p>A page must answer 200 with {@code Content-Type: text/html} within {@link #TIMEOUT}, in at
 * most {@link #MAX_BYTES}, without a redirect: anything else is a failed fetch. Only its body and
 * content type are served (its cookies and other headers are not the pool's).
 *
 * <p>The page is fetched inside the dyno's network and served publicly, so its host must resolve to
 * a public address ({@link PublicAddress}; review 25 #7): the address is resolved first, checked,
 * and connected to as resolved, with the host kept for SNI, the certificate check and {@code Host},
 * so a name that resolves again to another address (DNS rebinding) cannot change the target between
 * the check and the connect. The page's certificate is always verified: the backends' {@code
 * trust-all} is not this client's.
 */
final class MaintenancePages {
  private static final Logger LOG = Logger.getLogger(MaintenancePages.class);

  /** Larger pages are not served (nor held in memory on every dyno): the built-in one is. */
  static final int MAX_BYTES = 256 * 1024;

  /** A fetch that has not ended by then failed (connect, head and body, all in). */
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** How often the pages of pools in maintenance are fetched again, for an edit to show. */
  static final Duration REFRESH = Duration.ofSeconds(60);

  /**
   * Served while a pool is in maintenance without a page of its own, or while its page cannot be
   * had: small, no external resources, nothing of the pool's named.
   */
  static final Buffer BUILT_IN =
      Buffer.buffer(
          """
          <!DOCTYPE html>
          <html lang="en">
          <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>Down for maintenance</title>
          </head>
          <body style="font-family: sans-serif; text-align: center; margin-top: 15vh; color: #333">
          <h1>Down for maintenance</h1>
          <p>This site is being updated and will be back shortly. Please try again in a few minutes.</p>
          </body>
          </html>
          """);

  /**
   * Connections per page host: one fetch per URL a minute, and a new connection each (no
   * keep-alive: each fetch resolves and checks again, and nothing idles on a dyno for pages).
   */
  static final int POOL_SIZE = 2;

  /** Fetches waiting for one of a host's connections; more fail, and are tried at the refresh. */
  static final int WAIT_QUEUE = 64;

  /** A fetched page: its body and the content type it came with. */
  record Page(Buffer body, String contentType) {}

  private final Vertx vertx;
  private volatile HttpClient client;

  /** {@code dynofleet.proxy.maintenance.allow-private-pages} (tests and sandbox only). */
  private volatile boolean privateAllowed;

  /** The last page fetched of each URL a pool in maintenance names. */
  private final Map<String, Page> pages = new ConcurrentHashMap<>();

  /** The fetches under way, by URL: one at a time each. */
  private final Map<String, io.vertx.core.Future<Void>> fetching = new ConcurrentHashMap<>();

  /** URLs whose last fetch failed: told once until one succeeds. */
  private final Set<String> failing = ConcurrentHashMap.newKeySet();

  private volatile Set<String> wanted = Set.of();

  MaintenancePages(Vertx vertx, boolean privateAllowed) {
    this.vertx = vertx;
    this.privateAllowed = privateAllowed;
    this.client = newClient(null);
  }

  /**
   * The pages' client: certificates verified ({@code trust} or the JDK's trusted authorities), SNI
   * always sent, a small pool of its own.
   */
  private HttpClient newClient(TrustOptions trust) {
    HttpClientOptions o =
        new HttpClientOptions()
            .setTrustAll(false)
            .setVerifyHost(true)
            .setForceSni(true)
            .setKeepAlive(false)
            .setConnectTimeout((int) TIMEOUT.toMillis())
            .setDecompressionSupported(false);
    if (trust != null) o.setTrustOptions(trust);
    // a page host answering garbage: a DEBUG line, not Vert.x's ERROR at every fetch
    return ClientConnections.client(
        vertx,
        o,
        new PoolOptions().setHttp1MaxSize(POOL_SIZE).setMaxWaitQueueSize(WAIT_QUEUE),
        LOG,
        "maintenance page host");
  }

  /**
   * Tests only: trust {@code trust} (a test server's self-signed certificate; null: the JDK's
   * authorities again) and take private addresses or not, as {@code allow-private-pages} does.
   */
  void forTests(TrustOptions trust, boolean privateAllowed) {
    HttpClient old = client;
    client = newClient(trust);
    this.privateAllowed = privateAllowed;
    old.close();
  }

  /** The page fetched last for {@code url}, or null (none yet, none could be, or no URL). */
  Page page(String url) {
    return url == null ? null : pages.get(url);
  }

  /**
   * The page URLs the pools in maintenance name now (after each swap of the routing table): new
   * ones are fetched at once, the pages of URLs no pool in maintenance names are dropped.
   */
  void want(Set<String> urls) {
    wanted = Set.copyOf(urls);
    pages.keySet().retainAll(wanted);
    failing.retainAll(wanted);
    for (String u : wanted) {
      if (!pages.containsKey(u)) fetch(u);
    }
  }

  /** Fetches every wanted page again (every {@link #REFRESH}); done when every outcome landed. */
  io.vertx.core.Future<?> refresh() {
    return io.vertx.core.Future.join(wanted.stream().map(this::fetch).toList());
  }

  /**
   * One fetch of {@code url} (or the one under way); done once its outcome landed in {@link
   * #pages}, never failed.
   */
  io.vertx.core.Future<Void> fetch(String url) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    io.vertx.core.Future<Void> running = fetching.putIfAbsent(url, done.future());
    if (running != null) return running;
    URI uri;
    try {
      uri = new URI(url);
      if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
        throw new URISyntaxException(url, "not an https URL with a host");
      }
    } catch (URISyntaxException e) {
      // the API refuses such a URL; one stored by hand is only not fetched
      fetching.remove(url);
      failed(url, "not a URL the client takes");
      done.complete();
      return done.future();
    }
    String host = uri.getHost(); // an IPv6 literal in brackets, as Host has it
    int port = uri.getPort() == -1 ? 443 : uri.getPort();
    String path =
        (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
            + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    java.util.concurrent.atomic.AtomicReference<HttpClientRequest> sent =
        new java.util.concurrent.atomic.AtomicReference<>();
    io.vertx.core.Promise<InetAddress> resolved = io.vertx.core.Promise.promise();
    long deadline =
        vertx.setTimer(
            TIMEOUT.toMillis(),
            id -> {
              // the lookup is in the time too (the resolver's own retries take longer)
              resolved.tryFail(new java.util.concurrent.TimeoutException());
              HttpClientRequest r = sent.get();
              if (r != null) r.reset();
            });
    PublicAddress.resolve(vertx, host)
        .onSuccess(resolved::tryComplete)
        .onFailure(resolved::tryFail);
    resolved
        .future()
        .compose(
            address -> {
              if (!privateAllowed && !PublicAddress.isPublic(address)) {
                return io.vertx.core.Future.failedFuture(
                    new Refused(address.getHostAddress() + " is not a public address"));
              }
              // to the address checked, by the name: SNI, the certificate's name and Host stay
              // the URL's, and no second lookup can pick another address
              return client.request(
                  new RequestOptions()
                      .setServer(
                          SocketAddress.inetSocketAddress(new InetSocketAddress(address, port)))
                      .setHost(host)
                      .setPort(port)
                      .setSsl(true)
                      .setURI(path)
                      .setMethod(HttpMethod.GET)
                      .setFollowRedirects(false)
                      .setConnectTimeout(TIMEOUT.toMillis())
                      .setIdleTimeout(TIMEOUT.toMillis())
                      .putHeader(HttpHeaders.ACCEPT, "text/html")
                      .putHeader(HttpHeaders.USER_AGENT, "dynofleet (maintenance page)"));
            })
        .compose(
            req -> {
              sent.set(req);
              return req.send();
            })
        .compose(
            resp -> {
              String type = resp.getHeader(HttpHeaders.CONTENT_TYPE);
              String length = resp.getHeader(HttpHeaders.CONTENT_LENGTH);
              if (resp.statusCode() != 200) {
                return failure(resp.request(), "answered " + resp.statusCode());
              } else if (type == null
                  || !type.trim().toLowerCase(Locale.ROOT).startsWith("text/html")) {
                return failure(resp.request(), "is not text/html");
              } else if (length != null && tooLong(length)) {
                return failure(resp.request(), "is larger than " + MAX_BYTES + " bytes");
              }
              Buffer body = Buffer.buffer();
              io.vertx.core.Promise<Page> page = io.vertx.core.Promise.promise();
              resp.exceptionHandler(page::tryFail);
              resp.handler(
                  chunk -> {
                    if (body.length() + chunk.length() > MAX_BYTES) {
                      page.tryFail(new Refused("is larger than " + MAX_BYTES + " bytes"));
                      resp.request().reset();
                    } else {
                      body.appendBuffer(chunk);
                    }
                  });
              resp.endHandler(v -> page.tryComplete(new Page(body, type.trim())));
              return page.future();
            })
        .onComplete(
            ar -> {
              vertx.cancelTimer(deadline);
              if (ar.succeeded() && wanted.contains(url)) {
                pages.put(url, ar.result());
                if (failing.remove(url)) LOG.infof("maintenance page of %s fetched", host(url));
              } else if (ar.failed()) {
                // a client's message may quote the request's path and query: only the kind is said
                failed(
                    url,
                    ar.cause() instanceof Refused r
                        ? r.getMessage()
                        : ar.cause().getClass().getSimpleName());
              }
              fetching.remove(url);
              done.complete();
            });
    return done.future();
  }

  private static boolean tooLong(String length) {
    try {
      return Long.parseLong(length.trim()) > MAX_BYTES;
    } catch (NumberFormatException e) {
      return true;
    }
  }

  private static <T> io.vertx.core.Future<T> failure(HttpClientRequest req, String why) {
    req.reset(); // the body is not read
    return io.vertx.core.Future.failedFuture(new Refused(why));
  }

  /** A page refused for what it is (its status, type or size), in words of our own. */
  static final class Refused extends RuntimeException {
    Refused(String why) {
      super(why, null, false, false);
    }
  }

  /**
   * A fetch failed: said once per failing streak, by host only (the URL's path and query may carry
   * a signature, as a presigned S3 URL's does). The page fetched before, if any, goes on serving.
   */
  private void failed(String url, String why) {
    if (failing.add(url) && wanted.contains(url)) {
      LOG.warnf(
          "maintenance page on %s not fetched (%s): %s",
          host(url),
          why == null ? "no reason given" : why,
          pages.containsKey(url)
              ? "the copy fetched before is served"
              : "the built-in page is served");
    }
  }

  private static String host(String url) {
    try {
      String h = URI.create(url).getHost();
      return h == null ? "(no host)" : h;
    } catch (IllegalArgumentException e) {
      return "(not a URL)";
    }
  }
}
