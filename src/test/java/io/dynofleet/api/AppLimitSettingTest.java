package io.dynofleet.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The app limit under 1 stops the start, naming the setting (PoolService is built at start). */
class AppLimitSettingTest {
  @Test
  void anAppLimitUnderOneIsRefusedNamingTheSetting() {
    assertThatThrownBy(() -> PoolService.checkedAppLimit(0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("DYNOFLEET_HEROKU_APP_LIMIT")
        .hasMessageContaining("at least 1");
    assertThat(PoolService.checkedAppLimit(1)).isEqualTo(1);
    assertThat(PoolService.checkedAppLimit(100)).isEqualTo(100);
  }
}
