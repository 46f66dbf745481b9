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
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.storage.StorageLevel;

/**
 * Runs the job over one batch as a Spark Structured Streaming micro-batch: an {@link InvocationSource} serving
 * exactly the batch's rows, the job's transformation, and a {@code foreachBatch} that stages the output (table
 * rows and rejects) through the sinks. The checkpoint is local and thrown away: what must survive lives in the
 * commit log. Nothing here writes to a table.
 */
final class MicroBatchRunner {
  private final SparkSession spark;
  private final StreamJob job;
  private final JobContext context;

  MicroBatchRunner(SparkSession spark, StreamJob job, JobContext context) {
    this.spark = spark;
    this.job = job;
    this.context = context;
  }

  StagedBatch run(Batch batch, String txnId, Sink table, Sink rejects) {
    List<InternalRow> rows = new ArrayList<>(batch.size());
    for (SourceRecord record : batch.records()) {
      rows.add(record.toRow());
    }
    SparkSession session = spark.newSession();
    InvocationSource.register(txnId, rows);
    Path checkpoint = null;
    try {
      checkpoint = Files.createTempDirectory("spindrift-checkpoint-");
      Dataset<Row> input = session.readStream()
          .format(InvocationSource.class.getName())
          .option("kind", batch.kind().name())
          .option("invocation", txnId)
          .option("splits", Integer.toString(spark.sparkContext().defaultParallelism()))
          .load();
      Dataset<Row> output = job.transform(input, context);
      OutputSplit.check(output.schema());
      AtomicReference<StagedBatch> staged = new AtomicReference<>();
      VoidFunction2<Dataset<Row>, Long> stage = (df, id) -> staged.set(stage(df, txnId, table, rejects));
      StreamingQuery query = output.writeStream()
          .queryName("spindrift-" + txnId)
          .outputMode(job.outputMode())
          .option("checkpointLocation", checkpoint.toString())
          .trigger(Trigger.AvailableNow())
          .foreachBatch(stage)
          .start();
      query.awaitTermination();
      StagedBatch result = staged.get();
      return result != null ? result : new StagedBatch(StagedOutput.EMPTY, StagedOutput.EMPTY);
    } catch (StreamingQueryException e) {
      throw new IllegalStateException("The job failed on this batch: " + e.cause().getMessage(), e.cause());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("Could not start the micro-batch query", e);
    } finally {
      InvocationSource.release(txnId);
      deleteQuietly(checkpoint);
    }
  }

  private static StagedBatch stage(Dataset<Row> output, String txnId, Sink table, Sink rejects) {
    if (!OutputSplit.hasRejects(output.schema())) {
      return new StagedBatch(table.stage(txnId, OutputSplit.tableRows(output)), StagedOutput.EMPTY);
    }
    Dataset<Row> cached = output.persist(StorageLevel.MEMORY_ONLY());
    try {
      StagedOutput rows = table.stage(txnId, OutputSplit.tableRows(cached));
      StagedOutput rejected = rejects.stage(txnId, OutputSplit.rejectRows(cached));
      return new StagedBatch(rows, rejected);
    } finally {
      cached.unpersist(false);
    }
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind costs disk, not correctness
    }
  }
}
