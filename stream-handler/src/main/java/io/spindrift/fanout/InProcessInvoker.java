package io.spindrift.fanout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/** Runs child tasks on threads of this JVM through a child executor function (unit and protocol tests). */
public final class InProcessInvoker implements ChildInvoker {
  private final Function<String, String> child;
  private final int threads;
  private final ExecutorService pool;

  /** @param child what a child does with a task's JSON (returns its response) */
  public InProcessInvoker(Function<String, String> child, int threads) {
    this.child = child;
    this.threads = threads;
    this.pool = Executors.newFixedThreadPool(threads, runnable -> {
      Thread thread = new Thread(runnable, "spindrift-child");
      thread.setDaemon(true);
      return thread;
    });
  }

  @Override
  public CompletableFuture<String> invoke(ChildTask task) {
    String json = task.toJson();
    return CompletableFuture.supplyAsync(() -> child.apply(json), pool);
  }

  @Override
  public int concurrency() {
    return threads;
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
