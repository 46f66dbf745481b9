package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.event.SourceKind;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.job.JobContext;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 defect 11: a stateful job's event-time watermark is the minimum over its lanes' progress, so a lane that
 * lags behind the others by more than the watermark delay loses none of the rows a cluster reading every lane in one
 * query keeps; rows that are truly late (their lane went idle and the others moved on) reach the rejects table with
 * the reason, never dropped silently. Job: {@link PageViewCounts} (10-second windows, 10-second watermark).
 */
class LaneWatermarkTest {
  private static final String STREAM = "clicks";
  private static final String FAST = "shardId-000000000000";
  private static final String SLOW = "shardId-000000000001";

  /** One invocation of one lane: the events' seconds (after the oracle's base time). */
  private record Delivery(String shard, long[] seconds) {}

  @Test
  void aLaneHeldBackLongerThanTheWatermarkDelayLosesNoRowsAClusterWouldKeep() throws Exception {
    List<Delivery> deliveries = List.of(
        new Delivery(SLOW, range(0, 5)),
        new Delivery(FAST, range(0, 20)),
        new Delivery(FAST, range(20, 60)),
        new Delivery(FAST, range(60, 100)),
        // the slow lane's next batch, 70 s of event time behind the fast lane (the delay is 10 s)
        new Delivery(SLOW, range(6, 30)),
        // both lanes move on far, then one more batch evicts every earlier window
        new Delivery(SLOW, range(200, 200)),
        new Delivery(FAST, range(200, 200)),
        new Delivery(FAST, range(201, 201)));
    String app = TestPipeline.uniqueApp("lanes");
    SpindriftRuntime runtime = TestPipeline.runtime(app, PageViewCounts.class.getName());
    try {
      deliver(runtime, deliveries);
      Set<String> spindrift = windows(runtime, app);
      Set<String> cluster = oracle(runtime.spark(), deliveries);

      assertThat(cluster).as("the cluster query emitted the early windows").hasSizeGreaterThan(10);
      assertThat(spindrift).isEqualTo(cluster);
      assertThat(totalViews(runtime, app)).as("every event before second 200 is in a window")
          .isEqualTo(countBefore(deliveries, 200));
      assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).as("nothing was late").isZero();
    } finally {
      runtime.close();
    }
  }

  @Test
  void rowsOfALaneThatWentIdleAndFellBehindTheWatermarkGoToRejectsWithTheReason() throws Exception {
    String app = TestPipeline.uniqueApp("late");
    SpindriftRuntime runtime = TestPipeline.runtime(app, Map.of("SPINDRIFT_JOB", PageViewCounts.class.getName(),
        "SPINDRIFT_WATERMARK_IDLE_SECONDS", "1"));
    try {
      deliver(runtime, List.of(
          new Delivery(SLOW, range(0, 5)),
          new Delivery(FAST, range(0, 20)),
          new Delivery(FAST, range(20, 100))));
      // the slow lane is quiet for longer than the idle timeout (wall clock): the fast lane alone moves the watermark
      Thread.sleep(1_500);
      List<Delivery> rest = List.of(
          new Delivery(FAST, range(101, 110)),
          new Delivery(FAST, range(111, 120)),
          // 90 s of event time behind the watermark of 100 s: every window these rows fall in has closed
          new Delivery(SLOW, range(6, 30)),
          // active again, the slow lane holds the watermark until it catches up; then one batch evicts the rest
          new Delivery(SLOW, range(300, 300)),
          new Delivery(FAST, range(300, 300)),
          new Delivery(FAST, range(301, 301)));
      Map<String, Long> positions = deliver(runtime, rest);

      List<Row> rejects = TestPipeline.rows(runtime, "SELECT lane, position, error FROM "
          + TestPipeline.qualified(runtime, "it." + app + "_rejects"));
      assertThat(rejects).as("one reject per record of the late batch").hasSize(25);
      assertThat(rejects).allSatisfy(row -> {
        assertThat(row.getString(0)).isEqualTo("kinesis:" + STREAM + "/" + SLOW);
        assertThat(row.getString(2)).startsWith("late: event time").contains("is at or before the watermark");
      });
      assertThat(rejects.stream().map(row -> row.getString(1)).distinct().count()).isEqualTo(25);
      assertThat(rejects.stream().map(row -> new java.math.BigInteger(row.getString(1))).min(Comparable::compareTo)
          .orElseThrow())
          .as("the late batch's first position").isEqualTo(new java.math.BigInteger(KinesisEvents.sequence(positions.get(SLOW) - 26)));
      // every event before second 300 but the 25 late ones is in a window: 6 + 21 + 81 + 10 + 10
      assertThat(totalViews(runtime, app)).isEqualTo(6 + 21 + 81 + 10 + 10);
    } finally {
      runtime.close();
    }
  }

  private static long[] range(long from, long to) {
    long[] seconds = new long[(int) (to - from + 1)];
    for (int i = 0; i < seconds.length; i++) {
      seconds[i] = from + i;
    }
    return seconds;
  }

  /** Each runtime's shards' next positions, so deliveries in several calls continue where they left off. */
  private static final Map<SpindriftRuntime, Map<String, Long>> NEXT = new HashMap<>();

  /** Invokes the Kinesis handler once per delivery; returns each shard's next position. */
  private static Map<String, Long> deliver(SpindriftRuntime runtime, List<Delivery> deliveries) throws Exception {
    Map<String, Long> next = NEXT.computeIfAbsent(runtime, r -> new HashMap<>());
    int id = next.values().stream().mapToInt(Long::intValue).sum();
    for (Delivery delivery : deliveries) {
      List<byte[]> payloads = new ArrayList<>();
      for (long second : delivery.seconds()) {
        payloads.add(StatefulOracleTest.json(id++, new long[] {second, second % 3}));
      }
      long first = next.getOrDefault(delivery.shard(), 0L);
      String response = new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class,
          StreamsEventResponse.class, 1).invoke(KinesisEvents.event(STREAM, delivery.shard(), first, payloads));
      assertThat(response).contains("\"batchItemFailures\":[]");
      next.put(delivery.shard(), first + payloads.size());
    }
    return next;
  }

  private static Set<String> windows(SpindriftRuntime runtime, String app) {
    Set<String> out = new TreeSet<>();
    if (TestPipeline.count(runtime, "it." + app) == 0) {
      return out;
    }
    for (Row row : TestPipeline.rows(runtime, "SELECT window_start, page, views FROM "
        + TestPipeline.qualified(runtime, "it." + app))) {
      out.add(row.get(0) + " " + row.get(1) + " " + row.get(2));
    }
    return out;
  }

  private static long totalViews(SpindriftRuntime runtime, String app) {
    return TestPipeline.rows(runtime, "SELECT coalesce(sum(views), 0) FROM "
        + TestPipeline.qualified(runtime, "it." + app)).get(0).getLong(0);
  }

  private static long countBefore(List<Delivery> deliveries, long second) {
    return deliveries.stream().flatMapToLong(d -> java.util.Arrays.stream(d.seconds())).filter(s -> s < second)
        .count();
  }

  /**
   * A cluster reading every lane in one query: the events before second 200 in one micro-batch (nothing is late
   * within a batch), then the far later ones that move the watermark and evict, as on the Spindrift side.
   */
  private static Set<String> oracle(SparkSession base, List<Delivery> deliveries) throws Exception {
    OracleStream stream = new OracleStream(base);
    Dataset<Row> output = new PageViewCounts().transform(stream.input(), new JobContext("oracle", SourceKind.KINESIS));
    String sink = "oracle_lanes_" + System.nanoTime();
    StreamingQuery query = output.writeStream().format("memory").queryName(sink).outputMode("append").start();
    List<byte[]> early = new ArrayList<>();
    List<List<byte[]>> late = new ArrayList<>();
    int id = 0;
    for (Delivery delivery : deliveries) {
      List<byte[]> payloads = new ArrayList<>();
      for (long second : delivery.seconds()) {
        payloads.add(StatefulOracleTest.json(id++, new long[] {second, second % 3}));
      }
      if (delivery.seconds()[0] < 200) {
        early.addAll(payloads);
      } else {
        late.add(payloads);
      }
    }
    stream.add(early, 0);
    query.processAllAvailable();
    for (List<byte[]> batch : late) {
      stream.add(batch, 0);
      query.processAllAvailable();
    }
    query.stop();
    Set<String> out = new TreeSet<>();
    for (Row row : stream.spark().table(sink).collectAsList()) {
      out.add(row.getAs("window_start") + " " + row.getAs("page") + " " + row.getAs("views"));
    }
    return out;
  }
}
