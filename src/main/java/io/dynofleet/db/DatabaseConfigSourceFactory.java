package io.dynofleet.db;

import io.dynofleet.config.StartRefused;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Supplies the datasource settings, in this order of preference: explicit {@code
 * quarkus.datasource.jdbc.url}; Heroku's {@code DATABASE_URL}; else an embedded PostgreSQL, started
 * lazily the first time its URL is read (so nothing starts at build time or when a real database is
 * configured). The fallback is for sandbox mode: with a Heroku API key set it stops the start
 * unless {@code dynofleet.database.embedded=true}; {@code false} forbids it everywhere.
 */
public class DatabaseConfigSourceFactory implements ConfigSourceFactory {
  static final String URL = "quarkus.datasource.jdbc.url";
  static final String USER = "quarkus.datasource.username";
  static final String PASS = "quarkus.datasource.password";

  /**
   * {@code true}: the embedded fallback even with a Heroku key; {@code false}: never; unset:
   * sandbox only.
   */
  static final String EMBEDDED = "dynofleet.database.embedded";

  static final String EMBEDDED_ENV = "DYNOFLEET_DATABASE_EMBEDDED";

  /** Above application.properties (250), below environment variables (300). */
  static final int ORDINAL = 275;

  /**
   * Lowest ordinal of a user-written source (MicroProfile's default for properties files is 100).
   */
  static final int EXPLICIT_ORDINAL = 100;

  @Override
  public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
    if (guarded(context, buildingProductionApp(context))) {
      String problem = poolSizeProblem(value(context, POOL_SIZE_ENV), value(context, MAX_SIZE));
      if (problem != null) {
        throw new StartRefused(problem);
      }
    }
    if (explicit(context, URL)) {
      return List.of();
    }
    String databaseUrl = value(context, "DATABASE_URL");
    if (databaseUrl == null) {
      databaseUrl = value(context, "database.url");
    }
    if (databaseUrl != null && !databaseUrl.isBlank()) {
      DatabaseUrl parsed;
      try {
        parsed = DatabaseUrl.parse(databaseUrl);
      } catch (IllegalArgumentException e) {
        if (!guarded(context, buildingProductionApp(context))) {
          throw e; // a build or dev mode, not a start (review 18)
        }
        throw new StartRefused(e.getMessage());
      }
      Map<String, String> props = new HashMap<>();
      props.put(URL, parsed.jdbcUrl());
      if (parsed.username() != null) {
        props.put(USER, parsed.username());
      }
      if (parsed.password() != null) {
        props.put(PASS, parsed.password());
      }
      return List.of(new MapSource("DATABASE_URL", props));
    }
    String embedded = value(context, EMBEDDED);
    boolean building = buildingProductionApp(context);
    boolean guarded = guarded(context, building);
    if ("false".equalsIgnoreCase(embedded)) {
      if (guarded) {
        // else the build's recorded placeholder URL is tried, and the error names embedded.invalid
        throw new StartRefused(
            "no database: set DATABASE_URL (" + EMBEDDED_ENV + "=false forbids the embedded one)");
      }
      return List.of();
    }
    if (guarded && !"true".equalsIgnoreCase(embedded) && herokuKeySet(context)) {
      // acting on a real account with a store that dies with the process: after a restart its pools
      // are gone and the apps they made run on, billed, owned by pools that no longer exist
      throw new StartRefused(
          "HEROKU_API_KEY is set but no database is: set DATABASE_URL (heroku "
              + "addons:create heroku-postgresql) so pools outlive a restart, or "
              + EMBEDDED_ENV
              + "=true to keep them in a throw-away embedded PostgreSQL");
    }
    return List.of(new EmbeddedSource(building, herokuKeySet(context)));
  }

  static final String POOL_SIZE_ENV = "DYNOFLEET_DB_POOL_SIZE";
  static final String MAX_SIZE = "quarkus.datasource.jdbc.max-size";

  /**
   * Why the datasource's size stops the start, naming the setting, or null. Flyway holds one
   * connection for its lock and works on another: with one, the start timed out inside Flyway, 40
   * lines of stack that never named the setting (audit 8); a value past an int failed with a
   * NumberFormatException that did not either, and {@code max-size} set directly (a properties
   * file, {@code QUARKUS_DATASOURCE_JDBC_MAX_SIZE}) was not checked (review 8).
   */
  static String poolSizeProblem(String poolSizeEnv, String maxSize) {
    if (poolSizeEnv != null) {
      String problem = sizeProblem(POOL_SIZE_ENV, poolSizeEnv);
      if (problem != null) {
        return problem;
      }
    }
    // the packaged default is an expression over the variable checked above
    if (maxSize != null && !maxSize.contains("${")) {
      return sizeProblem(MAX_SIZE, maxSize);
    }
    return null;
  }

  private static String sizeProblem(String name, String raw) {
    String v = raw.trim();
    long n;
    try {
      n = v.matches("[+-]?\\d{1,18}") ? Long.parseLong(v) : Long.MIN_VALUE;
    } catch (NumberFormatException e) {
      n = Long.MIN_VALUE;
    }
    if (n == Long.MIN_VALUE || n > Integer.MAX_VALUE) {
      return name
          + " is "
          + v
          + ": not a number of database connections (2 or more; the reconcile workers + 2"
          + " to reconcile at full speed, and within the Postgres plan's connection limit)";
    }
    if (n < 2) {
      return name
          + " is "
          + v
          + ": at least 2 database connections are needed (the migrations' lock and their"
          + " work), and the reconcile workers + 2 to reconcile at full speed";
    }
    return null;
  }

  /**
   * The refusals apply to a running application in any profile but the development ones: not to the
   * build (it reads runtime values too, and must start nothing), dev mode or tests.
   */
  private static boolean guarded(ConfigSourceContext context, boolean building) {
    return !building && !developing(context);
  }

  /** Dev mode or tests: build and run share one JVM, and the embedded server is the one used. */
  public static boolean developing(ConfigSourceContext context) {
    return context.getProfiles().contains("dev") || context.getProfiles().contains("test");
  }

  public static boolean herokuKeySet(ConfigSourceContext context) {
    for (String name : List.of("HEROKU_API_KEY", "dynofleet.heroku.api-key")) {
      String v = value(context, name);
      if (v != null && !v.isBlank()) {
        return true;
      }
    }
    return false;
  }

  /**
   * True while the Quarkus build packages the production application: the build reads runtime
   * values too, and must not start a database for it (nor on Heroku's build dyno). In tests and dev
   * mode build and run share one JVM, so the server started then is the one used.
   */
  public static boolean buildingProductionApp(ConfigSourceContext context) {
    if (developing(context)) {
      return false;
    }
    try {
      Class.forName(
          "io.quarkus.deployment.QuarkusAugmentor",
          false,
          DatabaseConfigSourceFactory.class.getClassLoader());
      return true; // deployment classes are only on the classpath while building
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /**
   * Set by the user (a properties file, env or system property), as opposed to a default: the build
   * records the runtime values it saw as low-ordinal defaults of the packaged application, and such
   * a recorded value must not pass for an explicit setting at run time.
   */
  static boolean explicit(ConfigSourceContext context, String name) {
    ConfigValue v = context.getValue(name);
    return v != null && v.getValue() != null && v.getConfigSourceOrdinal() >= EXPLICIT_ORDINAL;
  }

  private static String value(ConfigSourceContext context, String name) {
    ConfigValue v = context.getValue(name);
    return v == null ? null : v.getValue();
  }

  private record MapSource(String name, Map<String, String> props) implements ConfigSource {
    @Override
    public Set<String> getPropertyNames() {
      return props.keySet();
    }

    @Override
    public String getValue(String propertyName) {
      return props.get(propertyName);
    }

    @Override
    public String getName() {
      return name;
    }

    @Override
    public int getOrdinal() {
      return ORDINAL;
    }
  }

  /** Starts the embedded server only when the URL is actually read. */
  private static final class EmbeddedSource implements ConfigSource {
    private final boolean building;
    private final boolean realKey;

    EmbeddedSource(boolean building, boolean realKey) {
      this.building = building;
      this.realKey = realKey;
    }

    @Override
    public Set<String> getPropertyNames() {
      return Set.of(URL, USER, PASS);
    }

    @Override
    public String getValue(String propertyName) {
      return switch (propertyName) {
        case URL ->
            building
                ? "jdbc:postgresql://embedded.invalid/postgres"
                : EmbeddedDatabase.jdbcUrl(realKey);
        case USER -> "postgres";
        case PASS -> EmbeddedDatabase.password();
        default -> null;
      };
    }

    @Override
    public String getName() {
      return "embedded-postgresql";
    }

    @Override
    public int getOrdinal() {
      return ORDINAL;
    }
  }
}
