package io.spindrift.infra.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Image contents prepared once per test JVM by {@code prepare-image.sh}, from the stand-in jar and,
 * when it can be had, from the real shaded jar ({@link HandlerJar}).
 */
final class PreparedImage {
  private static Path standIn;
  private static Optional<Path> real;

  private PreparedImage() {}

  /** The {@code task/} directory prepared from the stand-in handler jar, with its CDS archive. */
  static synchronized Path standInTask() {
    if (standIn == null) {
      Path dir = ImageScripts.moduleDir().resolve("target/image-test/stand-in");
      Path jar = StandInHandlerJar.build(dir.resolve("jar"));
      standIn = prepare(jar, dir.resolve("build"));
    }
    return standIn;
  }

  /** The {@code task/} directory prepared from the real handler jar, if it exists or can be built. */
  static synchronized Optional<Path> realTask() {
    if (real == null) {
      real = HandlerJar.locateOrBuild()
          .map(jar -> prepare(jar, ImageScripts.moduleDir().resolve("target/image-test/real/build")));
    }
    return real;
  }

  private static Path prepare(Path jar, Path out) {
    ImageScripts.Run run = ImageScripts.prepareImage(List.of("--jar", jar.toString(), "--out", out.toString()));
    assertThat(run.exitCode()).as("prepare-image.sh output:%n%s", run.output()).isZero();
    Path task = out.resolve("task");
    assertThat(Files.isRegularFile(task.resolve("cds/spindrift.jsa"))).isTrue();
    return task;
  }
}
