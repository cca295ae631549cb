package io.dynofleet.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review 31 R31-1: a release starts on a schema a later release migrated ({@code
 * ignore-migration-patterns=*:future}), which is safe only while every migration from V30 on adds
 * and never takes away (db/migration/README.md). Reads each such file and fails on what takes away.
 */
class MigrationRuleTest {
  /** The first version the rule binds: V29 and before shipped without {@code *:future}. */
  static final int FIRST_RULED = 30;

  private static final Pattern FILE = Pattern.compile("V(\\d+)__.+\\.sql");
  private static final List<Rule> RULES =
      List.of(
          new Rule("drop", Pattern.compile("\\bdrop\\b")),
          new Rule("rename", Pattern.compile("\\brename\\b")),
          new Rule(
              "alter column ... type",
              Pattern.compile("\\balter\\s+(column\\s+)?\\S+\\s+(set\\s+data\\s+)?type\\b")),
          new Rule("set not null", Pattern.compile("\\bset\\s+not\\s+null\\b")),
          new Rule(
              "add constraint on existing columns",
              Pattern.compile(
                  "\\badd\\s+(constraint\\s+\\S+\\s+)?(check|unique|primary|foreign)\\b")));
  private static final Pattern ADD_CLAUSE =
      Pattern.compile("\\badd\\s+(column\\s+)?(if\\s+not\\s+exists\\s+)?(?!constraint\\b)[^,]*");

  private record Rule(String name, Pattern pattern) {}

  @Test
  void everyMigrationFromV30OnAddsAndNeverTakesAway() {
    Path dir = Path.of("src/main/resources/db/migration");
    assertThat(dir.resolve("V29__pool_sweeps_source_replaced_by.sql")).exists();
    assertThat(violations(dir)).isEmpty();
  }

  @Test
  void eachWayOfTakingAwayIsFoundAndAnAdditionIsNot(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("V29__old.sql"), "alter table a drop column b;");
    Files.writeString(
        dir.resolve("V30__adds.sql"),
        """
        -- a comment may say drop, rename or not null
        create table t (id uuid primary key, name text not null);
        create index t_name on t (name);
        alter table pools add column x text, add column y int not null default 0;
        alter table pools add column if not exists z boolean default false not null;
        """);
    Files.writeString(dir.resolve("V31__drop.sql"), "ALTER TABLE pools DROP COLUMN x;");
    Files.writeString(dir.resolve("V32__rename.sql"), "alter table pools rename column x to w;");
    Files.writeString(dir.resolve("V33__type.sql"), "alter table pools alter column x type int;");
    Files.writeString(dir.resolve("V34__type.sql"), "alter table pools alter x set data type int;");
    Files.writeString(
        dir.resolve("V35__tighten.sql"), "alter table pools alter column x set not null;");
    Files.writeString(
        dir.resolve("V36__required.sql"),
        "alter table pools add column a text default 'a', add column b text\n  not null;");
    Files.writeString(
        dir.resolve("V37__check.sql"),
        "alter table pools add constraint x_short check (length(x) < 10);");
    Files.writeString(dir.resolve("README.md"), "drop everything");

    assertThat(violations(dir))
        .containsExactly(
            "V31__drop.sql: drop",
            "V32__rename.sql: rename",
            "V33__type.sql: alter column ... type",
            "V34__type.sql: alter column ... type",
            "V35__tighten.sql: set not null",
            "V36__required.sql: add column ... not null without a default",
            "V37__check.sql: add constraint on existing columns");
  }

  /** What the migrations numbered {@link #FIRST_RULED} or above in {@code dir} take away. */
  static List<String> violations(Path dir) {
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.sorted().toList()) {
        Matcher m = FILE.matcher(file.getFileName().toString());
        if (!m.matches() || Integer.parseInt(m.group(1)) < FIRST_RULED) {
          continue;
        }
        String sql = statements(Files.readString(file));
        for (Rule rule : RULES) {
          if (rule.pattern().matcher(sql).find()) {
            found.add(file.getFileName() + ": " + rule.name());
          }
        }
        for (String statement : sql.split(";")) {
          if (!statement.strip().startsWith("alter table")) {
            continue; // a new table's not null columns break no older release's writes
          }
          Matcher add = ADD_CLAUSE.matcher(statement);
          while (add.find()) {
            String clause = add.group();
            if (clause.matches("(?s).*\\bnot\\s+null\\b.*") && !clause.contains("default")) {
              found.add(file.getFileName() + ": add column ... not null without a default");
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // sorted by file, each rule once per file
    return found.stream().distinct().sorted().toList();
  }

  /** The SQL without comments, lower case, each run of white space one blank. */
  private static String statements(String sql) {
    return sql.replaceAll("(?s)/\\*.*?\\*/", " ")
        .replaceAll("--[^\\n]*", " ")
        .toLowerCase(Locale.ROOT)
        .replaceAll("\\s+", " ");
  }
}
