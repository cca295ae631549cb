package io.dynofleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a BackendPool document as JSON, before it is bound to records, so that every bad field is
 * named at once (unknown fields, wrong types, ranges, formats) rather than the first one Jackson
 * trips on. Pure logic: no I/O.
 */
public final class PoolValidator {
  static final Pattern DNS_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");

  /** Heroku's limit on one app's config vars: every name and value together, in bytes (32 kB). */
  public static final int CONFIG_LIMIT = 32768;

  /** The size Heroku's limit counts: the UTF-8 bytes of every name and value. */
  public static long configBytes(Map<String, String> config) {
    long n = 0;
    for (Map.Entry<String, String> e : config.entrySet()) {
      n +=
          e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
              + (e.getValue() == null
                  ? 0
                  : e.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }
    return n;
  }

  /** An app name as Heroku's schema has it: no trailing '-' (audit 17: "demo-" was taken). */
  static final Pattern HEROKU_APP_NAME = Pattern.compile("[a-z][a-z0-9-]{1,28}[a-z0-9]");

  static final Pattern APP_NAME = Pattern.compile("[a-z][a-z0-9-]{2,29}");
  static final Pattern UUID_RE =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  static final Pattern HOSTNAME =
      Pattern.compile(
          "(\\*\\.)?([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)(\\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*");

  /** A DNS subdomain as Kubernetes means it (label key prefixes): lower case, no wildcard. */
  static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*");

  static final Pattern CONFIG_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  static final Pattern LABEL_NAME =
      Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
  static final Pattern PREFIX_RE = Pattern.compile("[a-z]([-a-z0-9]{0,21}[a-z0-9])?");

  /**
   * Heroku's Common Runtime dyno sizes today; {@code hobby} is accepted as the pre-2022 name of
   * basic. Private and Shield sizes, and the regions and the {@code container} stack below left
   * out, need a Private Space or a Docker build, which backends made from a slug cannot have
   * (review 6: they failed at the first create).
   */
  public static final Set<String> DYNO_SIZES =
      Set.of(
          "eco",
          "basic",
          "hobby",
          "standard-1x",
          "standard-2x",
          "performance-m",
          "performance-l",
          "performance-l-ram",
          "performance-xl",
          "performance-2xl");

  public static final Set<String> REGIONS = Set.of("us", "eu");

  /** What {@code spec.template.region} takes: a region above, or the source app's (audit 20 M4). */
  static final Set<String> TEMPLATE_REGIONS =
      Set.of("us", "eu", io.dynofleet.pool.model.SpecDefaults.SOURCE_REGION);

  public static final Set<String> STACKS = Set.of("heroku-22", "heroku-24");

  /** Why more than one eco backend is refused (the scale endpoint says it too). */
  public static final String ECO_LIMIT =
      "eco dynos share the account's 1000 hours a month and Dynofleet's health"
          + " checks keep them awake (730 hours each): more than one eco backend uses them up, and then every eco"
          + " dyno of the account sleeps until the month ends; use basic";

  /** What {@code spec.template.stage} takes: a stage above, or the source app's (audit 20 L5). */
  static final Set<String> TEMPLATE_STAGES =
      Set.of(
          "review",
          "development",
          "staging",
          "production",
          io.dynofleet.pool.model.SpecDefaults.SOURCE_STAGE);

  static final Set<String> ALGORITHMS = Set.of("least-request", "round-robin", "random");
  static final String API_VERSION = "dynofleet.io/v1";
  static final String KIND = "BackendPool";

  /** Reserved config var: the ownership marker the reconciler writes on every app it creates. */
  public static final String OWNER_VAR = "DYNOFLEET_POOL";

  /**
   * Reserved config var: the pool's proxy secret, which the reconciler gives every backend app it
   * configures and the proxy sends as {@code X-Dynofleet-Proxy-Secret}. Never in a spec, which the
   * API answers with.
   */
  public static final String PROXY_SECRET_VAR = "DYNOFLEET_PROXY_SECRET";

  /** How long the proxy secret is (64 hex digits), for the config size check. */
  public static final int PROXY_SECRET_LENGTH = 64;

  private final List<FieldError> errors = new ArrayList<>();

  /** Fields already refused for a character PostgreSQL cannot store: no second error for them. */
  private final Set<String> unstorable = new java.util.HashSet<>();

  private PoolValidator() {}

  /** Every problem of a whole document (POST, PUT, or the result of a merge patch). */
  public static List<FieldError> validateDocument(JsonNode doc) {
    PoolValidator v = new PoolValidator();
    v.document(doc);
    return v.errors;
  }

  /** Every problem of a label selector value. */
  public static void checkLabelName(String field, String key, List<FieldError> out) {
    PoolValidator v = new PoolValidator();
    v.labelKey(field, key);
    out.addAll(v.errors);
  }

  private void document(JsonNode doc) {
    if (!object("", doc)) {
      return;
    }
    storable("", doc);
    known("", doc, "apiVersion", "kind", "metadata", "spec", "status");
    JsonNode apiVersion = doc.get("apiVersion");
    if (apiVersion != null
        && !apiVersion.isNull()
        && !(apiVersion.isTextual() && API_VERSION.equals(apiVersion.asText()))) {
      err("apiVersion", "must be \"" + API_VERSION + "\"");
    }
    JsonNode kind = doc.get("kind");
    if (kind != null && !kind.isNull() && !(kind.isTextual() && KIND.equals(kind.asText()))) {
      err("kind", "must be \"" + KIND + "\"");
    }
    JsonNode md = doc.get("metadata");
    if (md == null || md.isNull()) {
      err("metadata", "is required");
    } else if (object("metadata", md)) {
      metadata(md);
    }
    JsonNode spec = doc.get("spec");
    if (spec == null || spec.isNull()) {
      err("spec", "is required");
    } else if (object("spec", spec)) {
      spec(spec);
    }
    JsonNode status = doc.get("status");
    if (status != null && !status.isNull() && !status.isObject()) {
      err("status", "must be an object (it is ignored on writes)");
    }
  }

  private void metadata(JsonNode md) {
    known(
        "metadata",
        md,
        "name",
        "labels",
        "uid",
        "generation",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp");
    String name = text("metadata.name", md.get("name"), true);
    if (name != null && (name.length() > 63 || !DNS_LABEL.matcher(name).matches())) {
      err(
          "metadata.name",
          "must be a DNS label: lowercase letters, digits and '-', starting with a"
              + " letter, ending with a letter or digit, at most 63 characters");
    }
    JsonNode labels = md.get("labels");
    if (labels != null && !labels.isNull() && object("metadata.labels", labels)) {
      if (labels.size() > 64) {
        err("metadata.labels", "at most 64 labels");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String f = "metadata.labels." + e.getKey();
        labelKey(f, e.getKey());
        String value = text(f, e.getValue(), true);
        if (value != null && (value.length() > 63 || !LABEL_NAME.matcher(value).matches())) {
          err(
              f,
              "label values are at most 63 characters of letters, digits, '-', '_' and '.',"
                  + " starting and ending with a letter or digit");
        }
      }
    }
    JsonNode uid = md.get("uid");
    if (uid != null
        && !uid.isNull()
        && !(uid.isTextual() && UUID_RE.matcher(uid.asText()).matches())) {
      err("metadata.uid", "must be the pool's uid as read (a UUID), or left out");
    }
    JsonNode rv = md.get("resourceVersion");
    if (rv != null
        && !rv.isNull()
        && !(rv.isIntegralNumber() || (rv.isTextual() && rv.asText().matches("[0-9]{1,18}")))) {
      err("metadata.resourceVersion", "must be the resourceVersion read from the pool");
    }
  }

  private void labelKey(String field, String key) {
    String name = key;
    int slash = key.indexOf('/');
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      name = key.substring(slash + 1);
      if (prefix.isEmpty() || prefix.length() > 253 || !DNS_SUBDOMAIN.matcher(prefix).matches()) {
        err(field, "label key prefix must be a DNS subdomain (lower case, such as example.com)");
      }
    }
    if (name.isEmpty() || name.length() > 63 || !LABEL_NAME.matcher(name).matches()) {
      err(
          field,
          "label keys are at most 63 characters of letters, digits, '-', '_' and '.',"
              + " starting and ending with a letter or digit");
    }
  }

  private void spec(JsonNode s) {
    known(
        "spec",
        s,
        "pipeline",
        "replicas",
        "template",
        "healthCheck",
        "rollout",
        "routing",
        "staticBackends",
        "paused");
    boolean hasTemplate = present(s.get("template"));
    boolean hasStatic = present(s.get("staticBackends"));
    if (hasTemplate == hasStatic) {
      err(
          "spec",
          "give exactly one of spec.template (Dynofleet creates the apps) or"
              + " spec.staticBackends (a fixed list of URLs)");
    }
    String pipeline = text("spec.pipeline", s.get("pipeline"), false);
    if (pipeline != null
        && !APP_NAME.matcher(pipeline).matches()
        && !UUID_RE.matcher(pipeline).matches()) {
      err(
          "spec.pipeline",
          "must be a pipeline id (UUID) or name (3-30 lowercase letters, digits"
              + " and '-', starting with a letter)");
    }
    if (hasTemplate && pipeline == null && !present(s.get("pipeline"))) {
      err("spec.pipeline", "is required when spec.template is given: backends are coupled to it");
    }
    Integer replicas = integer("spec.replicas", s.get("replicas"), 0, 100);
    if (replicas != null && hasStatic) {
      err("spec.replicas", "only applies with spec.template (a static pool has its list)");
    }
    JsonNode size =
        hasTemplate && s.get("template").isObject() ? s.get("template").get("dynoSize") : null;
    if (replicas != null
        && replicas > 1
        && size != null
        && size.isTextual()
        && size.asText().equalsIgnoreCase("eco")) {
      err("spec.replicas", "at most 1 with dynoSize eco: " + ECO_LIMIT);
    }
    if (hasTemplate && object("spec.template", s.get("template"))) {
      template(s.get("template"));
    }
    if (hasStatic) {
      staticBackends(s.get("staticBackends"));
    }
    JsonNode hc = s.get("healthCheck");
    if (present(hc) && object("spec.healthCheck", hc)) {
      healthCheck(hc);
    }
    JsonNode ro = s.get("rollout");
    if (present(ro) && object("spec.rollout", ro)) {
      known("spec.rollout", ro, "maxSurge", "maxUnavailable");
      Integer surge = integer("spec.rollout.maxSurge", ro.get("maxSurge"), 0, 100);
      Integer unavailable =
          integer("spec.rollout.maxUnavailable", ro.get("maxUnavailable"), 0, 100);
      // compared as stored, defaults filled in (maxSurge 1, maxUnavailable 0)
      int effSurge = surge != null ? surge : ro.hasNonNull("maxSurge") ? -1 : 1;
      int effUnavailable =
          unavailable != null ? unavailable : ro.hasNonNull("maxUnavailable") ? -1 : 0;
      if (effSurge == 0 && effUnavailable == 0) {
        err(
            "spec.rollout",
            "maxSurge and maxUnavailable cannot both be 0: the rollout could not move");
      }
    }
    JsonNode rt = s.get("routing");
    if (present(rt) && object("spec.routing", rt)) {
      routing(rt);
    }
    bool("spec.paused", s.get("paused"));
  }

  private void template(JsonNode t) {
    known(
        "spec.template",
        t,
        "sourceApp",
        "region",
        "stack",
        "dynoSize",
        "namePrefix",
        "configVars",
        "stage",
        "shareAddons",
        "restartedAt");
    String restarted = text("spec.template.restartedAt", t.get("restartedAt"), false);
    if (restarted != null
        && (restarted.isBlank()
            || restarted.length() > 64
            || !restarted.matches("[\\x21-\\x7e]+"))) {
      err(
          "spec.template.restartedAt",
          "must be 1-64 printable characters without spaces (dynofleet rollout restart"
              + " writes the time)");
    }
    String source = text("spec.template.sourceApp", t.get("sourceApp"), true);
    if (source != null
        && !HEROKU_APP_NAME.matcher(source).matches()
        && !UUID_RE.matcher(source).matches()) {
      err(
          "spec.template.sourceApp",
          "must be a Heroku app name (3-30 lowercase letters, digits and"
              + " '-', starting with a letter and ending with a letter or digit) or app id");
    }
    String region = text("spec.template.region", t.get("region"), false);
    if (region != null && !TEMPLATE_REGIONS.contains(region)) {
      err(
          "spec.template.region",
          "must be one of "
              + sorted(TEMPLATE_REGIONS)
              + ": source (the default) is the source app's region, us or eu a Common Runtime"
              + " region; a Private Space's needs a space, which an app made from a slug cannot have");
    }
    oneOf("spec.template.stack", t.get("stack"), STACKS);
    String size = text("spec.template.dynoSize", t.get("dynoSize"), false);
    if (size != null) {
      String s = size.toLowerCase(Locale.ROOT);
      if (s.equals("free")) {
        err("spec.template.dynoSize", "free dynos ended in November 2022; use eco or basic");
      } else if (!DYNO_SIZES.contains(s)) {
        err(
            "spec.template.dynoSize",
            "must be one of " + sorted(DYNO_SIZES) + " (hobby is the old name" + " of basic)");
      }
    }
    String prefix = text("spec.template.namePrefix", t.get("namePrefix"), false);
    if (prefix != null && !PREFIX_RE.matcher(prefix).matches()) {
      err(
          "spec.template.namePrefix",
          "must be 1-23 lowercase letters, digits and '-', starting with a"
              + " letter (a 7-character suffix is added within Heroku's 30)");
    }
    JsonNode vars = t.get("configVars");
    if (present(vars) && object("spec.template.configVars", vars)) {
      if (vars.size() > 500) {
        err("spec.template.configVars", "at most 500 config vars");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = vars.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String f = "spec.template.configVars." + e.getKey();
        if (!CONFIG_KEY.matcher(e.getKey()).matches() || e.getKey().length() > 256) {
          err(f, "config var names are letters, digits and '_', not starting with a digit");
        } else if (e.getKey().equals(OWNER_VAR)) {
          err(f, OWNER_VAR + " is reserved: Dynofleet sets it to mark the apps it owns");
        } else if (e.getKey().equals(PROXY_SECRET_VAR)) {
          err(
              f,
              PROXY_SECRET_VAR
                  + " is reserved: Dynofleet sets it to the pool's secret (the proxy sends it as"
                  + " X-Dynofleet-Proxy-Secret)");
        }
        String value = text(f, e.getValue(), true);
        if (value != null && value.length() > CONFIG_LIMIT) {
          err(f, "at most " + CONFIG_LIMIT + " characters");
        } else if (ReadOnlyRedaction.HIDDEN.equals(value)) {
          // an export made with the read-only token: applied, it would overwrite the secret
          err(
              f,
              "this is what the read-only token shows instead of the value, not the value: set the real"
                  + " one, or leave the var out");
        }
      }
    }
    if (present(vars) && vars.isObject() && vars.size() <= 500) {
      Map<String, String> all = new java.util.HashMap<>();
      vars.fields().forEachRemaining(e -> all.put(e.getKey(), e.getValue().asText("")));
      all.put(OWNER_VAR, "00000000-0000-0000-0000-000000000000");
      all.put(PROXY_SECRET_VAR, "0".repeat(PROXY_SECRET_LENGTH));
      long bytes = configBytes(all);
      if (bytes > CONFIG_LIMIT) {
        // Heroku refuses more at the config step, after each backend app was made (audit 17)
        err(
            "spec.template.configVars",
            "come to "
                + bytes
                + " bytes with "
                + OWNER_VAR
                + " and "
                + PROXY_SECRET_VAR
                + ", over Heroku's "
                + CONFIG_LIMIT
                + " for all of an app's config var names and values together (the source app's"
                + " vars count too)");
      }
    }
    String stage = text("spec.template.stage", t.get("stage"), false);
    if (stage != null && !TEMPLATE_STAGES.contains(stage)) {
      err(
          "spec.template.stage",
          "must be one of "
              + sorted(TEMPLATE_STAGES)
              + ": source (the default) is the source app's own stage in the pipeline (production"
              + " when the source is not in it), the others a pipeline stage");
    }
    bool("spec.template.shareAddons", t.get("shareAddons"));
  }

  private void staticBackends(JsonNode list) {
    if (!list.isArray()) {
      err("spec.staticBackends", "must be an array of URLs");
      return;
    }
    if (list.isEmpty() || list.size() > 100) {
      err("spec.staticBackends", "must list 1 to 100 URLs");
    }
    Map<String, Integer> seen = new java.util.HashMap<>();
    for (int i = 0; i < list.size(); i++) {
      String f = "spec.staticBackends[" + i + "]";
      String u = text(f, list.get(i), true);
      if (u != null) {
        url(f, u);
        // the same backend twice took a double share (and two state objects under one meter id)
        String key = sameBackend(u);
        Integer first = key == null ? null : seen.putIfAbsent(key, i);
        if (first != null) {
          err(
              f,
              "is the same backend as spec.staticBackends["
                  + first
                  + "] (scheme, host and port; a"
                  + " path is not used): list each backend once");
        }
      }
    }
  }

  /**
   * What makes two backend URLs one backend to the proxy: scheme, host and port (the default port
   * of the scheme when none is given), case aside; the path is not used. Null if not a URL.
   */
  public static String sameBackend(String u) {
    try {
      URI uri = new URI(u.trim());
      if (uri.getScheme() == null || uri.getHost() == null) {
        return null;
      }
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      int port = uri.getPort() > 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
      return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  private void url(String field, String u) {
    urlProblem(u).ifPresent(why -> err(field, why));
  }

  /**
   * What is wrong with a backend URL, in words that never quote it (it may carry credentials), or
   * empty: the API's rule, and {@code DYNOFLEET_STATIC_BACKENDS}'s at start.
   */
  public static java.util.Optional<String> urlProblem(String u) {
    try {
      URI uri = new URI(u);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        return java.util.Optional.of("must be an absolute http:// or https:// URL with a host");
      } else if (uri.getRawUserInfo() != null) {
        return java.util.Optional.of("must not carry credentials");
      } else if (uri.getPort() == 0 || uri.getPort() > 65535) {
        return java.util.Optional.of("has no valid port (1-65535)");
      } else if (io.dynofleet.proxy.PublicAddress.namesLinkLocal(uri.getHost())) {
        return java.util.Optional.of(LINK_LOCAL);
      }
      return java.util.Optional.empty();
    } catch (URISyntaxException e) {
      return java.util.Optional.of("is not a well-formed URL: " + e.getReason());
    }
  }

  /** Why a link-local backend URL is refused (the API's, the env var's and a stored pool's). */
  public static final String LINK_LOCAL =
      "names a link-local address (169.254.0.0/16 or fe80::/10, where a cloud's metadata service"
          + " answers at 169.254.169.254): the proxy and its health checks do not send there";

  private void healthCheck(JsonNode h) {
    known(
        "spec.healthCheck",
        h,
        "path",
        "intervalSeconds",
        "timeoutSeconds",
        "healthyThreshold",
        "unhealthyThreshold",
        "replaceAfterSeconds");
    String path = text("spec.healthCheck.path", h.get("path"), false);
    if (path != null
        && (!path.startsWith("/")
            || path.length() > 2048
            || path.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f))) {
      err(
          "spec.healthCheck.path",
          "must be a URL path starting with '/', at most 2048 characters of"
              + " printable ASCII (percent-encode the rest)");
    }
    Integer interval =
        integer("spec.healthCheck.intervalSeconds", h.get("intervalSeconds"), 1, 300);
    Integer timeout = integer("spec.healthCheck.timeoutSeconds", h.get("timeoutSeconds"), 1, 60);
    // compared as stored, defaults filled in (interval 10 s; the timeout defaults to at most it)
    int effInterval =
        interval != null ? interval : h.hasNonNull("intervalSeconds") ? Integer.MAX_VALUE : 10;
    if (timeout != null && timeout > effInterval) {
      // a merge patch lowering the interval meets the timeout stored when the pool was written,
      // which the client may never have set (audit 17)
      err(
          "spec.healthCheck.timeoutSeconds",
          "must not exceed intervalSeconds (a timeout left out is stored as"
              + " the smaller of 5 and the interval when the pool is written: lowering the interval, set it too)");
    }
    integer("spec.healthCheck.healthyThreshold", h.get("healthyThreshold"), 1, 10);
    integer("spec.healthCheck.unhealthyThreshold", h.get("unhealthyThreshold"), 1, 10);
    integer("spec.healthCheck.replaceAfterSeconds", h.get("replaceAfterSeconds"), 30, 86400);
  }

  private void routing(JsonNode r) {
    known(
        "spec.routing",
        r,
        "hosts",
        "default",
        "algorithm",
        "timeoutSeconds",
        "retries",
        "maxInFlightPerBackend",
        "maxQueue",
        "queueTimeoutSeconds",
        "httpsRedirect",
        "maintenance",
        "maintenancePageUrl");
    JsonNode hosts = r.get("hosts");
    if (present(hosts)) {
      if (!hosts.isArray()) {
        err("spec.routing.hosts", "must be an array of host names");
      } else {
        if (hosts.size() > 50) {
          err("spec.routing.hosts", "at most 50 hosts");
        }
        for (int i = 0; i < hosts.size(); i++) {
          String f = "spec.routing.hosts[" + i + "]";
          String host = text(f, hosts.get(i), true);
          if (host != null && (host.length() > 253 || !HOSTNAME.matcher(host).matches())) {
            err(f, "must be a host name (RFC 1123), optionally starting with '*.'");
          }
        }
      }
    }
    bool("spec.routing.default", r.get("default"));
    oneOf("spec.routing.algorithm", r.get("algorithm"), ALGORITHMS);
    integer("spec.routing.timeoutSeconds", r.get("timeoutSeconds"), 1, 300);
    integer("spec.routing.retries", r.get("retries"), 0, 3);
    integer("spec.routing.maxInFlightPerBackend", r.get("maxInFlightPerBackend"), 0, 10000);
    integer("spec.routing.maxQueue", r.get("maxQueue"), 0, 100000);
    integer("spec.routing.queueTimeoutSeconds", r.get("queueTimeoutSeconds"), 1, 300);
    bool("spec.routing.httpsRedirect", r.get("httpsRedirect"));
    bool("spec.routing.maintenance", r.get("maintenance"));
    String page = text("spec.routing.maintenancePageUrl", r.get("maintenancePageUrl"), false);
    if (page != null) {
      pageUrlProblem(page).ifPresent(why -> err("spec.routing.maintenancePageUrl", why));
    }
  }

  /**
   * What is wrong with a maintenance page's URL, in words that never quote it, or empty: https only
   * (as Heroku's {@code MAINTENANCE_PAGE_URL}; the proxy fetches it from every dyno, and the page
   * goes out as the pool's own answer), a host, no credentials, at most 2048 characters, and not
   * {@code localhost} nor a loopback, private, link-local or shared address written out (review 25
   * #7: fetched inside every dyno's network and then served publicly, such a page was a way for an
   * API token to read what answers there). A name is not looked up here: the proxy checks the
   * address it resolves to before each fetch ({@link io.dynofleet.proxy.PublicAddress}).
   */
  static java.util.Optional<String> pageUrlProblem(String u) {
    if (u.length() > 2048) {
      return java.util.Optional.of("must be at most 2048 characters");
    }
    java.util.Optional<String> why = urlProblem(u);
    if (why.isPresent()) {
      return why.map(w -> w.replace("http:// or https://", "https://"));
    }
    if (!u.regionMatches(true, 0, "https://", 0, 8)) {
      return java.util.Optional.of("must be an https:// URL (the page is fetched over TLS)");
    }
    if (io.dynofleet.proxy.PublicAddress.namesNoPublicAddress(URI.create(u).getHost())) {
      return java.util.Optional.of(
          "must not name localhost or a loopback, private, link-local or shared address (the page"
              + " is fetched from inside every dyno's network and served publicly)");
    }
    return java.util.Optional.empty();
  }

  // ---- primitives -------------------------------------------------------------------------

  /**
   * Every key and string anywhere in the document must be storable: PostgreSQL refuses NUL
   * (\\u0000) in jsonb (the write failed as a 500 whose log quoted the spec, config vars included),
   * and an unpaired surrogate has no UTF-8 form (it was stored as '?', silently changing the
   * value). Checked first, so the field gets this one error.
   */
  private void storable(String path, JsonNode n) {
    if (n.isTextual()) {
      if (!FieldError.storable(n.textValue())) {
        unstorableErr(path);
      }
    } else if (n.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String child = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
        if (!FieldError.storable(e.getKey())) {
          unstorableErr(child);
        } else {
          storable(child, e.getValue());
        }
      }
    } else if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) {
        storable(path + "[" + i + "]", n.get(i));
      }
    }
  }

  private void unstorableErr(String path) {
    err(path, "must not contain NUL (\\u0000) or an unpaired surrogate (\\ud800-\\udfff)");
    unstorable.add(FieldError.printable(path));
  }

  private static boolean present(JsonNode n) {
    return n != null && !n.isNull();
  }

  private boolean object(String field, JsonNode n) {
    if (n == null || !n.isObject()) {
      err(field.isEmpty() ? "(body)" : field, "must be a JSON object");
      return false;
    }
    return true;
  }

  private void known(String field, JsonNode n, String... names) {
    Set<String> allowed = Set.of(names);
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!allowed.contains(f)) {
        err(field.isEmpty() ? f : field + "." + f, unknownField(f, List.of(names)));
      }
    }
  }

  /**
   * "unknown field", with the known field at that place it was likely meant for: {@code
   * spec.replica}, {@code dynosize} and {@code maintainance} were answered "unknown field" alone,
   * each a trip to api.md (audit 22 L6).
   */
  static String unknownField(String field, List<String> known) {
    return didYouMean(field, known)
        .map(k -> "unknown field (did you mean " + k + "?)")
        .orElse("unknown field");
  }

  /**
   * The known name {@code field} differs from only by case, else by at most two letters (inserted,
   * deleted or changed; case ignored), the first of the closest; empty for none.
   */
  static java.util.Optional<String> didYouMean(String field, List<String> known) {
    String lower = field.toLowerCase(java.util.Locale.ROOT);
    String best = null;
    int bestDistance = 3;
    for (String k : known) {
      int d = distance(lower, k.toLowerCase(java.util.Locale.ROOT), bestDistance);
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    return java.util.Optional.ofNullable(best);
  }

  /** Levenshtein distance of {@code a} and {@code b}, or {@code limit} if it is that or more. */
  private static int distance(String a, String b, int limit) {
    if (Math.abs(a.length() - b.length()) >= limit) {
      return limit;
    }
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int change = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(change, Math.min(prev[j], cur[j - 1]) + 1);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return Math.min(prev[b.length()], limit);
  }

  private String text(String field, JsonNode n, boolean required) {
    if (!present(n)) {
      if (required) {
        err(field, "is required");
      }
      return null;
    }
    if (!n.isTextual()) {
      err(field, "must be a string");
      return null;
    }
    return n.asText();
  }

  private Integer integer(String field, JsonNode n, int min, int max) {
    if (!present(n)) {
      return null;
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      err(field, "must be an integer from " + min + " to " + max);
      return null;
    }
    int v = n.asInt();
    if (v < min || v > max) {
      err(field, "must be from " + min + " to " + max);
      return null;
    }
    return v;
  }

  private void bool(String field, JsonNode n) {
    if (present(n) && !n.isBoolean()) {
      err(field, "must be true or false");
    }
  }

  private void oneOf(String field, JsonNode n, Set<String> allowed) {
    String v = text(field, n, false);
    if (v != null && !allowed.contains(v)) {
      err(field, "must be one of " + sorted(allowed));
    }
  }

  private static List<String> sorted(Set<String> s) {
    return s.stream().sorted().toList();
  }

  private void err(String field, String message) {
    FieldError e = new FieldError(field, message);
    if (!unstorable.contains(e.field())) {
      errors.add(e);
    }
  }
}
