package io.spindrift.sink.hudi;

import static org.apache.hudi.common.function.FunctionWrapper.throwingForeachWrapper;
import static org.apache.hudi.common.function.FunctionWrapper.throwingMapToPairWrapper;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.hudi.client.common.HoodieJavaEngineContext;
import org.apache.hudi.common.function.SerializableConsumer;
import org.apache.hudi.common.function.SerializablePairFunction;
import org.apache.hudi.common.util.collection.Pair;
import org.apache.hudi.storage.StorageConfiguration;

/**
 * Hudi's Java engine, whose {@code foreach} and {@code mapToPair} run their items on several threads, as the Spark
 * engine runs them on its executors: Hudi's Java engine runs them one after another. Hudi uses the two for file
 * operations, one S3 request or a few per item: archival's deletes of the archived instants' files (three per
 * instant), the deletes of a commit's marker files. Those wait on the network, not on a core. An item that itself
 * asks the engine for work (from one of these threads) runs that work on its own thread, so the threads never all
 * wait on one another.
 */
final class ParallelIoContext extends HoodieJavaEngineContext {
  /** Threads for the engine's file operations, shared by every table of the container. */
  static final int IO_THREADS = 8;
  private static final String THREAD_NAME = "spindrift-hudi-io";
  private static final ExecutorService IO = Executors.newFixedThreadPool(IO_THREADS, task -> {
    Thread thread = new Thread(task, THREAD_NAME);
    thread.setDaemon(true);
    return thread;
  });

  ParallelIoContext(StorageConfiguration<?> conf) {
    super(conf);
  }

  @Override
  public <I> void foreach(List<I> data, SerializableConsumer<I> consumer, int parallelism) {
    Consumer<I> each = throwingForeachWrapper(consumer);
    all(data, item -> {
      each.accept(item);
      return null;
    });
  }

  /** As Hudi's: a key met twice keeps the value of the later item. */
  @Override
  public <I, K, V> Map<K, V> mapToPair(List<I> data, SerializablePairFunction<I, K, V> func, Integer parallelism) {
    Map<K, V> out = new HashMap<>();
    for (Pair<K, V> pair : all(data, throwingMapToPairWrapper(func))) {
      out.put(pair.getLeft(), pair.getRight());
    }
    return out;
  }

  /** {@code f} of every item, in the items' order; the first failure (in that order) is thrown. */
  private static <I, O> List<O> all(List<I> data, Function<I, O> f) {
    List<O> out = new ArrayList<>(data.size());
    if (data.size() < 2 || Thread.currentThread().getName().equals(THREAD_NAME)) {
      data.forEach(item -> out.add(f.apply(item)));
      return out;
    }
    List<Future<O>> running = new ArrayList<>(data.size());
    data.forEach(item -> running.add(IO.submit(() -> f.apply(item))));
    RuntimeException failed = null;
    for (Future<O> result : running) {
      try {
        out.add(result.get());
      } catch (ExecutionException e) {
        if (failed == null) {
          failed = e.getCause() instanceof RuntimeException cause ? cause : new IllegalStateException(e.getCause());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        running.forEach(r -> r.cancel(true));
        throw new IllegalStateException("Interrupted while Hudi's file operations ran", e);
      }
    }
    if (failed != null) {
      throw failed;
    }
    return out;
  }
}
