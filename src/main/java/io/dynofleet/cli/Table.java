package io.dynofleet.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A kubectl-style table: upper-case headers, columns padded to the widest cell, three spaces apart.
 */
final class Table {
  private final List<String[]> rows = new ArrayList<>();

  Table(String... headers) {
    rows.add(headers);
  }

  /** A row; each cell is printed on one line ({@link Text#safe}): a newline in it forged rows. */
  void row(String... cells) {
    String[] safe = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      safe[i] = Text.safe(cells[i]);
    }
    rows.add(safe);
  }

  void print(PrintStream out) {
    int cols = rows.get(0).length;
    int[] width = new int[cols];
    for (String[] r : rows) {
      for (int i = 0; i < cols; i++) {
        width[i] = Math.max(width[i], i < r.length && r[i] != null ? r[i].length() : 0);
      }
    }
    for (String[] r : rows) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        String c = i < r.length && r[i] != null ? r[i] : "";
        b.append(c);
        if (i < cols - 1) {
          b.append(" ".repeat(width[i] - c.length() + 3));
        }
      }
      out.println(b.toString().stripTrailing());
    }
  }
}
