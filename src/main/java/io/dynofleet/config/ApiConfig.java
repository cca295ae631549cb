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

  /**
   * Directory of declarative pool files ({@code *.yaml}, {@code *.yml}, {@code *.json}), applied at
   * start as {@code dynofleet apply -f} would: created when missing, replaced when changed. Relative
   * to the working directory (on Heroku: the app root, so pools can live in git next to the app).
   */
  @WithDefault("config/pools")
  String poolsDir();

  /** Largest request body the API reads, in bytes; larger ones get 413. */
  @WithDefault("1048576")
  int maxBodyBytes();
}
