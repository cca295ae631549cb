package io.dynofleet.db;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The datasource sizes that stop the start, each refusal naming the setting (audit 8, review 8).
 */
class DatabasePoolSizeTest {
  @Test
  void everyRefusalNamesTheSettingItCameFrom() {
    assertThat(DatabaseConfigSourceFactory.poolSizeProblem("1", "${DYNOFLEET_DB_POOL_SIZE:5}"))
        .startsWith("DYNOFLEET_DB_POOL_SIZE is 1: at least 2");
    assertThat(DatabaseConfigSourceFactory.poolSizeProblem("99999999999", null))
        .startsWith("DYNOFLEET_DB_POOL_SIZE is 99999999999: not a number");
    assertThat(DatabaseConfigSourceFactory.poolSizeProblem("9999999999999999999999", null))
        .startsWith("DYNOFLEET_DB_POOL_SIZE is 9999999999999999999999: not a number");
    assertThat(DatabaseConfigSourceFactory.poolSizeProblem("five", null))
        .startsWith("DYNOFLEET_DB_POOL_SIZE is five");
    assertThat(DatabaseConfigSourceFactory.poolSizeProblem(null, "1"))
        .startsWith("quarkus.datasource.jdbc.max-size is 1: at least 2");
    assertThat(DatabaseConfigSourceFactory.poolSizeProblem("5", "0"))
        .startsWith("quarkus.datasource.jdbc.max-size is 0");
    assertThat(DatabaseConfigSourceFactory.poolSizeProblem(null, "${DYNOFLEET_DB_POOL_SIZE:5}"))
        .isNull();
    assertThat(DatabaseConfigSourceFactory.poolSizeProblem(" 5 ", "5")).isNull();
    assertThat(DatabaseConfigSourceFactory.poolSizeProblem(null, null)).isNull();
  }
}
