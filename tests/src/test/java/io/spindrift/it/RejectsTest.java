package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** Bad records go to the rejects table with lane, position and error, in the same commit; the rest lands. */
class RejectsTest {
  @Test
  void malformedRecordsGoToRejectsWithLaneAndPositionAndTheRestCommits() throws Exception {
    String app = TestPipeline.uniqueApp("rejects");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    List<byte[]> clicks = KinesisEvents.clicks(40, 11);
    clicks.set(3, "{\"event_id\":\"evt-x\",\"page\":\"/".getBytes(StandardCharsets.UTF_8));
    clicks.set(17, "[1,2,3]".getBytes(StandardCharsets.UTF_8));
    clicks.set(25, "{\"event_id\":\"evt-y\",\"ts\":\"2026-11-23T00:00:00Z\"}".getBytes(StandardCharsets.UTF_8));

    String response = new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class,
        StreamsEventResponse.class, 1).invoke(KinesisEvents.event("clicks", "shardId-000000000003", 0, clicks));

    assertThat(response).contains("\"batchItemFailures\":[]");
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(37);
    List<Row> rejects = TestPipeline.rows(runtime, "SELECT lane, position, error, payload FROM "
        + TestPipeline.qualified(runtime, "it." + app + "_rejects") + " ORDER BY position");
    assertThat(rejects).extracting(r -> r.getString(0)).containsOnly("kinesis:clicks/shardId-000000000003");
    assertThat(rejects).extracting(r -> r.getString(1))
        .containsExactly(KinesisEvents.sequence(3), KinesisEvents.sequence(17), KinesisEvents.sequence(25));
    assertThat(rejects).extracting(r -> r.getString(2)).containsExactly("malformed JSON (not valid JSON text)",
        "not a JSON object", "missing required field 'user_id'");
    assertThat(new String((byte[]) rejects.get(0).get(3), StandardCharsets.UTF_8)).isEqualTo("{\"event_id\":\"evt-x\",\"page\":\"/");
  }

  @Test
  void outputWithOtherColumnsAddsThemToTheTableAndKeepsTheOldRows() throws Exception {
    String app = TestPipeline.uniqueApp("schema");
    SpindriftRuntime clicks = TestPipeline.runtime(app);
    InProcessInvoker<KinesisEvent, StreamsEventResponse> first =
        new InProcessInvoker<>(new KinesisHandler(clicks), KinesisEvent.class, StreamsEventResponse.class, 1);
    first.invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(5, 12)));
    // the same app and table, redeployed with a job whose output has other columns: they are added (nullable);
    // an incompatible change (a column's type) is refused, see SinkConformanceTest
    SpindriftRuntime raw = TestPipeline.runtime(app, "io.spindrift.job.PassThroughJob");
    new InProcessInvoker<>(new KinesisHandler(raw), KinesisEvent.class, StreamsEventResponse.class, 1)
        .invoke(KinesisEvents.event("clicks", "shardId-000000000000", 5, KinesisEvents.clicks(5, 13)));

    String table = TestPipeline.qualified(raw, "it." + app);
    assertThat(TestPipeline.count(raw, "it." + app)).isEqualTo(10);
    assertThat(TestPipeline.rows(raw, "SELECT count(*) FROM " + table + " WHERE data IS NULL AND event_id IS NOT NULL")
        .get(0).getLong(0)).as("the first job's rows, without the new column").isEqualTo(5);
    assertThat(TestPipeline.rows(raw, "SELECT count(*) FROM " + table + " WHERE data IS NOT NULL AND event_id IS NULL")
        .get(0).getLong(0)).as("the second job's rows, with it").isEqualTo(5);
    clicks.close();
    raw.close();
  }

}
