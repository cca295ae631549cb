package io.dynofleet.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** The management API. */
@ConfigMapping(prefix = "dynofleet.api")
public interface ApiConfig {

  /**
   * Bearer token every management request must carry ({@code DYNOFLEET_API_TOKEN}). Required outside
   * sandbox mode; in sandbox mode a random one is generated and printed at start.
   */
  Optional<String> token();

  /** Largest request body the API reads, in bytes; larger ones get 413. */
  @WithDefault("1048576")
  int maxBodyBytes();
}
