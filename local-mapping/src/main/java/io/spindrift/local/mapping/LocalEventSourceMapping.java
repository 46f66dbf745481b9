package io.spindrift.local.mapping;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.math.BigInteger;

/**
 * Spindrift's local stand-in for Lambda's event-source mapping: workers poll the local Kinesis shards (one worker
 * per shard) or Kafka partitions, gather batches by size and batching window, and invoke the function with events
 * serialized as AWS serializes them. Like AWS it retries a failed batch, bisects it on error, honours partial
 * batch responses (retrying from the lowest failed record), drops records past the maximum age, and sends what
 * it gives up on to the on-failure destination.
 */
public final class LocalEventSourceMapping implements AutoCloseable {
  private final List<Worker> workers = new ArrayList<>();
  private final LambdaInvoker function;
  private final MappingOptions options;
  private final Consumer<FailedBatch> onFailure;
  private final ExecutorService threads;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong invocations = new AtomicLong();
  private final AtomicLong functionErrors = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong sentToDestination = new AtomicLong();
  private final List<Long> latenciesMs = new CopyOnWriteArrayList<>();
  private final List<Integer> batchSizes = new CopyOnWriteArrayList<>();

  LocalEventSourceMapping(List<LanePoller> pollers, LambdaInvoker function, MappingOptions options,
      Consumer<FailedBatch> onFailure) {
    this.function = function;
    this.options = options;
    this.onFailure = onFailure;
    this.threads = Executors.newFixedThreadPool(pollers.size(), r -> {
      Thread t = new Thread(r, "spindrift-esm");
      t.setDaemon(true);
      return t;
    });
    for (LanePoller poller : pollers) {
      Worker worker = new Worker(poller);
      workers.add(worker);
      threads.submit(worker::run);
    }
  }

  /** Waits until every worker has found its source empty and has nothing in flight; false on timeout. */
  public boolean awaitIdle(long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    int quietChecks = 0;
    while (System.currentTimeMillis() < deadline) {
      boolean idle = workers.stream().allMatch(w -> w.idle);
      quietChecks = idle ? quietChecks + 1 : 0;
      if (quietChecks >= 3) {
        return true;
      }
      Thread.sleep(50);
    }
    return false;
  }

  /** Waits until at least {@code records} records were acknowledged or sent to the destination. */
  public boolean awaitRecords(long records, long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      if (delivered.get() + sentToDestination.get() >= records) {
        return true;
      }
      Thread.sleep(20);
    }
    return false;
  }

  public long invocations() {
    return invocations.get();
  }

  public long functionErrors() {
    return functionErrors.get();
  }

  /** Records the function acknowledged (succeeded batches, or the successful part of a partial response). */
  public long delivered() {
    return delivered.get();
  }

  public long sentToDestination() {
    return sentToDestination.get();
  }

  /** Latency of every successful invocation, in milliseconds. */
  public List<Long> latenciesMs() {
    return Collections.unmodifiableList(latenciesMs);
  }

  /** Size of every successful invocation's batch. */
  public List<Integer> batchSizes() {
    return Collections.unmodifiableList(batchSizes);
  }

  @Override
  public void close() {
    running.set(false);
    threads.shutdown();
    try {
      threads.awaitTermination(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    workers.forEach(w -> w.poller.close());
  }

  /** One poller's loop: gather a batch, deliver it until it succeeds or is given up, repeat. */
  private final class Worker {
    private final LanePoller poller;
    private final List<PolledRecord> buffer = new ArrayList<>();
    private volatile boolean idle;

    Worker(LanePoller poller) {
      this.poller = poller;
    }

    void run() {
      while (running.get()) {
        try {
          List<PolledRecord> batch = gather();
          if (batch.isEmpty()) {
            idle = true;
            Thread.sleep(25);
            continue;
          }
          idle = false;
          deliver(batch);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (Exception e) {
          // a polling error (emulator hiccup): like AWS, try again; nothing was checkpointed
          idle = false;
          sleepQuietly(200);
        }
      }
    }

    private List<PolledRecord> gather() throws Exception {
      long windowEnd = System.currentTimeMillis() + options.batchingWindow().toMillis();
      do {
        if (buffer.size() < options.batchSize()) {
          buffer.addAll(poller.poll());
        }
        if (buffer.size() >= options.batchSize()) {
          break;
        }
        if (!buffer.isEmpty() && System.currentTimeMillis() < windowEnd) {
          Thread.sleep(10);
        }
      } while (!buffer.isEmpty() && System.currentTimeMillis() < windowEnd);
      List<PolledRecord> batch = new ArrayList<>(buffer.subList(0, Math.min(buffer.size(), options.batchSize())));
      buffer.subList(0, batch.size()).clear();
      return batch;
    }

    /** Delivers one batch: retries, bisects and partial responses, until every record is acked or given up. */
    private void deliver(List<PolledRecord> first) {
      List<Pending> pending = new ArrayList<>();
      pending.add(new Pending(first, 0));
      while (!pending.isEmpty() && running.get()) {
        Pending next = pending.remove(0);
        List<PolledRecord> records = dropExpired(next.records);
        if (records.isEmpty()) {
          continue;
        }
        long start = System.nanoTime();
        invocations.incrementAndGet();
        try {
          String response = function.invoke(poller.eventJson(records));
          List<String[]> failed = options.reportBatchItemFailures()
              ? poller.failedItems(response, records) : List.of();
          List<PolledRecord> retry = fromLowestFailure(records, failed);
          delivered.addAndGet(records.size() - retry.size());
          latenciesMs.add((System.nanoTime() - start) / 1_000_000);
          batchSizes.add(records.size());
          if (!retry.isEmpty()) {
            retryOrGiveUp(pending, new Pending(retry, next.attempts + 1), "partial batch failure");
          }
        } catch (LambdaInvoker.FunctionError e) {
          functionErrors.incrementAndGet();
          Pending failed = new Pending(records, next.attempts + 1);
          if (options.bisectOnError() && records.size() > 1 && withinRetries(failed)) {
            int half = records.size() / 2;
            pending.add(0, new Pending(records.subList(half, records.size()), failed.attempts));
            pending.add(0, new Pending(records.subList(0, half), failed.attempts));
          } else {
            retryOrGiveUp(pending, failed, e.getMessage());
          }
        } catch (Exception e) {
          retryOrGiveUp(pending, new Pending(records, next.attempts + 1), "bad response: " + e.getMessage());
        }
      }
    }

    private boolean withinRetries(Pending p) {
      return options.maxRetries() < 0 || p.attempts <= options.maxRetries();
    }

    private void retryOrGiveUp(List<Pending> pending, Pending p, String error) {
      if (withinRetries(p)) {
        pending.add(0, p);
      } else {
        giveUp(p.records, "retries exhausted", error);
      }
    }

    private List<PolledRecord> dropExpired(List<PolledRecord> records) {
      if (options.maxRecordAge() == null) {
        return records;
      }
      long oldest = System.currentTimeMillis() - options.maxRecordAge().toMillis();
      List<PolledRecord> fresh = new ArrayList<>();
      List<PolledRecord> expired = new ArrayList<>();
      for (PolledRecord record : records) {
        (record.arrivalMs() < oldest ? expired : fresh).add(record);
      }
      if (!expired.isEmpty()) {
        giveUp(expired, "record age exceeded", null);
      }
      return fresh;
    }

    private void giveUp(List<PolledRecord> records, String reason, String error) {
      sentToDestination.addAndGet(records.size());
      List<String> lanes = records.stream().map(PolledRecord::lane).distinct().toList();
      onFailure.accept(new FailedBatch(reason, lanes, records.get(0).position(),
          records.get(records.size() - 1).position(), records.size(), error));
    }
  }

  /**
   * The records to retry after a partial response: per lane, everything from the lowest failed position on
   * (AWS checkpoints just before it).
   */
  static List<PolledRecord> fromLowestFailure(List<PolledRecord> records, List<String[]> failed) {
    if (failed.isEmpty()) {
      return List.of();
    }
    List<PolledRecord> retry = new ArrayList<>();
    for (PolledRecord record : records) {
      for (String[] failure : failed) {
        if (failure[0].equals(record.lane())
            && new BigInteger(record.position()).compareTo(new BigInteger(failure[1])) >= 0) {
          retry.add(record);
          break;
        }
      }
    }
    return retry;
  }

  private record Pending(List<PolledRecord> records, int attempts) {}

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
