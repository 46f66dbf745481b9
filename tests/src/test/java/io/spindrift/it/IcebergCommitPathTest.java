package io.spindrift.it;

import io.spindrift.runtime.RuntimeHooks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.config.Setting;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.runtime.AwsClients;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import java.util.List;
import java.util.Objects;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.spark.actions.SparkActions;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The Iceberg publish of a warm container: it holds its own last commit as the table's current metadata, so a
 * publish reads nothing back (one conditional catalog update, the manifest list and the metadata file written);
 * a commit by another writer in between is caught by that condition and retried; superseded metadata files are
 * still deleted, after the response. Idempotence survives table maintenance: a roll-forward after compaction and
 * snapshot expiry (the app's tagged snapshots gone from the history) does not append again.
 */
class IcebergCommitPathTest {
  private static final String SHARD = "shardId-000000000000";

  private static LambdaInvoker invoker(SpindriftRuntime runtime) {
    return new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1);
  }

  private static String batch(int index, int records) {
    return KinesisEvents.event("clicks", SHARD, (long) index * records, KinesisEvents.clicks(records, 600 + index));
  }

  @Test
  void aWarmPublishMakesOneCatalogRequestAndReadsNoMetadataBack() throws Exception {
    String app = TestPipeline.uniqueApp("warmpub");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    LambdaInvoker invoker = invoker(runtime);
    for (int i = 0; i < 3; i++) {
      invoker.invoke(batch(i, 100));
    }

    AwsRequestLog.start();
    assertThat(invoker.invoke(batch(3, 100))).contains("\"batchItemFailures\":[]");
    List<AwsRequestLog.Request> requests = AwsRequestLog.stop();

    String catalogTable = runtime.config().get(Setting.CATALOG_TABLE);
    assertThat(requests).filteredOn(r -> r.target().equals(catalogTable))
        .extracting(AwsRequestLog.Request::operation, AwsRequestLog.Request::failed)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("UpdateItem", false));
    assertThat(requests).filteredOn(r -> r.target().endsWith(".metadata.json"))
        .extracting(AwsRequestLog.Request::operation).containsExactly("PutObject");
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(400);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(400);
    runtime.close();
  }

  @Test
  void aCommitByAnotherWriterBetweenTwoPublishesIsKeptAndTheNextPublishStillLands() throws Exception {
    String app = TestPipeline.uniqueApp("otherwriter");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    LambdaInvoker invoker = invoker(runtime);
    String table = "it." + app;
    invoker.invoke(batch(0, 50));
    // another engine (Spark with Iceberg's own catalog class) appends one row behind the container's back
    runtime.spark().sql("INSERT INTO " + TestPipeline.qualified(runtime, table) + " SELECT * FROM "
        + TestPipeline.qualified(runtime, table) + " LIMIT 1");

    AwsRequestLog.start();
    assertThat(invoker.invoke(batch(1, 50))).contains("\"batchItemFailures\":[]");
    List<AwsRequestLog.Request> requests = AwsRequestLog.stop();

    // the first conditional update met the other writer's commit; Iceberg's retry read the table and landed
    String catalogTable = runtime.config().get(Setting.CATALOG_TABLE);
    assertThat(requests).filteredOn(r -> r.target().equals(catalogTable) && r.operation().equals("UpdateItem"))
        .extracting(AwsRequestLog.Request::failed).containsExactly(true, false);
    List<Snapshot> snapshots = TestPipeline.snapshots(runtime, table);
    assertThat(snapshots).extracting(s -> Objects.toString(s.summary().get(CommitTag.SEQ)))
        .containsExactly("1", "null", "2");
    assertThat(TestPipeline.count(runtime, table)).isEqualTo(101);
    assertThat(TestPipeline.distinctEvents(runtime, table)).isEqualTo(100);

    // and a duplicate delivery of the batch now changes nothing
    invoker.invoke(batch(1, 50));
    assertThat(TestPipeline.count(runtime, table)).isEqualTo(101);
    runtime.close();
  }

  @Test
  void supersededMetadataFilesAreDeletedAfterTheResponse() throws Exception {
    String app = TestPipeline.uniqueApp("metaclean");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    LambdaInvoker invoker = invoker(runtime);
    invoker.invoke(batch(0, 5));
    Table table = runtime.catalog().loadTable(TableIdentifier.parse("it." + app));
    int kept = Integer.parseInt(table.properties().get(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX));
    for (int i = 1; i <= kept + 6; i++) {
      invoker.invoke(batch(i, 5));
    }

    S3Client s3 = AwsClients.s3(runtime.config());
    String prefix = table.location().replaceFirst("^s3://[^/]+/", "") + "/metadata/";
    long deadline = System.nanoTime() + 30_000_000_000L;
    List<String> metadataFiles;
    do {
      metadataFiles = s3.listObjectsV2Paginator(b -> b.bucket(runtime.config().bucket()).prefix(prefix)).contents()
          .stream().map(o -> o.key()).filter(key -> key.endsWith(".metadata.json")).toList();
    } while (metadataFiles.size() > kept + 1 && System.nanoTime() < deadline && pause());
    // the current metadata file and the log's previous versions: the older ones are gone
    assertThat(metadataFiles).hasSize(kept + 1);
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(5L * (kept + 7));
    runtime.close();
  }

  /**
   * With SPINDRIFT_ICEBERG_MAX_SNAPSHOTS the publishes keep the table's history bounded (each commit writes a
   * metadata file listing every snapshot) and delete the manifest lists of the snapshots they expire; every event
   * is in the table once.
   */
  @Test
  void publishesExpireTheOldestSnapshotsAndTheirManifestLists() throws Exception {
    String app = TestPipeline.uniqueApp("snapcap");
    SpindriftRuntime runtime = TestPipeline.runtime(app, java.util.Map.of("SPINDRIFT_ICEBERG_MAX_SNAPSHOTS", "4"));
    LambdaInvoker invoker = invoker(runtime);
    for (int i = 0; i < 12; i++) {
      invoker.invoke(batch(i, 10));
      assertThat(TestPipeline.snapshots(runtime, "it." + app)).as("snapshots after batch %s", i)
          .hasSizeLessThanOrEqualTo(4);
    }

    Table table = runtime.catalog().loadTable(TableIdentifier.parse("it." + app));
    S3Client s3 = AwsClients.s3(runtime.config());
    String prefix = table.location().replaceFirst("^s3://[^/]+/", "") + "/metadata/";
    List<String> manifestLists = s3.listObjectsV2Paginator(b -> b.bucket(runtime.config().bucket()).prefix(prefix))
        .contents().stream().map(o -> o.key()).filter(key -> key.contains("/snap-")).toList();
    assertThat(manifestLists).as("manifest lists left of 12 commits").hasSizeLessThanOrEqualTo(4);
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(120);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(120);
    runtime.close();
  }

  private static boolean pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return true;
  }

  @Test
  void aRollForwardAfterCompactionAndSnapshotExpiryDoesNotAppendAgain() throws Exception {
    String app = TestPipeline.uniqueApp("expiry");
    String table = "it." + app;
    SpindriftRuntime crashing = TestPipeline.runtime(app);
    invoker(crashing).invoke(batch(0, 20));
    // seq 2 reaches the table, then the container dies before the commit is marked published
    RuntimeHooks.faults(crashing).arm(FaultPoint.MID_PUBLISH, 1);
    assertThatThrownBy(() -> invoker(crashing).invoke(batch(1, 20))).hasMessageContaining("MID_PUBLISH");
    assertThat(TestPipeline.count(crashing, table)).isEqualTo(40);

    // table maintenance: compaction, then expiry of every snapshot but the current (the app's tags go with them)
    Table loaded = crashing.catalog().loadTable(TableIdentifier.parse(table));
    SparkActions.get(crashing.spark()).rewriteDataFiles(loaded).option("min-input-files", "2").execute();
    loaded.refresh();
    loaded.expireSnapshots().expireOlderThan(System.currentTimeMillis() + 1).retainLast(1).commit();
    loaded.refresh();
    assertThat(loaded.snapshots()).hasSize(1);
    assertThat(loaded.currentSnapshot().summary()).doesNotContainKey(CommitTag.APP);

    // another container rolls seq 2 forward again, then commits its own batch
    SpindriftRuntime fresh = TestPipeline.runtime(app);
    assertThat(invoker(fresh).invoke(batch(2, 20))).contains("\"batchItemFailures\":[]");

    assertThat(TestPipeline.count(fresh, table)).isEqualTo(60);
    assertThat(TestPipeline.distinctEvents(fresh, table)).isEqualTo(60);
    crashing.close();
    fresh.close();
  }
}
