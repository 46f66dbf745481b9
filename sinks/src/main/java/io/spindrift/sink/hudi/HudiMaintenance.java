package io.spindrift.sink.hudi;

import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StagedOutput;
import io.spindrift.sink.maintenance.MaintenancePolicy;
import io.spindrift.sink.maintenance.MaintenanceReport;
import io.spindrift.sink.maintenance.ProtectedObjects;
import io.spindrift.sink.maintenance.TableMaintenance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.hudi.avro.model.HoodieCleanMetadata;
import org.apache.hudi.client.SparkRDDWriteClient;
import org.apache.hudi.client.common.HoodieSparkEngineContext;
import org.apache.hudi.common.fs.FSUtils;
import org.apache.hudi.common.model.HoodieBaseFile;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.common.table.TableSchemaResolver;
import org.apache.hudi.common.table.timeline.HoodieActiveTimeline;
import org.apache.hudi.common.table.timeline.HoodieInstant;
import org.apache.hudi.common.table.timeline.HoodieTimeline;
import org.apache.hudi.common.table.view.HoodieTableFileSystemView;
import org.apache.hudi.common.util.ClusteringUtils;
import org.apache.hudi.common.util.Option;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.exception.TableNotFoundException;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.apache.hudi.storage.StoragePath;
import org.apache.hudi.storage.StoragePathInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Hudi maintenance through Hudi's Spark write client, holding the table's publish lease (one writer per table, as
 * {@link HudiSink} publishes): clustering (a plan a dead run left pending first; then, where a partition holds
 * enough small base files, a size-based plan of them, executed at once) and cleaning (file versions no commit within
 * the snapshot retention needs). Publishes write new files (unless {@code SPINDRIFT_HUDI_SMALL_FILE_MB} is above 0)
 * and cluster them inline every {@code SPINDRIFT_HUDI_CLUSTER_COMMITS} commits; this run clusters what is left.
 * Both are Hudi table services that write their own instants (replacecommit, clean) and never touch the metadata
 * of the app's tagged commits, from which {@link CommitTimeline} reads what the table holds (the archived timeline
 * included). Stage files live outside the table, under the app's stage prefix, where only the stage collector works;
 * cleaning removes only file slices the timeline tracks. When no commit is within the snapshot retention, the clean
 * keeps only the newest version of each file group and removes the groups the run's clustering replaced, so a run
 * leaves fewer stored files than it found.
 */
record HudiMaintenance(SinkSpec spec, SparkSession spark, String location, HudiSettings settings)
    implements TableMaintenance {
  private static final Duration LEASE = Duration.ofSeconds(30);
  /** How long the run waits for a publisher's lease. */
  private static final Duration LEASE_WAIT = Duration.ofMinutes(5);

  @Override
  public Set<String> referencedObjects(String ref) {
    return new HashSet<>(StagedOutput.parts(ref));
  }

  @Override
  public MaintenanceReport run(MaintenancePolicy policy, ProtectedObjects keep) {
    HoodieTableMetaClient meta;
    try {
      meta = HoodieTableMetaClient.builder()
          .setConf(HadoopFSUtils.getStorageConfWithCopy(spark.sparkContext().hadoopConfiguration()))
          .setBasePath(location).build();
    } catch (TableNotFoundException absent) {
      return MaintenanceReport.absent(spec.table(), "hudi");
    }
    long liveBefore = liveFiles(meta);
    long storedBefore = storedFiles(meta).size();
    long instantsBefore = completedInstants(meta);
    List<String> actions = new ArrayList<>();
    var dynamo = settings.aws().dynamoDb();
    PublishLease.ensureTable(dynamo, settings.lockTable(), "key");
    PublishLease lease = new PublishLease(dynamo, settings.leaseTable(), LEASE);
    lease.ensureTable();
    try (PublishLease.Held held = lease.acquire(location, System.nanoTime() + LEASE_WAIT.toNanos());
        SparkRDDWriteClient<OverwriteWithLatestAvroPayload> client = new SparkRDDWriteClient<>(
            new HoodieSparkEngineContext(JavaSparkContext.fromSparkContext(spark.sparkContext())),
            writeConfig(meta, policy))) {
      for (HoodieInstant pending : ClusteringUtils.getPendingClusteringInstantTimes(meta)) {
        held.confirm();
        client.cluster(pending.getTimestamp(), true);
        actions.add("clustering: finished " + pending.getTimestamp() + ", left pending by an earlier run");
      }
      actions.add(cluster(client, HoodieTableMetaClient.reload(meta), policy, held));
      held.confirm();
      HoodieCleanMetadata cleaned = client.clean();
      actions.add("clean: " + (cleaned == null ? 0 : cleaned.getTotalFilesDeleted()) + " files deleted");
    }
    meta = HoodieTableMetaClient.reload(meta);
    return new MaintenanceReport(spec.table(), "hudi", liveBefore, liveFiles(meta), storedBefore,
        storedFiles(meta).size(), instantsBefore, completedInstants(meta), actions);
  }

  /**
   * Clusters the small base files (below {@link MaintenancePolicy#smallFileBytes}) of every partition that has at
   * least {@link MaintenancePolicy#minInputFiles} of them into files of the target size: one replacecommit, planned
   * and executed at once. A plan left pending by a run that died is finished by the next run, before it plans.
   *
   * @return what was done, one line
   */
  private String cluster(SparkRDDWriteClient<OverwriteWithLatestAvroPayload> client, HoodieTableMetaClient meta,
      MaintenancePolicy policy, PublishLease.Held held) {
    long small = latestBaseFiles(meta).values().stream()
        .mapToLong(files -> files.stream().filter(f -> f.getFileSize() < policy.smallFileBytes()).count())
        .filter(count -> count >= policy.minInputFiles())
        .sum();
    if (small == 0) {
      return "clustering: no partition has " + policy.minInputFiles() + " files below " + policy.smallFileBytes()
          + " bytes";
    }
    Option<String> planned = client.scheduleClustering(Option.empty());
    if (!planned.isPresent()) {
      return "clustering: nothing to cluster";
    }
    held.confirm();
    client.cluster(planned.get(), true);
    return "clustering: " + planned.get() + " over partitions holding " + small + " small files";
  }

  /** The sink's write settings, with clustering by size and cleaning by age. */
  private HoodieWriteConfig writeConfig(HoodieTableMetaClient meta, MaintenancePolicy policy) {
    Schema schema;
    try {
      schema = new TableSchemaResolver(meta).getTableAvroSchema(false);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot read the schema of Hudi table " + spec.table() + " at " + location, e);
    }
    WriteOptions options = new WriteOptions(spec, meta.getTableType(), location, settings);
    Properties props = new Properties();
    props.putAll(options.writeConfig(schema).getProps());
    String target = Long.toString(policy.targetFileBytes());
    props.setProperty("hoodie.clustering.plan.strategy.small.file.limit", Long.toString(policy.smallFileBytes()));
    props.setProperty("hoodie.clustering.plan.strategy.target.file.max.bytes", target);
    props.setProperty("hoodie.clustering.plan.strategy.max.bytes.per.group", Long.toString(policy.targetFileBytes() * 4));
    props.setProperty("hoodie.clustering.inline", "false");
    props.setProperty("hoodie.clustering.async.enabled", "false");
    // one file group is already as compact as clustering makes it
    props.setProperty("hoodie.clustering.plan.strategy.single.group.clustering.enabled", "false");
    int recent = commitsWithin(meta, policy.snapshotRetention());
    if (recent == 0) {
      // no reader's snapshot is within the retention: only the newest version of each file group is kept, and the
      // file groups this run's clustering replaces go in the same run (KEEP_LATEST_COMMITS would keep them until a
      // commit follows the replacecommit: Hudi cleans a replaced group only once its replacement is older than the
      // earliest retained commit)
      props.setProperty("hoodie.cleaner.policy", "KEEP_LATEST_FILE_VERSIONS");
      props.setProperty("hoodie.cleaner.fileversions.retained", "1");
    } else {
      props.setProperty("hoodie.cleaner.policy", "KEEP_LATEST_COMMITS");
      props.setProperty("hoodie.cleaner.commits.retained", Integer.toString(recent));
    }
    return HoodieWriteConfig.newBuilder().withPath(location).withProps(props).build();
  }

  /**
   * The commits completed within {@code retention}: those to retain for a history that long. (Hudi's own
   * KEEP_LATEST_BY_HOURS keeps every file slice when no commit is younger than the retention.)
   */
  private static int commitsWithin(HoodieTableMetaClient meta, Duration retention) {
    long since = System.currentTimeMillis() - retention.toMillis();
    long recent = meta.reloadActiveTimeline().getCommitsTimeline().filterCompletedInstants().getInstantsAsStream()
        .filter(instant -> HoodieActiveTimeline.parseDateFromInstantTimeSafely(instant.getTimestamp())
            .map(date -> date.getTime() >= since).orElse(true))
        .count();
    return (int) Math.min(Integer.MAX_VALUE, recent);
  }

  private static long completedInstants(HoodieTableMetaClient meta) {
    return meta.reloadActiveTimeline().filterCompletedInstants().countInstants();
  }

  /** Parquet base files under the table (every version), outside {@code .hoodie}. */
  private List<StoragePathInfo> storedFiles(HoodieTableMetaClient meta) {
    try {
      return meta.getStorage().listFiles(new StoragePath(location)).stream()
          .filter(f -> f.getPath().getName().endsWith(".parquet") && !f.getPath().toString().contains("/.hoodie/"))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list Hudi table " + spec.table() + " at " + location, e);
    }
  }

  /** The latest base file of every file group the completed timeline keeps: what a snapshot query reads. */
  private long liveFiles(HoodieTableMetaClient meta) {
    return latestBaseFiles(meta).values().stream().mapToLong(List::size).sum();
  }

  /** The latest base file of every file group the completed timeline keeps, by partition path. */
  private Map<String, List<HoodieBaseFile>> latestBaseFiles(HoodieTableMetaClient meta) {
    List<StoragePathInfo> files = storedFiles(meta);
    HoodieTimeline completed = meta.reloadActiveTimeline().getCommitsTimeline().filterCompletedInstants();
    StoragePath base = new StoragePath(location);
    Set<String> partitions = new HashSet<>();
    files.forEach(f -> partitions.add(FSUtils.getRelativePartitionPath(base, f.getPath().getParent())));
    HoodieTableFileSystemView view = new HoodieTableFileSystemView(meta, completed, files);
    try {
      Map<String, List<HoodieBaseFile>> latest = new HashMap<>();
      partitions.forEach(p -> latest.put(p, view.getLatestBaseFiles(p).toList()));
      return latest;
    } finally {
      view.close();
    }
  }
}
