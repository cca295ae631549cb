import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/** Tiny loopback backend for bench/proxy.sh: java bench/Backend.java PORT DELAY_MS */
public class Backend {
  public static void main(String[] a) throws Exception {
    int port = Integer.parseInt(a[0]);
    long delay = a.length > 1 ? Long.parseLong(a[1]) : 0;
    byte[] body = "hello from backend\n".getBytes();
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
    s.setExecutor(Executors.newFixedThreadPool(64));
    s.createContext("/", ex -> {
      if (delay > 0) try { Thread.sleep(delay); } catch (InterruptedException e) { }
      ex.getRequestBody().readAllBytes();
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    s.start();
  }
}
