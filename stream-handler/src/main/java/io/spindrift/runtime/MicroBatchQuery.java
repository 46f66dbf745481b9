package io.spindrift.runtime;

import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceRecord;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.protocol.MicroBatch;
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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.unsafe.types.UTF8String;
import io.spindrift.sink.StageRows;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

/**
 * The job's Spark Structured Streaming query, fed one invocation at a time: {@link #run} offers the batch's rows to
 * an {@link InvocationSource} feed, the query's next micro-batch reads exactly those rows, and its {@code
 * foreachBatch} stages the output (table rows and rejects) through the sinks. Nothing here writes to a table.
 *
 * <p>The query stays up between warm invocations (planning and start-up are paid once), under a reuse policy: a
 * stateless query while it runs; a stateful one (DESIGN §6, on the DynamoDB state store, which hands its changes
 * over instead of writing them) only while it stands exactly at the app's head, i.e. its last batch was committed as
 * the head ({@link #committed}) and no other container committed since. Otherwise (a cold container, another
 * container's commit, a batch that was not committed, a failure) the query is stopped and a fresh one starts, for a
 * stateful job on a checkpoint seeded from the head's {@link QueryCheckpoint}, so the event-time watermark continues
 * where the app's last commit left it. Checkpoint files live in memory ({@link InMemoryCheckpointFileManager}):
 * what must survive is in the commit log.
 */
final class MicroBatchQuery implements MicroBatch {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MicroBatchQuery.class);
  private static final long BATCH_TIMEOUT_MINUTES = 14;
  private static final int STATEFUL_FEED_PARTITIONS = 2;

  private final Supplier<SparkSession> sessions;
  private final StreamJob job;
  private final JobContext context;
  private final Sink table;
  private final Sink rejects;
  /** The durable state of a stateful job; null for a stateless one. */
  private final StateTable state;
  private final AtomicReference<Pending> current = new AtomicReference<>();
  private final AtomicLong runs = new AtomicLong();
  private final AtomicLong starts = new AtomicLong();
  /** One session for every query: a new session per query would leave its listeners registered for good. */
  private SparkSession session;
  private Running running;
  /** A fan-out reduce child's partition filter (null for every other query): set on the session once. */
  private OwnedPartitions ownership;
  /** The state partitions the next query keeps (a reduce child's task); null for all. */
  private java.util.Set<Integer> owned;
  /** The reduce child's task while it runs (null for every other query). */
  private Owned ownedRun;
  /** How long a lane that delivers nothing holds the event-time watermark back ({@link LaneWatermarks}). */
  private final long idleLaneMs;
  /** Whether a stateful query is reused while the head's checkpoint is its own ({@link #reusable}). */
  private java.util.function.Predicate<LogSnapshot> reuseOnHeadCheckpoint = snapshot -> false;
  /** A session of its own for re-planning a batch's event times ({@link EventTimes.BatchPlan}); made once. */
  private SparkSession eventTimeSession;

  /**
   * @param state the durable state of a stateful job (null for a stateless one)
   * @param idleLaneMs how long a lane that delivers nothing holds the watermark back
   */
  MicroBatchQuery(Supplier<SparkSession> sessions, StreamJob job, JobContext context, Sink table, Sink rejects,
      StateTable state, long idleLaneMs) {
    this.idleLaneMs = idleLaneMs;
    this.sessions = sessions;
    this.job = job;
    this.context = context;
    this.table = table;
    this.rejects = rejects;
    this.state = state;
  }

  /** One invocation waiting for its micro-batch. */
  private record Pending(Batch batch, List<InternalRow> rows, String txnId, Map<String, Long> timings,
      long offeredNanos, CompletableFuture<Long> batchId, AtomicReference<StagedBatch> staged,
      AtomicReference<EventProgress> events) {}

  /** A stateful batch's event times: Spark's batch-wide figures and the newest event per lane. */
  private record EventProgress(EventTimes.Observed observed, Map<String, Long> newestPerLane) {}

  /** The running query, its feed and (stateful) state run, and the head seq it stands at. */
  private static final class Running {
    private final StreamingQuery query;
    private final String feedId;
    private final InvocationSource.Feed feed;
    private final String stateRun;
    private final Path checkpoint;
    /** The commit seq the query's watermark and batch id are the durable head of; -1 while unknown. */
    private long atSeq = -1;
    /** The run whose batch the query ran last. */
    private long lastRun = -1;
    /** The checkpoint the query's last batch left (what a query seeded from it would start from). */
    private QueryCheckpoint lastCheckpoint;

    private Running(StreamingQuery query, String feedId, InvocationSource.Feed feed, String stateRun,
        Path checkpoint) {
      this.query = query;
      this.feedId = feedId;
      this.feed = feed;
      this.stateRun = stateRun;
      this.checkpoint = checkpoint;
    }
  }

  @Override
  public boolean isStateful() {
    return state != null;
  }

  @Override
  public synchronized Result run(Batch batch, String txnId, LogSnapshot snapshot, Map<String, Long> timings) {
    long start = System.nanoTime();
    List<InternalRow> rows = new ArrayList<>(batch.size());
    for (SourceRecord record : batch.records()) {
      rows.add(record.toRow());
    }
    long run = runs.incrementAndGet();
    try {
      Running query = reusable(snapshot) ? running : start(snapshot);
      timings.merge("spark_start", ms(start), Long::sum);
      query.atSeq = -1;
      query.lastRun = run;
      Pending pending = new Pending(batch, rows, txnId, timings, System.nanoTime(), new CompletableFuture<>(),
          new AtomicReference<>(), new AtomicReference<>());
      current.set(pending);
      try {
        query.feed.offer(rows);
        long batchId = awaitBatch(query.query, pending.batchId());
        StagedBatch staged = pending.staged().get();
        if (state == null) {
          return new Result(staged.table(), staged.rejects(), StateChanges.NONE, null, run);
        }
        awaitCommitLog(query, batchId);
        QueryCheckpoint checkpoint = withLaneWatermark(query, QueryCheckpoint.read(query.checkpoint, batchId),
            snapshot, pending.events().get());
        query.lastCheckpoint = checkpoint;
        return new Result(staged.table(), staged.rejects(), StateDeltas.drain(query.stateRun), checkpoint.toJson(),
            run);
      } finally {
        current.set(null);
      }
    } catch (RuntimeException e) {
      stopQuietly();
      throw e;
    } finally {
      if (state != null) {
        timings.merge("spark_total_stateful", ms(start), Long::sum);
      }
    }
  }

  /**
   * What a fan-out reduce child owns: {@code partitions} of the app's {@code count} state partitions; the records
   * it reports as late ({@code primary}, "lane\nposition"; null: every record if it owns partition 0, as when each
   * reducer reads the whole batch); the whole batch's newest event time per lane ({@code newestPerLane}; null:
   * computed from the records it has, which must then be the whole batch).
   */
  record Owned(List<Integer> partitions, int count, java.util.Set<String> primary, Map<String, Long> newestPerLane) {}

  /**
   * Runs {@code batch} as a fan-out reduce child that owns {@code owned}'s partitions (DESIGN §8): a fresh query,
   * seeded from the snapshot's checkpoint, whose stateful operator is fed only rows of those partitions and whose
   * state stores serve and change only them.
   */
  synchronized Result runOwned(Batch batch, String stageId, LogSnapshot snapshot, Map<String, Long> timings,
      Owned owned) {
    List<Integer> partitions = owned.partitions();
    int count = owned.count();
    if (state == null) {
      throw new IllegalStateException("Only a stateful job's batches run on reduce children");
    }
    stopQuietly();
    if (session == null) {
      session = sessions.get();
    }
    if (ownership == null) {
      ownership = new OwnedPartitions();
      session.experimental().extraOptimizations_$eq(
          scala.collection.JavaConverters.asScalaBuffer(List.<org.apache.spark.sql.catalyst.rules.Rule<
              org.apache.spark.sql.catalyst.plans.logical.LogicalPlan>>of(ownership)).toSeq());
    }
    ownership.own(partitions, count);
    this.owned = java.util.Set.copyOf(partitions);
    this.ownedRun = owned;
    try {
      return run(batch, stageId, snapshot, timings);
    } finally {
      stopQuietly();
      ownership.own(null, count);
      this.owned = null;
      this.ownedRun = null;
    }
  }

  /**
   * The checkpoint of a batch just run, with the next batch's watermark taken over the lanes' event-time progress
   * instead of Spark's (the newest event of any lane): the minimum over active lanes, less the job's delay
   * ({@link LaneWatermarks}). The running query gets it too, for its next batch.
   */
  private QueryCheckpoint withLaneWatermark(Running query, QueryCheckpoint checkpoint, LogSnapshot snapshot,
      EventProgress events) {
    if (events == null) {
      return checkpoint;
    }
    LaneWatermarks before = snapshot.checkpoint() == null ? LaneWatermarks.none()
        : QueryCheckpoint.fromJson(snapshot.checkpoint()).lanes();
    long now = System.currentTimeMillis();
    LaneWatermarks after = before.advance(events.newestPerLane(), now, idleLaneMs);
    // Spark's own next watermark follows its multiple-watermark policy over the job's watermark operators; the
    // lanes' bound caps it (with one lane the bound is never below it, so a one-lane app runs as before)
    long lanes = after.watermark(events.observed().batchWatermarkMs(), events.observed().delayMs(), now, idleLaneMs);
    long next = Math.max(events.observed().batchWatermarkMs(), Math.min(checkpoint.nextBatchWatermarkMs(), lanes));
    LOG.debug("Event-time watermark of batch {}: Spark's next {}, lanes {} -> {}", checkpoint.batchId(),
        checkpoint.nextBatchWatermarkMs(), after, next);
    EventTimes.setNextWatermark(query.query, next);
    return checkpoint.withNextWatermark(next, after);
  }

  /**
   * The reuse policy: stateless while the query runs; stateful while it also stands at the snapshot's head, or
   * (bucket commits) while its last batch was committed and the head's checkpoint is the one that batch left: other
   * lanes' commits since then moved neither the watermark nor any lane's progress, and the state they changed is
   * read through the refreshed cache, so a query seeded from the head would start exactly where this one stands.
   */
  private boolean reusable(LogSnapshot snapshot) {
    if (running == null || !running.query.isActive()) {
      return false;
    }
    if (state == null || (running.atSeq == snapshot.headSeq() && snapshot.headSeq() >= 0)) {
      return true;
    }
    return reuseOnHeadCheckpoint.test(snapshot) && running.atSeq >= 0 && running.lastCheckpoint != null
        && snapshot.checkpoint() != null
        && running.lastCheckpoint.equals(QueryCheckpoint.fromJson(snapshot.checkpoint()));
  }

  /**
   * Lets a stateful query stay up while the head's checkpoint is its own, for the batches whose snapshot {@code
   * when} accepts (bucket commits: other lanes commit between this container's batches without moving the
   * watermark); otherwise only while the head is its own commit.
   */
  void reuseOnHeadCheckpoint(java.util.function.Predicate<LogSnapshot> when) {
    this.reuseOnHeadCheckpoint = when;
  }

  /**
   * The batch of {@code result} was committed as {@code seq}: the query now stands at that head and may take the
   * next batch if nothing else is committed first. A later run, or a stopped query, makes this a no-op.
   */
  @Override
  public synchronized void committed(Result result, long seq) {
    if (running != null && running.lastRun == result.run()) {
      running.atSeq = seq;
    }
  }

  /** How many queries this container started (a warm stateful one starts one until another container commits). */
  long queryStarts() {
    return starts.get();
  }

  private Running start(LogSnapshot snapshot) {
    stopQuietly();
    starts.incrementAndGet();
    String feedId = context.source().name() + "-" + UUID.randomUUID();
    String stateRun = state == null ? null : "run-" + UUID.randomUUID();
    Path checkpoint = null;
    if (session == null) {
      session = sessions.get();
    }
    InvocationSource.Feed feed = InvocationSource.open(feedId,
        state == null ? session.sparkContext().defaultParallelism() : STATEFUL_FEED_PARTITIONS);
    try {
      checkpoint = Files.createTempDirectory("spindrift-checkpoint-");
      session.conf().set(InMemoryCheckpointFileManager.SETTING, InMemoryCheckpointFileManager.class.getName());
      if (state != null) {
        StateDeltas.open(stateRun, state, owned);
        if (snapshot.checkpoint() != null) {
          // a query id of its own: containers sharing a JVM (local mode) must not look like one query started twice
          QueryCheckpoint.fromJson(snapshot.checkpoint()).seed(checkpoint, UUID.randomUUID().toString());
        }
        DynamoDbStateStoreProvider.sparkConf(stateRun).forEach((key, value) -> session.conf().set(key, value));
      }
      Dataset<Row> output = output(session, job, context, feedId);
      OutputSplit splitter = new OutputSplit(output.schema());
      AtomicReference<StreamingQuery> handle = new AtomicReference<>();
      VoidFunction2<Dataset<Row>, Long> stage = (df, batchId) -> stageCurrent(df, batchId, splitter, handle.get());
      StreamingQuery query = output.writeStream()
          .queryName("spindrift-" + feedId)
          .outputMode(job.outputMode())
          .option("checkpointLocation", checkpoint.toString())
          .trigger(Trigger.ProcessingTime(0))
          .foreachBatch(stage)
          .start();
      handle.set(query);
      running = new Running(query, feedId, feed, stateRun, checkpoint);
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

  /** The job's output over the invocation feed {@code feedId}: the streaming plan every query (and probe) runs. */
  static Dataset<Row> output(SparkSession session, StreamJob job, JobContext context, String feedId) {
    return job.transform(session.readStream()
        .format(InvocationSource.class.getName())
        .option("kind", context.source().name())
        .option("feed", feedId)
        .load(), context);
  }

  /** The foreachBatch body: stages the batch for the invocation that offered it. */
  private void stageCurrent(Dataset<Row> df, long batchId, OutputSplit splitter, StreamingQuery query) {
    Pending pending = current.get();
    if (pending == null) {
      throw new IllegalStateException("A micro-batch ran with no invocation waiting for it");
    }
    pending.timings().merge("spark_plan", ms(pending.offeredNanos()), Long::sum);
    long stageStart = System.nanoTime();
    try {
      pending.staged().set(stageOutput(df, splitter, pending, query));
      pending.timings().merge("spark_execute_and_stage", ms(stageStart), Long::sum);
      pending.batchId().complete(batchId);
    } catch (RuntimeException e) {
      pending.batchId().completeExceptionally(e);
      throw e;
    }
  }

  /**
   * Computes a batch's output with one Spark job, then stages table rows and rejects from the driver; for a stateful
   * job with a watermark, also the batch's event-time progress and, as rejects, the records its stateful operator
   * dropped as late.
   */
  private StagedBatch stageOutput(Dataset<Row> output, OutputSplit splitter, Pending pending, StreamingQuery query) {
    long start = System.nanoTime();
    List<InternalRow> rows = output.queryExecution().toRdd().toJavaRDD().map(InternalRow::copy).collect();
    long nowMicros = System.currentTimeMillis() * 1000;
    OutputSplit.Split split = splitter.split(rows, nowMicros, table.upsertKeys());
    pending.timings().merge("spark_execute", ms(start), Long::sum);
    StageRows rejected = split.rejects();
    if (state != null) {
      long eventStart = System.nanoTime();
      List<InternalRow> late = eventProgress(pending, query, nowMicros);
      if (!late.isEmpty()) {
        List<InternalRow> all = new ArrayList<>(rejected.rows());
        all.addAll(late);
        rejected = new StageRows(rejected.schema(), all);
      }
      pending.timings().merge("event_time", ms(eventStart), Long::sum);
    }
    return new StagedBatch(table.stage(pending.txnId(), split.table()), rejects.stage(pending.txnId(), rejected));
  }

  /**
   * Records the batch's event-time progress per lane on {@code pending} and returns, as rejects rows, the records
   * the stateful operator dropped as late. A fan-out reducer reports only its primary records (or, reading the whole
   * batch, every record if it owns partition 0), so each is rejected once.
   */
  private List<InternalRow> eventProgress(Pending pending, StreamingQuery query, long nowMicros) {
    EventTimes.Observed observed = EventTimes.observed(query).orElse(null);
    if (observed == null) {
      return List.of();
    }
    java.util.Set<String> lanes = new java.util.TreeSet<>();
    pending.batch().records().forEach(record -> lanes.add(record.lane()));
    java.util.Set<String> primary = ownedRun == null ? null : ownedRun.primary();
    Map<String, Long> batchNewest = ownedRun == null ? null : ownedRun.newestPerLane();
    boolean lateRows = observed.mayHaveLateRows()
        && (primary != null ? !primary.isEmpty() : owned == null || owned.contains(0));
    // a reducer's own watermark operator sees only its records' rows: it is handed (or, reading the whole batch,
    // reads) the whole batch's event times, so every reducer hands the parent the same lanes' progress
    EventTimes.BatchPlan plan = (batchNewest == null && (lanes.size() > 1 || owned != null)) || lateRows
        ? batchPlan(pending) : null;
    Map<String, Long> newest = batchNewest != null ? batchNewest : plan == null ? Map.of() : plan.newestPerLane();
    if (batchNewest == null && newest.isEmpty() && observed.rows() > 0) {
      // one lane, or a plan that drops the lane column before its watermark: the batch's newest event for each
      Map<String, Long> all = new java.util.HashMap<>();
      lanes.forEach(lane -> all.put(lane, observed.maxMs()));
      newest = all;
    }
    pending.events().set(new EventProgress(observed, newest));
    if (!lateRows) {
      return List.of();
    }
    Map<String, SourceRecord> byPosition = new java.util.HashMap<>();
    pending.batch().records().forEach(record -> byPosition.put(record.lane() + "\n" + record.position(), record));
    int payload = context.source().schema().fieldIndex(context.source().payloadColumn());
    List<InternalRow> rejected = new ArrayList<>();
    for (EventTimes.Late late : plan.late(observed.lateWatermarkMs())) {
      if (primary != null && !primary.contains(late.lane() + "\n" + late.position())) {
        continue; // another reducer has the record too, and reports it
      }
      SourceRecord record = byPosition.get(late.lane() + "\n" + late.position());
      InternalRow source = record == null ? null : record.toRow();
      rejected.add(new GenericInternalRow(new Object[] {UTF8String.fromString(late.lane()),
          UTF8String.fromString(late.position()),
          UTF8String.fromString("late: event time " + java.time.Instant.ofEpochMilli(late.eventMs())
              + " is at or before the watermark " + java.time.Instant.ofEpochMilli(observed.lateWatermarkMs())
              + " (the slowest active lane's newest event less the job's delay); Spark's stateful operator"
              + " drops it"),
          source == null || source.isNullAt(payload) ? null : source.getBinary(payload), nowMicros}));
    }
    return rejected;
  }

  private EventTimes.BatchPlan batchPlan(Pending pending) {
    if (eventTimeSession == null) {
      eventTimeSession = session.newSession();
    }
    return new EventTimes.BatchPlan(eventTimeSession, job, context, pending.rows());
  }

  /**
   * Waits for the foreachBatch of the micro-batch just offered to {@code query} to complete {@code result}; fails
   * with the query's error if it stops first, and after {@value #BATCH_TIMEOUT_MINUTES} minutes.
   */
  private static <T> T awaitBatch(StreamingQuery query, CompletableFuture<T> result) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(BATCH_TIMEOUT_MINUTES);
    while (true) {
      try {
        return result.get(200, TimeUnit.MILLISECONDS);
      } catch (TimeoutException notYet) {
        failIfStopped(query);
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("The micro-batch did not finish in " + BATCH_TIMEOUT_MINUTES + " minutes");
        }
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        throw cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while waiting for the micro-batch", e);
      }
    }
  }

  /** Fails with the query's error (the job failed on the batch) when the query is no longer running. */
  private static void failIfStopped(StreamingQuery query) {
    if (!query.isActive()) {
      Throwable cause = query.exception().isDefined() ? query.exception().get().cause() : null;
      throw new IllegalStateException("The job failed on this batch: "
          + (cause == null ? "the query stopped" : cause.getMessage()), cause);
    }
  }

  /** Waits for Spark to log batch {@code batchId} as committed (it does so right after foreachBatch returns). */
  private static void awaitCommitLog(Running query, long batchId) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (!QueryCheckpoint.committed(query.checkpoint, batchId)) {
      failIfStopped(query.query);
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
    if (stateRun != null) {
      StateDeltas.close(stateRun);
    }
    if (checkpoint != null) {
      InMemoryCheckpointFileManager.forget(checkpoint);
      deleteQuietly(checkpoint);
    }
  }

  @Override
  public synchronized void close() {
    stopQuietly();
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind costs disk, not correctness
    }
  }
}
