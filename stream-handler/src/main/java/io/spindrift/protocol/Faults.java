package io.spindrift.protocol;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Crash injection for fault tests. Disarmed unless a test arms a point; each arming fires once. A test that runs
 * the handler in a container JVM of its own arms a real crash with the system property {@value #KILL_PROPERTY} =
 * {@code POINT@markerFile}: the first container of the test to reach {@code POINT} (the one that creates the marker
 * file) sends itself {@code kill -9} there, as a Lambda execution environment dies, with no finally block or
 * shutdown hook run; later containers pass.
 */
public final class Faults {
  public static final String KILL_PROPERTY = "spindrift.faults.kill";

  private final Map<FaultPoint, AtomicInteger> armed = new ConcurrentHashMap<>();
  private final Map<FaultPoint, Runnable> holds = new ConcurrentHashMap<>();
  private final FaultPoint killAt;
  private final java.nio.file.Path killMarker;

  public Faults() {
    String kill = System.getProperty(KILL_PROPERTY, "");
    int at = kill.indexOf('@');
    killAt = at < 0 ? null : FaultPoint.valueOf(kill.substring(0, at).trim());
    killMarker = at < 0 ? null : java.nio.file.Path.of(kill.substring(at + 1).trim());
  }

  /** The next {@code times} passes through {@code point} crash. */
  public void arm(FaultPoint point, int times) {
    armed.put(point, new AtomicInteger(times));
  }

  /**
   * Every pass through {@code point} first runs {@code hold} (e.g. a barrier): a concurrency test holds several
   * containers there so that what follows really overlaps. Not a crash; replaces an earlier hold of the point.
   */
  public void holdAt(FaultPoint point, Runnable hold) {
    holds.put(point, hold);
  }

  void hit(FaultPoint point) {
    Runnable hold = holds.get(point);
    if (hold != null) {
      hold.run();
    }
    if (point == killAt && claimKill()) {
      killThisProcess(point);
    }
    AtomicInteger remaining = armed.get(point);
    if (remaining != null && remaining.getAndDecrement() > 0) {
      throw new InjectedCrash(point);
    }
  }

  private boolean claimKill() {
    try {
      return java.nio.file.Files.createFile(killMarker) != null;
    } catch (java.nio.file.FileAlreadyExistsException taken) {
      return false;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot create the kill marker " + killMarker, e);
    }
  }

  private static void killThisProcess(FaultPoint point) {
    System.err.println("Faults: kill -9 of this container at " + point);
    try {
      new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid())).inheritIO().start().waitFor();
    } catch (java.io.IOException | InterruptedException e) {
      // falls through to halt: the process ends here either way
    }
    Runtime.getRuntime().halt(137);
  }
}
