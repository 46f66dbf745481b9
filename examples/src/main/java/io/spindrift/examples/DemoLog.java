package io.spindrift.examples;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Logger;

/**
 * Keeps the demo's terminal for the demo: everything else this JVM prints (the per-invocation JSON lines, Spark,
 * Hadoop, Iceberg, AWS SDK and Kafka warnings through log4j/slf4j, {@code java.util.logging}, stray prints and stack
 * traces) goes to a log file instead, and with {@code verbose} to the terminal's stderr as well. It works by
 * replacing {@code System.out} and {@code System.err}, so it must run before the logging libraries start (their
 * console appenders keep the stream they found); the {@code java.util.logging} console handler is re-created here.
 * The local stack's child processes already write to their own log files.
 */
final class DemoLog implements AutoCloseable {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  private final Path file;
  private final PrintStream originalOut;
  private final PrintStream originalErr;
  private final PrintStream log;

  private DemoLog(Path file, PrintStream originalOut, PrintStream originalErr, PrintStream log) {
    this.file = file;
    this.originalOut = originalOut;
    this.originalErr = originalErr;
    this.log = log;
  }

  /** A new log file in the temporary directory, named after the time: {@code spindrift-demo-<time>.log}. */
  static Path newFile() {
    Path file = Path.of(System.getProperty("java.io.tmpdir"),
        "spindrift-demo-" + LocalDateTime.now().format(STAMP) + ".log");
    try {
      return Files.createFile(file);
    } catch (java.nio.file.FileAlreadyExistsException taken) {
      try {
        return Files.createTempFile("spindrift-demo-" + LocalDateTime.now().format(STAMP) + "-", ".log");
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot create the demo's log file", e);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the demo's log file " + file, e);
    }
  }

  /**
   * Sends this JVM's {@code System.out} and {@code System.err} to {@code file} (and, with {@code verbose}, to the
   * terminal's stderr too) until {@link #close}.
   *
   * @return the routing; {@link #terminal()} is the stdout the demo prints on
   */
  static DemoLog route(Path file, boolean verbose) {
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    OutputStream sink;
    try {
      sink = new FileOutputStream(file.toFile(), true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the demo's log file " + file, e);
    }
    if (verbose) {
      sink = new Tee(sink, originalErr);
    }
    PrintStream log = new PrintStream(sink, true, StandardCharsets.UTF_8);
    System.setOut(log);
    System.setErr(log);
    recreateConsoleLogging();
    return new DemoLog(file, originalOut, originalErr, log);
  }

  Path file() {
    return file;
  }

  /** The stdout the demo was started with: the terminal, or wherever the user redirected it. */
  PrintStream terminal() {
    return originalOut;
  }

  /** Puts the original streams back and closes the log file. */
  @Override
  public void close() {
    System.setOut(originalOut);
    System.setErr(originalErr);
    recreateConsoleLogging();
    log.flush();
    log.close();
  }

  /** Re-creates java.util.logging's console handlers, which bind System.err when they are created. */
  private static void recreateConsoleLogging() {
    Logger root = Logger.getLogger("");
    for (Handler handler : root.getHandlers()) {
      if (handler instanceof ConsoleHandler console) {
        root.removeHandler(console);
        ConsoleHandler fresh = new ConsoleHandler();
        fresh.setLevel(console.getLevel());
        fresh.setFormatter(console.getFormatter());
        root.addHandler(fresh);
      }
    }
  }

  /** Writes to two streams (the log file and, verbose, the terminal). */
  private static final class Tee extends OutputStream {
    private final OutputStream first;
    private final OutputStream second;

    Tee(OutputStream first, OutputStream second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public void write(int b) throws IOException {
      first.write(b);
      second.write(b);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      first.write(bytes, offset, length);
      second.write(bytes, offset, length);
    }

    @Override
    public void flush() throws IOException {
      first.flush();
      second.flush();
    }

    @Override
    public void close() throws IOException {
      first.close();
    }
  }
}
