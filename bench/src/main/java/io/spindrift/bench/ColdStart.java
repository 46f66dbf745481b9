package io.spindrift.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Cold start: starts a new JVM ({@link ColdStartChild}) on this JVM's class path and options and times it from
 * process launch until it reports its first batch committed. Class path directories (Maven's
 * {@code target/classes}) are packed into jars first, because CDS archives only classes from jars: every child,
 * with an archive or without, gets the same packed class path. The child's stderr goes to a log file under the
 * output directory; a child that fails or takes longer than the limit fails the measurement, naming the log.
 */
final class ColdStart {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long LIMIT_SECONDS = 180;
  static final String JVM_TO_MAIN = "jvm start to main";
  static final String MAIN_TO_COMMITTED = "main to committed";

  /** One cold JVM: launch to committed, and the child's own split (JVM start to main, main to committed). */
  record Run(double millis, Map<String, Double> phases) {}

  private final Path logs;
  private final Map<String, String> environment;
  private final String classPath;
  private int launched;

  /** @param jars where packed copies of class path directories go */
  ColdStart(Path logs, Map<String, String> environment, Path jars) throws IOException {
    this.logs = Files.createDirectories(logs);
    this.environment = Map.copyOf(environment);
    this.classPath = packedClassPath(System.getProperty("java.class.path"), Files.createDirectories(jars));
  }

  /** {@code classPath} with each directory replaced by a jar of its contents. */
  static String packedClassPath(String classPath, Path jars) throws IOException {
    List<String> entries = new ArrayList<>();
    int packed = 0;
    for (String entry : classPath.split(File.pathSeparator)) {
      Path path = Path.of(entry);
      if (Files.isDirectory(path)) {
        Path jar = jars.resolve("classpath-dir-" + (++packed) + ".jar");
        pack(path, jar);
        entries.add(jar.toString());
      } else {
        entries.add(entry);
      }
    }
    return String.join(File.pathSeparator, entries);
  }

  private static void pack(Path dir, Path jar) throws IOException {
    try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
        var files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new java.util.jar.JarEntry(dir.relativize(file).toString().replace(File.separatorChar, '/')));
        Files.copy(file, out);
        out.closeEntry();
      }
    }
  }

  /** The JVM options this benchmark runs with, which children get too (heap, Spark's --add-opens…). */
  static List<String> inheritedJvmOptions() {
    return ManagementFactory.getRuntimeMXBean().getInputArguments();
  }

  Run run(List<String> jvmOptions, List<String> childArgs) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", classPath, ColdStartChild.class.getName()));
    command.addAll(childArgs);
    Path log = logs.resolve("cold-" + (++launched) + "-" + childArgs.get(0) + ".log");
    Files.writeString(log, String.join(" ", command).replace(File.pathSeparator, File.pathSeparator + "\n  ") + "\n");
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().putAll(environment);
    long start = System.nanoTime();
    Process child = builder.start();
    Thread watchdog = watchdog(child, log);
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      InvocationLog.Line invocation = null;
      while ((line = out.readLine()) != null) {
        if (line.startsWith(ColdStartChild.MARKER)) {
          double millis = (System.nanoTime() - start) / 1e6;
          // keep reading: a JVM writing a CDS archive at exit logs to stdout, and a full pipe would block its exit
          while (out.readLine() != null) {
            // discarded
          }
          awaitExit(child);
          return new Run(millis, phases(line.substring(ColdStartChild.MARKER.length()), invocation));
        }
        if (line.startsWith("{") && line.contains("\"timingsMs\"")) {
          invocation = InvocationLog.parse(line);
        }
      }
      awaitExit(child);
      throw new IllegalStateException("The cold-start JVM exited (" + child.exitValue()
          + ") without committing its batch; see " + log);
    } finally {
      watchdog.interrupt();
      if (child.isAlive()) {
        child.destroyForcibly();
      }
    }
  }

  /** Ends a child that hangs, so a stuck cold start fails the run instead of blocking it. */
  private static Thread watchdog(Process child, Path log) {
    Thread thread = new Thread(() -> {
      try {
        if (!child.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
          System.err.println("Cold-start JVM still running after " + LIMIT_SECONDS + " s; stopping it (" + log + ")");
          child.destroyForcibly();
        }
      } catch (InterruptedException done) {
        Thread.currentThread().interrupt();
      }
    }, "bench-cold-start-watchdog");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /**
   * Whether a JVM started with {@code -Xlog:cds*=info:file=<log>} mapped its dynamic (AppCDS) archive: a JVM
   * with {@code -Xshare:auto} silently runs without an archive it cannot use (another class path or JVM build).
   */
  static boolean archiveUsed(Path cdsLog) throws IOException {
    if (!Files.isRegularFile(cdsLog)) {
      return false;
    }
    String log = Files.readString(cdsLog);
    return log.contains("Mapped dynamic region") && !log.contains("Unable to use shared archive")
        && !log.contains("mismatch");
  }

  private static void awaitExit(Process child) throws InterruptedException {
    if (!child.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The child's split of its life: JVM start to main, then either SparkSession creation and the rest (plain), or
   * the runtime's set-up (SparkSession, clients, catalog: everything before its first batch) and the first batch
   * as its invocation line reports it (Spindrift).
   */
  static Map<String, Double> phases(String json, InvocationLog.Line invocation) throws IOException {
    JsonNode node = JSON.readTree(json);
    Map<String, Double> phases = new LinkedHashMap<>();
    double mainToCommitted = node.path("mainToCommittedMs").asDouble();
    phases.put(JVM_TO_MAIN, node.path("jvmToMainMs").asDouble());
    phases.put(MAIN_TO_COMMITTED, mainToCommitted);
    double session = node.path("sessionMs").asDouble(-1);
    if (session >= 0) {
      phases.put("SparkSession created", session);
      phases.put("first query, to committed", mainToCommitted - session);
    }
    if (invocation != null) {
      phases.put("runtime set-up (SparkSession, clients, catalog)", mainToCommitted - invocation.durationMs());
      phases.put("first batch (runtime durationMs)", invocation.durationMs());
      invocation.timingsMs().forEach((name, ms) -> phases.put("first batch " + name, ms));
    }
    return phases;
  }

}
