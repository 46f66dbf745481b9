package io.spindrift.it;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.window;
import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.event.SourceKind;
import io.spindrift.examples.Clickstream;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.SinkSpec.Format;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.api.java.function.MapGroupsWithStateFunction;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.streaming.GroupStateTimeout;
import scala.Tuple3;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Update output mode: a windowed count that emits every changed window each batch, published as an upsert keyed
 * on the grouping key (Iceberg row deltas with equality deletes, Delta MERGE, Hudi upsert). Oracle: the same job as
 * one plain Structured Streaming query in update mode whose {@code foreachBatch} keeps the last row per key; the
 * Spindrift table, read back with plain Spark, must equal it. Windows are updated across invocations and
 * containers, and late events behind the watermark are dropped on both sides.
 */
class StatefulUpdateModeTest {
  private static final long BASE_MS = 1_795_500_000_000L;
  private static final String[] PAGES = {"/", "/cart", "/search"};

  /** Windowed views per page, in update mode, upserted on (window_start, page). */
  public static final class ViewCountsUpdated implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .filter(col(JobContext.REJECT_COLUMN).isNull())
          .withWatermark("ts", "10 seconds")
          .groupBy(window(col("ts"), "10 seconds"), col("page"))
          .count()
          .select(col("window.start").as("window_start"), col("page"), col("count").as("views"));
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.view_counts_updated").upsert("window_start", "page");
    }

    @Override
    public String outputMode() {
      return "update";
    }
  }

  /**
   * Running views per page with {@code mapGroupsWithState} (update mode only, in Spark) and an event-time timeout:
   * a page with no event for 20 s of event time is closed (its state removed) and its final row marked closed.
   */
  public static final class RunningViews implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      MapGroupsWithStateFunction<String, Row, long[], Tuple3<String, Long, Boolean>> update = (page, rows, state) -> {
        if (state.hasTimedOut()) {
          long total = state.get()[0];
          state.remove();
          return new Tuple3<>(page, total, true);
        }
        long[] seen = state.exists() ? state.get() : new long[] {0, 0};
        while (rows.hasNext()) {
          Row row = rows.next();
          seen[0]++;
          seen[1] = Math.max(seen[1], row.<Timestamp>getAs("ts").getTime());
        }
        state.update(seen);
        state.setTimeoutTimestamp(seen[1] + 20_000);
        return new Tuple3<>(page, seen[0], false);
      };
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .filter(col(JobContext.REJECT_COLUMN).isNull())
          .withWatermark("ts", "10 seconds")
          .groupByKey((MapFunction<Row, String>) row -> row.getAs("page"), Encoders.STRING())
          .mapGroupsWithState(update, Encoders.javaSerialization(long[].class),
              Encoders.tuple(Encoders.STRING(), Encoders.LONG(), Encoders.BOOLEAN()),
              GroupStateTimeout.EventTimeTimeout())
          .toDF("page", "views", "closed");
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.running_views").upsert("page");
    }

    @Override
    public String outputMode() {
      return "update";
    }
  }

  @org.junit.jupiter.api.Test
  void mapGroupsWithStateWithAnEventTimeTimeoutEqualsOneLongRunningQuery() throws Exception {
    String app = TestPipeline.uniqueApp("update_mgws");
    List<List<byte[]>> batches = new ArrayList<>(batches());
    // only "/" goes on, far later: the watermark passes the other pages' timeouts, which fire in the batch after
    batches.add(List.of(event(1000, 0, 200), event(1001, 0, 201)));
    batches.add(List.of(event(1010, 0, 202)));
    Map<String, String> settings = Map.of("SPINDRIFT_APP", app, "SPINDRIFT_JOB", RunningViews.class.getName(),
        "SPINDRIFT_SINK_TABLE", "it." + app);
    SpindriftRuntime first = TestPipeline.runtime(app, settings);
    long offset = 0;
    for (int i = 0; i < batches.size(); i++) {
      SpindriftRuntime container = i % 2 == 1
          ? TestPipeline.runtime(app, settings) : first;
      new InProcessInvoker<>(new KinesisHandler(container), KinesisEvent.class, StreamsEventResponse.class, 1)
          .invoke(KinesisEvents.event("clicks", "shardId-000000000000", offset, batches.get(i)));
      offset += batches.get(i).size();
    }
    Map<String, String> spindrift = new TreeMap<>();
    for (Row row : SinkConformanceTest.read(first, Format.ICEBERG, app).collectAsList()) {
      spindrift.put(row.getAs("page"), row.getAs("views") + " closed=" + row.getAs("closed"));
    }
    Map<String, String> oracle = new TreeMap<>();
    oracle(first.spark(), batches, new RunningViews(), List.of("page"), List.of("views", "closed"))
        .forEach((key, value) -> oracle.put(key, value.replace(" ", " closed=")));

    assertThat(oracle.values()).as("timeouts fired").anyMatch(value -> value.endsWith("closed=true"));
    assertThat(spindrift).isEqualTo(oracle);
  }

  private static byte[] event(long second, int page, int id) {
    String ts = Instant.ofEpochMilli(BASE_MS + second * 1000).toString();
    return ("{\"event_id\":\"late-" + id + "\",\"user_id\":\"u\",\"page\":\"" + PAGES[page] + "\",\"ts\":\""
        + ts + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  /** Four batches; each revisits windows of the one before, and the last holds events far behind the watermark. */
  private static List<List<byte[]>> batches() {
    long[][] seconds = {
        {1, 2, 3, 5, 8, 12, 14},
        {4, 9, 13, 15, 18, 21, 24, 27},
        {17, 22, 26, 31, 33, 38, 41},
        {2, 6, 35, 36, 44, 47, 52},
    };
    List<List<byte[]>> out = new ArrayList<>();
    int id = 0;
    for (long[] batch : seconds) {
      List<byte[]> payloads = new ArrayList<>();
      for (long second : batch) {
        for (int p = 0; p < PAGES.length; p++) {
          if ((second + p) % 2 == 0 || p == 0) {
            String ts = Instant.ofEpochMilli(BASE_MS + second * 1000).toString();
            payloads.add(("{\"event_id\":\"e-" + id++ + "\",\"user_id\":\"u\",\"page\":\"" + PAGES[p]
                + "\",\"ts\":\"" + ts + "\"}").getBytes(StandardCharsets.UTF_8));
          }
        }
      }
      out.add(payloads);
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void updateModeUpsertsEqualOneLongRunningQuery(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("update_" + format.name().toLowerCase());
    List<List<byte[]>> batches = batches();
    Map<String, String> settings = Map.of("SPINDRIFT_APP", app, "SPINDRIFT_JOB", ViewCountsUpdated.class.getName(),
        "SPINDRIFT_SINK_TABLE", "it." + app, "SPINDRIFT_SINK_FORMAT", format.name().toLowerCase());
    SpindriftRuntime first = TestPipeline.runtime(app, settings);
    long offset = 0;
    for (int i = 0; i < batches.size(); i++) {
      // the third batch runs in another container: the window state comes from DynamoDB
      SpindriftRuntime container = i == 2
          ? TestPipeline.runtime(app, settings) : first;
      String response = new InProcessInvoker<>(new KinesisHandler(container), KinesisEvent.class,
          StreamsEventResponse.class, 1)
          .invoke(KinesisEvents.event("clicks", "shardId-000000000000", offset, batches.get(i)));
      assertThat(response).contains("\"batchItemFailures\":[]");
      offset += batches.get(i).size();
    }

    Map<String, Long> spindrift = new TreeMap<>();
    for (Row row : SinkConformanceTest.read(first, format, app).select("window_start", "page", "views")
        .collectAsList()) {
      String key = row.get(0) + " " + row.get(1);
      assertThat(spindrift.put(key, row.getLong(2))).as("a second row for %s", key).isNull();
    }
    Map<String, Long> oracle = new TreeMap<>();
    oracle(first.spark(), batches, new ViewCountsUpdated(), List.of("window_start", "page"), List.of("views"))
        .forEach((key, value) -> oracle.put(key, Long.parseLong(value)));

    assertThat(oracle).as("windows were updated after their first emission").hasSizeGreaterThan(8);
    assertThat(spindrift).isEqualTo(oracle);
  }

  /**
   * The job as one plain query in update mode; its foreachBatch keeps the newest row per key: the key columns'
   * values to the value columns' values, each joined with spaces.
   */
  private static Map<String, String> oracle(SparkSession base, List<List<byte[]>> batches, StreamJob job,
      List<String> keys, List<String> values) throws Exception {
    OracleStream stream = new OracleStream(base);
    Dataset<Row> output = job.transform(stream.input(), new JobContext("oracle", SourceKind.KINESIS));
    Map<String, String> table = new ConcurrentHashMap<>();
    VoidFunction2<Dataset<Row>, Long> upsert = (changed, batchId) -> {
      for (Row row : changed.collectAsList()) {
        table.put(String.join(" ", keys.stream().map(k -> String.valueOf((Object) row.getAs(k))).toList()),
            String.join(" ", values.stream().map(v -> String.valueOf((Object) row.getAs(v))).toList()));
      }
    };
    StreamingQuery query = output.writeStream().outputMode("update").foreachBatch(upsert).start();
    for (List<byte[]> batch : batches) {
      stream.add(batch, BASE_MS);
      query.processAllAvailable();
    }
    query.stop();
    return new TreeMap<>(table);
  }
}
