package io.spindrift.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The Spindrift checkout this JVM runs from: system property {@code spindrift.repo.root} (surefire sets it),
 * else environment variable {@code SPINDRIFT_REPO_ROOT}, else the nearest directory above the working directory
 * whose pom.xml is {@code spindrift-parent} itself (a module's pom names it only as its parent).
 */
final class RepoRoot {
  static final String PROPERTY = "spindrift.repo.root";
  static final String ENVIRONMENT = "SPINDRIFT_REPO_ROOT";
  private static final String PARENT_ARTIFACT = "<artifactId>spindrift-parent</artifactId>";

  private RepoRoot() {}

  static Path locate() {
    String configured = Optional.ofNullable(System.getProperty(PROPERTY)).orElse(System.getenv(ENVIRONMENT));
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    return above(Path.of("").toAbsolutePath());
  }

  /** The nearest directory at or above {@code start} that holds the spindrift-parent pom.xml. */
  static Path above(Path start) {
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (isParentPom(dir.resolve("pom.xml"))) {
        return dir;
      }
    }
    throw new IllegalStateException("Cannot find the Spindrift checkout above " + start + ": set system property "
        + PROPERTY + " or environment variable " + ENVIRONMENT + " to the directory of the parent pom.xml");
  }

  private static boolean isParentPom(Path pom) {
    try {
      return Files.isRegularFile(pom)
          && Files.readString(pom).replaceAll("(?s)<parent>.*?</parent>", "").contains(PARENT_ARTIFACT);
    } catch (IOException e) {
      return false;
    }
  }
}
