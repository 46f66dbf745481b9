package io.spindrift.local;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Run-time classpaths of the Java emulators, resolved by Maven from a generated pom per service and cached in
 * {@code ~/.cache/spindrift/local-stack/<artifactId>-<version>.classpath}.
 *
 * <p>A cached classpath is reused while every file it lists exists and the pom it came from is unchanged. Missing
 * ones are resolved together in one Maven run (an aggregator over one module per service), because each Maven
 * start costs seconds.
 */
final class ServiceClasspaths {
  private static final Path CACHE_DIR =
      Path.of(System.getProperty("user.home"), ".cache", "spindrift", "local-stack");
  private static final String DEPENDENCY_PLUGIN_VERSION = "3.8.1";
  private static final long MAVEN_TIMEOUT_MINUTES = 15;

  /**
   * One emulator to resolve. {@code pins} are extra "group:artifact:version" dependencies that win Maven's
   * nearest-first mediation where the emulator's own pom resolves a version that does not run.
   */
  record Service(String groupId, String artifactId, String version, List<String> pins) {
    String key() {
      return artifactId + "-" + version;
    }

    String pom(Path classpathFile) {
      String dependencies = Stream.concat(Stream.of(groupId + ":" + artifactId + ":" + version), pins.stream())
          .map(ServiceClasspaths::dependencyXml)
          .collect(Collectors.joining());
      return """
          <project xmlns="http://maven.apache.org/POM/4.0.0">
            <modelVersion>4.0.0</modelVersion>
            <groupId>io.spindrift.local-stack</groupId>
            <artifactId>%s</artifactId>
            <version>1</version>
            <dependencies>%s
            </dependencies>
            <build><plugins><plugin>
              <groupId>org.apache.maven.plugins</groupId>
              <artifactId>maven-dependency-plugin</artifactId>
              <version>%s</version>
              <configuration><outputFile>%s</outputFile></configuration>
            </plugin></plugins></build>
          </project>
          """.formatted(key(), dependencies, DEPENDENCY_PLUGIN_VERSION, classpathFile);
    }
  }

  private ServiceClasspaths() {}

  /** The classpath of each service, in the order given; runs Maven once for those not cached. */
  static synchronized Map<Service, String> resolve(List<Service> services) {
    try {
      Files.createDirectories(CACHE_DIR);
      try (FileChannel lockFile = FileChannel.open(CACHE_DIR.resolve(".lock"),
              StandardOpenOption.CREATE, StandardOpenOption.WRITE);
           FileLock lock = lockFile.lock()) {
        List<Service> missing = services.stream().filter(s -> cached(s).isEmpty()).toList();
        if (!missing.isEmpty()) {
          resolveWithMaven(missing);
        }
        Map<Service, String> classpaths = new LinkedHashMap<>();
        for (Service service : services) {
          classpaths.put(service, cached(service).orElseThrow(() -> new IllegalStateException(
              "Maven wrote no usable classpath for " + service.key() + " to " + classpathFile(service))));
        }
        return classpaths;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot resolve local-stack classpaths under " + CACHE_DIR, e);
    }
  }

  private static Optional<String> cached(Service service) {
    try {
      Path classpath = classpathFile(service);
      Path pom = pomFile(service);
      if (!Files.exists(classpath) || !Files.exists(pom)
          || !Files.readString(pom).equals(service.pom(classpath))) {
        return Optional.empty();
      }
      String entries = Files.readString(classpath).strip();
      boolean complete = !entries.isEmpty()
          && Arrays.stream(entries.split(File.pathSeparator)).allMatch(entry -> Files.exists(Path.of(entry)));
      return complete ? Optional.of(entries) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static void resolveWithMaven(List<Service> services) throws IOException {
    Path build = Files.createTempDirectory(CACHE_DIR, "resolve-");
    try {
      List<String> modules = new ArrayList<>();
      for (Service service : services) {
        Path module = build.resolve(service.key());
        Files.createDirectories(module);
        Files.writeString(module.resolve("pom.xml"), service.pom(classpathFile(service)));
        modules.add("<module>" + service.key() + "</module>");
      }
      Files.writeString(build.resolve("pom.xml"), """
          <project xmlns="http://maven.apache.org/POM/4.0.0">
            <modelVersion>4.0.0</modelVersion>
            <groupId>io.spindrift.local-stack</groupId>
            <artifactId>resolve</artifactId>
            <version>1</version>
            <packaging>pom</packaging>
            <modules>%s</modules>
          </project>
          """.formatted(String.join("", modules)));
      runMaven(build);
      for (Service service : services) {
        Files.copy(build.resolve(service.key()).resolve("pom.xml"), pomFile(service),
            StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      WorkFiles.deleteRecursively(build);
    }
  }

  private static void runMaven(Path build) throws IOException {
    Path log = build.resolve("maven.log");
    List<String> command = List.of("mvn", "-B", "-q", "--no-transfer-progress",
        "-f", build.resolve("pom.xml").toString(), "dependency:build-classpath");
    Process maven;
    try {
      maven = new ProcessBuilder(command).directory(build.toFile())
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      throw new IllegalStateException("LocalStack resolves DynamoDB Local, s3proxy and Kafka with Maven, "
          + "but cannot run 'mvn': put Maven on PATH (" + e.getMessage() + ")", e);
    }
    try {
      if (!maven.waitFor(MAVEN_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        maven.destroyForcibly();
        throw new IllegalStateException("'" + String.join(" ", command) + "' took over "
            + MAVEN_TIMEOUT_MINUTES + " min:\n" + Files.readString(log, StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      maven.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while Maven resolved local-stack classpaths", e);
    }
    if (maven.exitValue() != 0) {
      throw new IllegalStateException("'" + String.join(" ", command) + "' failed with code "
          + maven.exitValue() + ":\n" + Files.readString(log, StandardCharsets.UTF_8));
    }
  }

  private static Path classpathFile(Service service) {
    return CACHE_DIR.resolve(service.key() + ".classpath");
  }

  private static Path pomFile(Service service) {
    return CACHE_DIR.resolve(service.key() + ".pom");
  }

  private static String dependencyXml(String coordinates) {
    String[] gav = coordinates.split(":");
    return "\n    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>"
        .formatted(gav[0], gav[1], gav[2]);
  }
}
