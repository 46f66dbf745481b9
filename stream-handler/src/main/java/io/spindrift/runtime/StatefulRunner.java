package io.spindrift.runtime;

import io.spindrift.event.Batch;
import io.spindrift.event.SourceRecord;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.sink.Sink;
import io.spindrift.state.DynamoDbStateStoreProvider;
import io.spindrift.state.StateChanges;
import io.spindrift.state.StateDeltas;
import io.spindrift.state.StateTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

/**
 * Runs a stateful job's micro-batches (DESIGN §6) on Spark's stateful operators over the DynamoDB state store,
 * which reads the latest committed state and hands its changes over instead of writing them, with the same
 * staging as stateless jobs. What a run returns (staged output, state changes, the next {@link QueryCheckpoint})
 * becomes durable only in the commit.
 *
 * <p>The query stays up between warm invocations as long as it stands exactly at the app's head: its last batch
 * was committed as the head (the runtime says so through {@link #committed}) and no other container committed
 * since. Otherwise (a cold container, another container's commit, a batch that was not committed, a failure) the
 * query is stopped and a fresh one starts on a checkpoint seeded from the head's {@link QueryCheckpoint}, so the
 * event-time watermark continues where the app's last commit left it, whichever container made it. Either way a
 * run is one Spark micro-batch over exactly the invocation's rows. Checkpoint files live in memory
 * ({@link InMemoryCheckpointFileManager}): what must survive is the {@link QueryCheckpoint} on the commit log.
 */
final class StatefulRunner implements AutoCloseable {
  private static final int FEED_PARTITIONS = 2;

  private final Supplier<SparkSession> sessions;
  private final StreamJob job;
  private final JobContext context;
  private final StateTable state;
  private final AtomicReference<Pending> current = new AtomicReference<>();
  private final AtomicLong runs = new AtomicLong();
  private final AtomicLong starts = new AtomicLong();
  /** One session for every query: a new session per query would leave its listeners registered for good. */
  private SparkSession session;
  private Running running;

  StatefulRunner(Supplier<SparkSession> sessions, StreamJob job, JobContext context, StateTable state) {
    this.sessions = sessions;
    this.job = job;
    this.context = context;
    this.state = state;
  }

  /**
   * What a stateful micro-batch produced; {@code run} identifies it to {@link #committed}.
   */
  record Result(StagedBatch staged, StateChanges changes, QueryCheckpoint checkpoint, long run) {}

  /** One invocation waiting for its micro-batch. */
  private record Pending(String txnId, Sink table, Sink rejects, Map<String, Long> timings, long offeredNanos,
      CompletableFuture<Long> batchId, AtomicReference<StagedBatch> staged) {}

  /** The running query, its feed and state run, and the head seq its state and watermark stand at. */
  private static final class Running {
    private final StreamingQuery query;
    private final String feedId;
    private final InvocationSource.Feed feed;
    private final String stateRun;
    private final Path checkpoint;
    private final OutputSplit splitter;
    /** The commit seq the query's watermark and batch id are the durable head of; -1 while a batch is in flight. */
    private long atSeq = -1;
    /** The run whose batch the query ran last. */
    private long lastRun = -1;

    private Running(StreamingQuery query, String feedId, InvocationSource.Feed feed, String stateRun, Path checkpoint,
        OutputSplit splitter) {
      this.query = query;
      this.feedId = feedId;
      this.feed = feed;
      this.stateRun = stateRun;
      this.checkpoint = checkpoint;
      this.splitter = splitter;
    }
  }

  /**
   * Runs {@code batch} as the micro-batch after the head {@code headSeq}, whose checkpoint is {@code from} (null
   * before the app's first stateful commit).
   */
  synchronized Result run(Batch batch, String txnId, long headSeq, QueryCheckpoint from, Sink table, Sink rejects,
      Map<String, Long> timings) {
    long start = System.nanoTime();
    List<InternalRow> rows = new ArrayList<>(batch.size());
    for (SourceRecord record : batch.records()) {
      rows.add(record.toRow());
    }
    long run = runs.incrementAndGet();
    try {
      Running query = running != null && running.query.isActive() && running.atSeq == headSeq && headSeq >= 0
          ? running : start(from);
      timings.merge("spark_start", MicroBatchRunner.ms(start), Long::sum);
      query.atSeq = -1;
      query.lastRun = run;
      Pending pending = new Pending(txnId, table, rejects, timings, System.nanoTime(), new CompletableFuture<>(),
          new AtomicReference<>());
      current.set(pending);
      try {
        query.feed.offer(rows);
        long batchId = MicroBatchRunner.awaitBatch(query.query, pending.batchId());
        awaitCommitLog(query, batchId);
        StateChanges changes = StateDeltas.drain(query.stateRun);
        return new Result(pending.staged().get(), changes, QueryCheckpoint.read(query.checkpoint, batchId), run);
      } finally {
        current.set(null);
      }
    } catch (RuntimeException e) {
      stopQuietly();
      throw e;
    } finally {
      timings.merge("spark_total_stateful", MicroBatchRunner.ms(start), Long::sum);
    }
  }

  /**
   * The batch of {@code run} was committed as {@code seq}: the query now stands at that head and may take the
   * next batch if nothing else is committed first. A later run, or a stopped query, makes this a no-op.
   */
  synchronized void committed(long run, long seq) {
    if (running != null && running.lastRun == run) {
      running.atSeq = seq;
    }
  }

  /** How many queries this runner started (a warm container starts one until another container commits). */
  long queryStarts() {
    return starts.get();
  }

  private Running start(QueryCheckpoint from) {
    stopQuietly();
    starts.incrementAndGet();
    String feedId = context.source().name() + "-" + UUID.randomUUID();
    String stateRun = "run-" + UUID.randomUUID();
    Path checkpoint = null;
    StateDeltas.open(stateRun, state);
    InvocationSource.Feed feed = InvocationSource.open(feedId, FEED_PARTITIONS);
    try {
      checkpoint = Files.createTempDirectory("spindrift-stateful-");
      if (from != null) {
        // a query id of its own: containers sharing a JVM (local mode) must not look like one query started twice
        from.seed(checkpoint, UUID.randomUUID().toString());
      }
      if (session == null) {
        session = sessions.get();
      }
      session.conf().set(InMemoryCheckpointFileManager.SETTING, InMemoryCheckpointFileManager.class.getName());
      DynamoDbStateStoreProvider.sparkConf(stateRun).forEach((key, value) -> session.conf().set(key, value));
      Dataset<Row> output = job.transform(session.readStream()
          .format(InvocationSource.class.getName())
          .option("kind", context.source().name())
          .option("feed", feedId)
          .load(), context);
      OutputSplit splitter = new OutputSplit(output.schema());
      VoidFunction2<Dataset<Row>, Long> stage = (df, batchId) -> stageCurrent(df, batchId, splitter);
      StreamingQuery query = output.writeStream()
          .queryName("spindrift-" + feedId)
          .outputMode(job.outputMode())
          .option("checkpointLocation", checkpoint.toString())
          .trigger(Trigger.ProcessingTime(0))
          .foreachBatch(stage)
          .start();
      running = new Running(query, feedId, feed, stateRun, checkpoint, splitter);
      return running;
    } catch (IOException e) {
      release(feedId, stateRun, checkpoint);
      throw new UncheckedIOException(e);
    } catch (TimeoutException e) {
      release(feedId, stateRun, checkpoint);
      throw new IllegalStateException("Could not start the micro-batch query", e);
    } catch (RuntimeException e) {
      release(feedId, stateRun, checkpoint);
      throw e;
    }
  }

  /** The foreachBatch body: stages the batch for the invocation that offered it. */
  private void stageCurrent(Dataset<Row> df, long batchId, OutputSplit splitter) {
    Pending pending = current.get();
    if (pending == null) {
      throw new IllegalStateException("A stateful micro-batch ran with no invocation waiting for it");
    }
    pending.timings().merge("spark_plan", MicroBatchRunner.ms(pending.offeredNanos()), Long::sum);
    long stageStart = System.nanoTime();
    try {
      pending.staged().set(MicroBatchRunner.stageOutput(df, splitter, pending.txnId(), pending.table(),
          pending.rejects(), pending.timings()));
      pending.timings().merge("spark_execute_and_stage", MicroBatchRunner.ms(stageStart), Long::sum);
      pending.batchId().complete(batchId);
    } catch (RuntimeException e) {
      pending.batchId().completeExceptionally(e);
      throw e;
    }
  }

  /** Waits for Spark to log batch {@code batchId} as committed (it does so right after foreachBatch returns). */
  private static void awaitCommitLog(Running query, long batchId) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (!QueryCheckpoint.committed(query.checkpoint, batchId)) {
      MicroBatchRunner.failIfStopped(query.query);
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("Spark did not log micro-batch " + batchId + " as committed in a minute");
      }
      LockSupport.parkNanos(200_000);
    }
  }

  private void stopQuietly() {
    Running stopping = running;
    running = null;
    if (stopping == null) {
      return;
    }
    try {
      stopping.query.stop();
    } catch (TimeoutException | RuntimeException e) {
      // the query is being replaced; a failure to stop it cleanly changes nothing durable
    } finally {
      release(stopping.feedId, stopping.stateRun, stopping.checkpoint);
    }
  }

  private static void release(String feedId, String stateRun, Path checkpoint) {
    InvocationSource.close(feedId);
    StateDeltas.close(stateRun);
    if (checkpoint != null) {
      InMemoryCheckpointFileManager.forget(checkpoint);
      MicroBatchRunner.deleteQuietly(checkpoint);
    }
  }

  @Override
  public synchronized void close() {
    stopQuietly();
  }
}
