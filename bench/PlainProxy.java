import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.httpproxy.HttpProxy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The floor for bench/proxy.sh: vertx-http-proxy on a bare Vert.x server (no Quarkus, no routing
 * table, health, metrics or header rewriting), round robin over the given backends, epoll when
 * available. What Dynofleet costs above this is ours; what this costs above nginx is the stack's.
 *
 * <p>java -cp <vert.x jars>:. PlainProxy PORT EVENT_LOOPS BACKEND_PORT...
 */
public class PlainProxy {
  public static void main(String[] a) {
    int port = Integer.parseInt(a[0]);
    int loops = Integer.parseInt(a[1]);
    int[] backends = new int[a.length - 2];
    for (int i = 2; i < a.length; i++) backends[i - 2] = Integer.parseInt(a[i]);
    AtomicInteger next = new AtomicInteger();
    Vertx vertx =
        Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops).setPreferNativeTransport(true));
    vertx.deployVerticle(
        () ->
            new AbstractVerticle() {
              @Override
              public void start() {
                HttpClient client =
                    vertx.createHttpClient(
                        new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
                        new PoolOptions().setHttp1MaxSize(64));
                HttpProxy proxy = HttpProxy.reverseProxy(client);
                proxy.origin(
                    ctx ->
                        client.request(
                            new RequestOptions()
                                .setHost("127.0.0.1")
                                .setPort(
                                    backends[
                                        Math.floorMod(next.getAndIncrement(), backends.length)])));
                HttpServer server =
                    vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true));
                server.requestHandler(proxy).listen(port);
              }
            },
        new DeploymentOptions().setInstances(loops));
  }
}
