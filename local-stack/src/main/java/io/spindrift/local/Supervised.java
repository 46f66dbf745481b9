package io.spindrift.local;

import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * Entry point of every emulator child JVM: runs {@code mainClass} in this JVM and halts it as soon as the parent
 * JVM is gone, so that no emulator outlives the build or test that started it, even after {@code kill -9}.
 *
 * <p>Usage: {@code Supervised <parentPid> <mainClass> [args...]}. The class must stay self-contained (no other
 * project class, no nested class): {@link ChildJvm} copies its class file alone onto the child's classpath.
 */
public final class Supervised {
  // ProcessHandle.onExit() polls a non-child process with a back-off that grows to 5 s; a fixed short poll
  // keeps the orphan's lifetime bounded.
  private static final long PARENT_POLL_MILLIS = 250;

  private Supervised() {}

  public static void main(String[] args) throws Throwable {
    if (args.length < 2) {
      System.err.println("Usage: Supervised <parentPid> <mainClass> [args...]");
      System.exit(2);
    }
    ProcessHandle parent = ProcessHandle.of(Long.parseLong(args[0])).orElse(null);
    if (parent == null || !parent.isAlive()) {
      Runtime.getRuntime().halt(3);
    }
    Thread watchdog = new Thread(() -> haltWhenGone(parent), "spindrift-parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    try {
      Class.forName(args[1]).getMethod("main", String[].class)
          .invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void haltWhenGone(ProcessHandle parent) {
    while (parent.isAlive()) {
      try {
        Thread.sleep(PARENT_POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    Runtime.getRuntime().halt(0);
  }
}
