package io.spindrift.sink.hudi;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A sink's sweep (the markers and heartbeat files of its completed commits, {@link HudiWriter#sweep}) run on a
 * thread of its own after the invocation's publication, so the invocation returns without waiting for those
 * deletes: at most one sweep queued at a time (one sweep deletes everything left so far), each run holding the
 * sink's publish lock, so a publish of the same container waits for a sweep in progress (and finds nothing left).
 *
 * <p>A Lambda container may be frozen between invocations with a sweep half done: it holds nothing another
 * container waits for (no table lease, no publish claim, only this container's own lock), its deletes are of
 * completed commits' files that nothing reads, and a thawed container's next publish waits for it or, if the sweep
 * never ran, does it itself before its commit ({@link HudiWriter#startCommit}). The thread ends after
 * {@link #IDLE_SECONDS} without work.
 */
final class BackgroundSweep {
  /** How long the sweep thread outlives its last sweep. */
  static final long IDLE_SECONDS = 10;

  private final Object lock;
  private final Runnable sweep;
  private final ThreadPoolExecutor thread;
  private final AtomicBoolean queued = new AtomicBoolean();
  private volatile Future<?> last;

  /** Runs {@code sweep} holding {@code lock} on a daemon thread named {@code threadName}. */
  BackgroundSweep(String threadName, Object lock, Runnable sweep) {
    this.lock = lock;
    this.sweep = sweep;
    this.thread = new ThreadPoolExecutor(0, 1, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), task -> {
      Thread daemon = new Thread(task, threadName);
      daemon.setDaemon(true);
      return daemon;
    });
  }

  /** Queues a sweep unless one is queued and not yet started (that one deletes whatever this one would). */
  void request() {
    if (queued.compareAndSet(false, true)) {
      last = thread.submit(() -> {
        queued.set(false);
        synchronized (lock) {
          sweep.run();
        }
      });
    }
  }

  /** Waits up to {@code timeoutMs} for the sweep last queued to end; true if none is left running. */
  boolean await(long timeoutMs) {
    Future<?> running = last;
    if (running == null) {
      return true;
    }
    try {
      running.get(timeoutMs, TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException failed) {
      return true; // the sweep logs its own failures
    } catch (TimeoutException notYet) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
