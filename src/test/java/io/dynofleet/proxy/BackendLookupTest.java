package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A static backend naming its host by name is looked up once per {@link Backend#LOOKUP_TTL}, off
 * the event loop, not once per request (review 32 R32-5: a look-up per request, on the event loop
 * with the JDK's resolver, stalled the loop for the resolver's timeout whenever DNS was slow).
 */
class BackendLookupTest {
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aNamedStaticBackendIsLookedUpOncePerTtlNotPerRequest() throws Exception {
    Backend b =
        new Backend(new BackendTarget("named", URI.create("http://localhost:8080"), true, true));
    assertThat(b.resolveFirst).isTrue();
    // a hundred requests' options asked for on an event loop, as the proxy asks
    CompletableFuture<List<RequestOptions>> asked = new CompletableFuture<>();
    vertx.runOnContext(
        v -> {
          List<Future<RequestOptions>> all = new ArrayList<>();
          for (int i = 0; i < 100; i++) {
            all.add(b.connectOptions(vertx, new RequestOptions().setHost("localhost")));
          }
          Future.all(all)
              .onComplete(
                  r -> {
                    if (r.failed()) {
                      asked.completeExceptionally(r.cause());
                    } else {
                      List<RequestOptions> out = new ArrayList<>();
                      for (Future<RequestOptions> f : all) out.add(f.result());
                      asked.complete(out);
                    }
                  });
        });
    List<RequestOptions> options = asked.get(30, TimeUnit.SECONDS);
    assertThat(options)
        .hasSize(100)
        .allSatisfy(
            o -> {
              assertThat(o.getServer()).as("connected to the address looked up").isNotNull();
              assertThat(o.getHost()).as("the name kept for Host and SNI").isEqualTo("localhost");
            });
    assertThat(b.lookupsStarted.get()).as("look-ups for 100 requests").isEqualTo(1);
    // and later ones, within the TTL, use the same look-up
    for (int i = 0; i < 10; i++) {
      b.connectOptions(vertx, new RequestOptions().setHost("localhost"))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    }
    assertThat(b.lookupsStarted.get()).isEqualTo(1);
  }

  @Test
  void anIpLiteralIsNeverLookedUp() throws Exception {
    Backend b =
        new Backend(new BackendTarget("literal", URI.create("http://127.0.0.1:8080"), true, true));
    RequestOptions ro = new RequestOptions().setHost("127.0.0.1");
    assertThat(
            b.connectOptions(vertx, ro)
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS))
        .isSameAs(ro);
    assertThat(b.lookupsStarted.get()).isZero();
  }
}
