package io.spindrift.sink.hudi;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hudi.client.HoodieJavaTableServiceClient;
import org.apache.hudi.client.HoodieJavaWriteClient;
import org.apache.hudi.client.WriteStatus;
import org.apache.hudi.client.embedded.EmbeddedTimelineService;
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
import org.apache.hudi.common.table.marker.MarkerType;
import org.apache.hudi.common.util.ClusteringUtils;
import org.apache.hudi.common.util.Option;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.apache.hudi.storage.StoragePath;
import org.apache.hudi.storage.StorageConfiguration;
import org.apache.hudi.table.HoodieJavaTable;
import org.apache.hudi.table.HoodieTable;
import org.apache.hudi.table.marker.WriteMarkersFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * table view Hudi builds checks again. Completing a commit reads the timeline once, under Hudi's lock, where Hudi
 * read it three times ({@link WarmMetaClient#commit}). Two of the table-wide steps Hudi takes under its lock on
 * every commit are taken only when they can do something ({@link WarmMetaClient#doInitTable},
 * {@link WarmMetaClient#runTableServicesInline}). What Hudi does after a commit that nothing waiting for the
 * publication needs (deleting the commit's markers and heartbeat file, under its lock; the inline clustering that
 * came due) is left for the sink's upkeep after the publication ({@link #sweep}, {@link #runServicesLeft}), and
 * done by the next commit if that upkeep did not run.
 */
final class JavaClientWriter implements HudiWriter {
  private static final Logger LOG = LoggerFactory.getLogger(JavaClientWriter.class);
  private final WarmMetaClient client;

  JavaClientWriter(StorageConfiguration<?> storage, HoodieWriteConfig config) {
    // the storages Hudi builds itself for this client (its own, its heartbeats', one per file it deletes) are
    // TableStorage too: a heartbeat file is one PUT and one DELETE, not S3A's checks around each
    storage.set(TableStorage.STORAGE_CLASS, TableStorage.class.getName());
    this.client = new WarmMetaClient(new ParallelIoContext(storage), config);
  }

  @Override
  public String startCommit() {
    return client.startCommit();
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public List<WriteStatus> write(String instant, List<HoodieRecord<?>> records, boolean upsert) {
    // the client's payload type parameter is only a type: an insert's create and concat handles write any Avro
    // record (HoodieRecord.prependMetaFields), and only an upsert's merge reads a payload
    List<HoodieRecord<OverwriteWithLatestAvroPayload>> typed = (List) records;
    return upsert ? client.upsert(typed, instant) : client.insert(typed, instant);
  }

  /**
   * Plain Avro records for an insert: Hudi's create handle (a new file) and concat handle (an insert added to a
   * small file) write a record as it is, with its meta fields prepended, where a payload record is first serialized
   * to Avro bytes and read back (about a fifth of an insert's CPU, and its own compiled code).
   */
  @Override
  public boolean insertsPlainRecords() {
    return true;
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
  public boolean servicesLeft() {
    return client.clusteringLeft > 0;
  }

  @Override
  public void runServicesLeft() {
    client.runClusteringLeft();
  }

  @Override
  public void sweep() {
    client.sweep();
  }

  @Override
  public void close() {
    try {
      client.sweep();
    } finally {
      client.close();
    }
  }

  /**
   * Hudi's Java client whose meta clients are one, built on first use and then reloaded: its timeline is read
   * again for every meta client Hudi asks for (but those of a commit before its lock: {@link #commit}), its table
   * config ({@code hoodie.properties}: table type, key fields, version, which only an upgrade by another Hudi
   * version changes) is the one read when the client was built.
   */
  private static final class WarmMetaClient extends HoodieJavaWriteClient<OverwriteWithLatestAvroPayload> {
    private HoodieTableMetaClient meta;
    /** The table's upgrade check (and metadata table set-up) ran for this client. */
    private boolean initialized;
    /** Replace commits seen, by instant time: whether each is a clustering (its plan never changes). */
    private final Map<String, Boolean> clusterings = new HashMap<>();
    /**
     * A commit is on its way to Hudi's table lock ({@link #commit} to {@link #preCommit}): the timeline is not read
     * for the tables Hudi builds meanwhile, as the conflict check reads it under the lock before anything depends
     * on it.
     */
    private boolean beforeLock;
    /**
     * {@link #startCommit} has just read the timeline: the table the write builds next ({@code initTable}) uses that
     * read instead of reading the timeline again, a few milliseconds later, where it would find only the instant
     * just started (which Hudi leaves out of the pending instants it keeps for the conflict check anyway).
     */
    private boolean justStarted;
    /**
     * Completed commits whose markers and heartbeat file are still there: Hudi deletes them under its table lock
     * as a commit completes ({@code postCommit}); this client deletes them after the publication ({@link #sweep}),
     * or at the next commit's start if nobody did. Nothing reads either once a commit is complete (and archival
     * deletes an archived instant's leftover markers).
     */
    private final List<String> unswept = new ArrayList<>();
    /**
     * Commits that found a clustering due and left it for the upkeep after their publication
     * ({@link #runClusteringLeft}); the {@link WriteOptions#SERVICES_LEFT_COMMITS}th clusters itself, as Hudi does.
     */
    private int clusteringLeft;

    WarmMetaClient(HoodieEngineContext context, HoodieWriteConfig config) {
      super(context, config);
      // Hudi's table services (clean, rollback of failed writes, clustering) build a meta client of their own for
      // every table they use: about eight S3 requests and a listing each, on a storage that remembers nothing
      var built = tableServiceClient;
      tableServiceClient = new WarmTableServices(context, config, getTimelineServer(), this);
      built.close();
    }

    @Override
    public String startCommit() {
      sweep(); // left by a publish whose upkeep did not run
      String instant = super.startCommit();
      justStarted = true;
      return instant;
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
      } else if (justStarted) {
        justStarted = false;
      } else if (!beforeLock) {
        meta.reloadActiveTimeline();
      }
      return meta;
    }

    /**
     * Completes a commit as Hudi does, with one read of the timeline instead of three: Hudi reads it for the table it
     * builds first (used for the heartbeat check and to write the completed instant, neither of which reads the
     * timeline), again for the table it builds once it holds the lock, and a third time in its conflict check
     * right after; only the last, under the lock, is kept ({@link #preCommit}). The sink's check
     * ({@code extraPreCommitFunc}) then sees that timeline.
     */
    @Override
    public boolean commit(String instantTime, List<WriteStatus> writeStatuses,
        Option<Map<String, String>> extraMetadata, String commitActionType,
        Map<String, List<String>> partitionToReplacedFileIds,
        Option<BiConsumer<HoodieTableMetaClient, HoodieCommitMetadata>> extraPreCommitFunc) {
      beforeLock = true;
      try {
        return super.commit(instantTime, writeStatuses, extraMetadata, commitActionType, partitionToReplacedFileIds,
            extraPreCommitFunc);
      } finally {
        beforeLock = false;
      }
    }

    /**
     * Hudi's pre-commit, under its lock: the conflict check, on a table built without reading the timeline first,
     * since the check reads it (optimistic concurrency, which {@link WriteOptions} always sets: Hudi's
     * {@code TransactionUtils.resolveWriteConflictIfAny} reloads the active timeline of this client's one meta
     * client before it looks for conflicts). Without optimistic concurrency, Hudi's own path runs.
     */
    @Override
    protected void preCommit(HoodieInstant inflightInstant, HoodieCommitMetadata metadata) {
      beforeLock = false;
      if (meta == null || !getConfig().getWriteConcurrencyMode().supportsOptimisticConcurrencyControl()) {
        super.preCommit(inflightInstant, metadata);
        return;
      }
      resolveWriteConflict(HoodieJavaTable.create(getConfig(), context, meta), metadata,
          pendingInflightAndRequestedInstants);
    }

    /**
     * Hudi's post-commit deletes the commit's markers (a listing and a delete per file written, and the directory)
     * and its heartbeat file while it holds the table lock; here they are left for {@link #sweep}.
     */
    @Override
    protected void postCommit(HoodieTable table, HoodieCommitMetadata metadata, String instantTime,
        Option<Map<String, String>> extraMetadata) {
      unswept.add(instantTime);
    }

    /**
     * Deletes the markers and heartbeat files of the completed commits not yet swept (what Hudi's post-commit does):
     * direct markers on the warm meta client's storage by {@link TableStorage#deleteMarkerDirectory} (on S3, a LIST
     * and one bulk DELETE per instant), others as Hudi deletes them. A marker left behind is harmless (archival
     * deletes an archived instant's leftovers).
     */
    void sweep() {
      if (unswept.isEmpty()) {
        return;
      }
      TableStorage storage = getConfig().getMarkersType() == MarkerType.DIRECT
          && meta.getStorage() instanceof TableStorage own ? own : null;
      // marker directories are found by instant time alone: a table on the meta client as it is, nothing reloaded
      HoodieTable table = storage == null ? HoodieJavaTable.create(getConfig(), context, meta) : null;
      for (String instant : List.copyOf(unswept)) {
        try {
          if (storage == null) {
            WriteMarkersFactory.get(getConfig().getMarkersType(), table, instant)
                .quietDeleteMarkerDir(context, getConfig().getMarkersDeleteParallelism());
          } else {
            deleteMarkers(storage, instant);
          }
        } finally {
          heartbeatClient.stop(instant);
          unswept.remove(instant);
        }
      }
    }

    private void deleteMarkers(TableStorage storage, String instant) {
      try {
        storage.deleteMarkerDirectory(new StoragePath(meta.getMarkerFolderPath(instant)));
      } catch (IOException | RuntimeException e) {
        LOG.warn("Could not delete the markers of instant {} of Hudi table {}; archival deletes them: {}", instant,
            getConfig().getBasePath(), e.toString());
      }
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
     * timeline the commit read under its lock (no listing), with what each replace commit is remembered; Hudi's own
     * path runs when a clustering is due or one is pending (a container that died in one), and decides again on a
     * timeline it reads under its lock.
     */
    @Override
    protected void runTableServicesInline(HoodieTable table, HoodieCommitMetadata metadata,
        Option<Map<String, String>> extraMetadata) {
      if (onlyInlineClustering()) {
        if (!clusteringDue(meta.getActiveTimeline())) {
          clusteringLeft = 0;
          return;
        }
        if (++clusteringLeft < WriteOptions.SERVICES_LEFT_COMMITS) {
          return; // for the upkeep after the publication
        }
        clusteringLeft = 0; // the upkeeps since it came due did not run it: now, as Hudi would
      }
      super.runTableServicesInline(table, metadata, extraMetadata);
    }

    /**
     * The clustering the last commit left ({@link #runTableServicesInline}), by Hudi's inline path, if it is still
     * due on the timeline read now (another container may have clustered meanwhile).
     */
    void runClusteringLeft() {
      if (clusteringLeft == 0) {
        return;
      }
      clusteringLeft = 0;
      HoodieTable table = createTable(getConfig(), hadoopConf); // the timeline read again
      if (clusteringDue(meta.getActiveTimeline())) {
        super.runTableServicesInline(table, new HoodieCommitMetadata(), Option.empty());
      }
    }

    private boolean onlyInlineClustering() {
      HoodieWriteConfig config = getConfig();
      return config.inlineClusteringEnabled() && !config.isAsyncClusteringEnabled()
          && !config.inlineCompactionEnabled() && !config.scheduleInlineCompaction()
          && !config.inlineLogCompactionEnabled() && !config.isMetadataTableEnabled();
    }

    /**
     * Hudi's rule ({@code ClusteringPlanActionExecutor}, enough completed commits since the last clustering), on the
     * timeline read under the lock of the commit just completed, where that commit is still inflight: commits are
     * counted whatever their state, so the count is never below Hudi's (at most above it by other writers' pending
     * commits, when Hudi's path decides again).
     */
    private boolean clusteringDue(HoodieActiveTimeline timeline) {
      HoodieTimeline replaces = timeline.getCommitsTimeline()
          .filter(i -> HoodieTimeline.REPLACE_COMMIT_ACTION.equals(i.getAction()));
      if (replaces.filterInflightsAndRequested().getInstantsAsStream().anyMatch(i -> isClustering(timeline, i))) {
        return true; // a pending clustering: Hudi's path resumes it
      }
      String last = replaces.getReverseOrderedInstants().filter(i -> isClustering(timeline, i)).findFirst()
          .map(HoodieInstant::getTimestamp).orElse("0");
      int since = timeline.getCommitsTimeline().findInstantsAfter(last, Integer.MAX_VALUE).countInstants();
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

  /**
   * The table services of a {@link WarmMetaClient} on its one meta client, its timeline read again for every table
   * (as the new meta client Hudi builds per table would), instead of a new meta client per table.
   */
  private static final class WarmTableServices extends HoodieJavaTableServiceClient<OverwriteWithLatestAvroPayload> {
    private final WarmMetaClient writer;

    WarmTableServices(HoodieEngineContext context, HoodieWriteConfig config,
        Option<EmbeddedTimelineService> timelineServer, WarmMetaClient writer) {
      super(context, config, timelineServer);
      this.writer = writer;
    }

    @Override
    protected HoodieTable createTable(HoodieWriteConfig config, Configuration hadoopConf) {
      writer.justStarted = false;
      return HoodieJavaTable.create(config, context, writer.createMetaClient(true));
    }
  }
}
