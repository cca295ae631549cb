import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * Tiny keep-alive HTTP/1.1 backend for bench/proxy.sh: java bench/Backend.java PORT DELAY_MS. One
 * thread per connection, the whole response in one write with TCP_NODELAY (the JDK's
 * com.sun.net.httpserver writes head and body apart and meets delayed ACKs: ~40 ms per request,
 * which made every target look alike).
 */
public class Backend {
  /**
   * The whole response; its Date header (which an origin server must send) is renewed each second.
   */
  static volatile byte[] response = response();

  static byte[] response() {
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
    return ("HTTP/1.1 200 OK\r\nDate: "
            + date
            + "\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\n"
            + "hello from backend\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  public static void main(String[] a) throws Exception {
    int port = Integer.parseInt(a[0]);
    long delay = a.length > 1 ? Long.parseLong(a[1]) : 0;
    Thread clock =
        new Thread(
            () -> {
              while (true) {
                try {
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                }
                response = response();
              }
            });
    clock.setDaemon(true);
    clock.start();
    try (ServerSocket ss = new ServerSocket(port, 1024, InetAddress.getByName("127.0.0.1"))) {
      while (true) {
        Socket s = ss.accept();
        Thread t = new Thread(() -> serve(s, delay));
        t.setDaemon(true);
        t.start();
      }
    }
  }

  static void serve(Socket s, long delay) {
    try (s) {
      s.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(s.getInputStream(), 8192);
      OutputStream out = s.getOutputStream();
      while (true) {
        long length = readHead(in);
        if (length < 0) return;
        for (long n = 0; n < length; n++) if (in.read() < 0) return;
        if (delay > 0) Thread.sleep(delay);
        out.write(response);
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // client went away
    }
  }

  /** Reads a request head; returns its Content-Length (0 if none), or -1 at end of stream. */
  static long readHead(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    long length = 0;
    boolean any = false;
    for (int c; (c = in.read()) >= 0; ) {
      any = true;
      if (c == '\n') {
        String l = line.toString().trim();
        if (l.isEmpty()) return length;
        if (l.regionMatches(true, 0, "content-length:", 0, 15))
          length = Long.parseLong(l.substring(15).trim());
        line.setLength(0);
      } else {
        line.append((char) c);
      }
    }
    return any ? -1 : -1;
  }
}
