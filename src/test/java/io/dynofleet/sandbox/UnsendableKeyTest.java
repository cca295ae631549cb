package io.dynofleet.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Security review 2: a key no header can carry is refused at start, by position, never quoted. */
class UnsendableKeyTest {

  @Test
  void aKeyWithAControlCharacterOrASpaceIsRefusedByPosition() {
    assertThat(SandboxMode.unsendable("HRKU-abc\u0001def"))
        .hasValueSatisfying(
            why -> assertThat(why).contains("position 9 of 12").doesNotContain("abc"));
    assertThat(SandboxMode.unsendable("two words")).isPresent();
    assertThat(SandboxMode.unsendable("caf\u00e9")).isPresent();
  }

  @Test
  void aKeyAsHerokuPrintsItPasses() {
    assertThat(SandboxMode.unsendable("HRKU-AAf3Zk_9-0123456789abcdef")).isEmpty();
    assertThat(SandboxMode.unsendable("01234567-89ab-cdef-0123-456789abcdef")).isEmpty();
  }
}
