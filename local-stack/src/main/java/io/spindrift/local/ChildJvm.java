package io.spindrift.local;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Command lines for emulator JVMs: the same {@code java} as this JVM, a small heap, quick start-up flags, and
 * {@link Supervised} as the entry point so the child halts when this JVM is gone. A child that runs out of heap
 * exits, its log saying so, rather than answering requests half-served by threads that died.
 */
final class ChildJvm {
  private static final String SUPERVISOR_CLASS_FILE = Supervised.class.getSimpleName() + ".class";

  private final Path javaBinary = Path.of(System.getProperty("java.home"), "bin", "java");
  private final Path supervisorClasses;

  /** Copies the supervisor's one class file under {@code workDir}, so children see nothing else of ours. */
  ChildJvm(Path workDir) {
    this.supervisorClasses = workDir.resolve("supervisor");
    Path target = supervisorClasses.resolve(Supervised.class.getName().replace('.', '/') + ".class");
    try (InputStream in = Supervised.class.getResourceAsStream(SUPERVISOR_CLASS_FILE)) {
      if (in == null) {
        throw new IllegalStateException("Cannot find " + SUPERVISOR_CLASS_FILE + " beside " + Supervised.class);
      }
      Files.createDirectories(target.getParent());
      Files.copy(in, target);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot copy the child supervisor to " + target, e);
    }
  }

  List<String> command(String classpath, String maxHeap, List<String> jvmOptions, String mainClass,
      List<String> args) {
    List<String> command = new ArrayList<>(List.of(
        javaBinary.toString(), "-Xmx" + maxHeap, "-XX:+ExitOnOutOfMemoryError", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"));
    command.addAll(jvmOptions);
    command.addAll(List.of(
        "-cp", classpath + File.pathSeparator + supervisorClasses,
        Supervised.class.getName(), Long.toString(ProcessHandle.current().pid()), mainClass));
    command.addAll(args);
    return command;
  }
}
