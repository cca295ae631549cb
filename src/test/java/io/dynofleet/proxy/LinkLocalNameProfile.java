package io.dynofleet.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link ProxyProfile} with a name that resolves to the cloud metadata address, offline: Vert.x's
 * own resolver (Netty's, {@code quarkus.vertx.use-async-dns}) reads a hosts file of the test's,
 * which holds this machine's own entries and {@link #NAME}. The proxy resolves a static backend's
 * name through Vert.x ({@code PublicAddress.resolve}) whichever resolver Vert.x uses; on a dyno it
 * is the JDK's, which no test can point at a hosts file without changing the whole JVM.
 */
public class LinkLocalNameProfile extends ProxyProfile {
  /** Resolves to 169.254.169.254 here. */
  public static final String NAME = "metadata.dynofleet.test";

  private static final String HOSTS = hostsFile();

  private static String hostsFile() {
    try {
      Path f = Files.createTempFile("dynofleet-hosts", "");
      f.toFile().deleteOnExit();
      Path own = Path.of("/etc/hosts");
      String base = Files.isReadable(own) ? Files.readString(own) : "";
      Files.writeString(f, base + "\n127.0.0.1 localhost\n169.254.169.254 " + NAME + "\n");
      return f.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Map<String, String> getConfigOverrides() {
    // Quarkus sets this JVM-wide when a profile without async DNS starts, and never clears it:
    // set, Vert.x takes the JDK's resolver, which knows nothing of the hosts file
    System.clearProperty("vertx.disableDnsResolver");
    Map<String, String> m = new HashMap<>(super.getConfigOverrides());
    m.put("quarkus.vertx.use-async-dns", "true");
    m.put("quarkus.vertx.resolver.hosts-path", HOSTS);
    return m;
  }
}
