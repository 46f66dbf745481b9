package io.spindrift.infra.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the module's image scripts ({@code image/prepare-image.sh}, {@code image/local-bootstrap.sh})
 * as a developer would, and starts packaged handlers under the real runtime interface client.
 */
final class ImageScripts {
  /** The Kinesis handler string, as the CDK app sets it in the image CMD. */
  static final String KINESIS_HANDLER = "io.spindrift.handler.KinesisHandler::handleRequest";

  private ImageScripts() {}

  static Path moduleDir() {
    return Path.of(System.getProperty("spindrift.module.dir", ".")).toAbsolutePath().normalize();
  }

  static Path imageDir() {
    return moduleDir().resolve("image");
  }

  static Path runtimeLib() {
    return moduleDir().resolve("target/lambda-runtime");
  }

  static Path trainingEvent() {
    return imageDir().resolve("training/kinesis-event.json");
  }

  /** The CDS training run's settings, {@code image/training/training.env}. */
  static Map<String, String> trainingEnv() {
    return readEnv(imageDir().resolve("training/training.env"));
  }

  /** A file of KEY=VALUE lines ({@code #} comments and blank lines ignored), in file order. */
  static Map<String, String> readEnv(Path file) {
    try {
      Map<String, String> env = new LinkedHashMap<>();
      for (String line : Files.readAllLines(file)) {
        int eq = line.indexOf('=');
        if (!line.isBlank() && !line.startsWith("#") && eq > 0) {
          env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
        }
      }
      return env;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A finished process: exit code and combined output. */
  record Run(int exitCode, String output) {}

  static Run run(List<String> command, Map<String, String> env, Duration timeout) {
    try {
      Path log = Files.createTempFile("spindrift-image", ".log");
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().remove("JAVA_TOOL_OPTIONS");
      builder.environment().putAll(env);
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(command + " did not finish within " + timeout + ":\n" + Files.readString(log));
      }
      String output = Files.readString(log);
      Files.delete(log);
      return new Run(process.exitValue(), output);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Runs prepare-image.sh with {@code args}; the script builds nothing with Maven when run from a test. */
  static Run prepareImage(List<String> args) {
    List<String> command = new ArrayList<>(List.of(imageDir().resolve("prepare-image.sh").toString()));
    command.addAll(args);
    return run(command, Map.of("JAVA_HOME", System.getProperty("java.home")), Duration.ofMinutes(10));
  }

  /**
   * Starts {@code task}'s handler through local-bootstrap.sh and the image's exec wrapper, as the
   * Lambda bootstrap does, with {@code javaToolOptions} (may be empty) and extra environment.
   */
  static Process startRuntime(Path task, String handler, String runtimeApi, String javaToolOptions,
      Map<String, String> extraEnv, Path log) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(imageDir().resolve("local-bootstrap.sh").toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.remove("JAVA_TOOL_OPTIONS");
    env.put("SPINDRIFT_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    env.put("SPINDRIFT_RUNTIME_LIB", runtimeLib().toString());
    env.put("AWS_LAMBDA_RUNTIME_API", runtimeApi);
    env.put("_HANDLER", handler);
    env.put("LAMBDA_TASK_ROOT", task.toString());
    env.put("AWS_LAMBDA_EXEC_WRAPPER", task.resolve("bin/spindrift-java").toString());
    env.put("AWS_LAMBDA_FUNCTION_NAME", "spindrift-fidelity");
    env.put("AWS_LAMBDA_FUNCTION_VERSION", "1");
    env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048");
    env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/spindrift-fidelity");
    env.put("AWS_LAMBDA_LOG_STREAM_NAME", "local");
    env.put("AWS_REGION", "us-east-1");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    if (!javaToolOptions.isEmpty()) {
      env.put("JAVA_TOOL_OPTIONS", javaToolOptions);
    }
    env.putAll(extraEnv);
    return builder.start();
  }

  /** Stops a runtime started by {@link #startRuntime}; SIGTERM first so the JVM exits normally. */
  static void stop(Process process) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
