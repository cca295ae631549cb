package io.dynofleet.api;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.ext.Provider;
import java.util.Set;

/**
 * The {@code Allow} of an {@code OPTIONS} answer: the methods of that path, as a 405 lists them
 * ({@link AllowedMethods}). RESTEasy's own listed every method of the resource class for each of
 * its paths: {@code /pools/x/scale} claimed GET, POST, PATCH and DELETE.
 */
@Provider
public class OptionsAllow implements ContainerResponseFilter {
  @Override
  public void filter(ContainerRequestContext request, ContainerResponseContext response) {
    if (!"OPTIONS".equals(request.getMethod())
        || response.getStatus() != 200
        || !response.getHeaders().containsKey("Allow")) {
      return;
    }
    Set<String> methods = AllowedMethods.at(request.getUriInfo().getPath());
    if (!methods.isEmpty()) {
      response.getHeaders().putSingle("Allow", String.join(", ", methods));
    }
    if (methods.contains("PATCH")) {
      response.getHeaders().putSingle("Accept-Patch", ProblemMappers.ACCEPT_PATCH); // RFC 5789 3.1
    }
  }
}
