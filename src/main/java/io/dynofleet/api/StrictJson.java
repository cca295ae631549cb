package io.dynofleet.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a request body (or a declared pool file) to a tree strictly: a second value after the
 * document ({@code {...} trailing}, two concatenated documents) and a key given twice in one object
 * are errors. Jackson's defaults ignore the rest and keep the last duplicate, so a truncated or
 * concatenated body could be applied as a write, and {@code {"name":"v1","name":"v2"}} named the
 * pool {@code v2}.
 */
final class StrictJson {
  private static final Pattern DUPLICATE = Pattern.compile("^Duplicate field '([^']{0,100})");
  private static final Pattern LIMIT = Pattern.compile("maximum allowed \\((\\d+)");

  private StrictJson() {}

  static ObjectReader reader(ObjectMapper mapper) {
    return mapper
        .reader()
        .with(
            DeserializationFeature.FAIL_ON_TRAILING_TOKENS,
            DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
  }

  /** What is wrong, for a problem's detail; never the body's content beyond a duplicated key. */
  static String describe(JsonProcessingException e) {
    String message = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
    String what = "the body is not valid JSON";
    Matcher m = DUPLICATE.matcher(message);
    if (m.find()) {
      what = "the body has the key '" + m.group(1) + "' twice in one object";
    } else if (message.startsWith("Trailing token")) {
      what = "the body has more after its JSON document";
    } else if (e instanceof com.fasterxml.jackson.core.exc.StreamConstraintsException) {
      // valid JSON past a parser limit was "not valid JSON" (audit 17)
      Matcher limit = LIMIT.matcher(message);
      String n = limit.find() ? limit.group(1) : "the allowed";
      what =
          message.contains("nesting depth")
              ? "the body nests deeper than " + n + " levels"
              : message.startsWith("Number")
                  ? "the body has a number longer than " + n + " characters"
                  : message.startsWith("String")
                      ? "the body has a string longer than " + n + " characters"
                      : "the body is past a size limit of the JSON reader";
    }
    return e.getLocation() == null
        ? what
        : what
            + " at line "
            + e.getLocation().getLineNr()
            + ", column "
            + e.getLocation().getColumnNr();
  }
}
