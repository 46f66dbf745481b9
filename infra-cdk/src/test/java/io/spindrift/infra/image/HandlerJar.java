package io.spindrift.infra.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The real shaded handler jar, {@code stream-handler/target/spindrift-lambda.jar}. When it is
 * missing it is built with Maven ({@code -pl stream-handler -am package -DskipTests}) under the
 * machine's build lock. A test JVM forked by a Maven build that already holds that lock must not
 * wait for it (that build is waiting for this test): the lock's holder is looked up in
 * /proc/locks, and when it is one of this process's ancestors the nested build runs under the
 * lock it already holds. {@code -Dspindrift.handler.jar=PATH} points at another jar;
 * {@code -Dspindrift.handler.build=false} never builds, and is the only way the real-handler tests
 * skip: a build that fails or writes no jar fails them.
 */
final class HandlerJar {
  static final Path BUILD_LOCK = Path.of("/tmp/spindrift-mvn.lock");
  /** Why a real-handler test was skipped: building the jar was turned off. */
  static final String SKIPPED = "no real handler jar and -Dspindrift.handler.build=false: see the [HandlerJar] line";

  private HandlerJar() {}

  static Path repoRoot() {
    return ImageScripts.moduleDir().getParent();
  }

  static Path path() {
    String override = System.getProperty("spindrift.handler.jar");
    return override != null ? Path.of(override) : repoRoot().resolve("stream-handler/target/spindrift-lambda.jar");
  }

  /** The jar, built first if missing; empty (with the reason printed) only if building is turned off. */
  static Optional<Path> locateOrBuild() {
    Path jar = path();
    if (Files.isRegularFile(jar)) {
      return Optional.of(jar);
    }
    if (!Boolean.parseBoolean(System.getProperty("spindrift.handler.build", "true"))) {
      System.out.println("[HandlerJar] " + jar + " missing and building disabled (-Dspindrift.handler.build=false)");
      return Optional.empty();
    }
    build();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("the stream-handler build succeeded but produced no " + jar
          + ": its shade plugin must write target/spindrift-lambda.jar");
    }
    return Optional.of(jar);
  }

  private static void build() {
    List<String> command = new ArrayList<>();
    if (!lockHeldByAncestor()) {
      command.addAll(List.of("flock", BUILD_LOCK.toString()));
    }
    command.addAll(List.of("mvn", "-B", "--no-transfer-progress", "-q", "-f", repoRoot().resolve("pom.xml").toString(),
        "-pl", "stream-handler", "-am", "package", "-DskipTests"));
    System.out.println("[HandlerJar] building the handler jar: " + String.join(" ", command));
    ImageScripts.Run run = ImageScripts.run(command, Map.of(), Duration.ofMinutes(30));
    if (run.exitCode() != 0) {
      String out = run.output();
      throw new IllegalStateException("building stream-handler failed (exit " + run.exitCode() + "):\n"
          + out.substring(Math.max(0, out.length() - 4000)));
    }
  }

  /** Whether the build lock is held (flock) by an ancestor of this process. */
  static boolean lockHeldByAncestor() {
    try {
      if (!Files.exists(BUILD_LOCK)) {
        return false;
      }
      long inode = ((Number) Files.getAttribute(BUILD_LOCK, "unix:ino")).longValue();
      List<Long> holders = Files.readAllLines(Path.of("/proc/locks")).stream()
          .map(line -> line.trim().split("\\s+"))
          .filter(f -> f.length > 5 && f[1].equals("FLOCK") && f[5].endsWith(":" + inode))
          .map(f -> Long.parseLong(f[4]))
          .toList();
      for (Optional<ProcessHandle> p = ProcessHandle.current().parent(); p.isPresent(); p = p.get().parent()) {
        if (holders.contains(p.get().pid())) {
          return true;
        }
      }
      return false;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
