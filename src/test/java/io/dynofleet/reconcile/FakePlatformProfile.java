package io.dynofleet.reconcile;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;
import java.util.Set;

/** The reconciler against the in-memory Heroku, the test data plane and a hand-moved clock. */
public class FakePlatformProfile implements QuarkusTestProfile {
  @Override
  public Set<Class<?>> getEnabledAlternatives() {
    return Set.of(FakePlatform.class, FakeDataPlane.class, TestClock.class);
  }

  @Override
  public Map<String, String> getConfigOverrides() {
    return Map.of("dynofleet.reconcile.drain-time", "5s");
  }
}
