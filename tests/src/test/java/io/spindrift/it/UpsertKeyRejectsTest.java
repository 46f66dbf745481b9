package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec.Format;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.Sinks;
import io.spindrift.sink.StageRows;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Invariant I7 for upserts, every format: a row without a value in a key column (null, or an empty string, which
 * Hudi refuses as a record key) goes to the rejects table with its lane, position and an error naming the column,
 * in the same commit as the rest of its batch; it never reaches publish, where it would fail every later
 * invocation of the app.
 */
class UpsertKeyRejectsTest {
  private static final String SHARD = "shardId-000000000000";
  private static final ObjectMapper JSON = new ObjectMapper();

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void stagingRefusesARowWithoutAKeyValueBeforeAnythingIsCommitted(Format format) {
    String app = TestPipeline.uniqueApp("keystage");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    Sink sink = Sinks.create(new SinkSpec(format, "it." + app, SinkSpec.Mode.UPSERT, List.of("k"), null),
        new SinkContext(app, runtime.spark(), runtime.catalog(), runtime.config().stageLocation(),
            runtime.config().asMap()));
    StructType kv = new StructType().add("k", DataTypes.StringType).add("v", DataTypes.LongType);
    InternalRow empty = new GenericInternalRow(new Object[] {UTF8String.fromString(""), 1L});

    assertThat(sink.upsertKeys().columns()).containsExactly("k");
    assertThatThrownBy(() -> sink.stage("txn-" + app, new StageRows(kv, List.of(empty))))
        .hasMessageContaining("'k'").hasMessageContaining("empty string");
    runtime.close();
  }

  // The runtime splits rows with the table sink's keys (MicroBatchQuery.stageOutput): keyless rows are rejects.
  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void rowsWithANullOrEmptyKeyGoToRejectsAndTheRestOfTheBatchAndTheNextOnePublish(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("keyrej");
    SpindriftRuntime runtime = TestPipeline.runtime(app, Map.of("SPINDRIFT_SINK_FORMAT", format.name().toLowerCase(),
        "SPINDRIFT_SINK_MODE", "upsert", "SPINDRIFT_SINK_KEYS", "user_id,session_id"));
    LambdaInvoker invoker =
        new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1);
    List<byte[]> clicks = KinesisEvents.clicks(10, 21);
    clicks.set(2, edit(clicks.get(2), event -> event.put("user_id", "")));
    clicks.set(5, edit(clicks.get(5), event -> event.remove("session_id")));

    String first = invoker.invoke(KinesisEvents.event("clicks", SHARD, 0, clicks));
    String second = invoker.invoke(KinesisEvents.event("clicks", SHARD, 10, KinesisEvents.clicks(4, 22)));

    assertThat(first).contains("\"batchItemFailures\":[]");
    assertThat(second).contains("\"batchItemFailures\":[]");
    List<Row> rejects = SinkConformanceTest.read(runtime, format, app + "_rejects")
        .selectExpr("lane", "position", "error").orderBy("position").collectAsList();
    assertThat(rejects).extracting(r -> r.getString(0)).containsOnly("kinesis:clicks/" + SHARD);
    assertThat(rejects).extracting(r -> r.getString(1))
        .containsExactly(KinesisEvents.sequence(2), KinesisEvents.sequence(5));
    assertThat(rejects.get(0).getString(2)).contains("'user_id'").contains("empty");
    assertThat(rejects.get(1).getString(2)).contains("'session_id'").contains("null");
    Map<String, String> expected = new HashMap<>();
    for (int i = 0; i < 10; i++) {
      if (i != 2 && i != 5) {
        var event = JSON.readTree(clicks.get(i));
        expected.put(event.get("user_id").asText() + "/" + event.get("session_id").asText(),
            event.get("event_id").asText());
      }
    }
    for (byte[] click : KinesisEvents.clicks(4, 22)) {
      var event = JSON.readTree(click);
      expected.put(event.get("user_id").asText() + "/" + event.get("session_id").asText(),
          event.get("event_id").asText());
    }
    Map<String, String> actual = new HashMap<>();
    for (Row row : SinkConformanceTest.read(runtime, format, app)
        .selectExpr("concat(user_id, '/', session_id)", "event_id").collectAsList()) {
      assertThat(actual.put(row.getString(0), row.getString(1))).as("a second row for %s", row.get(0)).isNull();
    }
    assertThat(actual).isEqualTo(expected);
    runtime.close();
  }

  private static byte[] edit(byte[] payload, java.util.function.Consumer<ObjectNode> change) throws Exception {
    ObjectNode event = (ObjectNode) JSON.readTree(payload);
    change.accept(event);
    return JSON.writeValueAsBytes(event);
  }
}
