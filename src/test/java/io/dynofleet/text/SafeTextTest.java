package io.dynofleet.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review 31 R31-15: the invisible characters that make two names look alike or a name look blank
 * (soft hyphen, word joiner and invisible operators, Hangul fillers, tag characters) passed raw.
 */
class SafeTextTest {
  private static final String TAG_A = new String(Character.toChars(0xE0041));

  @Test
  void invisibleFormattingCharactersAreUnsafe() {
    for (char c :
        new char[] {
          '\u00AD', '\u034F', '\u115F', '\u1160', '\u180E', '\u2060', '\u2064', '\u206A', '\u206F',
          '\u3164', '\uFFA0'
        }) {
      assertThat(SafeText.unsafe(c)).as("U+%04X", (int) c).isTrue();
      assertThat(SafeText.printable("a" + c + "b")).isEqualTo("a\uFFFDb");
      assertThat(SafeText.visible("a" + c + "b", false))
          .isEqualTo(String.format("a\\u%04xb", (int) c));
    }
    assertThat(SafeText.unsafe('é')).isFalse();
    assertThat(SafeText.unsafe('\u3163')).isFalse(); // a Hangul letter beside the filler
  }

  @Test
  void aTagCharacterIsOneUnsafeCodePoint() {
    String name = "shop" + TAG_A + "-web";
    assertThat(SafeText.hasUnsafe(name)).isTrue();
    assertThat(SafeText.printable(name)).isEqualTo("shop\uFFFD-web");
    // as JSON (and YAML's double quotes) read it: the same code point
    assertThat(SafeText.visible(name, true)).isEqualTo("shop\\udb40\\udc41-web");
    // an emoji, another surrogate pair, passes
    String emoji = new String(Character.toChars(0x1F680));
    assertThat(SafeText.visible("go " + emoji, true)).isEqualTo("go " + emoji);
    assertThat(SafeText.printable("go " + emoji)).isEqualTo("go " + emoji);
  }
}
