package io.spindrift.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The files a stack writes under its work directory: configurations, logs, data. */
final class WorkFiles {
  private static final String STACK_DIR_PREFIX = "spindrift-local-stack-";
  private static final String OWNER_FILE = "owner";
  private static final System.Logger LOG = System.getLogger(WorkFiles.class.getName());

  private WorkFiles() {}

  /**
   * A new temporary work directory for one stack, marked with this JVM as its owner. Directories left behind by
   * JVMs that are gone (killed, so no shutdown hook ran) are deleted first.
   */
  static Path createStackDir() {
    try {
      deleteAbandonedStackDirs();
      Path dir = Files.createTempDirectory(STACK_DIR_PREFIX);
      Files.writeString(dir.resolve(OWNER_FILE), ownerId(ProcessHandle.current()));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create a work directory for the local stack", e);
    }
  }

  static Path create(Path dir) {
    try {
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create " + dir, e);
    }
  }

  static Path write(Path file, String content) {
    try {
      return Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }

  private static void deleteAbandonedStackDirs() throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    try (Stream<Path> dirs = Files.list(tmp)) {
      for (Path dir : dirs.filter(d -> d.getFileName().toString().startsWith(STACK_DIR_PREFIX)).toList()) {
        if (isAbandoned(dir)) {
          try {
            deleteRecursively(dir);
          } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot delete abandoned local stack directory " + dir, e);
          }
        }
      }
    }
  }

  /** Whether the JVM named in the directory's owner file is gone (pid and start time, so reuse is no match). */
  private static boolean isAbandoned(Path dir) {
    try {
      String owner = Files.readString(dir.resolve(OWNER_FILE)).strip();
      long pid = Long.parseLong(owner.substring(0, owner.indexOf(' ')));
      return ProcessHandle.of(pid).map(WorkFiles::ownerId).filter(owner::equals).isEmpty();
    } catch (IOException | RuntimeException unreadable) {
      return false;
    }
  }

  private static String ownerId(ProcessHandle process) {
    return process.pid() + " " + process.info().startInstant().map(Object::toString).orElse("?");
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
