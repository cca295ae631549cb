package io.dynofleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dynofleet.api.PoolService.Precondition;
import io.dynofleet.config.ApiConfig;
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
 * Pools kept in git: every file of {@code dynofleet.api.pools-dir} (default {@code config/pools}) is
 * applied at start, through the same validation as the API — created when missing, replaced when it
 * differs (an unchanged file changes nothing, not even {@code resourceVersion}). A bad file is
 * reported with its path and the problem, and the others still apply: one typo never keeps the
 * proxy from starting. Several dynos starting at once converge on the same result.
 */
@ApplicationScoped
class DeclaredPools {
  private static final Logger LOG = Logger.getLogger(DeclaredPools.class);

  private final PoolService pools;
  private final Path dir;
  private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
  private final ObjectMapper json = new ObjectMapper();

  DeclaredPools(PoolService pools, ApiConfig config) {
    this.pools = pools;
    this.dir = Path.of(config.poolsDir());
  }

  void onStart(@Observes StartupEvent e) {
    applyAll();
  }

  /** Applies every pool file; returns how many applied cleanly. */
  int applyAll() {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().matches(".*\\.(ya?ml|json)$")).sorted().toList();
    } catch (IOException ex) {
      LOG.errorf("pool files not read: dir=%s error=\"%s\"", dir, ex.getMessage());
      return 0;
    }
    int ok = 0;
    for (Path file : files) {
      try {
        String outcome = apply(file);
        LOG.infof("pool file applied: file=%s %s", file, outcome);
        ok++;
      } catch (ApiException ex) {
        LOG.errorf("pool file refused: file=%s status=%d error=\"%s\"", file, ex.status(), ex.getMessage());
      } catch (IOException | RuntimeException ex) {
        LOG.errorf("pool file refused: file=%s error=\"%s\"", file, why(ex));
      }
    }
    return ok;
  }

  /**
   * Why a file was refused, without its content: a parser's message quotes the text it tripped
   * on (SnakeYAML a whole line) and a database error's the data it refused, and a pool file's
   * config vars are credentials.
   */
  private static String why(Exception ex) {
    if (ex instanceof com.fasterxml.jackson.core.JsonProcessingException jp) {
      return StrictJson.describe(jp).replace("the body", "the file").replace("JSON", "JSON or YAML");
    }
    if (ProblemMappers.isDatabaseError(ex)) {
      return ex.getClass().getSimpleName() + " (database error; its message is withheld: it may quote the file)";
    }
    return ex.getMessage();
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

  private String apply(Path file) throws IOException {
    // YAML is a superset of JSON: one parser for both; strict as the API is (no second document,
    // no key twice), since the document is re-serialised before the API sees it
    JsonNode doc;
    try (java.io.InputStream in = Files.newInputStream(file)) {
      doc = StrictJson.reader(yaml).readTree(in);
    }
    if (doc == null || !doc.isObject()) {
      throw new IOException("not a pool document (expected an object)");
    }
    String name = doc.path("metadata").path("name").asText(null);
    String body = json.writeValueAsString(doc);
    PoolDocument before = name == null ? null : find(name);
    if (before != null) {
      PoolDocument after = pools.replace(name, body, new Precondition(null));
      return "pool=" + name + (before.metadata().resourceVersion().equals(after.metadata().resourceVersion())
          ? " unchanged" : " replaced generation=" + after.metadata().generation());
    }
    try {
      PoolDocument created = pools.create(body);
      return "pool=" + created.metadata().name() + " created";
    } catch (ApiException ex) {
      if (ex.status() == 409 && name != null) { // another dyno created it a moment ago
        pools.replace(name, body, new Precondition(null));
        return "pool=" + name + " replaced";
      }
      throw ex;
    }
  }
}
