package io.spindrift.infra.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** image/prepare-image.sh, the exec wrapper, and the Dockerfile that only copies their output. */
class PrepareImageScriptTest {

  @Test
  void refusesToRunWithoutTheHandlerJarAndSaysHowToBuildIt(@TempDir Path dir) {
    ImageScripts.Run run = ImageScripts.prepareImage(List.of("--jar", dir.resolve("missing.jar").toString(),
        "--out", dir.resolve("out").toString()));

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.output()).contains("handler jar not found", "missing.jar",
        "-pl stream-handler -am package -DskipTests");
    assertThat(dir.resolve("out")).doesNotExist();
  }

  @Test
  void refusesAJarWithoutTheHandlerClass(@TempDir Path dir) throws IOException {
    Path jar = dir.resolve("thin.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry("io/spindrift/Other.class"));
      out.closeEntry();
    }
    ImageScripts.Run run = ImageScripts.prepareImage(List.of("--jar", jar.toString(), "--out", dir.resolve("out").toString()));

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.output()).contains("has no io/spindrift/handler/KinesisHandler.class");
  }

  @Test
  void refusesAStackEnvThatWouldLetTheTrainingRunReachForAws(@TempDir Path dir) throws IOException {
    Path stackEnv = Files.writeString(dir.resolve("stack.env"), "SPINDRIFT_S3_ENDPOINT=http://127.0.0.1:9\n");
    Path jar = PreparedImage.standInTask().resolve("lib/spindrift-lambda.jar");

    ImageScripts.Run run = ImageScripts.prepareImage(List.of("--jar", jar.toString(),
        "--out", dir.resolve("out").toString(), "--stack-env", stackEnv.toString()));

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.output()).contains(stackEnv + " sets no SPINDRIFT_DYNAMODB_ENDPOINT");
  }

  @Test
  void laysOutEverythingTheImageNeeds() throws IOException {
    Path task = PreparedImage.standInTask();

    assertThat(task.resolve("lib/spindrift-lambda.jar")).isRegularFile();
    assertThat(Files.isExecutable(task.resolve("bin/spindrift-java"))).isTrue();
    assertThat(task.resolve("conf/jvm.options")).hasSameTextualContentAs(ImageScripts.imageDir().resolve("jvm.options"));
    assertThat(task.resolve("cds/spindrift.jsa")).isNotEmptyFile();
    assertThat(task.resolve("cds/archive.properties")).content()
        .contains("trained.jvm=" + System.getProperty("java.vm.version"), "trained.where=local");
    System.out.println("[image] stand-in image contents: " + sizeOf(task) / 1024 + " KiB in " + task);
  }

  @Test
  void putsTheJobJarsBesideTheHandlerJar(@TempDir Path dir) throws IOException {
    Path jobJar = dir.resolve("clickstream-job.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jobJar))) {
      out.putNextEntry(new JarEntry("com/example/Clickstream.class"));
      out.closeEntry();
    }
    Path jar = PreparedImage.standInTask().resolve("lib/spindrift-lambda.jar");

    ImageScripts.Run run = ImageScripts.prepareImage(List.of("--jar", jar.toString(),
        "--out", dir.resolve("out").toString(), "--job-jar", jobJar.toString(), "--no-cds"));

    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(dir.resolve("out/task/lib/job-clickstream-job.jar")).hasSameBinaryContentAs(jobJar);
    assertThat(dir.resolve("out/task/lib/spindrift-lambda.jar")).isRegularFile();
    ImageScripts.Run missing = ImageScripts.prepareImage(List.of("--jar", jar.toString(),
        "--out", dir.resolve("out2").toString(), "--job-jar", dir.resolve("nope.jar").toString(), "--no-cds"));
    assertThat(missing.exitCode()).isNotZero();
    assertThat(missing.output()).contains("job jar not found", "nope.jar");
  }

  @Test
  void dockerfileOnlyCopiesWhatTheScriptProduced() throws IOException {
    List<String> instructions = instructions(ImageScripts.imageDir().resolve("Dockerfile"));
    assertThat(instructions).extracting(i -> i.split("\\s+")[0])
        .as("no build step runs in Docker").containsOnly("ARG", "FROM", "COPY", "ENV", "CMD");
    assertThat(instructions).contains("ARG BASE_IMAGE=public.ecr.aws/lambda/java:17", "FROM ${BASE_IMAGE}",
        "COPY build/task/ ${LAMBDA_TASK_ROOT}/",
        "CMD [\"io.spindrift.handler.KinesisHandler::handleRequest\"]");
    String env = instructions.stream().filter(i -> i.startsWith("ENV")).findFirst().orElseThrow();
    assertThat(env).contains("AWS_LAMBDA_EXEC_WRAPPER=/var/task/bin/spindrift-java",
        "JAVA_TOOL_OPTIONS=\"-XX:SharedArchiveFile=/var/task/cds/spindrift.jsa -Xshare:auto\"");

    Path task = PreparedImage.standInTask();
    for (String inImage : List.of("/var/task/bin/spindrift-java", "/var/task/cds/spindrift.jsa")) {
      assertThat(task.resolve(inImage.substring("/var/task/".length()))).as("%s is produced by the script", inImage).exists();
    }
    assertThat(Files.readAllLines(ImageScripts.imageDir().resolve(".dockerignore")))
        .filteredOn(l -> !l.startsWith("#")).containsExactly("*", "!build/task/");
  }

  @Test
  void execWrapperLetsTheArchiveNamedInJavaToolOptionsWin(@TempDir Path taskRoot) throws IOException {
    Files.createDirectories(taskRoot.resolve("conf"));
    Files.copy(ImageScripts.imageDir().resolve("jvm.options"), taskRoot.resolve("conf/jvm.options"));
    List<String> bootstrapLine = List.of("echo", "-XX:+UseSerialGC", "-Xshare:on",
        "-XX:SharedArchiveFile=/var/lang/lib/server/runtime.jsa", "-classpath", "/var/runtime/lib/ric.jar",
        "com.amazonaws.services.lambda.runtime.api.client.AWSLambda", "h::handleRequest");

    List<String> withArchive = wrap(taskRoot, bootstrapLine, "-XX:SharedArchiveFile=/var/task/cds/spindrift.jsa -Xshare:auto");
    List<String> training = wrap(taskRoot, bootstrapLine, "-XX:ArchiveClassesAtExit=/var/task/cds/spindrift.jsa");
    List<String> plain = wrap(taskRoot, bootstrapLine, "");

    assertThat(withArchive).doesNotContain("-Xshare:on", "-XX:SharedArchiveFile=/var/lang/lib/server/runtime.jsa")
        .contains("-Xshare:auto", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "-Djdk.reflect.useDirectMethodHandle=false")
        .endsWith("com.amazonaws.services.lambda.runtime.api.client.AWSLambda", "h::handleRequest");
    assertThat(training).as("training keeps the bootstrap's base archive")
        .contains("-Xshare:on", "-XX:SharedArchiveFile=/var/lang/lib/server/runtime.jsa", "--add-opens=java.base/java.nio=ALL-UNNAMED");
    assertThat(plain).contains("-Xshare:on", "-XX:SharedArchiveFile=/var/lang/lib/server/runtime.jsa");
  }

  private static List<String> wrap(Path taskRoot, List<String> commandLine, String javaToolOptions) {
    List<String> command = new ArrayList<>(List.of(ImageScripts.imageDir().resolve("spindrift-java").toString()));
    command.addAll(commandLine);
    ImageScripts.Run run = ImageScripts.run(command,
        Map.of("LAMBDA_TASK_ROOT", taskRoot.toString(), "JAVA_TOOL_OPTIONS", javaToolOptions), Duration.ofSeconds(30));
    assertThat(run.exitCode()).as(run.output()).isZero();
    return Arrays.asList(run.output().trim().split(" "));
  }

  /** Dockerfile instructions with comments dropped and continuation lines joined. */
  static List<String> instructions(Path dockerfile) throws IOException {
    List<String> instructions = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(dockerfile)) {
      String trimmed = line.trim();
      if (trimmed.isEmpty() || trimmed.startsWith("#")) {
        continue;
      }
      boolean continues = trimmed.endsWith("\\");
      current.append(continues ? trimmed.substring(0, trimmed.length() - 1).trim() + " " : trimmed);
      if (!continues) {
        instructions.add(current.toString());
        current.setLength(0);
      }
    }
    return instructions;
  }

  static long sizeOf(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
