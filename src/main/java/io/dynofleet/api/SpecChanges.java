package io.dynofleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynofleet.pool.model.PoolSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a write changed in a pool's spec, said in a line for its {@code SpecChanged} event: "who or
 * what changed this, and when" is the first question of an incident, and a scale to 1 or a Pause
 * left only the drains it caused (audit 18). Numbers, booleans and short names are shown with their
 * old and new values; config vars by name only (their values are secrets), lists and URLs as
 * changed.
 */
final class SpecChanges {
  /** Fields whose values are never shown: they may hold credentials. */
  private static final Set<String> HIDDEN = Set.of("staticBackends", "configVars");

  private static final int MAX_LENGTH = 400;

  private SpecChanges() {}

  static String describe(ObjectMapper mapper, PoolSpec before, PoolSpec after) {
    List<String> out = new ArrayList<>();
    walk("", mapper.valueToTree(before), mapper.valueToTree(after), out);
    String all = String.join("; ", out);
    return all.length() <= MAX_LENGTH ? all : all.substring(0, MAX_LENGTH - 1) + "…";
  }

  private static void walk(String path, JsonNode a, JsonNode b, List<String> out) {
    Set<String> names = new TreeSet<>();
    a.fieldNames().forEachRemaining(names::add);
    b.fieldNames().forEachRemaining(names::add);
    for (String name : names) {
      JsonNode x = a.get(name);
      JsonNode y = b.get(name);
      if (x == null ? y == null : x.equals(y)) {
        continue;
      }
      String field = path + name;
      if (name.equals("configVars")) {
        out.add(field + " " + varNames(x, y));
      } else if (name.equals("restartedAt")) {
        out.add(y == null ? field + " cleared" : "rollout restart");
      } else if (x != null && y != null && x.isObject() && y.isObject()) {
        walk(field + ".", x, y, out);
      } else if (!HIDDEN.contains(name) && shown(x) && shown(y)) {
        out.add(field + " " + text(x) + " → " + text(y));
      } else {
        out.add(field + (x == null ? " set" : y == null ? " removed" : " changed"));
      }
    }
  }

  /** The names of the vars added, removed or changed: never a value. */
  private static String varNames(JsonNode x, JsonNode y) {
    Set<String> changed = new TreeSet<>();
    for (JsonNode[] pair : new JsonNode[][] {{x, y}, {y, x}}) {
      if (pair[0] == null) {
        continue;
      }
      for (Iterator<String> it = pair[0].fieldNames(); it.hasNext(); ) {
        String var = it.next();
        JsonNode other = pair[1] == null ? null : pair[1].get(var);
        if (other == null || !other.equals(pair[0].get(var))) {
          changed.add(FieldError.printable(var));
        }
      }
    }
    return changed.isEmpty() ? "changed" : "changed: " + String.join(", ", changed);
  }

  private static boolean shown(JsonNode v) {
    return v == null
        || v.isNumber()
        || v.isBoolean()
        || v.isTextual() && v.asText().length() <= 40 && !v.asText().contains("://");
  }

  private static String text(JsonNode v) {
    return v == null ? "unset" : v.isTextual() ? FieldError.printable(v.asText()) : v.toString();
  }
}
