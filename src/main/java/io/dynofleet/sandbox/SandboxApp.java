package io.dynofleet.sandbox;

import java.util.Map;

/**
 * A snapshot of one simulated app, for tests and the demo.
 *
 * @param webUrl where its backend serves, {@code http://127.0.0.1:<port>/}, fixed at creation
 * @param release version of the current (latest succeeded) release, 0 when none
 * @param slugId slug of the current release, null when none
 * @param serving true when its backend HTTP server is listening
 */
public record SandboxApp(
    String id,
    String name,
    String webUrl,
    int port,
    int release,
    String slugId,
    int webQuantity,
    String webSize,
    Map<String, String> configVars,
    String pipelineId,
    String stage,
    boolean serving) {}
