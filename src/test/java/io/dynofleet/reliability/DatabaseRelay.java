package io.dynofleet.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay in front of PostgreSQL that a test can cut (every connection closed, new ones
 * refused: the port is closed) and restore on the same port, as a database failover or network
 * outage looks to the application.
 */
final class DatabaseRelay implements AutoCloseable {
  private final int targetPort;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile ServerSocket server;
  private volatile int port;

  DatabaseRelay(int targetPort) throws IOException {
    this.targetPort = targetPort;
    // below the ephemeral range: while cut, another program's port-0 pick cannot take the port
    listen(io.dynofleet.sandbox.PortHold.pickFree());
  }

  int port() {
    return port;
  }

  /** Closes every relayed connection and the listening port: connects are refused. */
  synchronized void cut() throws IOException {
    ServerSocket s = server;
    server = null;
    if (s != null) {
      s.close();
    }
    for (Socket socket : open) {
      socket.close();
    }
    open.clear();
  }

  /** Listens again on the same port. */
  synchronized void restore() throws IOException {
    if (server == null) {
      listen(port);
    }
  }

  @Override
  public void close() throws IOException {
    cut();
  }

  private void listen(int wanted) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), wanted));
    port = s.getLocalPort();
    server = s;
    Thread accept = new Thread(() -> accept(s), "db-relay-accept");
    accept.setDaemon(true);
    accept.start();
  }

  private void accept(ServerSocket s) {
    while (!s.isClosed()) {
      try {
        Socket client = s.accept();
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        synchronized (this) {
          if (server != s) {
            client.close();
            upstream.close();
            return;
          }
          open.add(client);
          open.add(upstream);
        }
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        // closed by cut(), or one connection failed: keep accepting while open
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16384];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (IOException e) {
                // either side closed
              } finally {
                quietly(from);
                quietly(to);
                open.remove(from);
                open.remove(to);
              }
            },
            "db-relay-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void quietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }
}
