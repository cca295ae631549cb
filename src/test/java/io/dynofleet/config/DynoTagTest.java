package io.dynofleet.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DynoTagTest {
  @Test
  void herokusDynoNameIsTheTagAndAnythingUnfitIsLocal() {
    assertThat(DynoTag.value("web.1")).isEqualTo("web.1");
    assertThat(DynoTag.value(" web.12\n")).isEqualTo("web.12");
    assertThat(DynoTag.value(null)).isEqualTo("local");
    assertThat(DynoTag.value("")).isEqualTo("local");
    assertThat(DynoTag.value("web 1")).isEqualTo("local");
    assertThat(DynoTag.value("web.1\u0000")).isEqualTo("local");
    assertThat(DynoTag.value("w".repeat(65))).isEqualTo("local");
  }
}
