package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.commit.S3CommitSpill;
import io.spindrift.config.Setting;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.MaintenanceHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.maintenance.AppMaintenance;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.RuntimeHooks;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.Sinks;
import io.spindrift.sink.maintenance.MaintenancePolicy;
import io.spindrift.sink.maintenance.MaintenanceReport;
import io.spindrift.sink.maintenance.ProtectedObjects;
import io.spindrift.sink.maintenance.StageCollector;
import io.spindrift.sink.maintenance.TableMaintenance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.hudi.client.SparkRDDWriteClient;
import org.apache.hudi.client.common.HoodieSparkEngineContext;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.common.table.TableSchemaResolver;
import org.apache.hudi.common.util.ClusteringUtils;
import org.apache.hudi.common.util.Option;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Table maintenance on the local stack, per format, through the real handler path: many small batches are published,
 * one batch's first attempt stages and dies (garbage), its retry commits and dies before publishing (an unpublished
 * commit whose files are older than every retention). Maintenance with zero retention and a clock moved a month on
 * then compacts and collects: files and versions go down, the rows stay exactly the same, the garbage is gone and
 * every object the unpublished commit references survives (I7). The roll-forward then publishes it, and publishing
 * every commit again, or delivering the first batch again, changes nothing (I2).
 */
class TableMaintenanceTest {
  private static final String SHARD0 = "shardId-000000000000";
  private static final int BATCHES = 4;
  private static final int PER_BATCH = 10;
  /** Small commits of the Hudi clustering test, the last one left unpublished. */
  private static final int CLUSTER_BATCHES = 8;
  /** Everything is older than every retention: the collectors would take all they are allowed to. */
  private static final MaintenancePolicy ZERO = new MaintenancePolicy(128L * 1024 * 1024, 2, Duration.ZERO, 1,
      Duration.ZERO, Duration.ZERO);
  private static final long A_MONTH_ON = Duration.ofDays(30).toMillis();

  private static LambdaInvoker invoker(SpindriftRuntime runtime) {
    return new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1);
  }

  private static String event(int batch) {
    return KinesisEvents.event("clicks", SHARD0, (long) batch * PER_BATCH, KinesisEvents.clicks(PER_BATCH, 100 + batch));
  }

  @ParameterizedTest
  @ValueSource(strings = {"iceberg", "delta", "hudi"})
  void maintenanceCompactsAndCollectsButKeepsRowsIdempotenceAndUnpublishedCommits(String format) throws Exception {
    String app = TestPipeline.uniqueApp("maint_" + format);
    SpindriftRuntime runtime = TestPipeline.runtime(app, Map.of("SPINDRIFT_SINK_FORMAT", format));
    for (int batch = 0; batch < BATCHES - 1; batch++) {
      assertThat(invoker(runtime).invoke(event(batch))).contains("\"batchItemFailures\":[]");
    }
    RuntimeHooks.faults(runtime).arm(FaultPoint.AFTER_STAGE, 1);
    assertThatThrownBy(() -> invoker(runtime).invoke(event(BATCHES - 1))).hasMessageContaining("AFTER_STAGE");
    RuntimeHooks.faults(runtime).arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> invoker(runtime).invoke(event(BATCHES - 1))).hasMessageContaining("AFTER_COMMIT");
    long published = (BATCHES - 1) * PER_BATCH;
    assertThat(rows(runtime, format)).isEqualTo(published);

    CommitRecord unpublished = commits(runtime).get(BATCHES - 1);
    Set<String> referenced = referenced(runtime, unpublished);
    assertThat(referenced).isNotEmpty();
    Path inFlightTemp = null;
    if (format.equals("delta")) {
      // the log store's temp copies of the written commits, and a writer's of the next version, not yet claimed
      assertThat(deltaTempFiles(runtime)).hasSizeGreaterThanOrEqualTo(BATCHES - 1);
      inFlightTemp = new Path(deltaLog(runtime), String.format(".tmp/%020d.json.in-flight", BATCHES + 5));
      try (var out = inFlightTemp.getFileSystem(hadoopConf(runtime)).create(inFlightTemp, true)) {
        out.write('{');
      }
    }
    AppMaintenance.Result first = maintain(runtime);
    MaintenanceReport table = first.tables().get(0);
    System.out.println("MAINTENANCE " + format + " " + MaintenanceHandler.result(first));

    assertThat(first.unpublishedCommits()).isEqualTo(1);
    if (!format.equals("hudi")) {
      assertThat(table.liveFilesBefore()).isEqualTo(BATCHES - 1);
      assertThat(table.liveFilesAfter()).isEqualTo(1);
    }
    if (format.equals("iceberg")) {
      assertThat(table.versionsAfter()).isLessThan(table.versionsBefore()).isEqualTo(1);
    }
    if (format.equals("delta")) {
      assertThat(table.actions()).anySatisfy(a -> assertThat(a).matches("log temp files: [1-9][0-9]* deleted"));
      assertThat(deltaTempFiles(runtime)).containsExactly(inFlightTemp.getName());
    }
    assertThat(table.storedFilesAfter()).isLessThan(table.storedFilesBefore());
    assertThat(rows(runtime, format)).isEqualTo(published);
    assertThat(distinct(runtime, format)).isEqualTo(published);
    // the unpublished commit's staged files, stage documents and stage directory are all still there
    for (String object : referenced) {
      assertThat(exists(runtime, object)).as("kept: " + object).isTrue();
    }
    // the first attempt's staged garbage is gone: what remains of the stage prefix is the unpublished commit's
    StageCollector stage = new StageCollector(s3(runtime), runtime.config().stageLocation());
    Set<String> kept = new HashSet<>();
    referenced.forEach(o -> kept.add(stage.directoryOf(o)));
    kept.add(stage.directoryOfTransaction(unpublished.txnId()));
    assertThat(stage.list()).allSatisfy(o -> assertThat(kept).contains(stage.directoryOf(o.location())));
    if (!format.equals("hudi")) {
      // in the table's directory: the compacted file and the unpublished commit's staged file(s), no garbage
      long stagedInTable = referenced.stream().filter(o -> o.endsWith(".parquet") && o.contains("/warehouse/")).count();
      assertThat(table.storedFilesAfter()).isEqualTo(1 + stagedInTable);
    }

    // the roll-forward publishes the unpublished commit, whole
    SpindriftRuntime fresh = TestPipeline.runtime(app, Map.of("SPINDRIFT_SINK_FORMAT", format));
    assertThat(fresh.rollForward().published()).isEqualTo(1);
    long all = BATCHES * PER_BATCH;
    assertThat(rows(fresh, format)).isEqualTo(all);
    assertThat(distinct(fresh, format)).isEqualTo(all);

    // publishing every commit again, and delivering the first batch again, change nothing
    assertThat(republishAll(fresh)).isEmpty();
    assertThat(invoker(fresh).invoke(event(0))).contains("\"batchItemFailures\":[]");
    assertThat(rows(fresh, format)).isEqualTo(all);

    // a second run: nothing is unpublished, so the stage prefix is collected whole; still exactly once
    AppMaintenance.Result second = maintain(fresh);
    System.out.println("MAINTENANCE " + format + " (after roll-forward) " + MaintenanceHandler.result(second));
    assertThat(second.unpublishedCommits()).isZero();
    assertThat(stage.list()).isEmpty();
    assertThat(republishAll(fresh)).isEmpty();
    assertThat(rows(fresh, format)).isEqualTo(all);
    assertThat(distinct(fresh, format)).isEqualTo(all);
  }

  @Test
  void hudiClusteringRewritesManySmallCommitsIntoOneFileKeepingRowsAndExactlyOnce() throws Exception {
    String app = TestPipeline.uniqueApp("maint_hudi_cluster");
    // every publish writes new files (no small-file rewrite): the table grows a file group per commit
    Map<String, String> settings = Map.of("SPINDRIFT_SINK_FORMAT", "hudi", "SPINDRIFT_HUDI_SMALL_FILE_MB", "0");
    SpindriftRuntime runtime = TestPipeline.runtime(app, settings);
    int published = CLUSTER_BATCHES - 1;
    for (int batch = 0; batch < published; batch++) {
      assertThat(invoker(runtime).invoke(event(batch))).contains("\"batchItemFailures\":[]");
    }
    RuntimeHooks.faults(runtime).arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> invoker(runtime).invoke(event(published))).hasMessageContaining("AFTER_COMMIT");
    Map<String, String> before = byKey(runtime, "hudi");
    assertThat(before).hasSize(published * PER_BATCH);
    Set<String> referenced = referenced(runtime, commits(runtime).get(published));
    assertThat(referenced).isNotEmpty();

    AppMaintenance.Result first = maintain(runtime);
    MaintenanceReport table = first.tables().get(0);
    System.out.println("MAINTENANCE hudi clustering " + MaintenanceHandler.result(first));
    assertThat(first.unpublishedCommits()).isEqualTo(1);
    assertThat(table.liveFilesBefore()).isEqualTo(published);
    assertThat(table.liveFilesAfter()).isEqualTo(1);
    assertThat(table.actions()).anySatisfy(a -> assertThat(a).startsWith("clustering: ").contains("small files"));
    // the same rows, key by key, and nothing the unpublished commit references was collected
    assertThat(byKey(runtime, "hudi")).isEqualTo(before);
    for (String object : referenced) {
      assertThat(exists(runtime, object)).as("kept: " + object).isTrue();
    }

    // the roll-forward publishes the unpublished commit; publishing again or re-delivering changes nothing
    SpindriftRuntime fresh = TestPipeline.runtime(app, settings);
    assertThat(fresh.rollForward().published()).isEqualTo(1);
    long all = (long) CLUSTER_BATCHES * PER_BATCH;
    assertThat(republishAll(fresh)).isEmpty();
    assertThat(invoker(fresh).invoke(event(0))).contains("\"batchItemFailures\":[]");
    Map<String, String> rolledForward = byKey(fresh, "hudi");
    assertThat(rolledForward).hasSize((int) all).containsAllEntriesOf(before);
    assertThat(rows(fresh, "hudi")).isEqualTo(all);

    // a second run clusters the clustered file with the roll-forward's new one; still exactly once
    AppMaintenance.Result second = maintain(fresh);
    System.out.println("MAINTENANCE hudi clustering (after roll-forward) " + MaintenanceHandler.result(second));
    assertThat(second.tables().get(0).liveFilesBefore()).isEqualTo(2);
    assertThat(second.tables().get(0).liveFilesAfter()).isEqualTo(1);
    assertThat(republishAll(fresh)).isEmpty();
    assertThat(byKey(fresh, "hudi")).isEqualTo(rolledForward);
    assertThat(rows(fresh, "hudi")).isEqualTo(all);
  }

  @Test
  void aClusteringPlanLeftPendingByADeadRunIsFinishedByTheNextRun() throws Exception {
    String app = TestPipeline.uniqueApp("maint_hudi_pending");
    Map<String, String> settings = Map.of("SPINDRIFT_SINK_FORMAT", "hudi", "SPINDRIFT_HUDI_SMALL_FILE_MB", "0");
    SpindriftRuntime runtime = TestPipeline.runtime(app, settings);
    for (int batch = 0; batch < 3; batch++) {
      assertThat(invoker(runtime).invoke(event(batch))).contains("\"batchItemFailures\":[]");
    }
    Map<String, String> before = byKey(runtime, "hudi");
    String location = "s3a://" + runtime.config().bucket() + "/warehouse/it/" + app;
    HoodieTableMetaClient meta = HoodieTableMetaClient.builder()
        .setConf(HadoopFSUtils.getStorageConfWithCopy(runtime.spark().sparkContext().hadoopConfiguration()))
        .setBasePath(location).build();
    // a run that planned clustering and died before executing it
    Properties props = new Properties();
    props.setProperty("hoodie.table.name", app);
    props.setProperty("hoodie.embed.timeline.server", "false");
    props.setProperty("hoodie.metadata.enable", "false");
    props.setProperty("hoodie.clustering.plan.strategy.small.file.limit", Long.toString(64L << 20));
    HoodieWriteConfig config = HoodieWriteConfig.newBuilder().withPath(location)
        .withSchema(new TableSchemaResolver(meta).getTableAvroSchema(false).toString()).withProps(props).build();
    try (SparkRDDWriteClient<OverwriteWithLatestAvroPayload> client = new SparkRDDWriteClient<>(
        new HoodieSparkEngineContext(JavaSparkContext.fromSparkContext(runtime.spark().sparkContext())), config)) {
      assertThat(client.scheduleClustering(Option.empty()).isPresent()).isTrue();
    }
    assertThat(ClusteringUtils.getPendingClusteringInstantTimes(HoodieTableMetaClient.reload(meta))).hasSize(1);

    MaintenanceReport table = maintain(runtime).tables().get(0);
    System.out.println("MAINTENANCE hudi pending clustering " + table);
    assertThat(table.actions()).anySatisfy(a -> assertThat(a).contains("left pending by an earlier run"));
    assertThat(table.liveFilesBefore()).isEqualTo(3);
    assertThat(table.liveFilesAfter()).isEqualTo(1);
    assertThat(ClusteringUtils.getPendingClusteringInstantTimes(HoodieTableMetaClient.reload(meta))).isEmpty();
    assertThat(byKey(runtime, "hudi")).isEqualTo(before);
    // the table takes the next batch as before
    assertThat(invoker(runtime).invoke(event(3))).contains("\"batchItemFailures\":[]");
    assertThat(byKey(runtime, "hudi")).hasSize(4 * PER_BATCH).containsAllEntriesOf(before);
  }

  @Test
  void theHandlerAndTheCliRunWithTheSettingsAndRefuseAnOrphanAgeBelowAnHour() throws Exception {
    String app = TestPipeline.uniqueApp("maint_cli");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    invoker(runtime).invoke(event(0));
    invoker(runtime).invoke(event(1));

    Map<String, Object> result = new MaintenanceHandler(runtime).handleRequest(Map.of(), null);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> tables = (List<Map<String, Object>>) result.get("tables");
    // default thresholds: two small files are fewer than SPINDRIFT_MAINTENANCE_MIN_INPUT_FILES (5)
    assertThat(tables.get(0)).containsEntry("table", "it." + app).containsEntry("liveFilesBefore", 2L)
        .containsEntry("liveFilesAfter", 2L);

    ReplayFixture.CliRun cli = ReplayFixture.cliWith(Map.of("SPINDRIFT_MAINTENANCE_MIN_INPUT_FILES", "2"), app,
        "maintain", "--app", app, "--json");
    assertThat(cli.exitCode()).as(cli.err()).isZero();
    assertThat(cli.json().get("tables").get(0).get("liveFilesAfter").asLong()).isEqualTo(1);
    assertThat(rows(runtime, "iceberg")).isEqualTo(2L * PER_BATCH);
    assertThat(distinct(runtime, "iceberg")).isEqualTo(2L * PER_BATCH);

    ReplayFixture.CliRun refused = ReplayFixture.cliWith(Map.of("SPINDRIFT_MAINTENANCE_ORPHAN_MIN_AGE_HOURS", "0"), app,
        "maintain", "--app", app);
    assertThat(refused.exitCode()).isEqualTo(2);
    assertThat(refused.err()).contains("SPINDRIFT_MAINTENANCE_ORPHAN_MIN_AGE_HOURS");
  }

  /** The app's maintenance with its clock a month on, under {@link #ZERO}: every file is older than every age. */
  private static AppMaintenance.Result maintain(SpindriftRuntime runtime) {
    return monthOn(runtime).run(ZERO);
  }

  private static AppMaintenance monthOn(SpindriftRuntime runtime) {
    var config = runtime.config();
    SinkContext context = context(runtime);
    var rejects = new io.spindrift.sink.SinkSpec(runtime.sink().format(), runtime.rejectsTable(),
        io.spindrift.sink.SinkSpec.Mode.APPEND, List.of(), null);
    return new AppMaintenance(config.app(), log(runtime), TableMaintenance.create(runtime.sink(), context),
        TableMaintenance.create(rejects, context), new StageCollector(s3(runtime), config.stageLocation()),
        () -> System.currentTimeMillis() + A_MONTH_ON);
  }

  private static SinkContext context(SpindriftRuntime runtime) {
    return new SinkContext(runtime.config().app(), runtime.spark(), runtime.catalog(),
        runtime.config().stageLocation(), runtime.config().asMap());
  }

  private static DynamoDbCommitLog log(SpindriftRuntime runtime) {
    return new DynamoDbCommitLog(AwsClients.dynamoDb(runtime.config()), runtime.config().get(Setting.COMMIT_TABLE),
        new S3CommitSpill(s3(runtime), runtime.config().bucket()));
  }

  private static S3Client s3(SpindriftRuntime runtime) {
    return AwsClients.s3(runtime.config());
  }

  /** The app's commits in seq order, then its lane commits not yet sequenced (a crash after the lane commit). */
  private static List<CommitRecord> commits(SpindriftRuntime runtime) {
    DynamoDbCommitLog log = log(runtime);
    List<CommitRecord> pending = log.pending(runtime.config().app());
    long head = log.read(runtime.config().app(), List.of()).headSeq();
    List<CommitRecord> all = new java.util.ArrayList<>(log.commits(runtime.config().app(), 0, head));
    pending.stream().filter(p -> all.stream().noneMatch(c -> c.txnId().equals(p.txnId()))).forEach(all::add);
    return all;
  }

  private static Set<String> referenced(SpindriftRuntime runtime, CommitRecord commit) {
    TableMaintenance table = TableMaintenance.create(runtime.sink(), context(runtime));
    return table.referencedObjects(commit.stages().table());
  }

  /** Publishes every commit of the app again through a new sink; returns the seqs that call published. */
  private static List<Long> republishAll(SpindriftRuntime runtime) {
    Sink sink = Sinks.create(runtime.sink(), context(runtime));
    List<PendingPublish> pending = new ArrayList<>();
    for (CommitRecord commit : commits(runtime)) {
      pending.add(new PendingPublish(new CommitTag(runtime.config().app(), commit.seq(), commit.txnId(),
          commit.describeLanes()), commit.stages().table()));
    }
    List<Long> published = new ArrayList<>(sink.publish(pending));
    for (PendingPublish one : pending) {
      published.addAll(sink.publish(List.of(one)));
    }
    return published;
  }

  private static Path deltaLog(SpindriftRuntime runtime) {
    return new Path("s3a://" + runtime.config().bucket() + "/warehouse/it/" + runtime.config().app() + "/_delta_log");
  }

  private static org.apache.hadoop.conf.Configuration hadoopConf(SpindriftRuntime runtime) {
    return TestPipeline.s3aReader(runtime).sessionState().newHadoopConf();
  }

  /** The names of the files under the Delta log's {@code .tmp/}. */
  private static List<String> deltaTempFiles(SpindriftRuntime runtime) throws Exception {
    Path temp = new Path(deltaLog(runtime), ".tmp");
    var fs = temp.getFileSystem(hadoopConf(runtime));
    List<String> out = new ArrayList<>();
    if (fs.exists(temp)) {
      var files = fs.listFiles(temp, false);
      while (files.hasNext()) {
        out.add(files.next().getPath().getName());
      }
    }
    return out;
  }

  private static boolean exists(SpindriftRuntime runtime, String object) throws Exception {
    SparkSession reader = TestPipeline.s3aReader(runtime);
    Path path = new Path("s3a://" + ProtectedObjects.normalize(object));
    return path.getFileSystem(reader.sessionState().newHadoopConf()).exists(path);
  }

  private static Dataset<Row> table(SpindriftRuntime runtime, String format) {
    if (format.equals("iceberg")) {
      return runtime.spark().table(TestPipeline.qualified(runtime, "it." + runtime.config().app()));
    }
    String path = "s3a://" + runtime.config().bucket() + "/warehouse/it/" + runtime.config().app();
    return TestPipeline.s3aReader(runtime).read().format(format).load(path);
  }

  private static long rows(SpindriftRuntime runtime, String format) {
    return table(runtime, format).count();
  }

  /** Every row by its event id (user, page, amount, time): fails on a duplicated id. */
  private static Map<String, String> byKey(SpindriftRuntime runtime, String format) {
    Map<String, String> out = new java.util.HashMap<>();
    for (Row row : table(runtime, format).select("event_id", "user_id", "page", "amount", "ts").collectAsList()) {
      String previous = out.put(row.getString(0), row.getString(1) + "|" + row.get(2) + "|" + row.get(3) + "|" + row.get(4));
      assertThat(previous).as("duplicate " + row.getString(0)).isNull();
    }
    return out;
  }

  private static long distinct(SpindriftRuntime runtime, String format) {
    return table(runtime, format).select("event_id").distinct().count();
  }
}
