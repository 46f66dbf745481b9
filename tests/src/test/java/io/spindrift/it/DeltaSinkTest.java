package io.spindrift.it;

import io.spindrift.runtime.RuntimeHooks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The Delta sink end to end: the real Kinesis handler with {@code SPINDRIFT_SINK_FORMAT=delta} on the local stack,
 * under duplicates, retries and crashes. Tables are read back with plain Spark ({@code format("delta")} over S3A
 * settings this test writes itself) and the Delta log's own commit and txn actions.
 */
class DeltaSinkTest {
  private static final String SHARD0 = "shardId-000000000000";

  private static SpindriftRuntime runtime(String app) {
    return TestPipeline.runtime(app, Map.of("SPINDRIFT_SINK_FORMAT", "delta"));
  }

  private static SpindriftRuntime headCommits(String app) {
    return TestPipeline.runtime(app, Map.of("SPINDRIFT_SINK_FORMAT", "delta", "SPINDRIFT_COMMIT_MODE", "head"));
  }

  private static LambdaInvoker invoker(SpindriftRuntime runtime) {
    return new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1);
  }

  private static SparkSession reader(SpindriftRuntime runtime) {
    return TestPipeline.s3aReader(runtime);
  }

  private static String path(SpindriftRuntime runtime, String table) {
    return "s3a://" + runtime.config().bucket() + "/warehouse/it/" + table;
  }

  private static Dataset<Row> table(SpindriftRuntime runtime, String table) {
    return reader(runtime).read().format("delta").load(path(runtime, table));
  }

  /** The commitInfo actions of the table's Delta log, oldest first, as plain JSON rows. */
  private static List<Row> commits(SpindriftRuntime runtime, String table) {
    return reader(runtime).read().json(path(runtime, table) + "/_delta_log/*.json")
        .where("commitInfo IS NOT NULL").orderBy("commitInfo.timestamp")
        .select("commitInfo.operation", "commitInfo.tags", "commitInfo.userMetadata").collectAsList();
  }

  /** A commit's {@link CommitTag} entry (JSON inference reads the tags map as a struct). */
  private static String tag(Row commit, String key) {
    Row tags = commit.getStruct(1);
    return tags == null ? null : tags.getAs(key);
  }

  private static long distinctEvents(SpindriftRuntime runtime, String table) {
    return table(runtime, table).select("event_id").distinct().count();
  }

  @Test
  void sameBatchInvokedTwiceIsAppendedOnce() throws Exception {
    String app = TestPipeline.uniqueApp("delta_dup");
    SpindriftRuntime runtime = runtime(app);
    String event = KinesisEvents.event("clicks", SHARD0, 0, KinesisEvents.clicks(200, 1));

    assertThat(invoker(runtime).invoke(event)).contains("\"batchItemFailures\":[]");
    assertThat(invoker(runtime).invoke(event)).contains("\"batchItemFailures\":[]");

    assertThat(table(runtime, app).count()).isEqualTo(200);
    assertThat(distinctEvents(runtime, app)).isEqualTo(200);
    assertThat(commits(runtime, app)).extracting(r -> r.getString(0))
        .containsExactly("CREATE TABLE", "STREAMING UPDATE");
  }

  @Test
  void retryAfterInjectedFailureBeforeTheCommitIsAppendedOnce() throws Exception {
    String app = TestPipeline.uniqueApp("delta_retry");
    SpindriftRuntime runtime = runtime(app);
    String event = KinesisEvents.event("clicks", SHARD0, 0, KinesisEvents.clicks(150, 2));
    RuntimeHooks.faults(runtime).arm(FaultPoint.AFTER_STAGE, 1);

    assertThatThrownBy(() -> invoker(runtime).invoke(event)).isInstanceOf(LambdaInvoker.FunctionError.class)
        .hasMessageContaining("AFTER_STAGE");
    assertThat(table(runtime, app).count()).isZero();
    invoker(runtime).invoke(event);

    assertThat(table(runtime, app).count()).isEqualTo(150);
    assertThat(distinctEvents(runtime, app)).isEqualTo(150);
  }

  /**
   * With every commit on the head (SPINDRIFT_COMMIT_MODE=head) the roll-forward is a Delta commit of its own; with
   * lane commits the crashed commit is sequenced with the next one and both go in one Delta commit (ExactlyOnceTest).
   */
  @Test
  void crashAfterCommitIsRolledForwardByAFreshRuntimeOnAnotherLane() throws Exception {
    String app = TestPipeline.uniqueApp("delta_rollfwd");
    SpindriftRuntime crashing = headCommits(app);
    RuntimeHooks.faults(crashing).arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> invoker(crashing).invoke(
        KinesisEvents.event("clicks", SHARD0, 0, KinesisEvents.clicks(80, 5))))
        .hasMessageContaining("AFTER_COMMIT");
    assertThat(table(crashing, app).count()).isZero();

    SpindriftRuntime fresh = headCommits(app);
    invoker(fresh).invoke(KinesisEvents.event("clicks", "shardId-000000000001", 0, KinesisEvents.clicks(30, 6)));

    assertThat(table(fresh, app).count()).isEqualTo(110);
    assertThat(distinctEvents(fresh, app)).isEqualTo(110);
    List<Row> updates = commits(fresh, app).subList(1, 3);
    assertThat(updates).extracting(r -> tag(r, CommitTag.SEQ)).containsExactly("1", "2");
    assertThat(tag(updates.get(0), CommitTag.LANES))
        .isEqualTo("kinesis:clicks/" + SHARD0 + "=(," + KinesisEvents.sequence(79) + "]#80");
    assertThat(tag(updates.get(1), CommitTag.LANES))
        .startsWith("kinesis:clicks/shardId-000000000001=");
  }

  @Test
  void everyDeltaCommitCarriesAppSeqTxnLanesAndASetTransaction() throws Exception {
    String app = TestPipeline.uniqueApp("delta_tags");
    SpindriftRuntime runtime = runtime(app);
    invoker(runtime).invoke(KinesisEvents.event("clicks", SHARD0, 0, KinesisEvents.clicks(10, 8)));
    invoker(runtime).invoke(KinesisEvents.event("clicks", SHARD0, 10, KinesisEvents.clicks(10, 9)));

    List<Row> updates = commits(runtime, app).subList(1, 3);
    for (int i = 0; i < 2; i++) {
      Row commit = updates.get(i);
      assertThat(tag(commit, CommitTag.APP)).isEqualTo(app);
      assertThat(tag(commit, CommitTag.SEQ)).isEqualTo(Integer.toString(i + 1));
      assertThat(tag(commit, CommitTag.TXN_ID)).matches("[0-9a-f-]{36}");
      String previous = i == 0 ? "" : KinesisEvents.sequence(9);
      assertThat(tag(commit, CommitTag.LANES)).isEqualTo("kinesis:clicks/" + SHARD0 + "=(" + previous + ","
          + KinesisEvents.sequence(10L * i + 9) + "]#10");
      assertThat(updates.get(i).getString(2)).contains("\"" + CommitTag.SEQ + "\":\"" + (i + 1) + "\"");
    }
    List<Row> txns = reader(runtime).read().json(path(runtime, app) + "/_delta_log/*.json")
        .where("txn IS NOT NULL").select("txn.appId", "txn.version").orderBy("txn.version").collectAsList();
    assertThat(txns).extracting(r -> r.getString(0)).containsOnly(app);
    assertThat(txns).extracting(r -> r.getLong(1)).containsExactly(1L, 2L);
  }

  @Test
  void rejectsLandInADeltaRejectsTable() throws Exception {
    String app = TestPipeline.uniqueApp("delta_rejects");
    SpindriftRuntime runtime = runtime(app);
    List<byte[]> clicks = KinesisEvents.clicks(40, 11);
    clicks.set(3, "{\"event_id\":\"evt-x\",\"page\":\"/".getBytes(StandardCharsets.UTF_8));
    clicks.set(25, "{\"event_id\":\"evt-y\",\"ts\":\"2026-11-23T00:00:00Z\"}".getBytes(StandardCharsets.UTF_8));

    invoker(runtime).invoke(KinesisEvents.event("clicks", SHARD0, 0, clicks));

    assertThat(table(runtime, app).count()).isEqualTo(38);
    List<Row> rejects = table(runtime, app + "_rejects").orderBy("position")
        .select("lane", "position", "error").collectAsList();
    assertThat(rejects).extracting(r -> r.getString(0)).containsOnly("kinesis:clicks/" + SHARD0);
    assertThat(rejects).extracting(r -> r.getString(1))
        .containsExactly(KinesisEvents.sequence(3), KinesisEvents.sequence(25));
    assertThat(rejects.get(0).getString(2)).contains("malformed");
    assertThat(rejects.get(1).getString(2)).contains("user_id");
    Row rejectsCommit = commits(runtime, app + "_rejects").get(1);
    assertThat(tag(rejectsCommit, CommitTag.APP)).isEqualTo(app);
    assertThat(tag(rejectsCommit, CommitTag.SEQ)).isEqualTo("1");
  }
}
