package io.dynofleet.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What holds a secret is made readable by its user only, from the moment it exists. */
class PrivateFilesTest {
  @TempDir Path dir;

  @Test
  void filesAndDirectoriesAreTheUsersOnly() throws Exception {
    Path file = PrivateFiles.createFile(dir.resolve("f"));
    Path temp = PrivateFiles.createTempFile("dynofleet-test", ".pw");
    Path tempDir = PrivateFiles.createTempDirectory("dynofleet-test-");
    try {
      assertThat(permissions(file)).isEqualTo("rw-------");
      assertThat(permissions(temp)).isEqualTo("rw-------");
      assertThat(temp.getFileName().toString()).startsWith("dynofleet-test").endsWith(".pw");
      assertThat(permissions(tempDir)).isEqualTo("rwx------");
    } finally {
      Files.deleteIfExists(temp);
      Files.deleteIfExists(tempDir);
    }
  }

  private static String permissions(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}
