package io.dynofleet.sandbox;

/**
 * One Platform API request the simulator answered (admin calls excluded). The key is never
 * recorded; {@code requestBody} and {@code responseBody} are the raw JSON bodies (empty for none).
 */
public record SandboxCall(
    String method,
    String path,
    int status,
    String accept,
    String userAgent,
    String requestId,
    String requestBody,
    String responseBody) {}
