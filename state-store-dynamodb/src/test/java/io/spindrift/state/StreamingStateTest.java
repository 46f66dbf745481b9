package io.spindrift.state;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.window;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.streaming.MemoryStream;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.junit.jupiter.api.Test;
import scala.collection.JavaConverters;

/**
 * Real Structured Streaming queries on the DynamoDB state store, one long-running query fed batch by batch: the
 * harness plays the runtime, applying each micro-batch's drained deltas as the next commit. Output and the state
 * left behind equal the same query's on Spark's default state store.
 */
class StreamingStateTest {
  @Test
  void windowedCountInUpdateModeMatchesTheDefaultStateStore() throws Exception {
    List<List<String>> batches = List.of(
        List.of("00:00:01,a", "00:00:03,a", "00:00:04,b", "00:00:12,a", "00:00:16,b"),
        // eviction watermark 11 s; late rows are filtered by the previous batch's watermark (0), so 00:00:05 counts
        List.of("00:00:05,a", "00:00:13,a", "00:00:27,c"),
        // eviction watermark 22 s: [10 s, 20 s) goes
        List.of("00:00:35,a", "00:00:28,c"));
    UnaryOperator<Dataset<Row>> windowedCount = events -> events
        .withWatermark("ts", "5 seconds")
        .groupBy(window(col("ts"), "10 seconds"), col("key"))
        .count()
        .selectExpr("concat(date_format(window.start, 'HH:mm:ss'), ' ', key, '=', count) as line");

    Run oracle = compareWithDefaultStore(batches, windowedCount, "update");

    assertThat(oracle.outputs()).containsExactly(
        List.of("00:00:00 a=2", "00:00:00 b=1", "00:00:10 a=1", "00:00:10 b=1"),
        List.of("00:00:00 a=3", "00:00:10 a=2", "00:00:20 c=1"),
        List.of("00:00:20 c=2", "00:00:30 a=1"));
  }

  @Test
  void dropDuplicatesWithAWatermarkMatchesTheDefaultStateStore() throws Exception {
    List<List<String>> batches = List.of(
        List.of("00:00:01,a", "00:00:01,a", "00:00:02,b"),
        List.of("00:00:01,a", "00:00:09,b", "00:00:09,c"),
        List.of("00:00:09,c", "00:00:20,d", "00:00:02,b"));
    UnaryOperator<Dataset<Row>> dedup = events -> events
        .withWatermark("ts", "5 seconds")
        .dropDuplicates("key", "ts")
        .selectExpr("concat(date_format(ts, 'HH:mm:ss'), ' ', key) as line");

    Run oracle = compareWithDefaultStore(batches, dedup, "append");

    assertThat(oracle.outputs().get(0)).containsExactly("00:00:01 a", "00:00:02 b");
  }

  /** Runs the job on both stores and asserts equal output and state; returns the default store's run. */
  private static Run compareWithDefaultStore(List<List<String>> batches, UnaryOperator<Dataset<Row>> job,
      String outputMode) throws Exception {
    SparkSession spark = LocalState.spark();
    Run expected = run(spark.newSession(), batches, job, outputMode, Runnable::run);

    StateTable table = LocalState.freshApp();
    String runId = "run-" + UUID.randomUUID();
    StateDeltas.open(runId, table);
    SparkSession session = spark.newSession();
    DynamoDbStateStoreProvider.sparkConf(runId).forEach(session.conf()::set);
    List<StateIoCounts> batchCosts = new ArrayList<>();
    long[] seq = {0};
    try {
      Run actual = run(session, batches, job, outputMode, batch -> {
        StateIoCounts before = table.counts();
        batch.run();
        batchCosts.add(table.counts().minus(before));
        table.apply(StateDeltas.drain(runId).deltas(), ++seq[0]);
      });

      assertThat(actual.outputs()).isEqualTo(expected.outputs());
      assertThat(durableRows(table)).as("state rows left in DynamoDB").isEqualTo(expected.stateRows());
      assertThat(batchCosts.get(0).readRequests()).as("the first batch reads every partition").isEqualTo(2);
      assertThat(batchCosts.subList(1, batchCosts.size())).as("warm batches read nothing")
          .allSatisfy(cost -> assertThat(cost.readRequests()).isZero());
      assertThat(batchCosts).as("nothing is written during a batch")
          .allSatisfy(cost -> assertThat(cost.writeRequests()).isZero());
      return expected;
    } finally {
      StateDeltas.close(runId);
      table.close();
    }
  }

  /** Per-batch output lines (sorted) and the state rows the query holds at the end. */
  private record Run(List<List<String>> outputs, long stateRows) {}

  /** Runs the job over {@code batches}, one micro-batch each; {@code around} wraps each batch's run. */
  private static Run run(SparkSession session, List<List<String>> batches, UnaryOperator<Dataset<Row>> job,
      String outputMode, Consumer<Runnable> around) throws Exception {
    MemoryStream<String> input = MemoryStream.apply(Encoders.STRING(), session.sqlContext());
    Dataset<Row> events = input.toDF().selectExpr(
        "cast(concat('2024-01-01 ', split(value, ',')[0]) as timestamp) as ts", "split(value, ',')[1] as key");
    Map<Long, List<String>> outputs = new ConcurrentHashMap<>();
    VoidFunction2<Dataset<Row>, Long> collect = (df, batchId) -> outputs.put(batchId,
        df.collectAsList().stream().map(row -> row.getString(0)).sorted().toList());
    Path checkpoint = Files.createTempDirectory("state-test-checkpoint-");
    StreamingQuery query = job.apply(events).writeStream()
        .outputMode(outputMode)
        .option("checkpointLocation", checkpoint.toString())
        .foreachBatch(collect)
        .start();
    try {
      for (List<String> batch : batches) {
        around.accept(() -> {
          input.addData(JavaConverters.asScalaBuffer(batch));
          query.processAllAvailable();
        });
      }
      List<List<String>> ordered = new ArrayList<>();
      outputs.keySet().stream().sorted().forEach(batchId -> ordered.add(outputs.get(batchId)));
      return new Run(ordered, lastProgress(query, batches.size() - 1).stateOperators()[0].numRowsTotal());
    } finally {
      query.stop();
    }
  }

  /** The progress of batch {@code batchId}, which Spark reports just after processAllAvailable returns. */
  private static StreamingQueryProgress lastProgress(StreamingQuery query, long batchId) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (query.lastProgress() == null || query.lastProgress().batchId() < batchId) {
      assertThat(System.nanoTime()).as("progress of batch %s reported", batchId).isLessThan(deadline);
      Thread.sleep(10);
    }
    return query.lastProgress();
  }

  private static long durableRows(StateTable table) {
    long rows = 0;
    for (int partition = 0; partition < 2; partition++) {
      rows += table.readDurable(new StateBucket(0, "default", partition)).size();
    }
    return rows;
  }
}
