package io.spindrift.local.mapping;

import io.spindrift.local.mapping.EventSource.Lane;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Spindrift's local stand-in for Lambda's event-source mapping: workers poll the local Kinesis shards (one worker
 * per shard) or Kafka partitions, gather batches by size and batching window, and invoke the function with events
 * serialized as AWS serializes them. Like AWS it retries a failed batch, bisects it on error, honours partial
 * batch responses (retrying from the lowest failed record), drops records past the maximum age, and sends what
 * it gives up on to the on-failure destination. Like AWS it follows reshards: shards created after the start are
 * discovered, a child shard is read only after its parents are finished, and a finished shard is never read again.
 */
public final class LocalEventSourceMapping implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(LocalEventSourceMapping.class.getName());
  /** How often the source is listed for new lanes (shards created by a reshard). */
  private static final long DISCOVERY_INTERVAL_MS = 250;
  private final EventSource source;
  private final Map<String, Lane> known = new ConcurrentHashMap<>();
  private final Map<String, LaneState> states = new ConcurrentHashMap<>();
  private final List<Worker> workers = new CopyOnWriteArrayList<>();
  private final LambdaInvoker function;
  private final MappingOptions options;
  private final Consumer<FailedBatch> onFailure;
  private final ExecutorService threads;
  private final Thread discovery;
  /** Released when a lane finishes, so its children start without waiting for the next discovery tick. */
  private final Semaphore laneFinished = new Semaphore(0);
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong invocations = new AtomicLong();
  private final AtomicLong functionErrors = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong sentToDestination = new AtomicLong();
  private final List<Long> latenciesMs = new CopyOnWriteArrayList<>();
  private final List<Integer> batchSizes = new CopyOnWriteArrayList<>();

  /**
   * Lists {@code source} once (its failure, e.g. a missing stream, is thrown here), starts a worker per readable
   * lane and keeps discovering lanes in the background.
   */
  LocalEventSourceMapping(EventSource source, LambdaInvoker function, MappingOptions options,
      Consumer<FailedBatch> onFailure) {
    this.source = source;
    this.function = function;
    this.options = options;
    this.onFailure = onFailure;
    this.threads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "spindrift-esm");
      t.setDaemon(true);
      return t;
    });
    try {
      discover();
    } catch (Exception e) {
      threads.shutdownNow();
      throw new IllegalStateException("Cannot list the lanes of the event source: " + e.getMessage(), e);
    }
    this.discovery = new Thread(this::discoverUntilClosed, "spindrift-esm-discovery");
    discovery.setDaemon(true);
    discovery.start();
  }

  /** Every lane seen so far (by name; Kinesis shard ids sort in creation order) and where the mapping is with it. */
  public Map<String, LaneState> lanes() {
    Map<String, LaneState> out = new LinkedHashMap<>();
    known.keySet().stream().sorted().forEach(lane -> out.put(lane, states.get(lane)));
    return Collections.unmodifiableMap(out);
  }

  private void discoverUntilClosed() {
    while (running.get()) {
      try {
        laneFinished.tryAcquire(DISCOVERY_INTERVAL_MS, TimeUnit.MILLISECONDS);
        laneFinished.drainPermits();
        if (running.get()) {
          discover();
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // the emulator did not answer: like AWS, list again on the next tick; no lane is skipped meanwhile
        LOG.log(System.Logger.Level.WARNING, "Lane discovery failed, retrying: " + e);
      }
    }
  }

  /** Lists the source and starts a worker for every lane whose parents are finished. */
  private synchronized void discover() throws Exception {
    List<Lane> listed = source.lanes();
    for (Lane lane : listed) {
      known.putIfAbsent(lane.name(), lane);
      states.putIfAbsent(lane.name(), LaneState.WAITING_FOR_PARENTS);
    }
    for (Lane lane : listed) {
      if (states.get(lane.name()) == LaneState.WAITING_FOR_PARENTS && parentsFinished(lane, listed)) {
        start(lane);
      }
    }
  }

  /** A parent no longer listed (trimmed past retention) has nothing left to read. */
  private boolean parentsFinished(Lane lane, List<Lane> listed) {
    return lane.parents().stream().allMatch(parent -> states.get(parent) == LaneState.FINISHED
        || listed.stream().noneMatch(l -> l.name().equals(parent)));
  }

  private void start(Lane lane) {
    Worker worker = new Worker(lane.name(), source.open(lane));
    states.put(lane.name(), LaneState.READING);
    workers.add(worker);
    threads.submit(worker::run);
  }

  private void finished(Worker worker) {
    states.put(worker.lane, LaneState.FINISHED);
    laneFinished.release();
  }

  /**
   * Waits until every lane that can be read has been read to its current end with nothing in flight; false on
   * timeout.
   */
  public boolean awaitIdle(long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    int quietChecks = 0;
    while (System.currentTimeMillis() < deadline) {
      quietChecks = idle() ? quietChecks + 1 : 0;
      if (quietChecks >= 3) {
        return true;
      }
      Thread.sleep(50);
    }
    return false;
  }

  private boolean idle() {
    List<Lane> all = List.copyOf(known.values());
    boolean noLaneReady = all.stream().noneMatch(lane -> states.get(lane.name()) == LaneState.WAITING_FOR_PARENTS
        && parentsFinished(lane, all));
    return noLaneReady && workers.stream().allMatch(w -> w.idle || states.get(w.lane) == LaneState.FINISHED);
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
    discovery.interrupt();
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
    private final String lane;
    private final LanePoller poller;
    private final List<PolledRecord> buffer = new ArrayList<>();
    private volatile boolean idle;

    Worker(String lane, LanePoller poller) {
      this.lane = lane;
      this.poller = poller;
    }

    /** Reads and delivers until the mapping closes, or until the lane is closed and everything was delivered. */
    void run() {
      Thread.currentThread().setName("spindrift-esm " + lane);
      while (running.get()) {
        try {
          List<PolledRecord> batch = gather();
          if (batch.isEmpty() && poller.exhausted()) {
            finished(this);
            return;
          }
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
          LOG.log(System.Logger.Level.WARNING, "Polling " + lane + " failed, retrying: " + e);
          idle = false;
          sleepQuietly(200);
        }
      }
    }

    private List<PolledRecord> gather() throws Exception {
      long windowEnd = System.currentTimeMillis() + options.batchingWindow().toMillis();
      do {
        if (buffer.size() < options.batchSize()) {
          buffer.addAll(poller.poll(options.batchSize() - buffer.size()));
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
