package io.dynofleet.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Files and directories only this user may read, for what holds a secret (the embedded database's
 * password, the sandbox's second-process file): made with their permissions ({@code 0600}, {@code
 * 0700}) where the file system has POSIX ones, so that no moment exists in which others may read
 * them; plain where it has none (Windows), whose default ACLs already keep a user's temp files.
 */
public final class PrivateFiles {
  private PrivateFiles() {}

  /** A new file at {@code file}, readable and writable by this user only. */
  public static Path createFile(Path file) throws IOException {
    return create("rw-------", attrs -> Files.createFile(file, attrs));
  }

  /** A new temporary file, readable and writable by this user only. */
  public static Path createTempFile(String prefix, String suffix) throws IOException {
    return create("rw-------", attrs -> Files.createTempFile(prefix, suffix, attrs));
  }

  /** A new temporary directory that only this user may enter. */
  public static Path createTempDirectory(String prefix) throws IOException {
    return create("rwx------", attrs -> Files.createTempDirectory(prefix, attrs));
  }

  private interface Creation {
    Path with(FileAttribute<?>... attrs) throws IOException;
  }

  private static Path create(String permissions, Creation creation) throws IOException {
    try {
      return creation.with(
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)));
    } catch (UnsupportedOperationException e) {
      return creation.with(); // no POSIX permissions (Windows)
    }
  }
}
