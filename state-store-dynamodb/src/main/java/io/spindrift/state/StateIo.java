package io.spindrift.state;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The state table's I/O pool and request counters: reads and writes of many buckets run in parallel on a few
 * daemon threads, and every DynamoDB request is counted ({@link #counts()}) for the invocation log.
 */
final class StateIo implements AutoCloseable {
  private static final int PARALLELISM = 8;
  final AtomicLong readRequests = new AtomicLong();
  final AtomicLong itemsRead = new AtomicLong();
  final AtomicLong metaReads = new AtomicLong();
  final AtomicLong writeRequests = new AtomicLong();
  final AtomicLong itemsWritten = new AtomicLong();
  private final ExecutorService pool = Executors.newFixedThreadPool(PARALLELISM, runnable -> {
    Thread thread = new Thread(runnable, "spindrift-state-io");
    thread.setDaemon(true);
    return thread;
  });

  StateIoCounts counts() {
    return new StateIoCounts(readRequests.get(), itemsRead.get(), metaReads.get(), writeRequests.get(),
        itemsWritten.get());
  }

  /** Runs one task per item on the pool and returns their results in order; the first failure is thrown. */
  <T, R> List<R> parallel(List<T> items, Function<T, Supplier<R>> task) {
    List<R> results = new ArrayList<>();
    if (items.size() == 1) {
      results.add(task.apply(items.get(0)).get());
      return results;
    }
    List<CompletableFuture<R>> futures = new ArrayList<>();
    items.forEach(item -> futures.add(CompletableFuture.supplyAsync(task.apply(item), pool)));
    try {
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException runtime ? runtime : e;
    }
    futures.forEach(future -> results.add(future.join()));
    return results;
  }

  @Override
  public void close() {
    pool.shutdown();
  }
}
