package io.spindrift.runtime;

import io.spindrift.event.Batch;
import io.spindrift.event.SourceRecord;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.sink.Sink;
import io.spindrift.sink.StagedOutput;
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
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

/**
 * Runs the job's Spark Structured Streaming query and feeds it one invocation at a time: each {@link #run} offers
 * the batch's rows to an {@link InvocationSource} feed, the query's next micro-batch reads exactly those rows, and
 * its {@code foreachBatch} stages the output (table rows and rejects) through the sinks. The query stays up across
 * warm invocations (its planning and start-up are paid once per container); its checkpoint is disposable, because
 * what must survive lives in the commit log, so its offset and commit logs are kept in memory
 * ({@link InMemoryCheckpointFileManager}) rather than written to disk every batch. A failed batch stops the
 * query; the next invocation starts a fresh one. Nothing here writes to a table.
 */
final class MicroBatchRunner implements AutoCloseable {
  private static final long BATCH_TIMEOUT_MINUTES = 14;

  private final Supplier<SparkSession> sessions;
  private final StreamJob job;
  private final JobContext context;
  private final String kind;
  private final AtomicReference<Pending> current = new AtomicReference<>();
  private Running running;
  private volatile OutputSplit splitter;

  MicroBatchRunner(Supplier<SparkSession> sessions, StreamJob job, JobContext context) {
    this.sessions = sessions;
    this.job = job;
    this.context = context;
    this.kind = context.source().name();
  }

  /** One invocation waiting for its micro-batch. */
  private record Pending(String txnId, Sink table, Sink rejects, Map<String, Long> timings, long offeredNanos,
      CompletableFuture<StagedBatch> result) {}

  /** The query and its feed. */
  private record Running(StreamingQuery query, InvocationSource.Feed feed, String feedId, Path checkpoint) {}

  synchronized StagedBatch run(Batch batch, String txnId, Sink table, Sink rejects, Map<String, Long> timings) {
    long start = System.nanoTime();
    List<InternalRow> rows = new ArrayList<>(batch.size());
    for (SourceRecord record : batch.records()) {
      rows.add(record.toRow());
    }
    Running query = ensureRunning();
    timings.merge("spark_start", ms(start), Long::sum);
    Pending pending = new Pending(txnId, table, rejects, timings, System.nanoTime(), new CompletableFuture<>());
    current.set(pending);
    query.feed().offer(rows);
    try {
      return awaitBatch(query.query(), pending.result());
    } catch (RuntimeException e) {
      stopQuietly();
      throw e;
    } finally {
      current.set(null);
    }
  }

  /**
   * Waits for the foreachBatch of the micro-batch just offered to {@code query} to complete {@code result}; fails
   * with the query's error if it stops first, and after {@value #BATCH_TIMEOUT_MINUTES} minutes.
   */
  static <T> T awaitBatch(StreamingQuery query, CompletableFuture<T> result) {
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
  static void failIfStopped(StreamingQuery query) {
    if (!query.isActive()) {
      Throwable cause = query.exception().isDefined() ? query.exception().get().cause() : null;
      throw new IllegalStateException("The job failed on this batch: "
          + (cause == null ? "the query stopped" : cause.getMessage()), cause);
    }
  }

  private Running ensureRunning() {
    if (running != null && running.query().isActive()) {
      return running;
    }
    stopQuietly();
    String feedId = kind + "-" + UUID.randomUUID();
    SparkSession session = sessions.get();
    session.conf().set(InMemoryCheckpointFileManager.SETTING, InMemoryCheckpointFileManager.class.getName());
    InvocationSource.Feed feed = InvocationSource.open(feedId, session.sparkContext().defaultParallelism());
    try {
      Path checkpoint = Files.createTempDirectory("spindrift-checkpoint-");
      Dataset<Row> input = session.readStream()
          .format(InvocationSource.class.getName())
          .option("kind", kind)
          .option("feed", feedId)
          .load();
      Dataset<Row> output = job.transform(input, context);
      splitter = new OutputSplit(output.schema());
      VoidFunction2<Dataset<Row>, Long> stage = (df, batchId) -> stageCurrent(df);
      StreamingQuery query = output.writeStream()
          .queryName("spindrift-" + feedId)
          .outputMode(job.outputMode())
          .option("checkpointLocation", checkpoint.toString())
          .trigger(Trigger.ProcessingTime(0))
          .foreachBatch(stage)
          .start();
      running = new Running(query, feed, feedId, checkpoint);
      return running;
    } catch (IOException e) {
      InvocationSource.close(feedId);
      throw new UncheckedIOException(e);
    } catch (TimeoutException e) {
      InvocationSource.close(feedId);
      throw new IllegalStateException("Could not start the micro-batch query", e);
    } catch (RuntimeException e) {
      InvocationSource.close(feedId);
      throw e;
    }
  }

  /** The foreachBatch body: stages the batch for the invocation that offered it. */
  private void stageCurrent(Dataset<Row> df) {
    Pending pending = current.get();
    if (pending == null) {
      throw new IllegalStateException("A micro-batch ran with no invocation waiting for it");
    }
    pending.timings().merge("spark_plan", ms(pending.offeredNanos()), Long::sum);
    long stageStart = System.nanoTime();
    try {
      StagedBatch staged = stage(df, pending);
      pending.timings().merge("spark_execute_and_stage", ms(stageStart), Long::sum);
      pending.result().complete(staged);
    } catch (RuntimeException e) {
      pending.result().completeExceptionally(e);
      throw e;
    }
  }

  private StagedBatch stage(Dataset<Row> output, Pending pending) {
    return stageOutput(output, splitter, pending.txnId(), pending.table(), pending.rejects(), pending.timings());
  }

  /** Computes a batch's output with one Spark job, then stages table rows and rejects from the driver. */
  static StagedBatch stageOutput(Dataset<Row> output, OutputSplit splitter, String txnId, Sink table, Sink rejects,
      Map<String, Long> timings) {
    long start = System.nanoTime();
    List<InternalRow> rows = output.queryExecution().toRdd().toJavaRDD().map(InternalRow::copy).collect();
    OutputSplit.Split split = splitter.split(rows, System.currentTimeMillis() * 1000);
    timings.merge("spark_execute", ms(start), Long::sum);
    return new StagedBatch(table.stage(txnId, split.table()), rejects.stage(txnId, split.rejects()));
  }

  private void stopQuietly() {
    Running stopping = running;
    running = null;
    if (stopping == null) {
      return;
    }
    try {
      stopping.query().stop();
    } catch (TimeoutException | RuntimeException e) {
      // the query is being replaced; a failure to stop it cleanly changes nothing durable
    } finally {
      InvocationSource.close(stopping.feedId());
      InMemoryCheckpointFileManager.forget(stopping.checkpoint());
      deleteQuietly(stopping.checkpoint());
    }
  }

  @Override
  public synchronized void close() {
    stopQuietly();
  }

  static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  static void deleteQuietly(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind costs disk, not correctness
    }
  }
}
