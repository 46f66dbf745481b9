package io.spindrift.it;

import io.spindrift.examples.Clickstream;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.Sinks;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Delta stage and publish latency per batch on the local stack, for a checkpoint interval (a measurement, not a
 * test: run with {@code -Dspindrift.bench=true -Dtest=DeltaPublishBench}).
 */
@EnabledIfSystemProperty(named = "spindrift.bench", matches = "true")
class DeltaPublishBench {
  @Test
  void publishLatency() {
    int rows = Integer.getInteger("bench.rows", 1000);
    int batches = Integer.getInteger("bench.batches", 25);
    for (String interval : System.getProperty("bench.intervals", "10,100").split(",")) {
      measure(rows, batches, interval);
    }
  }

  private static void measure(int rowCount, int batches, String interval) {
    String app = TestPipeline.uniqueApp("delta_bench");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    Map<String, String> settings = new HashMap<>(runtime.config().asMap());
    settings.put("SPINDRIFT_DELTA_CHECKPOINT_INTERVAL", interval);
    SinkContext context = new SinkContext(app, runtime.spark(), runtime.catalog(),
        runtime.config().stageLocation(), settings);
    Sink sink = Sinks.create(new SinkSpec(SinkSpec.Format.DELTA, "bench." + app, SinkSpec.Mode.APPEND, List.of(), null),
        context);
    StageRows rows = rows(runtime, rowCount);
    List<Long> stage = new ArrayList<>();
    List<Long> publish = new ArrayList<>();
    for (int seq = 1; seq <= batches; seq++) {
      String txnId = UUID.randomUUID().toString();
      long start = System.nanoTime();
      StagedOutput staged = sink.stage(txnId, rows);
      stage.add((System.nanoTime() - start) / 1_000_000);
      start = System.nanoTime();
      sink.publish(List.of(new PendingPublish(new CommitTag(app, seq, txnId, "bench"), staged.ref())));
      publish.add((System.nanoTime() - start) / 1_000_000);
    }
    System.out.printf("DELTA-BENCH rows=%d interval=%s stage=%s publish=%s medianStage=%d medianPublish=%d%n",
        rowCount, interval, stage, publish, median(stage.subList(1, stage.size())),
        median(publish.subList(1, publish.size())));
  }

  private static StageRows rows(SpindriftRuntime runtime, int count) {
    ClickstreamGenerator generator = new ClickstreamGenerator(42, 0, 1_795_390_000_000L);
    List<String> json = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      json.add(new String(generator.next().json(), StandardCharsets.UTF_8));
    }
    StructType schema = Clickstream.EVENT;
    List<InternalRow> internal = runtime.spark().read().schema(schema)
        .json(runtime.spark().createDataset(json, Encoders.STRING()))
        .queryExecution().toRdd().toJavaRDD().map(InternalRow::copy).collect();
    return new StageRows(schema, internal);
  }

  private static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }
}
