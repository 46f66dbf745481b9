package io.spindrift.local.mapping;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Semaphore;

/**
 * Invokes a handler in containers that are child JVMs frozen between invocations, as Lambda freezes its execution
 * environments: each container is stopped with SIGSTOP right after it responds and resumed with SIGCONT by the next
 * invocation it gets, so background threads (a deferred publish, Spark's own) stop wherever they are, for as long
 * as the container is idle. Up to {@code concurrency} containers run, started on demand (a cold start); idle ones
 * are reused oldest-idle first. A container whose JVM dies is dropped and its invocation fails as a function error,
 * as Lambda replaces a crashed environment. {@link #close()} kills every container, frozen or not, as Lambda
 * reclaims idle environments; a watchdog kills them too if this JVM dies first. {@link #killOne} kills one
 * container with SIGKILL, frozen or running, for chaos runs: a running one fails its invocation, an idle one is
 * dropped when it would next be taken, as Lambda routes no invocation to an environment that is gone.
 */
public final class FrozenContainers implements LambdaInvoker, AutoCloseable {
  private final ContainerSpec spec;
  private final Semaphore slots;
  private final Deque<FrozenContainer> idle = new ArrayDeque<>();
  private final List<FrozenContainer> all = new ArrayList<>();
  private final Path workDir;
  private int starting;
  private boolean closed;

  public FrozenContainers(ContainerSpec spec, int concurrency) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("Invalid concurrency: " + concurrency + " (1 or more)");
    }
    this.spec = spec;
    this.slots = new Semaphore(concurrency);
    try {
      this.workDir = Files.createTempDirectory("spindrift-containers-");
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create a directory for container logs", e);
    }
  }

  @Override
  public String invoke(String eventJson) throws FunctionError {
    slots.acquireUninterruptibly();
    FrozenContainer container = null;
    try {
      container = take();
      return container.invoke(eventJson);
    } finally {
      giveBack(container);
      slots.release();
    }
  }

  /** SIGSTOPs sent so far: one per invocation that ended with its container alive. */
  public synchronized long freezes() {
    return all.stream().mapToLong(FrozenContainer::freezes).sum();
  }

  /** Containers started so far (cold starts). */
  public synchronized int containersStarted() {
    return all.size();
  }

  /** Process ids of the containers whose JVM is alive, frozen or running, oldest first. */
  public synchronized List<Long> pids() {
    return all.stream().filter(FrozenContainer::alive).map(FrozenContainer::pid).toList();
  }

  /**
   * Kills a live container chosen with {@code random}, frozen or running, with SIGKILL; returns its process id, or
   * -1 when no container is alive.
   */
  public long killOne(Random random) {
    FrozenContainer victim;
    synchronized (this) {
      List<FrozenContainer> live = all.stream().filter(FrozenContainer::alive).toList();
      if (live.isEmpty()) {
        return -1;
      }
      victim = live.get(random.nextInt(live.size()));
    }
    victim.kill();
    return victim.pid();
  }

  /** Where each container's stdout and stderr go ({@code container-<n>.log}). */
  public Path logDirectory() {
    return workDir;
  }

  /** An idle container, or a new one (started outside the lock: a cold start takes seconds). */
  private FrozenContainer take() throws FunctionError {
    int number;
    synchronized (this) {
      checkOpen();
      for (FrozenContainer container = idle.pollFirst(); container != null; container = idle.pollFirst()) {
        if (container.alive()) {
          return container;
        }
        container.close();
      }
      number = ++starting;
    }
    FrozenContainer container = FrozenContainer.start(spec, workDir.resolve("container-" + number + ".log"));
    synchronized (this) {
      if (closed) {
        container.close();
      }
      checkOpen();
      all.add(container);
    }
    return container;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("The containers are closed");
    }
  }

  private synchronized void giveBack(FrozenContainer container) {
    if (container == null) {
      return;
    }
    if (container.alive() && !closed) {
      idle.addLast(container);
    } else {
      container.close();
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    all.forEach(FrozenContainer::close);
    idle.clear();
  }
}
