package io.dynofleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The HEALTHY column of {@code dynofleet describe pool}. */
class BackendHealthTextTest {
  private final ObjectMapper json = new ObjectMapper();

  private String healthy(String backend) throws Exception {
    return Cli.healthy(json.readTree(backend));
  }

  @Test
  void namesTheDynosThatFindAHealthyBackendFailing() throws Exception {
    assertThat(healthy("{\"healthy\": true, \"failingOn\": [\"web.2.ab12\", \"web.3.cd34\"]}"))
        .isEqualTo("true (failing on web.2.ab12, web.3.cd34)");
    assertThat(healthy("{\"healthy\": true}")).isEqualTo("true");
    assertThat(healthy("{\"healthy\": false}")).isEqualTo("false");
    assertThat(healthy("{\"phase\": \"Creating\"}")).isEqualTo("-");
  }

  /** Audit 18 L5: that a backend fails, and now how. */
  @Test
  void saysWhatAFailingBackendMet() throws Exception {
    assertThat(healthy("{\"healthy\": false, \"lastFailure\": \"connection refused\"}"))
        .isEqualTo("false (connection refused)");
    assertThat(healthy("{\"healthy\": false, \"lastFailure\": null}")).isEqualTo("false");
  }

  /** Audit 22 L6: a static URL no proxy has probed yet is healthy as assumed, and says so. */
  @Test
  void saysAStaticUrlIsNotProbedYet() throws Exception {
    assertThat(healthy("{\"healthy\": true, \"probed\": false}"))
        .isEqualTo("true (not probed yet)");
  }
}
