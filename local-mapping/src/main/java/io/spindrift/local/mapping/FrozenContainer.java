package io.spindrift.local.mapping;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One container of {@link FrozenContainers}: a child JVM running {@link ContainerMain}, connected over a loopback
 * socket, with its output in a log file that every failure quotes the end of. Between invocations it is stopped
 * (SIGSTOP); a small shell watchdog kills it (SIGKILL works on a stopped process) when this JVM is gone, since a
 * stopped JVM cannot watch its parent itself.
 */
final class FrozenContainer implements AutoCloseable {
  private static final int CONNECT_TIMEOUT_MS = 120_000;
  private static final int TAIL_BYTES = 4_000;
  private final Process process;
  private final Process watchdog;
  private final Socket socket;
  private final DataInputStream in;
  private final DataOutputStream out;
  private final Path log;
  private volatile boolean frozen;
  private volatile long freezes;

  private FrozenContainer(Process process, Process watchdog, Socket socket, Path log) throws IOException {
    this.process = process;
    this.watchdog = watchdog;
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = new DataOutputStream(socket.getOutputStream());
    this.log = log;
  }

  /** Starts a child JVM and waits until it has connected; throws a function error (with its log) if it cannot. */
  static FrozenContainer start(ContainerSpec spec, Path log) throws LambdaInvoker.FunctionError {
    Process process = null;
    Process watchdog = null;
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      ProcessBuilder builder = new ProcessBuilder(command(spec, server.getLocalPort()))
          .redirectErrorStream(true)
          .redirectOutput(log.toFile());
      builder.environment().putAll(spec.environment());
      process = builder.start();
      process.getOutputStream().close();
      watchdog = new ProcessBuilder("sh", "-c",
          "while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; kill -KILL \"$1\" 2>/dev/null",
          Long.toString(ProcessHandle.current().pid()), Long.toString(process.pid()))
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectErrorStream(true)
          .start();
      return new FrozenContainer(process, watchdog, accept(server, process, log), log);
    } catch (IOException e) {
      destroy(process);
      destroy(watchdog);
      throw new LambdaInvoker.FunctionError("Container did not start: " + e.getMessage() + tail(log), e);
    }
  }

  private static List<String> command(ContainerSpec spec, int port) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(spec.jvmOptions());
    command.addAll(List.of("-cp", spec.classPath(), ContainerMain.class.getName(), Integer.toString(port),
        spec.handler(), spec.eventType().getName(), spec.responseType().getName()));
    return command;
  }

  private static Socket accept(ServerSocket server, Process process, Path log) throws IOException {
    server.setSoTimeout(200);
    long deadline = System.currentTimeMillis() + CONNECT_TIMEOUT_MS;
    while (true) {
      try {
        return server.accept();
      } catch (SocketTimeoutException notYet) {
        if (!process.isAlive()) {
          throw new IOException("the JVM exited with code " + process.exitValue() + " before it connected");
        }
        if (System.currentTimeMillis() > deadline) {
          throw new IOException("the JVM did not connect within " + CONNECT_TIMEOUT_MS / 1000 + " s");
        }
      }
    }
  }

  /** Resumes the container if frozen, invokes it, and freezes it again once it has responded. */
  String invoke(String eventJson) throws LambdaInvoker.FunctionError {
    try {
      if (frozen) {
        signal("CONT");
        frozen = false;
      }
      ContainerMain.write(out, eventJson);
      byte status = in.readByte();
      String body = ContainerMain.read(in);
      signal("STOP");
      frozen = true;
      freezes++;
      if (status == ContainerMain.FUNCTION_ERROR) {
        throw new LambdaInvoker.FunctionError(body, null);
      }
      return body;
    } catch (IOException e) {
      close();
      throw new LambdaInvoker.FunctionError("Container " + process.pid() + " died: " + e.getMessage() + tail(log), e);
    }
  }

  long freezes() {
    return freezes;
  }

  boolean alive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** SIGKILL, as {@code kill -9}: works on a stopped JVM too; the next invocation or take notices it is gone. */
  void kill() {
    process.destroyForcibly();
  }

  private void signal(String signal) throws IOException {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
          .redirectErrorStream(true).start();
      String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (kill.waitFor() != 0) {
        throw new IOException("kill -" + signal + " " + process.pid() + " failed: " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("Interrupted while sending SIG" + signal, e);
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // the process is killed next; its socket goes with it
    }
    destroy(process);
    destroy(watchdog);
  }

  private static void destroy(Process process) {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String tail(Path log) {
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
      long start = Math.max(0, file.length() - TAIL_BYTES);
      byte[] bytes = new byte[(int) (file.length() - start)];
      file.seek(start);
      file.readFully(bytes);
      return "; log " + log + ", last lines:\n" + new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "; log " + log + " unreadable: " + e.getMessage();
    }
  }
}
