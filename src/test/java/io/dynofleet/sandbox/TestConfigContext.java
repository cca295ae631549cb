package io.dynofleet.sandbox;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigValue;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What a config source factory sees of the settings below it, made of a map: a name given is set
 * from a user-written source (ordinal 300), one not given reads as unset. For the sandbox's
 * factories' tests (SandboxHostTest, SandboxRefillTest).
 */
final class TestConfigContext {
  private TestConfigContext() {}

  static ConfigSourceContext of(Map<String, String> values, List<String> profiles) {
    return new ConfigSourceContext() {
      @Override
      public ConfigValue getValue(String name) {
        String v = values.get(name);
        return ConfigValue.builder()
            .withName(name)
            .withValue(v)
            .withConfigSourceOrdinal(v == null ? 0 : 300)
            .build();
      }

      @Override
      public Iterator<String> iterateNames() {
        return values.keySet().iterator();
      }

      @Override
      public List<String> getProfiles() {
        return profiles;
      }
    };
  }
}
