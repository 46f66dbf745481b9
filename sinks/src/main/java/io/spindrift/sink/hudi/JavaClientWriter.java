package io.spindrift.sink.hudi;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hudi.client.HoodieJavaWriteClient;
import org.apache.hudi.client.WriteStatus;
import org.apache.hudi.client.common.HoodieJavaEngineContext;
import org.apache.hudi.common.engine.HoodieEngineContext;
import org.apache.hudi.common.model.HoodieCommitMetadata;
import org.apache.hudi.common.model.HoodieRecord;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.hudi.common.model.WriteOperationType;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.common.table.timeline.HoodieActiveTimeline;
import org.apache.hudi.common.table.timeline.HoodieInstant;
import org.apache.hudi.common.table.timeline.HoodieTimeline;
import org.apache.hudi.common.table.timeline.versioning.TimelineLayoutVersion;
import org.apache.hudi.common.util.ClusteringUtils;
import org.apache.hudi.common.util.Option;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.apache.hudi.storage.StorageConfiguration;
import org.apache.hudi.table.HoodieJavaTable;
import org.apache.hudi.table.HoodieTable;

/**
 * Hudi's Java write client ({@code hudi-java-client}): a commit's index lookup, workload profile, file writes,
 * marker handling and completion run in the calling JVM, on the Hadoop configuration (S3A) it is given, so a
 * publish starts no Spark job. Tables it writes are ordinary Hudi tables (same timeline, same files) for Spark
 * readers, the Spark client's table services and other writers.
 *
 * <p>The client keeps one meta client of the table for its life ({@link WarmMetaClient}): Hudi builds a new one
 * (checking the table's directories and reading {@code hoodie.properties}, about eight S3 requests) four times in
 * a commit; the warm one only reloads its active timeline (one listing), so every step still sees every other
 * writer's instants; its storage ({@link TableStorage}) remembers the table's directories and config, which every
 * table view Hudi builds checks again. Two of the table-wide steps Hudi takes under its lock on every commit are taken only when
 * they can do something ({@link WarmMetaClient#doInitTable}, {@link WarmMetaClient#runTableServicesInline}).
 */
final class JavaClientWriter implements HudiWriter {
  private final WarmMetaClient client;

  JavaClientWriter(StorageConfiguration<?> storage, HoodieWriteConfig config) {
    this.client = new WarmMetaClient(new HoodieJavaEngineContext(storage), config);
  }

  @Override
  public String startCommit() {
    return client.startCommit();
  }

  @Override
  public List<WriteStatus> write(String instant, List<HoodieRecord<OverwriteWithLatestAvroPayload>> records,
      boolean upsert) {
    return upsert ? client.upsert(records, instant) : client.insert(records, instant);
  }

  @Override
  public boolean commit(String instant, List<WriteStatus> written, Map<String, String> metadata, String actionType,
      BiConsumer<HoodieTableMetaClient, HoodieCommitMetadata> check) {
    return client.commit(instant, written, Option.of(metadata), actionType, Map.of(), Option.of(check));
  }

  @Override
  public void abandon(String instant) {
    client.rollback(instant);
  }

  @Override
  public void clean() {
    client.clean();
  }

  @Override
  public void archive() {
    client.archive();
  }

  @Override
  public void close() {
    client.close();
  }

  /**
   * Hudi's Java client whose meta clients are one, built on first use and then reloaded: its timeline is read
   * again for every meta client Hudi asks for, its table config ({@code hoodie.properties}: table type, key fields,
   * version, which only an upgrade by another Hudi version changes) is the one read when the client was built.
   */
  private static final class WarmMetaClient extends HoodieJavaWriteClient<OverwriteWithLatestAvroPayload> {
    private HoodieTableMetaClient meta;
    /** The table's upgrade check (and metadata table set-up) ran for this client. */
    private boolean initialized;
    /** Replace commits seen, by instant time: whether each is a clustering (its plan never changes). */
    private final Map<String, Boolean> clusterings = new HashMap<>();

    WarmMetaClient(HoodieEngineContext context, HoodieWriteConfig config) {
      super(context, config);
    }

    @Override
    protected HoodieTableMetaClient createMetaClient(boolean loadActiveTimelineOnLoad) {
      if (meta == null) {
        HoodieWriteConfig config = getConfig();
        // what Hudi's own createMetaClient builds, on a storage that remembers the table's directories and config
        meta = HoodieTableMetaClient.builder()
            .setStorage(TableStorage.of(config.getBasePath(), HadoopFSUtils.getStorageConfWithCopy(hadoopConf),
                config.getConsistencyGuardConfig(), config.getFileSystemRetryConfig()))
            .setBasePath(config.getBasePath()).setLoadActiveTimelineOnLoad(true)
            .setConsistencyGuardConfig(config.getConsistencyGuardConfig())
            .setLayoutVersion(Option.of(new TimelineLayoutVersion(config.getTimelineLayoutVersion())))
            .setFileSystemRetryConfig(config.getFileSystemRetryConfig())
            .setMetaserverConfig(config.getProps()).build();
      } else {
        meta.reloadActiveTimeline();
      }
      return meta;
    }

    /**
     * Hudi takes the table lock before every write to check whether the table needs an upgrade (its version against
     * the client's) and to set up the metadata table. The version is in the table config, which this client reads
     * once ({@link #createMetaClient}), so the check runs on its first write; with the metadata table on, every
     * write still runs it.
     */
    @Override
    protected void doInitTable(WriteOperationType operationType, HoodieTableMetaClient metaClient,
        Option<String> instantTime) {
      if (!initialized || getConfig().isMetadataTableEnabled()) {
        super.doInitTable(operationType, metaClient, instantTime);
        initialized = true;
      }
    }

    /**
     * After every commit Hudi builds a table, takes the table lock and reads the last clustering's plan to find,
     * nine times in ten, that fewer than {@code hoodie.clustering.inline.max.commits} commits completed since the
     * last clustering. When inline clustering is the only inline service, that count is taken here first, on the
     * reloaded timeline, with what each replace commit is remembered; Hudi's own path runs when a clustering is due
     * or one is pending (a container that died in one), and decides again under its lock.
     */
    @Override
    protected void runTableServicesInline(HoodieTable table, HoodieCommitMetadata metadata,
        Option<Map<String, String>> extraMetadata) {
      if (onlyInlineClustering() && !clusteringDue(createMetaClient(true).getActiveTimeline())) {
        return;
      }
      super.runTableServicesInline(table, metadata, extraMetadata);
    }

    private boolean onlyInlineClustering() {
      HoodieWriteConfig config = getConfig();
      return config.inlineClusteringEnabled() && !config.isAsyncClusteringEnabled()
          && !config.inlineCompactionEnabled() && !config.scheduleInlineCompaction()
          && !config.inlineLogCompactionEnabled() && !config.isMetadataTableEnabled();
    }

    /** Hudi's rule ({@code ClusteringPlanActionExecutor}): enough completed commits since the last clustering. */
    private boolean clusteringDue(HoodieActiveTimeline timeline) {
      HoodieTimeline replaces = timeline.getCommitsTimeline()
          .filter(i -> HoodieTimeline.REPLACE_COMMIT_ACTION.equals(i.getAction()));
      if (replaces.filterInflightsAndRequested().getInstantsAsStream().anyMatch(i -> isClustering(timeline, i))) {
        return true; // a pending clustering: Hudi's path resumes it
      }
      String last = replaces.getReverseOrderedInstants().filter(i -> isClustering(timeline, i)).findFirst()
          .map(HoodieInstant::getTimestamp).orElse("0");
      int since = timeline.getCommitsTimeline().filterCompletedInstants()
          .findInstantsAfter(last, Integer.MAX_VALUE).countInstants();
      return since >= getConfig().getInlineClusterMaxCommits();
    }

    private boolean isClustering(HoodieTimeline timeline, HoodieInstant replace) {
      return clusterings.computeIfAbsent(replace.getTimestamp(),
          unused -> ClusteringUtils.isClusteringInstant(timeline, replace));
    }

    @Override
    protected HoodieTable createTable(HoodieWriteConfig config, Configuration hadoopConf) {
      return HoodieJavaTable.create(config, context, createMetaClient(true));
    }

    /**
     * Hudi builds a table for archival after every commit (a timeline reload and a read of
     * {@code hoodie.properties}) before it looks at whether automatic cleaning or archival is on; with both off (a
     * rejects table, whose services the sink runs before its commit) that work is skipped.
     */
    @Override
    protected void mayBeCleanAndArchive(HoodieTable table) {
      if (getConfig().isAutoClean() || getConfig().isAutoArchive()) {
        super.mayBeCleanAndArchive(table);
      }
    }
  }
}
