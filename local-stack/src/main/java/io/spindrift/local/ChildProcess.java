package io.spindrift.local;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One emulator process started by {@link LocalStack}: its stdout and stderr go to a log file that every failure
 * message names and quotes the end of.
 */
final class ChildProcess implements AutoCloseable {
  private static final long POLL_MILLIS = 50;
  private static final int TAIL_BYTES = 6_000;

  /** A readiness check; an exception means "not yet". */
  @FunctionalInterface
  interface Probe {
    boolean ready() throws Exception;
  }

  private final String name;
  private final Process process;
  private final Path log;
  private long logScannedTo;

  private ChildProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  static ChildProcess start(String name, List<String> command, Path workingDir) {
    Path log = workingDir.resolve(name + ".log");
    try {
      Process process = new ProcessBuilder(command)
          .directory(workingDir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      process.getOutputStream().close();
      return new ChildProcess(name, process, log);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot start " + name + " (" + command.get(0) + "): " + e.getMessage(), e);
    }
  }

  /** Polls {@code probe} until it passes; fails early if the process exits, and at the deadline. */
  void awaitReady(Duration timeout, Probe probe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (passes(probe)) {
        return;
      }
      if (!process.isAlive()) {
        throw failure("exited with code " + process.exitValue() + " before it was ready");
      }
      if (System.nanoTime() > deadline) {
        throw failure("was not ready after " + timeout.toSeconds() + " s");
      }
      pause();
    }
  }

  /** Waits for a short-lived process (a tool, not a server) and fails unless it exits with code 0. */
  void awaitSuccessfulExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        close();
        throw failure("did not finish within " + timeout.toSeconds() + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw failure("was interrupted");
    }
    if (process.exitValue() != 0) {
      throw failure("exited with code " + process.exitValue());
    }
  }

  /** Whether the log has shown {@code text} yet; reads only what was written since the last call. */
  boolean logContains(String text) throws IOException {
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
      long from = Math.max(0, logScannedTo - text.length());
      byte[] bytes = new byte[(int) (file.length() - from)];
      file.seek(from);
      file.readFully(bytes);
      logScannedTo = from + bytes.length;
      return new String(bytes, StandardCharsets.UTF_8).contains(text);
    }
  }

  IllegalStateException failure(String what) {
    return new IllegalStateException(
        name + " " + what + "; log " + log + ", last lines:\n" + logTail());
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String logTail() {
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
      long start = Math.max(0, file.length() - TAIL_BYTES);
      byte[] bytes = new byte[(int) (file.length() - start)];
      file.seek(start);
      file.readFully(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  private static boolean passes(Probe probe) {
    try {
      return probe.ready();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a local service", e);
    } catch (Exception notYet) {
      return false;
    }
  }

  private static void pause() {
    try {
      Thread.sleep(POLL_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a local service", e);
    }
  }
}
