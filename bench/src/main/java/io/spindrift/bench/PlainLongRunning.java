package io.spindrift.bench;

import io.spindrift.examples.ClickstreamGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.streaming.MemoryStream;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

/**
 * The best case for plain Spark: one query started once (as on a cluster) and fed batch by batch through a
 * {@link MemoryStream}; a batch is timed from {@code addData} until {@code processAllAvailable} returns, i.e.
 * until its Iceberg commit. The source splits every batch into one partition per core.
 */
final class PlainLongRunning implements WarmSystem {
  static final String NAME = "plain-long-running";
  private final MemoryStream<byte[]> source;
  private final StreamingQuery query;

  PlainLongRunning(SparkSession spark, String table, Path checkpoints) throws Exception {
    PlainClickstream.createTable(spark, table);
    this.source = PlainClickstream.source(spark, spark.sparkContext().defaultParallelism());
    this.query = start(spark, table, Files.createTempDirectory(checkpoints, "long-running-"));
  }

  private StreamingQuery start(SparkSession spark, String table, Path checkpoint) throws TimeoutException {
    return PlainClickstream.start(spark, PlainClickstream.transform(source.toDF()).writeStream()
        .queryName(NAME)
        .format("iceberg")
        .outputMode("append")
        .trigger(Trigger.ProcessingTime(0))
        .option("checkpointLocation", checkpoint.toString()), table);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Trial run(List<ClickstreamGenerator.Event> batch) {
    List<byte[]> payloads = ClickCorpus.payloads(batch);
    long start = System.nanoTime();
    PlainClickstream.add(source, payloads);
    query.processAllAvailable();
    double millis = (System.nanoTime() - start) / 1e6;
    return new Trial(millis, PhaseBreakdown.longRunningQuery(millis, QueryProgressLog.since(NAME, start, 2000)));
  }

  @Override
  public void close() throws Exception {
    query.stop();
  }
}
