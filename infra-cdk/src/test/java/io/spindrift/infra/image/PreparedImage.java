package io.spindrift.infra.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Image contents prepared once per test JVM by {@code prepare-image.sh}, from the stand-in jar and
 * from the real shaded jar ({@link HandlerJar}). The real handler's archive is trained against the
 * shared local stack ({@code --stack-env}), so its training run commits a batch.
 */
final class PreparedImage {
  private static Path standIn;
  private static Optional<Path> real;
  /** What archive.properties says of a training run that committed its batch. */
  static final String TRAINED_ON_COMMIT = "trained.invocation=committed a batch on a local stack";

  private PreparedImage() {}

  /** The {@code task/} directory prepared from the stand-in handler jar, with its CDS archive. */
  static synchronized Path standInTask() {
    if (standIn == null) {
      Path dir = ImageScripts.moduleDir().resolve("target/image-test/stand-in");
      Path jar = StandInHandlerJar.build(dir.resolve("jar"));
      standIn = prepare(jar, dir.resolve("build"), List.of());
    }
    return standIn;
  }

  /**
   * The {@code task/} directory prepared from the real handler jar (built if missing), its archive
   * trained on the shared local stack; empty only if building the jar is turned off.
   */
  static synchronized Optional<Path> realTask() {
    if (real == null) {
      Path dir = ImageScripts.moduleDir().resolve("target/image-test/real");
      real = HandlerJar.locateOrBuild().map(jar -> prepare(jar, dir.resolve("build"),
          List.of("--stack-env", LocalStackEnvironment.writeSettings(dir.resolve("stack.env")).toString())));
    }
    return real;
  }

  private static Path prepare(Path jar, Path out, List<String> options) {
    List<String> args = new ArrayList<>(List.of("--jar", jar.toString(), "--out", out.toString()));
    args.addAll(options);
    ImageScripts.Run run = ImageScripts.prepareImage(args);
    assertThat(run.exitCode()).as("prepare-image.sh output:%n%s", run.output()).isZero();
    Path task = out.resolve("task");
    assertThat(Files.isRegularFile(task.resolve("cds/spindrift.jsa"))).isTrue();
    return task;
  }
}
