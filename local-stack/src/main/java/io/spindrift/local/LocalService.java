package io.spindrift.local;

import java.time.Duration;

/** One emulator that answered its readiness probe: where clients reach it and how long it took to get there. */
record LocalService(String name, String endpoint, ChildProcess process, Duration startupTime)
    implements AutoCloseable {

  /**
   * Waits until {@code process} passes {@code probe}; on failure the process is stopped and the error names
   * its log.
   */
  static LocalService awaitReady(String name, String endpoint, ChildProcess process, long launchedAtNanos,
      Duration timeout, ChildProcess.Probe probe) {
    try {
      process.awaitReady(timeout, probe);
    } catch (RuntimeException e) {
      process.close();
      throw e;
    }
    return new LocalService(name, endpoint, process, Duration.ofNanos(System.nanoTime() - launchedAtNanos));
  }

  @Override
  public void close() {
    process.close();
  }
}
