package io.dynofleet.heroku;

import jakarta.ws.rs.client.ClientRequestContext;
import jakarta.ws.rs.client.ClientRequestFilter;
import jakarta.ws.rs.client.ClientResponseContext;
import jakarta.ws.rs.client.ClientResponseFilter;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Adds the headers every Platform API request carries (version 3 Accept, bearer key, User-Agent, a
 * fresh Request-Id) and logs method, path, status and Request-Id at debug. The key is held here
 * only and never logged: {@link #toString()} is Object's.
 */
final class HeadersFilter implements ClientRequestFilter, ClientResponseFilter {

  static final String ACCEPT = "application/vnd.heroku+json; version=3";

  /** A response header of this client's own: the Request-Id its request carried. */
  static final String SENT_REQUEST_ID = "X-Dynofleet-Sent-Request-Id";

  private static final Logger LOG = Logger.getLogger(HeadersFilter.class);

  private final String authorization;
  private final String userAgent;

  HeadersFilter(String key, String userAgent) {
    // trimmed: a key pasted with its newline (a CRLF file, a config-var editor) was refused by
    // Vert.x as a header value, in a message quoting it whole (security review 2)
    this.authorization = "Bearer " + key.trim();
    this.userAgent = userAgent;
  }

  @Override
  public void filter(ClientRequestContext request) {
    var headers = request.getHeaders();
    headers.putSingle(HttpHeaders.ACCEPT, ACCEPT);
    headers.putSingle(HttpHeaders.AUTHORIZATION, authorization);
    headers.putSingle(HttpHeaders.USER_AGENT, userAgent);
    headers.putSingle("Request-Id", UUID.randomUUID().toString());
  }

  @Override
  public void filter(ClientRequestContext request, ClientResponseContext response) {
    // the Request-Id sent, handed to the client with the answer: a failure's message names it,
    // for Heroku Support (audit 18 #6)
    String sent = request.getHeaderString("Request-Id");
    if (sent != null && response.getHeaders() != null) { // none when no answer came
      response.getHeaders().putSingle(SENT_REQUEST_ID, sent);
    }
    if (LOG.isDebugEnabled()) {
      LOG.debugf(
          "heroku %s %s -> %d request_id=%s",
          request.getMethod(),
          request.getUri().getRawPath(),
          response.getStatus(),
          request.getHeaderString("Request-Id"));
    }
  }
}
