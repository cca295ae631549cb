package io.dynofleet.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import org.jboss.logging.Logger;

/**
 * The loopback port of one simulated app, held from the app's creation to its deletion, as Heroku
 * keeps an app's {@code web_url}. The hold is a bound socket that never listens: connects are
 * refused while no web dyno serves, and no other socket can bind the port meanwhile; the app's
 * server binds beside it (both with {@code SO_REUSEADDR}, which Linux allows while at most one of
 * them listens).
 *
 * <p>The port comes from below the range the OS hands out for port-0 binds and outgoing
 * connections, so another program's free-port pick (bind to port 0, close, bind again later) never
 * lands on it either. A port picked that way and closed at once, as the simulator did before, was
 * anyone's until the app's first release: in a CrashRecoveryIT run another program took one between
 * an app's create and its release, the app never served, and the pool never converged.
 */
public final class PortHold implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(PortHold.class);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  /** Lowest port handed out: above the common fixed ports of development machines. */
  static final int LOWEST = 20000;

  /**
   * Top of the range: below Linux's default ephemeral range (32768) and far below macOS's and
   * Windows' (49152).
   */
  static final int HIGHEST = 32767;

  private static final int TRIES = 64;

  private final int port;
  private Socket socket;

  /** Holds {@code socket}'s port (bound, never listening). */
  PortHold(Socket socket) {
    this.socket = socket;
    this.port = socket.getLocalPort();
  }

  /** Picks a free port below the ephemeral range and holds it. */
  static PortHold acquire() {
    int high = Math.min(HIGHEST, ephemeralLow() - 1);
    if (high - LOWEST >= 1024) {
      for (int i = 0; i < TRIES; i++) {
        Socket s = bindExclusive(ThreadLocalRandom.current().nextInt(LOWEST, high + 1));
        if (s != null) {
          return new PortHold(s);
        }
      }
    }
    // an OS whose ephemeral range covers ours (or a crowded range): a port-0 bind, held from now on
    return new PortHold(bindExclusive(0));
  }

  int port() {
    return port;
  }

  /**
   * A port free now, below the ephemeral range, and not held: for a port another process binds soon
   * (the embedded PostgreSQL, the tests' Dynofleet processes), where port-0 picks of other programs
   * cannot collide.
   */
  public static int pickFree() {
    try (PortHold h = acquire()) {
      return h.port();
    }
  }

  synchronized boolean held() {
    return socket != null;
  }

  /**
   * Gives the port up, for a platform where a bound socket keeps a listener from binding beside it
   * (BSD and macOS want {@code SO_REUSEPORT} for that); {@link #take} holds it again.
   */
  synchronized void release() {
    closeSocket();
  }

  /** Holds the port again after {@link #release}; false when someone else has it now. */
  synchronized boolean take() {
    if (socket != null) {
      return true;
    }
    try {
      Socket s = new Socket();
      s.setReuseAddress(true); // connections of the closed server may still be in TIME_WAIT
      s.bind(new InetSocketAddress(LOOPBACK, port));
      socket = s;
      return true;
    } catch (IOException e) {
      LOG.tracef("sandbox port %d not held again: %s", port, e);
      return false;
    }
  }

  /**
   * A throwaway socket allowing address reuse can bind {@code port}: nothing listens on it. Also
   * with the port held: Linux lets another non-listening socket bind beside the hold (both allow
   * address reuse), never beside a listener.
   */
  static boolean unlistened(int port) {
    try (Socket probe = new Socket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(LOOPBACK, port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public synchronized void close() {
    closeSocket();
  }

  private void closeSocket() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // nothing held any more either way
      }
      socket = null;
    }
  }

  /**
   * Binds {@code port} unless any socket has it (also one with {@code SO_REUSEADDR}, such as
   * another simulator's hold), then allows address reuse so the app's own server can bind beside
   * it.
   */
  private static Socket bindExclusive(int port) {
    Socket s = new Socket();
    try {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(LOOPBACK, port));
      s.setReuseAddress(true);
      return s;
    } catch (BindException e) {
      closeQuietly(s);
      if (port == 0) {
        throw new UncheckedIOException(e);
      }
      return null;
    } catch (IOException e) {
      closeQuietly(s);
      throw new UncheckedIOException(e);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // never bound
    }
  }

  /**
   * The first port of the OS's ephemeral range: Linux says; elsewhere 49152 (IANA, macOS, Windows).
   */
  static int ephemeralLow() {
    try {
      // readAllLines: readString of a /proc file returns its first byte only (its size says 0)
      String range =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 49152;
    }
  }
}
