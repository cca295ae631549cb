package io.dynofleet.api;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/** A test-only router route that fails outside RESTEasy, where no exception mapper answers. */
@ApplicationScoped
public class FailingRoute {
  static final String PATH = "/_dynofleet/__test/router-fail";

  void register(@Observes Router router) {
    router
        .get(PATH)
        .handler(
            rc ->
                rc.fail(
                    new IllegalStateException("a router bug, holding " + FailingResource.SECRET)));
  }
}
