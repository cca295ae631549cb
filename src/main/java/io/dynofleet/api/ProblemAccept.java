package io.dynofleet.api;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;
import java.util.List;
import java.util.Locale;

/**
 * A client that accepts {@code application/problem+json} accepts the API's JSON too. Such a client
 * (an RFC 9457 client asking only for problem documents) got 406 for every request, failing ones
 * included, since the routes produce {@code application/json}: the 404 or 422 it asked about never
 * reached it. Its {@code Accept} now also lists {@code application/json} at the lowest weight, so
 * errors answer it their problem and a success its JSON document (RFC 9110 12.5.1 lets a server
 * disregard {@code Accept}). A client accepting no JSON at all still gets 406.
 */
@Provider
@PreMatching
public class ProblemAccept implements ContainerRequestFilter {
  @Override
  public void filter(ContainerRequestContext request) {
    List<String> accept = request.getHeaders().get(HttpHeaders.ACCEPT);
    if (accept != null && acceptsProblems(accept)) {
      request
          .getHeaders()
          .putSingle(HttpHeaders.ACCEPT, String.join(", ", accept) + ", application/json;q=0.001");
    }
  }

  /** Whether an {@code Accept} lists {@code application/problem+json} with a weight above 0. */
  static boolean acceptsProblems(List<String> accept) {
    for (String line : accept) {
      for (String range : line.split(",")) {
        String[] parts = range.split(";");
        if (!parts[0].trim().toLowerCase(Locale.ROOT).equals(Problem.MEDIA_TYPE)) {
          continue;
        }
        boolean zero = false;
        for (int i = 1; i < parts.length; i++) {
          String p = parts[i].trim().toLowerCase(Locale.ROOT);
          if (p.startsWith("q=")) {
            try {
              zero = Double.parseDouble(p.substring(2).trim()) <= 0;
            } catch (NumberFormatException e) {
              zero = true; // a malformed weight: as if not listed
            }
          }
        }
        if (!zero) {
          return true;
        }
      }
    }
    return false;
  }
}
