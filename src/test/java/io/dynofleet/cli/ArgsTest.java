package io.dynofleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArgsTest {

  @Test
  void wordsAndFlagsInAnyOrder() {
    Args a = Args.parse("get", "pools", "-l", "team=web", "--output=wide", "--url", "http://x:1");
    assertThat(a.words()).isEqualTo(List.of("get", "pools"));
    assertThat(a.flag("selector")).isEqualTo("team=web");
    assertThat(a.flag("output")).isEqualTo("wide");
    assertThat(a.flag("url")).isEqualTo("http://x:1");
  }

  @Test
  void booleanFlagsAndStdin() {
    Args a = Args.parse("delete", "pool", "web", "--wait");
    assertThat(a.has("wait")).isTrue();
    assertThat(Args.parse("apply", "-f", "-").flag("filename")).isEqualTo("-");
    assertThat(Args.parse("--help").has("help")).isTrue();
  }

  @Test
  void replicasMustBeANumber() {
    assertThat(Args.parse("scale", "pool", "x", "--replicas", "3").intFlag("replicas"))
        .isEqualTo(3);
    assertThatThrownBy(() -> Args.parse("scale", "--replicas", "three").intFlag("replicas"))
        .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode).isEqualTo(2));
  }

  /**
   * Audit 13: a stray single-dash option was taken for a word ("delete pool p1 -w" deleted without
   * waiting and exited 0, "get pools -o=json" looked for a pool named "-o=json").
   */
  @Test
  void shortValuedFlagsJoinedAndStrayDashesRefused() {
    assertThat(Args.parse("get", "pools", "-ojson").flag("output")).isEqualTo("json");
    assertThat(Args.parse("get", "pools", "-o=yaml").flag("output")).isEqualTo("yaml");
    assertThat(Args.parse("get", "pools", "-lteam=web").flag("selector")).isEqualTo("team=web");
    for (String stray : List.of("-w", "-x", "-hx", "-wait")) {
      assertThatThrownBy(() -> Args.parse("delete", "pool", "p1", stray))
          .as(stray)
          .isInstanceOfSatisfying(
              CliException.class,
              e -> {
                assertThat(e.exitCode).isEqualTo(2);
                assertThat(e.getMessage()).contains("unknown flag " + stray);
              });
    }
    assertThat(Args.parse("-Dquarkus.http.port=1").words())
        .as("a JVM option after -jar: the dispatcher says so")
        .containsExactly("-Dquarkus.http.port=1");
    assertThat(Args.parse("apply", "-f", "-").words()).containsExactly("apply");
    assertThat(Args.parse("apply", "-").words()).containsExactly("apply", "-");
    assertThat(Args.parse("scale", "pool", "x", "--replicas", "-1").flag("replicas"))
        .isEqualTo("-1");
  }

  @Test
  void usageErrorsExitTwo() {
    assertThatThrownBy(() -> Args.parse("get", "pools", "--bogus"))
        .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode).isEqualTo(2));
    assertThatThrownBy(() -> Args.parse("get", "pools", "-o"))
        .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode).isEqualTo(2));
  }

  @Test
  void durations() {
    assertThat(Args.parseDuration("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(Args.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Args.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Args.parseDuration("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Args.parseDuration("45")).isEqualTo(Duration.ofSeconds(45));
    assertThatThrownBy(() -> Args.parseDuration("soon")).isInstanceOf(CliException.class);
  }

  @Test
  void globalFlagsMayComeBeforeTheCommand() {
    Args a = Args.parse("--url", "http://x:1", "--token=t", "get", "pools");
    assertThat(a.words()).containsExactly("get", "pools");
    assertThat(a.flag("url")).isEqualTo("http://x:1");
    assertThat(a.flag("token")).isEqualTo("t");
  }
}
