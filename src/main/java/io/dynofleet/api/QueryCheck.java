package io.dynofleet.api;

import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a route takes besides its path and body. JAX-RS ignores query parameters a route does not
 * name and takes the first of a repeated one, so {@code ?labelselector=env=prod} listed every pool,
 * {@code ?labelSelector=a=b&labelSelector=c=d} only the first selector's, and a write with
 * Kubernetes' {@code ?dryRun=All} was made (audit 17). Each is a 422 naming the parameter now,
 * before anything is read or written. Every route under the API's path checks its query this way
 * (the sandbox's too), except Heroku's webhook, whose URL Dynofleet writes itself.
 */
public final class QueryCheck {
  private QueryCheck() {}

  /** Refuses (422) a query parameter not among {@code takes}, or one given more than once. */
  public static void only(UriInfo uri, String... takes) {
    MultivaluedMap<String, String> query = uri.getQueryParameters();
    if (query.isEmpty()) {
      return;
    }
    Set<String> allowed = Set.of(takes);
    List<FieldError> errors = new ArrayList<>();
    for (String name : new TreeSet<>(query.keySet())) {
      String shown = shown(name);
      if (!allowed.contains(name)) {
        errors.add(
            new FieldError(
                shown,
                "not a parameter of this route"
                    + (allowed.isEmpty()
                        ? " (it takes none)"
                        : " (it takes " + String.join(", ", new TreeSet<>(allowed)) + ")")
                    + (name.equals("dryRun") ? ": there is no dry run, nothing was changed" : "")));
      } else if (query.get(name).size() > 1) {
        errors.add(
            new FieldError(shown, "given " + query.get(name).size() + " times: give it once"));
      }
    }
    if (!errors.isEmpty()) {
      throw ApiException.invalidRequest(errors);
    }
  }

  /** A name or value as the client sent it, printable and short (it is echoed in the problem). */
  private static String shown(String s) {
    String t = s.length() > 64 ? s.substring(0, 64) + "..." : s;
    return t.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
