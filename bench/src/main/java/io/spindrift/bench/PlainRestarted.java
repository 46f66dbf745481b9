package io.spindrift.bench;

import io.spindrift.examples.ClickstreamGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.streaming.MemoryStream;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

/**
 * What a naive Spark-in-Lambda does per invocation: a new source holding just this batch (a new
 * {@link MemoryStream}), a new query with a fresh local checkpoint, {@code Trigger.AvailableNow}, Iceberg's
 * streaming sink, wait for termination. Same warm SparkSession as Spindrift; no exactly-once bookkeeping.
 */
final class PlainRestarted implements WarmSystem {
  static final String NAME = "plain-restarted";
  private final SparkSession spark;
  private final String table;
  private final Path checkpoints;
  private int queries;

  PlainRestarted(SparkSession spark, String table, Path checkpoints) {
    this.spark = spark;
    this.table = table;
    this.checkpoints = checkpoints;
    PlainClickstream.createTable(spark, table);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Trial run(List<ClickstreamGenerator.Event> batch) throws Exception {
    List<byte[]> payloads = ClickCorpus.payloads(batch);
    String name = "plain-restarted-" + (++queries);
    long start = System.nanoTime();
    MemoryStream<byte[]> source = PlainClickstream.source(spark,
        PlainClickstream.partitionsFor(payloads.size(), spark.sparkContext().defaultParallelism()));
    PlainClickstream.add(source, payloads);
    Path checkpoint = Files.createTempDirectory(checkpoints, "restarted-");
    try {
      StreamingQuery query = PlainClickstream.start(spark, PlainClickstream.transform(source.toDF()).writeStream()
          .queryName(name)
          .format("iceberg")
          .outputMode("append")
          .trigger(Trigger.AvailableNow())
          .option("checkpointLocation", checkpoint.toString()), table);
      query.awaitTermination();
    } finally {
      delete(checkpoint);
    }
    double millis = (System.nanoTime() - start) / 1e6;
    return new Trial(millis, PhaseBreakdown.restartedQuery(millis, QueryProgressLog.since(name, start, 2000)));
  }

  static void delete(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
