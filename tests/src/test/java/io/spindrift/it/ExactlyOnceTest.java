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
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.Test;

/**
 * Retries, duplicates and crashes at named protocol points never double-count or lose a record (I1–I3, I6).
 * Events are AWS-shaped JSON, deserialized by aws-lambda-java-serialization inside {@link InProcessInvoker}.
 */
class ExactlyOnceTest {
  private static LambdaInvoker invoker(SpindriftRuntime runtime) {
    return new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1);
  }

  @Test
  void sameBatchInvokedTwiceIsCountedOnce() throws Exception {
    String app = TestPipeline.uniqueApp("dup");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    String event = KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(200, 1));

    String first = invoker(runtime).invoke(event);
    String second = invoker(runtime).invoke(event);

    assertThat(first).contains("\"batchItemFailures\":[]");
    assertThat(second).contains("\"batchItemFailures\":[]");
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(200);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(200);
    assertThat(TestPipeline.snapshots(runtime, "it." + app)).hasSize(1);
  }

  @Test
  void retryAfterInjectedFailureBeforeTheCommitIsCountedOnce() throws Exception {
    String app = TestPipeline.uniqueApp("retry");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    String event = KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(150, 2));
    RuntimeHooks.faults(runtime).arm(FaultPoint.AFTER_STAGE, 1);

    assertThatThrownBy(() -> invoker(runtime).invoke(event)).isInstanceOf(LambdaInvoker.FunctionError.class)
        .hasMessageContaining("AFTER_STAGE");
    assertThat(TestPipeline.count(runtime, "it." + app)).isZero();
    invoker(runtime).invoke(event);

    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(150);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(150);
  }

  @Test
  void bisectedRetryAfterACrashAfterCommitIsCountedOnce() throws Exception {
    String app = TestPipeline.uniqueApp("bisect");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    List<byte[]> clicks = KinesisEvents.clicks(100, 3);
    RuntimeHooks.faults(runtime).arm(FaultPoint.AFTER_COMMIT, 1);

    assertThatThrownBy(() -> invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, clicks)))
        .hasMessageContaining("AFTER_COMMIT");
    // what Lambda sends after bisecting the failed batch: each half on its own, plus records beyond it
    List<byte[]> more = KinesisEvents.clicks(20, 4);
    invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, clicks.subList(0, 50)));
    invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 50, clicks.subList(50, 100)));
    invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 100, more));

    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(120);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(120);
  }

  /** With every commit on the head (SPINDRIFT_COMMIT_MODE=head) the roll-forward is its own table commit. */
  @Test
  void crashAfterCommitIsRolledForwardByAFreshRuntimeOnAnotherLane() throws Exception {
    String app = TestPipeline.uniqueApp("rollfwd");
    SpindriftRuntime crashing = TestPipeline.runtime(app, java.util.Map.of("SPINDRIFT_COMMIT_MODE", "head"));
    RuntimeHooks.faults(crashing).arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> invoker(crashing).invoke(
        KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(80, 5))))
        .hasMessageContaining("AFTER_COMMIT");
    assertThat(TestPipeline.count(crashing, "it." + app)).isZero();

    SpindriftRuntime fresh = TestPipeline.runtime(app, java.util.Map.of("SPINDRIFT_COMMIT_MODE", "head"));
    invoker(fresh).invoke(KinesisEvents.event("clicks", "shardId-000000000001", 0, KinesisEvents.clicks(30, 6)));

    assertThat(TestPipeline.count(fresh, "it." + app)).isEqualTo(110);
    List<Snapshot> snapshots = TestPipeline.snapshots(fresh, "it." + app);
    assertThat(snapshots).extracting(s -> s.summary().get(CommitTag.SEQ)).containsExactly("1", "2");
    assertThat(snapshots.get(0).summary().get(CommitTag.LANES))
        .isEqualTo("kinesis:clicks/shardId-000000000000=(," + KinesisEvents.sequence(79) + "]#80");
    assertThat(snapshots.get(1).summary().get(CommitTag.LANES)).startsWith("kinesis:clicks/shardId-000000000001=");
  }

  /**
   * With lane commits (the default) a crash after the lane commit leaves it pending: the next batch of another lane,
   * in a fresh runtime, sequences it before its own and publishes both in one table commit, in seq order.
   */
  @Test
  void aLaneCommitLeftPendingByACrashIsSequencedAndPublishedByAFreshRuntimeOnAnotherLane() throws Exception {
    String app = TestPipeline.uniqueApp("lanefwd");
    SpindriftRuntime crashing = TestPipeline.runtime(app);
    RuntimeHooks.faults(crashing).arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> invoker(crashing).invoke(
        KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(80, 5))))
        .hasMessageContaining("AFTER_COMMIT");
    io.spindrift.commit.DynamoDbCommitLog log = new io.spindrift.commit.DynamoDbCommitLog(
        io.spindrift.runtime.AwsClients.dynamoDb(crashing.config()),
        crashing.config().get(io.spindrift.config.Setting.COMMIT_TABLE));
    assertThat(log.pending(app)).as("committed on its lane, not yet sequenced").hasSize(1);
    assertThat(log.read(app, List.of()).headSeq()).isZero();

    SpindriftRuntime fresh = TestPipeline.runtime(app);
    invoker(fresh).invoke(KinesisEvents.event("clicks", "shardId-000000000001", 0, KinesisEvents.clicks(30, 6)));

    assertThat(TestPipeline.count(fresh, "it." + app)).isEqualTo(110);
    assertThat(TestPipeline.distinctEvents(fresh, "it." + app)).isEqualTo(110);
    assertThat(log.pending(app)).isEmpty();
    List<io.spindrift.commit.CommitRecord> commits = log.commits(app, 0, 2);
    assertThat(commits).extracting(c -> c.lanes().get(0).lane())
        .containsExactly("kinesis:clicks/shardId-000000000000", "kinesis:clicks/shardId-000000000001");
    List<Snapshot> snapshots = TestPipeline.snapshots(fresh, "it." + app);
    assertThat(snapshots.get(snapshots.size() - 1).summary().get(CommitTag.SEQ)).isEqualTo("2");

    // Lambda's retry of the crashed batch finds every record committed
    invoker(fresh).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(80, 5)));
    assertThat(TestPipeline.count(fresh, "it." + app)).isEqualTo(110);
  }

  @Test
  void crashInTheMiddleOfPublishingIsCompletedOnce() throws Exception {
    String app = TestPipeline.uniqueApp("midpub");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    List<byte[]> clicks = KinesisEvents.clicks(60, 7);
    clicks.set(10, "{broken".getBytes());
    RuntimeHooks.faults(runtime).arm(FaultPoint.MID_PUBLISH, 1);

    assertThatThrownBy(() -> invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, clicks)))
        .hasMessageContaining("MID_PUBLISH");
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(59);
    assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).isZero();
    SpindriftRuntime fresh = TestPipeline.runtime(app);
    invoker(fresh).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, clicks));

    assertThat(TestPipeline.count(fresh, "it." + app)).isEqualTo(59);
    assertThat(TestPipeline.count(fresh, "it." + app + "_rejects")).isEqualTo(1);
  }

  @Test
  void everyTableCommitCarriesAppSeqTxnAndLaneRanges() throws Exception {
    String app = TestPipeline.uniqueApp("tags");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(10, 8)));
    invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 10, KinesisEvents.clicks(10, 9)));

    List<Snapshot> snapshots = TestPipeline.snapshots(runtime, "it." + app);
    assertThat(snapshots).hasSize(2);
    for (int i = 0; i < 2; i++) {
      Map<String, String> summary = snapshots.get(i).summary();
      assertThat(summary).containsEntry(CommitTag.APP, app).containsEntry(CommitTag.SEQ, Integer.toString(i + 1));
      assertThat(summary.get(CommitTag.TXN_ID)).matches("[0-9a-f-]{36}");
      String previous = i == 0 ? "" : KinesisEvents.sequence(9);
      assertThat(summary.get(CommitTag.LANES)).isEqualTo("kinesis:clicks/shardId-000000000000=(" + previous + ","
          + KinesisEvents.sequence(10L * i + 9) + "]#10");
    }
  }

  @Test
  void anAppendLinksTheManifestWrittenAtStageTime() throws Exception {
    String app = TestPipeline.uniqueApp("manifest");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(30, 3)));
    invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 30, KinesisEvents.clicks(20, 4)));

    Table table = runtime.catalog().loadTable(TableIdentifier.parse("it." + app));
    List<Snapshot> snapshots = TestPipeline.snapshots(runtime, "it." + app);
    assertThat(snapshots).hasSize(2);
    for (Snapshot snapshot : snapshots) {
      // the snapshot's only new manifest is the one staged with its data file, adopted as is (not copied)
      List<ManifestFile> added = snapshot.allManifests(table.io()).stream()
          .filter(m -> m.snapshotId() == snapshot.snapshotId()).toList();
      assertThat(added).singleElement().satisfies(m -> {
        assertThat(m.path()).endsWith("/spindrift-" + snapshot.summary().get(CommitTag.TXN_ID) + "-m0.avro");
        assertThat(m.addedFilesCount()).isEqualTo(1);
      });
    }
    assertThat(snapshots.get(1).allManifests(table.io())).hasSize(2);
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(50);
  }

  @Test
  void fastAppendsMergeManifestsOnceTheTableReachesItsMergeThreshold() throws Exception {
    String app = TestPipeline.uniqueApp("merge");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(10, 5)));
    Table table = runtime.catalog().loadTable(TableIdentifier.parse("it." + app));
    table.updateProperties().set(TableProperties.MANIFEST_MIN_MERGE_COUNT, "3").commit();
    for (int i = 1; i < 7; i++) {
      invoker(runtime).invoke(KinesisEvents.event("clicks", "shardId-000000000000", 10 * i,
          KinesisEvents.clicks(10, 5 + i)));
    }

    table.refresh();
    List<Integer> manifests = new ArrayList<>();
    List<String> operations = new ArrayList<>();
    for (Snapshot snapshot : TestPipeline.snapshots(runtime, "it." + app)) {
      manifests.add(snapshot.allManifests(table.io()).size());
      operations.add(snapshot.summary().getOrDefault(SnapshotSummary.REPLACED_MANIFESTS_COUNT, "0"));
    }
    // fast appends add one manifest each; the append that would reach 3 merges them instead
    assertThat(manifests).containsExactly(1, 2, 1, 2, 1, 2, 1);
    assertThat(operations).containsExactly("0", "0", "2", "0", "2", "0", "2");
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(70);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(70);
    // every commit's staged manifest outlives the merges: a retry or another container's roll-forward of a commit
    // reads it again (a merging append deletes the manifests it is handed once it merged them)
    String metadata = "warehouse/it.db/" + app + "/metadata/";
    long staged = AwsClients.s3(runtime.config()).listObjectsV2Paginator(b -> b.bucket(runtime.config().bucket())
        .prefix(metadata + "spindrift-")).contents().stream().filter(o -> o.key().endsWith(".avro")).count();
    assertThat(staged).as("staged manifests under " + metadata).isEqualTo(7);
  }
}
