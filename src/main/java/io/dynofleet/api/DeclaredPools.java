package io.dynofleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dynofleet.api.PoolService.Precondition;
import io.dynofleet.config.ApiConfig;
import io.dynofleet.db.SchemaMigration.SchemaReady;
import io.dynofleet.pool.model.PoolSpec;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Pools kept in git: every file of {@code dynofleet.api.pools-dir} (default {@code config/pools})
 * is applied at start, through the same validation as the API — created when missing, replaced when
 * it differs (an unchanged file changes nothing, not even {@code resourceVersion}). A bad file is
 * reported with its path and the problem, and the others still apply: one typo never keeps the
 * proxy from starting. Several dynos starting at once converge on the same result.
 */
@ApplicationScoped
class DeclaredPools {
  private static final Logger LOG = Logger.getLogger(DeclaredPools.class);

  private final PoolService pools;
  private final Path dir;
  private final java.util.Map<String, String> declared =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
  private final ObjectMapper json = new ObjectMapper();

  private final io.dynofleet.db.SchemaMigration schema;

  DeclaredPools(PoolService pools, ApiConfig config, io.dynofleet.db.SchemaMigration schema) {
    this.pools = pools;
    this.dir = Path.of(config.poolsDir());
    this.schema = schema;
  }

  /** At start, once the schema is up to date; else when it is ({@link #onSchemaReady}). */
  void onStart(@Observes StartupEvent e) {
    if (schema.migrated()) {
      applyAll();
    }
  }

  /**
   * The schema is up to date after a start without the database: the files refused then (a database
   * error each) are applied now, not at the next restart (review 18).
   */
  void onSchemaReady(@Observes SchemaReady e) {
    applyAll();
  }

  /** Applies every pool file; returns how many applied cleanly. */
  int applyAll() {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException ex) {
      LOG.errorf("pool files not read: dir=%s error=\"%s\"", dir, ex.getMessage());
      return 0;
    }
    // read them all first: a pool named in two files is refused in both, whichever is valid (the
    // first in sort order claimed the name, and a bad one then blocked a good one; audit 12)
    java.util.Map<Path, com.fasterxml.jackson.databind.node.ObjectNode> docs =
        new java.util.LinkedHashMap<>();
    java.util.Map<String, List<Path>> filesOf = new java.util.HashMap<>();
    for (Path file : files) {
      if (!POOL_FILE.matcher(file.getFileName().toString()).matches()) {
        LOG.infof("pool file skipped: file=%s (only .yaml, .yml and .json files are pools)", file);
        continue;
      }
      try {
        com.fasterxml.jackson.databind.node.ObjectNode doc = read(file);
        docs.put(file, doc);
        String name = doc.path("metadata").path("name").asText(null);
        if (name != null) {
          filesOf.computeIfAbsent(name, n -> new java.util.ArrayList<>()).add(file);
        }
      } catch (IOException | RuntimeException ex) {
        LOG.errorf("pool file refused: file=%s error=\"%s\"", file, why(ex));
      }
    }
    // pools without hosts that name no default first, else in file-name order: on an empty store
    // the first such pool is stored as the default (audit 20 H3), and a pool with hosts whose file
    // sorted before it left it not the default, serving nothing, by the file names alone (review 24
    // #5). So a sole such pool among the files is the default whatever the names
    List<java.util.Map.Entry<Path, com.fasterxml.jackson.databind.node.ObjectNode>> order =
        new java.util.ArrayList<>(docs.entrySet());
    order.sort(java.util.Comparator.comparing(e -> !hostlessWithoutDefault(e.getValue())));
    int ok = 0;
    for (java.util.Map.Entry<Path, com.fasterxml.jackson.databind.node.ObjectNode> d : order) {
      Path file = d.getKey();
      String name = d.getValue().path("metadata").path("name").asText(null);
      List<Path> same = name == null ? List.of(file) : filesOf.get(name);
      if (same.size() > 1) {
        // two files for one pool: each start would write both, and the last in sort order win
        LOG.errorf(
            "pool file refused: file=%s error=\"pool '%s' is declared in %s: none of them is applied;"
                + " one file per pool\"",
            file,
            name,
            same.stream()
                .map(f -> f.getFileName().toString())
                .collect(java.util.stream.Collectors.joining(" and ")));
        continue;
      }
      try {
        String outcome = apply(file, d.getValue(), name);
        LOG.infof("pool file applied: file=%s %s", file, outcome);
        if (name != null) {
          declared.put(name, dir.resolve(file.getFileName()).toString());
        }
        ok++;
      } catch (ApiException ex) {
        LOG.errorf("pool file refused: file=%s status=%d %s", file, ex.status(), refusal(ex));
      } catch (IOException | RuntimeException ex) {
        LOG.errorf("pool file refused: file=%s error=\"%s\"", file, why(ex));
      }
    }
    return ok;
  }

  /** A pool document without {@code routing.hosts} that leaves {@code routing.default} out. */
  static boolean hostlessWithoutDefault(JsonNode doc) {
    JsonNode routing = doc.path("spec").path("routing");
    return routing.path("hosts").isEmpty() && !routing.path("default").isBoolean();
  }

  /**
   * Said when a pool file's pool has no hosts and is not the default: the proxy sends it nothing.
   */
  private static void warnIfServesNothing(Path file, PoolDocument pool) {
    if (pool.spec() == null || pool.spec().routing() == null) {
      return;
    }
    PoolSpec.Routing r = pool.spec().routing();
    if (r.hosts().isEmpty() && !Boolean.TRUE.equals(r.defaultPool())) {
      LOG.warnf(
          "pool file applied: file=%s warning=\"pool %s has no routing.hosts and is not the default"
              + " pool: it gets no traffic (give it hosts, or routing.default: true)\"",
          file, pool.metadata().name());
    }
  }

  /**
   * The pool file a pool was applied from at this start, if any: a change made to that pool through
   * the API lasts only until the next start (at least daily on Heroku).
   */
  public java.util.Optional<String> fileOf(String pool) {
    return java.util.Optional.ofNullable(declared.get(pool));
  }

  private com.fasterxml.jackson.databind.node.ObjectNode read(Path file) throws IOException {
    // YAML is a superset of JSON: one parser for both; strict as the API is (no second document,
    // no key twice), since the document is re-serialised before the API sees it
    JsonNode doc;
    try (java.io.InputStream in = Files.newInputStream(file)) {
      doc = StrictJson.reader(yaml).readTree(in);
    }
    if (!(doc instanceof com.fasterxml.jackson.databind.node.ObjectNode object)) {
      throw new IOException("not a pool document (expected an object)");
    }
    return object;
  }

  /**
   * Why a file was refused, without its content: a parser's message quotes the text it tripped on
   * (SnakeYAML a whole line) and a database error's the data it refused, and a pool file's config
   * vars are credentials.
   */
  private static String why(Exception ex) {
    if (ex instanceof com.fasterxml.jackson.core.JsonProcessingException jp) {
      return StrictJson.describe(jp)
          .replace("the body", "the file")
          .replace("JSON", "JSON or YAML");
    }
    if (ProblemMappers.isDatabaseError(ex)) {
      return ex.getClass().getSimpleName()
          + " (database error; its message is withheld: it may quote the file)";
    }
    return ex.getMessage();
  }

  /**
   * A refusal's {@code error="..."}, and when it names several fields (its message then only counts
   * them) {@code fields="..."} with each. Fields refused for one reason are named together before
   * it, said once: a pool file above the app limit read {@code error="2 fields are invalid"} and
   * the same sentence twice, once for spec.replicas and once for spec.rollout.maxSurge (t23).
   */
  static String refusal(ApiException ex) {
    List<FieldError> errors = ex.errors();
    if (errors.size() < 2) {
      return "error=\"" + ex.getMessage() + "\"";
    }
    if (errors.stream().map(FieldError::message).distinct().count() == 1) {
      List<String> names = errors.stream().map(FieldError::field).toList();
      return "error=\""
          + String.join(", ", names.subList(0, names.size() - 1))
          + " and "
          + names.get(names.size() - 1)
          + ": "
          + errors.get(0).message()
          + "\"";
    }
    return "error=\""
        + ex.getMessage()
        + "\" fields=\""
        + errors.stream()
            .map(f -> f.field() + ": " + f.message())
            .collect(java.util.stream.Collectors.joining("; "))
        + "\"";
  }

  private PoolDocument find(String name) {
    try {
      return pools.get(name);
    } catch (ApiException ex) {
      if (ex.status() == 404) {
        return null;
      }
      throw ex;
    }
  }

  private String apply(
      Path file, com.fasterxml.jackson.databind.node.ObjectNode object, String name)
      throws IOException {
    String body = json.writeValueAsString(PoolDocument.declared(object));
    PoolDocument before = name == null ? null : find(name);
    if (before == null) {
      try {
        PoolService.Written written = pools.createWithWarnings(body);
        PoolDocument created = written.pool();
        warnIfServesNothing(file, created);
        // what an API client is told in a Warning header (another pool's default stored)
        written
            .warnings()
            .forEach(w -> LOG.warnf("pool file applied: file=%s warning=\"%s\"", file, w));
        // where the pool's users look: the pool is kept in a file, and the file wins at each start
        pools.recordEvent(
            created,
            "Applied",
            "created from "
                + file.getFileName()
                + " in the pool files: at every"
                + " start a pool file replaces changes made to its pool since");
        return "pool=" + created.metadata().name() + " created";
      } catch (ApiException ex) {
        if (!"already-exists".equals(ex.code()) || name == null) {
          throw ex; // a host or the default another pool has is this file's problem, said as such
        }
        before = find(name); // another dyno created it a moment ago
        if (before == null) {
          throw ex;
        }
      }
    }
    PoolService.Written replaced = pools.replaceWithWarnings(name, body, new Precondition(null));
    PoolDocument after = replaced.pool();
    warnIfServesNothing(file, after);
    // as for a create: a replace that raises the pool above the app limit was said to nobody
    replaced
        .warnings()
        .forEach(w -> LOG.warnf("pool file applied: file=%s warning=\"%s\"", file, w));
    // a file without the levers keeps them; one that names false (an older export) ends them at
    // a start nobody watches: said where an operator looks (audit 24 M1, M2)
    for (String lever : PoolDocument.leversTurnedOff(before, after)) {
      LOG.warnf(
          "pool file applied: file=%s warning=\"%s\"",
          file,
          lever.equals("paused")
              ? "the file says spec.paused: false and resumed pool "
                  + name
                  + ": leave paused out of the file to keep a pause"
              : "the file says spec.routing.maintenance: false and ended the maintenance of pool "
                  + name
                  + ": leave maintenance out of the file to keep one");
    }
    // by what the file decides (spec, labels), not resourceVersion: a status write or another dyno
    // applying the same file moves that too
    boolean specReplaced = after.metadata().generation() != before.metadata().generation();
    if (!specReplaced
        && java.util.Objects.equals(after.metadata().labels(), before.metadata().labels())) {
      return "pool=" + name + " unchanged";
    }
    if (specReplaced) {
      // files win over changes made since through the API, the CLI or the dashboard: say so where
      // the pool's users look, not only in this log
      pools.recordEvent(
          after,
          "Applied",
          "spec replaced from "
              + file.getFileName()
              + " in the pool files (generation "
              + after.metadata().generation()
              + "): at every start a pool file"
              + " replaces changes made to its pool since");
    }
    return "pool=" + name + " replaced generation=" + after.metadata().generation();
  }

  private static final java.util.regex.Pattern POOL_FILE =
      java.util.regex.Pattern.compile(
          ".*\\.(ya?ml|json)$", java.util.regex.Pattern.CASE_INSENSITIVE);
}
