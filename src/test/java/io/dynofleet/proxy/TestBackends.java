package io.dynofleet.proxy;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/** Real HTTP backends on loopback ports for the data plane tests, on a Vert.x of their own. */
public final class TestBackends implements AutoCloseable {
  public static final Vertx VERTX = Vertx.vertx();
  private final List<HttpServer> servers = new ArrayList<>();

  public URI start(Handler<HttpServerRequest> handler) {
    return start(new HttpServerOptions(), handler, "http");
  }

  public URI start(HttpServerOptions options, Handler<HttpServerRequest> handler, String scheme) {
    try {
      int port = options.getPort() == HttpServerOptions.DEFAULT_PORT ? 0 : options.getPort();
      HttpServer s =
          VERTX
              .createHttpServer(options.setHost("127.0.0.1"))
              .requestHandler(handler)
              .listen(port)
              .toCompletionStage()
              .toCompletableFuture()
              .get(5, TimeUnit.SECONDS);
      servers.add(s);
      String host = scheme.equals("https") ? "localhost" : "127.0.0.1";
      return URI.create(scheme + "://" + host + ":" + s.actualPort());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Echoes its name and the request headers (lower-cased names) in the body. */
  public URI named(String name) {
    return start(
        req -> {
          StringBuilder sb = new StringBuilder(name).append('\n');
          req.headers()
              .forEach(
                  e ->
                      sb.append(e.getKey().toLowerCase())
                          .append(": ")
                          .append(e.getValue())
                          .append('\n'));
          req.response().putHeader("X-Backend", name).end(sb.toString());
        });
  }

  /**
   * Stops the backend on {@code u}'s port and returns once a connect there is refused: Vert.x
   * completes the close while the listening socket still lives (until the selector's next pass,
   * docs/reliability.md), and a connect it accepts meanwhile is then reset, which the proxy rightly
   * answers as {@code backend-error}, not {@code connect-failed}.
   */
  public void stop(URI u) {
    for (HttpServer s : servers) {
      if (s.actualPort() == u.getPort()) {
        s.close().toCompletionStage().toCompletableFuture().join();
      }
    }
    awaitRefused(u.getPort());
  }

  /** Waits (up to 5 s) until a connect to {@code port} on loopback is refused. */
  private static void awaitRefused(int port) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(10))
        .until(
            () -> {
              try (Socket probe = new Socket("127.0.0.1", port)) {
                return false;
              } catch (java.io.IOException refused) {
                return true;
              }
            });
  }

  @Override
  public void close() {
    for (HttpServer s : servers) {
      s.close();
    }
    servers.clear();
  }

  public static PoolRoute pool(
      String name, List<String> hosts, boolean dflt, List<BackendTarget> b) {
    return new PoolRoute(
        name,
        hosts,
        dflt,
        Algorithm.LEAST_REQUEST,
        Duration.ofSeconds(2),
        1,
        0,
        0,
        Duration.ZERO,
        null,
        b);
  }

  public static BackendTarget target(String id, URI url) {
    return new BackendTarget(id, url, true);
  }

  /**
   * Sends raw bytes on a fresh connection and returns everything read until the peer closes or
   * {@code timeout} of silence passes.
   */
  /** A raw WebSocket upgrade request for /ws to {@code host}, its Connection header as given. */
  public static String upgrade(String host, String connection) {
    return "GET /ws HTTP/1.1\r\nHost: "
        + host
        + "\r\nUpgrade: websocket\r\nConnection: "
        + connection
        + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  }

  /**
   * Sends {@code request} on a new connection and returns the first response head (through its
   * blank line) as soon as it is complete, or what arrived before silence or close.
   */
  public static String rawHead(int port, String request, Duration timeout) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) timeout.toMillis());
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      try {
        return readHead(s.getInputStream());
      } catch (java.net.SocketTimeoutException | java.net.SocketException e) {
        return "";
      }
    }
  }

  /** Reads one response head (through the blank line) byte by byte, leaving the body unread. */
  public static String readHead(InputStream in) throws java.io.IOException {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) break;
      sb.append((char) c);
    }
    return sb.toString();
  }

  public static String raw(int port, String request, Duration timeout) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) timeout.toMillis());
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      byte[] b = new byte[8192];
      try {
        for (int n; (n = in.read(b)) >= 0; ) buf.write(b, 0, n);
      } catch (java.net.SocketTimeoutException | java.net.SocketException e) {
        // silence or reset: return what arrived
      }
      return buf.toString(StandardCharsets.ISO_8859_1);
    }
  }

  /**
   * Server options with a self-signed certificate for localhost, made by the JDK's keytool (Netty's
   * SelfSignedCertificate needs BouncyCastle's PKIX on Java 17, not here).
   */
  public static HttpServerOptions selfSignedTls() throws Exception {
    java.nio.file.Path ks = java.nio.file.Files.createTempFile("tls", ".p12");
    java.nio.file.Files.delete(ks);
    Process p =
        new ProcessBuilder(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "localhost",
                "-keyalg",
                "EC",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=dns:localhost",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                ks.toString(),
                "-storepass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(
          "keytool failed: "
              + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
    return new HttpServerOptions()
        .setSsl(true)
        .setKeyCertOptions(
            new io.vertx.core.net.PfxOptions().setPath(ks.toString()).setPassword("changeit"));
  }
}
