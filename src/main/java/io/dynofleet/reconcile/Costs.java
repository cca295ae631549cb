package io.dynofleet.reconcile;

import java.util.HashMap;
import java.util.Map;

/**
 * Monthly cost estimates from a configurable price table. Besides the pool's own cost it gives the
 * cost of the same capacity as dynos of one app: Eco and Basic run one web dyno per app, so N dynos
 * of one app need Standard-1X or larger; that comparison is Dynofleet's case.
 */
final class Costs {
  private final Map<String, Double> prices = new HashMap<>();

  Costs(String table) {
    for (String entry : table.split(",")) {
      String[] kv = entry.trim().split("=", 2);
      if (kv.length == 2 && !kv[0].isBlank()) {
        prices.put(kv[0].trim(), Double.parseDouble(kv[1].trim()));
      }
    }
  }

  /**
   * USD/month of {@code n} backend apps each with one web dyno of {@code size}; null if unpriced.
   */
  Double pool(int n, String size) {
    Double p = prices.get(size);
    return p == null ? null : round(n * p);
  }

  /** USD/month of {@code n} dynos of one app at the smallest size that allows several dynos. */
  Double oneApp(int n, String size) {
    String s = n > 1 && (size.equals("eco") || size.equals("basic")) ? "standard-1x" : size;
    return pool(n, s);
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
