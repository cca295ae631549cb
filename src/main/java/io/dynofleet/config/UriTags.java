package io.dynofleet.config;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.config.MeterFilter;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The {@code uri} tag of Quarkus's HTTP server timer keeps only names Dynofleet made: the API's URI
 * templates ({@code /v1/...}), the dashboard's four files, and {@code /_dynofleet/unmatched} for
 * everything else. A request no route took is tagged with its raw path, and any client can send as
 * many of those as it likes (bad percent-encoding, no Host, dot segments, a header too large:
 * audits 7 and 8); at Micrometer's 100 URIs the API's own routes went unrecorded. One filter here
 * rather than a rename at each place that answers.
 */
@Singleton
public class UriTags {
  static final String UNMATCHED = "/_dynofleet/unmatched";
  static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
  static final Set<String> DASHBOARD =
      Set.of(
          "/_dynofleet/",
          "/_dynofleet/index.html",
          "/_dynofleet/ui/app.js",
          "/_dynofleet/ui/style.css");

  @Produces
  @Singleton
  MeterFilter uriTags() {
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        if (!id.getName().startsWith("http.server")) {
          return id;
        }
        String uri = id.getTag("uri");
        String method = id.getTag("method");
        boolean uriKnown = uri == null || known(uri);
        boolean methodKnown = method == null || METHODS.contains(method);
        if (uriKnown && methodKnown) {
          return id;
        }
        List<Tag> tags = new ArrayList<>();
        for (Tag t : id.getTagsAsIterable()) {
          if (t.getKey().equals("uri") && !uriKnown) {
            tags.add(Tag.of("uri", UNMATCHED));
          } else if (t.getKey().equals("method") && !methodKnown) {
            // a made-up method is no tag value either (review 5)
            tags.add(Tag.of("method", "OTHER"));
          } else {
            tags.add(t);
          }
        }
        return id.replaceTags(tags);
      }
    };
  }

  static boolean known(String uri) {
    return uri.startsWith("/v1/")
        || DASHBOARD.contains(uri)
        || uri.equals(UNMATCHED)
        || uri.equals("/proxied");
  }
}
