package io.spindrift.fanout;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs child tasks in warm child JVM processes on this machine, as Lambda runs them in warm containers: each
 * process ({@link LocalChildMain}) serves one task at a time, keeps its SparkSession and caches between tasks and
 * shares nothing with the parent but S3 and DynamoDB. A process that dies (kill -9) fails its task and is replaced
 * by a new one; processes exit when this JVM closes their stdin or dies.
 */
public final class LocalProcessInvoker implements ChildInvoker {
  private static final Logger LOG = LoggerFactory.getLogger(LocalProcessInvoker.class);
  static final String RESULT = "@@spindrift-result ";
  static final String ERROR = "@@spindrift-error ";
  static final String SETTINGS = "@@spindrift-settings ";

  private final Map<String, String> environment;
  private final List<String> jvmOptions;
  private final LinkedBlockingQueue<Child> idle = new LinkedBlockingQueue<>();
  private final List<Child> all = new ArrayList<>();
  private final ExecutorService pool;
  private final int size;
  private volatile boolean closed;

  /** @param environment the children's settings (SPINDRIFT_*), as a Lambda function's environment */
  public LocalProcessInvoker(Map<String, String> environment, int size) {
    this.environment = Map.copyOf(environment);
    this.size = size;
    this.jvmOptions = jvmOptions();
    this.pool = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(runnable, "spindrift-local-child");
      thread.setDaemon(true);
      return thread;
    });
    for (int i = 0; i < size; i++) {
      idle.add(start());
    }
  }

  /** Spark's --add-opens of this JVM, a 1 GB heap and the serial collector (2 cores shared by every child). */
  private static List<String> jvmOptions() {
    List<String> options = new ArrayList<>(List.of("-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (argument.startsWith("--add-opens") || argument.startsWith("--add-exports")
          || argument.startsWith("-Djdk.reflect")) {
        options.add(argument);
      }
    }
    return options;
  }

  private synchronized Child start() {
    try {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmOptions);
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), LocalChildMain.class.getName()));
      Path log = Files.createTempFile("spindrift-child-", ".log");
      ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
      Map<String, String> env = new HashMap<>(environment);
      env.putIfAbsent("SPARK_LOCAL_IP", "127.0.0.1");
      builder.environment().putAll(env);
      Child child = new Child(builder.start(), log);
      all.add(child);
      LOG.info("Started local child executor, pid {} (log {})", child.process.pid(), log);
      return child;
    } catch (IOException e) {
      throw new IllegalStateException("Cannot start a local child executor JVM", e);
    }
  }

  @Override
  public CompletableFuture<String> invoke(ChildTask task) {
    return invoke(task, null);
  }

  /**
   * A view of these children for an app of other settings than the ones they started with (local mode and tests
   * run several apps over one pool of warm children; each child keeps one runtime per settings it was sent).
   * Closing the view leaves the children running.
   */
  public ChildInvoker forSettings(Map<String, String> settings) {
    String line;
    try {
      line = SETTINGS + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(settings);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
    return new ChildInvoker() {
      @Override
      public CompletableFuture<String> invoke(ChildTask task) {
        return LocalProcessInvoker.this.invoke(task, line);
      }

      @Override
      public int concurrency() {
        return size;
      }
    };
  }

  private CompletableFuture<String> invoke(ChildTask task, String settingsLine) {
    String line = settingsLine == null ? task.toJson() : settingsLine + "\n" + task.toJson();
    return CompletableFuture.supplyAsync(() -> {
      Child child = take();
      try {
        String response = child.call(line);
        idle.add(child);
        return response;
      } catch (RuntimeException e) {
        // a child whose output ended is gone even while the OS has not reaped it yet (isAlive still true just after
        // a kill -9): handing it out again would fail every retry of the task at once
        if (child.process.isAlive() && !child.broken) {
          idle.add(child);
        } else {
          child.process.destroyForcibly();
          replace(child);
        }
        throw e;
      }
    }, pool);
  }

  private Child take() {
    try {
      Child child = idle.take();
      if (!child.process.isAlive()) {
        replace(child);
        return take();
      }
      return child;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a local child executor", e);
    }
  }

  private synchronized void replace(Child dead) {
    all.remove(dead);
    if (!closed) {
      idle.add(start());
    }
  }

  /** The process ids of the child JVMs (tests kill or freeze them). */
  public synchronized List<Long> pids() {
    return all.stream().map(c -> c.process.pid()).toList();
  }

  /** The pid of the child JVM running a task now, if any (a test kills it mid-task). */
  public synchronized List<Long> busyPids() {
    return all.stream().filter(c -> c.busy).map(c -> c.process.pid()).toList();
  }

  @Override
  public int concurrency() {
    return size;
  }

  @Override
  public synchronized void close() {
    closed = true;
    for (Child child : all) {
      child.process.destroy();
    }
    for (Child child : all) {
      try {
        if (!child.process.waitFor(5, TimeUnit.SECONDS)) {
          child.process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    all.clear();
    pool.shutdownNow();
  }

  /** One child JVM: a task line in, its output lines until the result or error marker. */
  private static final class Child {
    private final Process process;
    private final Path log;
    private final BufferedWriter in;
    private final BufferedReader out;
    private volatile boolean busy;
    /** Its output ended or its pipe broke mid-task: never handed out again. */
    private volatile boolean broken;

    Child(Process process, Path log) {
      this.process = process;
      this.log = log;
      this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
      this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    String call(String task) {
      busy = true;
      try {
        in.write(task);
        in.newLine();
        in.flush();
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          if (line.startsWith(RESULT)) {
            return line.substring(RESULT.length());
          }
          if (line.startsWith(ERROR)) {
            throw new IllegalStateException("Local child " + process.pid() + " failed: "
                + line.substring(ERROR.length()));
          }
        }
        broken = true;
        throw new IllegalStateException("Local child " + process.pid() + " died mid-task" + tail());
      } catch (IOException e) {
        broken = true;
        throw new IllegalStateException("Local child " + process.pid() + " died mid-task: " + e.getMessage()
            + tail(), e);
      } finally {
        busy = false;
      }
    }

    private String tail() {
      try {
        List<String> lines = Files.readAllLines(log);
        return " (log " + log + ": " + String.join(" | ", lines.subList(Math.max(0, lines.size() - 5),
            lines.size())) + ")";
      } catch (IOException e) {
        return "";
      }
    }
  }
}
