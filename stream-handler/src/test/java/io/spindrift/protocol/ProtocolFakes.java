package io.spindrift.protocol;

import io.spindrift.commit.CommitLog;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.event.KinesisRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import io.spindrift.state.DurableState;
import io.spindrift.state.KeyBytes;
import io.spindrift.state.StateBucket;
import io.spindrift.state.StateChanges;
import io.spindrift.state.StateDelta;
import io.spindrift.state.StateIoCounts;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** In-memory stand-ins for the protocol's collaborators: a micro-batch, a table, durable state. */
final class ProtocolFakes {
  private ProtocolFakes() {}

  /** {@code log}, counting each call by method name into {@code calls}. */
  static CommitLog counting(CommitLog log, Map<String, AtomicInteger> calls) {
    return (CommitLog) Proxy.newProxyInstance(
        CommitLog.class.getClassLoader(), new Class<?>[] {CommitLog.class},
        (proxy, method, args) -> {
          calls.computeIfAbsent(method.getName(), name -> new AtomicInteger()).incrementAndGet();
          try {
            return method.invoke(log, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  /** Records {@code from..to} (inclusive positions) of one Kinesis shard. */
  static Batch batch(String shard, int from, int to) {
    List<SourceRecord> records = new ArrayList<>();
    for (int position = from; position <= to; position++) {
      records.add(new KinesisRecord("clicks", shard, "k" + position, Integer.toString(position), 0L,
          ("{\"n\":" + position + "}").getBytes(StandardCharsets.UTF_8)));
    }
    return new Batch(SourceKind.KINESIS, records);
  }

  /**
   * A micro-batch that "stages" one table row per record (the stage's ref names its txn and row count) and, when
   * stateful, one state delta on bucket 0/default/0 per batch. {@link #duringRun} runs inside {@code run}, where a
   * test lets another container commit.
   */
  static final class FakeMicroBatch implements MicroBatch {
    final boolean stateful;
    final AtomicInteger runs = new AtomicInteger();
    Consumer<Batch> duringRun = b -> {};
    RuntimeException failWith;
    /** Whether each batch also rejects one record (a rejects stage of one row). */
    boolean rejectOne;

    FakeMicroBatch(boolean stateful) {
      this.stateful = stateful;
    }

    @Override
    public Result run(Batch fresh, String txnId, LogSnapshot snapshot, Map<String, Long> timings) {
      runs.incrementAndGet();
      duringRun.accept(fresh);
      if (failWith != null) {
        throw failWith;
      }
      StateChanges changes = StateChanges.NONE;
      if (stateful) {
        StateDelta delta = new StateDelta(new StateBucket(0, "default", 0),
            Map.of(KeyBytes.wrap(txnId.getBytes(StandardCharsets.UTF_8)), new byte[] {1}), Set.of());
        changes = new StateChanges(List.of(delta), Set.of());
      }
      StagedOutput rejected = rejectOne ? new StagedOutput("rejects/" + txnId + "/1", 1) : StagedOutput.EMPTY;
      return new Result(new StagedOutput("table/" + txnId + "/" + fresh.size(), fresh.size()), rejected,
          changes, stateful ? "{\"checkpoint\":" + snapshot.headSeq() + "}" : null, runs.get());
    }

    @Override
    public boolean isStateful() {
      return stateful;
    }

    @Override
    public void close() {}
  }

  /**
   * A table that holds each app seq at most once (its publish is idempotent, as every sink's is) and counts the
   * rows its published stages carry. {@link #failNext} makes the next publishes fail (an S3 outage).
   */
  static final class FakeTable implements Sink {
    final Map<Long, String> published = new TreeMap<>();
    final AtomicInteger failNext = new AtomicInteger();
    final AtomicInteger publishCalls = new AtomicInteger();
    final AtomicInteger upkeeps = new AtomicInteger();
    /** Runs in {@link #afterPublish}, outside the table's lock (a test holds the upkeep there). */
    volatile Runnable upkeep = () -> { };

    @Override
    public void afterPublish(long deadlineNanos) {
      upkeeps.incrementAndGet();
      upkeep.run();
    }

    @Override
    public StagedOutput stage(String txnId, StageRows rows) {
      throw new UnsupportedOperationException("the fake micro-batch stages");
    }

    @Override
    public synchronized List<Long> publish(List<PendingPublish> pending) {
      publishCalls.incrementAndGet();
      if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw new IllegalStateException("S3 is unreachable");
      }
      List<Long> now = new ArrayList<>();
      for (PendingPublish stage : pending) {
        if (stage.ref() != null && !published.containsKey(stage.tag().seq())) {
          published.put(stage.tag().seq(), stage.ref());
          now.add(stage.tag().seq());
        }
      }
      return now;
    }

    @Override
    public synchronized boolean isPublished(String app, long seq) {
      return published.containsKey(seq);
    }

    synchronized long rows() {
      return published.values().stream().mapToLong(ref -> Long.parseLong(ref.substring(ref.lastIndexOf('/') + 1)))
          .sum();
    }
  }

  /**
   * Durable state whose deltas stay inline in the commit record (the protocol tests write only small ones): staging
   * them in S3 is never asked for, and no I/O is counted.
   */
  abstract static class InlineDeltasState implements DurableState {
    @Override
    public String stageDeltas(String txnId, byte[] encoded) {
      throw new IllegalStateException("the protocol tests' deltas are small and stay inline");
    }

    @Override
    public List<StateDelta> stagedDeltas(String ref) {
      throw new IllegalStateException("the protocol tests' deltas are small and stay inline");
    }

    @Override
    public StateIoCounts counts() {
      return new StateIoCounts(0, 0, 0, 0, 0);
    }
  }

  /** Durable state in memory: each bucket's applied seq (its marker) and how many rows were written per seq. */
  static final class FakeState extends InlineDeltasState {
    final Map<StateBucket, Long> markers = new HashMap<>();
    final Map<Long, Integer> rowWritesBySeq = new TreeMap<>();
    long validThrough;

    @Override
    public long validThrough() {
      return validThrough;
    }

    @Override
    public void invalidate() {}

    @Override
    public void refresh(long toSeq, Collection<StateBucket> touched) {
      validThrough = toSeq;
    }

    @Override
    public synchronized int apply(Collection<StateDelta> deltas, long seq, Runnable beforeMarkers) {
      List<StateDelta> todo = deltas.stream().filter(d -> markers.getOrDefault(d.bucket(), 0L) < seq).toList();
      todo.forEach(d -> rowWritesBySeq.merge(seq, d.puts().size(), Integer::sum));
      beforeMarkers.run();
      todo.forEach(d -> markers.put(d.bucket(), seq));
      return todo.size();
    }

  }
}
