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
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.Trigger;

/**
 * Runs a stateful job's micro-batch as a fresh query per invocation (DESIGN §6): a local checkpoint seeded from
 * the durable {@link QueryCheckpoint} (so the event-time watermark continues where the app's last commit left
 * it, whichever container made it), Spark's stateful operators on the DynamoDB state store (which reads the
 * latest committed state and hands its changes over instead of writing them), and the same staging as stateless
 * jobs. What it returns (staged output, state changes, the next checkpoint) becomes durable only in the commit.
 */
final class StatefulRunner {
  private final Supplier<SparkSession> sessions;
  private final StreamJob job;
  private final JobContext context;
  private final StateTable state;
  /** One session for every run: a new session per invocation would leave its listeners registered for good. */
  private SparkSession session;

  StatefulRunner(Supplier<SparkSession> sessions, StreamJob job, JobContext context, StateTable state) {
    this.sessions = sessions;
    this.job = job;
    this.context = context;
    this.state = state;
  }

  /** What a stateful micro-batch produced. */
  record Result(StagedBatch staged, StateChanges changes, QueryCheckpoint checkpoint) {}

  synchronized Result run(Batch batch, String txnId, QueryCheckpoint from, Sink table, Sink rejects,
      Map<String, Long> timings) {
    long start = System.nanoTime();
    String runId = "run-" + txnId;
    String feedId = context.source().name() + "-" + txnId;
    Path checkpoint = null;
    StateDeltas.open(runId, state);
    InvocationSource.Feed feed = InvocationSource.open(feedId, 2);
    try {
      checkpoint = Files.createTempDirectory("spindrift-stateful-");
      if (from != null) {
        // a query id of its own: containers sharing a JVM (local mode) must not look like one query started twice
        from.seed(checkpoint, UUID.randomUUID().toString());
      }
      List<InternalRow> rows = new ArrayList<>(batch.size());
      for (SourceRecord record : batch.records()) {
        rows.add(record.toRow());
      }
      feed.offer(rows);
      // the run reads this one batch and stops: Spark's last latestOffset call must not long-poll for more
      feed.seal();
      if (session == null) {
        session = sessions.get();
      }
      DynamoDbStateStoreProvider.sparkConf(runId).forEach((key, value) -> session.conf().set(key, value));
      Dataset<Row> output = job.transform(session.readStream()
          .format(InvocationSource.class.getName())
          .option("kind", context.source().name())
          .option("feed", feedId)
          .load(), context);
      OutputSplit splitter = new OutputSplit(output.schema());
      AtomicReference<StagedBatch> staged = new AtomicReference<>();
      VoidFunction2<Dataset<Row>, Long> stage = (df, batchId) ->
          staged.set(MicroBatchRunner.stageOutput(df, splitter, txnId, table, rejects, timings));
      timings.merge("spark_plan", MicroBatchRunner.ms(start), Long::sum);
      StreamingQuery query = output.writeStream()
          .queryName("spindrift-" + feedId)
          .outputMode(job.outputMode())
          .option("checkpointLocation", checkpoint.toString())
          .trigger(Trigger.AvailableNow())
          .foreachBatch(stage)
          .start();
      query.awaitTermination();
      StateChanges changes = StateDeltas.drain(runId);
      StagedBatch result = staged.get();
      if (result == null) {
        throw new IllegalStateException("The stateful micro-batch produced no batch for " + batch.size() + " records");
      }
      return new Result(result, changes, QueryCheckpoint.read(checkpoint));
    } catch (StreamingQueryException e) {
      throw new IllegalStateException("The job failed on this batch: " + e.cause().getMessage(), e.cause());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("Could not start the micro-batch query", e);
    } finally {
      StateDeltas.close(runId);
      InvocationSource.close(feedId);
      if (checkpoint != null) {
        MicroBatchRunner.deleteQuietly(checkpoint);
      }
      timings.merge("spark_total_stateful", MicroBatchRunner.ms(start), Long::sum);
    }
  }
}
