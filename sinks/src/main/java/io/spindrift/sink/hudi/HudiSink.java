package io.spindrift.sink.hudi;

import io.spindrift.sink.ChangeRows;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import io.spindrift.sink.internal.Publication;
import io.spindrift.sink.internal.SinkSettings;
import io.spindrift.sink.internal.TableColumns;
import io.spindrift.sink.internal.TableSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.hudi.AvroConversionUtils;
import org.apache.hudi.client.WriteStatus;
import org.apache.hudi.common.model.HoodieAvroIndexedRecord;
import org.apache.hudi.common.model.HoodieAvroRecord;
import org.apache.hudi.common.model.HoodieCommitMetadata;
import org.apache.hudi.common.model.HoodieKey;
import org.apache.hudi.common.model.HoodieRecord;
import org.apache.hudi.common.model.HoodieTableType;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.common.table.TableSchemaResolver;
import org.apache.hudi.common.util.Option;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.exception.HoodieWriteConflictException;
import org.apache.hudi.exception.TableNotFoundException;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.apache.hudi.keygen.KeyGenUtils;
import org.apache.hudi.storage.StorageConfiguration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Function1;

/**
 * An Apache Hudi table on S3 (through S3A) at {@code <warehouse>/<namespace>/<table>}, copy-on-write unless
 * {@code SPINDRIFT_HUDI_TABLE_TYPE} says {@code MERGE_ON_READ}. Hudi cannot write data files without committing them,
 * so a batch is staged as one Parquet file under the app's stage location (its path is the stage ref; a composite
 * stage's parts are several such files), and publish writes the pending stages as one Hudi commit ({@code insert}
 * for append, {@code upsert} for upsert, the last change of a key winning in commit order, a delete written as an
 * empty payload) whose metadata carries the {@link CommitTag}. What the table holds of an app is the seq of the newest
 * commit tagged with it ({@link CommitTimeline}); a publish skips the seqs at or below it.
 *
 * <p>Writes go through one of Hudi's write clients ({@link HudiWriter}), not the {@code hudi} data source: by default
 * its Java client, which writes a commit's files, looks up its keys and completes it in this JVM without a Spark
 * job (a publish's rows are on the driver anyway); its Spark client by {@code SPINDRIFT_HUDI_WRITE_CLIENT=spark}.
 * The data source refuses a Spark context whose serializer is not Kryo ({@code "hoodie only support
 * org.apache.spark.serializer.KryoSerializer as spark.serializer"}), and the runtime's one context is shared with
 * the other formats. Hudi's streaming sink is never used (it calls {@code System.exit} on fatal errors). The write
 * client and the table's meta client are kept for the container's life ({@link WarmWriteClient}); the timeline is
 * reloaded for every read of what the table holds (before the lease, after it unless nobody held it, and under
 * Hudi's lock), so other containers' commits are always seen. The rows a container staged are kept in memory for
 * its own publish ({@link RecentStages}). A publish may be told to wait before its commit
 * ({@link #publish(List, long, Runnable)}: the runtime's rejects wait for the table); if that wait throws, the
 * written instant is rolled back. A rejects table's sink ({@link WriteOptions.Role#REJECTS}) does all but the
 * commit before that wait: its files, and its cleaning and archival. What a publish does after its commit that the
 * publication does not need (its markers; the job's table's cleaning, archival and clustering when due) waits for
 * the runtime's upkeep ({@link #afterPublish}), off the path other invocations wait on.
 *
 * <p>Several containers, of one app or of several, may publish to one table: a DynamoDB lease per table
 * ({@link PublishLease}) lets one write at a time, so Hudi's writers never overlap. Overlapping writers were tried
 * first (a lease per app, Hudi's optimistic concurrency to settle the rest): two apps inserting into one table at
 * once left one 2-row batch in it twice, once, on a loaded CI machine (not reproduced in 22 local runs with up to
 * three writers; the cause inside Hudi 0.15's concurrent-writer path was not found). Hudi's optimistic concurrency with its DynamoDB lock stays on as the second
 * line (a lapsed lease), and under that lock the commit re-checks that the table still lacks its seqs, so a
 * publish is idempotent even if a lease lapsed. A commit Hudi refuses is written again.
 */
final class HudiSink extends TableSink<StructType> {
  private static final Logger LOG = LoggerFactory.getLogger(HudiSink.class);
  private static final String LOCK_TABLE_KEY = "key";
  /** The publish lease's duration; its holder renews it every third of that while it publishes. */
  private static final Duration LEASE = Duration.ofSeconds(30);
  /**
   * How long a publish waits for another container's lease when the caller gives no deadline: below Lambda's
   * default 300 s function timeout with room for the publish itself.
   */
  static final Duration DEFAULT_LEASE_WAIT = Duration.ofSeconds(120);
  /**
   * The upkeep after a publication ({@link #afterPublish}) runs only with this much of the invocation left (a
   * clustering rewrites files for seconds); with less, the next publish does it.
   */
  static final Duration UPKEEP_MIN_LEFT = Duration.ofSeconds(10);
  /** Rows of recent stages a container keeps in memory for its own publishes. */
  private static final int RECENT_STAGE_ROWS = 50_000;

  private final SparkSession spark;
  private final String location;
  private final String stageLocation;
  private final HudiSettings settings;
  private final WriteOptions options;
  private final WarmWriteClient writeClient;
  private final RecentStages recentStages = new RecentStages(RECENT_STAGE_ROWS);
  /** Held by a publish from its first read of the table to its end: one publish of this sink at a time. */
  private final Object publishing = new Object();
  /** The table's meta client of the publish path, built once; its timeline is reloaded for every read. */
  private HoodieTableMetaClient publishMeta;
  /** Guards {@link #stageMeta}: stages may run while a publish (which has its own meta client) runs. */
  private final Object staging = new Object();
  /**
   * The table's meta client of the stage path, built once the table exists (a build checks the table's
   * directories and reads {@code hoodie.properties}, about eight S3 requests); its timeline is reloaded per stage.
   */
  private HoodieTableMetaClient stageMeta;
  /** The table's columns as the stage path last read them (guarded by {@link #staging}); null before a read. */
  private StructType stageColumns;
  private PublishLease lease;

  /** The sink of {@code spec}'s table in {@code role}: the job's table, or the rejects beside it. */
  HudiSink(SinkSpec spec, SinkContext context, WriteOptions.Role role) {
    super(spec);
    this.spark = context.spark();
    // Hudi sizes records with JOL, which otherwise tries to attach HotSpot's serviceability agent (a child
    // process) on first use: seconds on the first upsert of a container, for a size estimate it does not need
    System.getProperties().putIfAbsent("jol.skipHotspotSAAttach", "true");
    this.settings = HudiSettings.from(context);
    settings.aws().applyTo(spark);
    this.location = SinkSettings.tableLocation(context, spec);
    this.stageLocation = SinkSettings.s3a(context.stageLocation());
    this.options = new WriteOptions(spec, settings.tableType(), location, settings);
    this.writeClient = new WarmWriteClient(options, role, writerFactory());
  }

  /** Builds the write client {@code SPINDRIFT_HUDI_WRITE_CLIENT} names, on the session's Hadoop settings (S3A). */
  private Function<HoodieWriteConfig, HudiWriter> writerFactory() {
    return switch (settings.writeClient()) {
      case JAVA -> config -> new JavaClientWriter(storageConf(), config);
      case SPARK -> config -> new SparkClientWriter(JavaSparkContext.fromSparkContext(spark.sparkContext()), config);
    };
  }

  /** The table's maintenance, with this sink's settings and location. */
  HudiMaintenance maintenance() {
    return new HudiMaintenance(spec, spark, location, settings);
  }

  @Override
  protected StructType tableFor(StructType output) {
    StructType target = targetSchema(output);
    TableColumns.keyIndexes(target, spec.keys(), spec.table());
    requireColumns(target);
    return target;
  }

  @Override
  protected StructType columns(StructType target) {
    return target;
  }

  @Override
  protected StagedOutput write(StructType target, String txnId, ChangeRows changes) {
    // an upsert's stage keeps the delete marker (ChangeRows) as its last column, for publish
    StageRows staged = spec.isUpsert() ? changes.withMarker() : changes.rows();
    String ref = stageLocation + "/" + txnId + "/" + spec.table() + ".parquet";
    StageFile.write(spark, ref, staged.schema(), staged.rows());
    // as the file reads back: Parquet columns are nullable
    recentStages.put(ref, new StageRows(staged.schema().asNullable(), List.copyOf(staged.rows())));
    return new StagedOutput(ref, changes.size());
  }

  /**
   * The table's columns plus the output's new ones, creating the table from {@code output} if it is missing. A
   * table's columns are only ever added to, never retyped, so while the output has no column the table lacked when
   * last read, reading the table again could only add columns the output lacks: the stage is laid out as last read
   * (a publish lays every stage out as the table's columns then, a column the stage lacks as nulls), and the
   * timeline is not listed again. An output column the last read lacked reads the table again (another writer may
   * have added it, and with which type decides).
   */
  private StructType targetSchema(StructType output) {
    StructType table;
    synchronized (staging) {
      if (stageMeta == null) {
        stageMeta = metaClient().orElse(null);
        if (stageMeta == null) {
          stageMeta = createTable(output.asNullable());
          return output.asNullable();
        }
      } else if (stageColumns != null && TableColumns.added(output, stageColumns, spec.table()).isEmpty()) {
        return stageColumns;
      } else {
        // another writer may have added a column since: the schema is read from the newest commit
        stageMeta.reloadActiveTimeline();
      }
      table = tableSchema(stageMeta);
      stageColumns = table;
    }
    return withColumns(table, TableColumns.added(output, table, spec.table()));
  }

  private static StructType withColumns(StructType table, List<StructField> added) {
    StructType out = table;
    for (StructField field : added) {
      out = out.add(field);
    }
    return out;
  }

  private StorageConfiguration<?> storageConf() {
    return HadoopFSUtils.getStorageConfWithCopy(spark.sparkContext().hadoopConfiguration());
  }

  private Optional<HoodieTableMetaClient> metaClient() {
    try {
      // on the storage that remembers what Hudi reads again and again (TableStorage): completed instants, above all
      return Optional.of(HoodieTableMetaClient.builder().setStorage(TableStorage.of(location, storageConf()))
          .setBasePath(location).build());
    } catch (TableNotFoundException missing) {
      return Optional.empty();
    }
  }

  /**
   * The publish path's meta client (timeline not yet reloaded: {@link CommitTimeline#latestSeq} reloads it), or
   * empty while the table does not exist.
   */
  private Optional<HoodieTableMetaClient> publishMeta() {
    if (publishMeta == null) {
      publishMeta = metaClient().orElse(null);
    }
    return Optional.ofNullable(publishMeta);
  }

  /** The rows of a stage file: those this container staged itself from memory, others read from the file. */
  private StageRows stageRows(String ref) {
    return recentStages.get(ref).orElseGet(() -> StageFile.read(spark, ref));
  }

  private HoodieTableMetaClient createTable(StructType schema) {
    try {
      return HoodieTableMetaClient.withPropertyBuilder()
          .fromProperties(options.tableProperties(avroSchema(schema)))
          .initTable(storageConf(), location);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create Hudi table " + spec.table() + " at " + location, e);
    }
  }

  /** The table's columns (without Hudi's meta columns), from its latest commit or, before one, its create schema. */
  private StructType tableSchema(HoodieTableMetaClient meta) {
    try {
      return AvroConversionUtils.convertAvroSchemaToStructType(new TableSchemaResolver(meta).getTableAvroSchema(false));
    } catch (Exception e) {
      throw new IllegalStateException("Cannot read the schema of Hudi table " + spec.table() + " at " + location, e);
    }
  }

  private Schema avroSchema(StructType schema) {
    var names = AvroConversionUtils.getAvroRecordNameAndNamespace(spec.name());
    return AvroConversionUtils.convertStructTypeToAvroSchema(schema, names._1(), names._2());
  }

  @Override
  public List<Long> publish(List<PendingPublish> pending) {
    return publish(pending, System.nanoTime() + DEFAULT_LEASE_WAIT.toNanos());
  }

  @Override
  public List<Long> publish(List<PendingPublish> pending, long deadlineNanos) {
    return new HudiPublication(deadlineNanos, () -> { }).publish(pending);
  }

  /**
   * Takes the lease, checks what the table holds and writes the commit's files before running
   * {@code beforeCommit}, then completes the Hudi commit (or, if it threw, rolls the written instant back). A
   * deadline of {@link Long#MAX_VALUE} waits {@link #DEFAULT_LEASE_WAIT} for the lease.
   */
  @Override
  public List<Long> publish(List<PendingPublish> pending, long deadlineNanos, Runnable beforeCommit) {
    long deadline = deadlineNanos == Long.MAX_VALUE ? System.nanoTime() + DEFAULT_LEASE_WAIT.toNanos()
        : deadlineNanos;
    return new HudiPublication(deadline, beforeCommit).publish(pending);
  }

  /**
   * The publish loop's Hudi parts, run holding the table's publish lease: what the table holds of the app is the
   * newest commit tagged with it ({@link CommitTimeline}); a commit Hudi refuses for a conflict with another writer,
   * or whose check under Hudi's lock finds the app's seqs landed ({@link AlreadyPublished}), both possible only after
   * a lapsed lease, lost the race.
   */
  private final class HudiPublication extends Publication<HoodieTableMetaClient> {
    private final long deadlineNanos;
    private final Runnable beforeCommit;
    private PublishLease.Held leaseHeld;
    /** What the table held of the app just before a lease that was free: still true for the first attempt. */
    private OptionalLong heldAtFreeLease = OptionalLong.empty();
    private int attempt;

    HudiPublication(long deadlineNanos, Runnable beforeCommit) {
      super(spec.table());
      this.deadlineNanos = deadlineNanos;
      this.beforeCommit = beforeCommit;
    }

    @Override
    protected List<Long> publish(String app, List<PendingPublish> withRows) {
      synchronized (publishing) {
        long heldBefore = heldSeq(publishMeta(), app);
        if (unpublished(withRows, heldBefore).isEmpty()) {
          return List.of();
        }
        // one writer per table: Hudi's writers never overlap (see the class comment)
        try (PublishLease.Held held = lease().acquire(location, deadlineNanos)) {
          leaseHeld = held;
          // a lease nobody held when we asked: no writer came between the check just made and the lease, unless
          // one came and went within those milliseconds, which the check under Hudi's lock catches (a lost race);
          // so the first attempt does not read the timeline again
          heldAtFreeLease = held.freeAtFirstLook() ? OptionalLong.of(heldBefore) : OptionalLong.empty();
          return attempts(app, withRows);
        }
      }
    }

    @Override
    protected HoodieTableMetaClient read(int attempt, List<PendingPublish> pending) {
      this.attempt = attempt;
      return publishMeta().orElseGet(() -> {
        publishMeta = createTable(ChangeRows.of(stageRows(StagedOutput.parts(pending.get(0).ref()).get(0)))
            .rows().schema().asNullable());
        return publishMeta;
      });
    }

    @Override
    protected long held(HoodieTableMetaClient meta, String app) {
      if (attempt == 1 && heldAtFreeLease.isPresent()) {
        return heldAtFreeLease.getAsLong();
      }
      return heldSeq(Optional.of(meta), app);
    }

    @Override
    protected List<Long> commit(HoodieTableMetaClient meta, String app, List<PendingPublish> todo) {
      write(meta, app, todo, leaseHeld, beforeCommit);
      return seqs(todo);
    }

    @Override
    protected boolean lostRace(RuntimeException failure) {
      return failure instanceof HoodieWriteConflictException || failure instanceof AlreadyPublished;
    }
  }

  /**
   * The upkeep the last publish left: the markers and heartbeat files of its commit, which nothing reads once it is
   * complete, and for the job's table the services that came due (cleaning and archival every
   * {@link WriteOptions#CLEAN_EVERY} commits, the inline clustering): run under the table's lease, taken only if
   * it is free (a publish of another container goes first; the services stay due). Whatever is left, this sink's
   * next publish does itself ({@link WarmWriteClient#committed}, {@link HudiWriter#sweep}).
   */
  @Override
  public void afterPublish(long deadlineNanos) {
    synchronized (publishing) {
      if (deadlineNanos != Long.MAX_VALUE && deadlineNanos - System.nanoTime() < UPKEEP_MIN_LEFT.toNanos()) {
        return;
      }
      try {
        writeClient.sweep();
        if (writeClient.servicesDue()) {
          Optional<PublishLease.Held> free = lease().tryAcquire(location);
          if (free.isPresent()) {
            try (PublishLease.Held held = free.get()) {
              writeClient.runServices();
            }
          }
        }
      } catch (RuntimeException e) {
        // as after a failed publish: nothing the failed step left in the client outlives it
        writeClient.discard();
        LOG.warn("Upkeep of Hudi table {} after a publish failed; the next publish does it: {}", spec.table(),
            e.toString());
      }
    }
  }

  private synchronized PublishLease lease() {
    if (lease == null) {
      var dynamo = settings.aws().dynamoDb();
      PublishLease.ensureTable(dynamo, settings.lockTable(), LOCK_TABLE_KEY);
      PublishLease created = new PublishLease(dynamo, settings.leaseTable(), LEASE);
      created.ensureTable();
      lease = created;
    }
    return lease;
  }

  private static long heldSeq(Optional<HoodieTableMetaClient> meta, String app) {
    return meta.map(m -> CommitTimeline.latestSeq(m, app)).orElse(OptionalLong.empty()).orElse(Long.MIN_VALUE);
  }

  /**
   * Writes {@code todo}'s stages as one Hudi commit tagged with their {@link CommitTag}s, running
   * {@code beforeCommit} between the files and the commit; a composite stage's part files
   * ({@link StagedOutput#parts}) are read as that stage's rows, in part order.
   */
  private void write(HoodieTableMetaClient meta, String app, List<PendingPublish> todo, PublishLease.Held lease,
      Runnable beforeCommit) {
    StructType target = tableSchema(meta);
    List<List<ChangeRows>> stages = new ArrayList<>();
    for (PendingPublish p : todo) {
      List<ChangeRows> parts = new ArrayList<>();
      for (String part : StagedOutput.parts(p.ref())) {
        ChangeRows rows = ChangeRows.of(stageRows(part));
        target = withColumns(target, TableColumns.added(rows.rows().schema(), target, spec.table()));
        parts.add(rows);
      }
      stages.add(parts);
    }
    Schema avro = avroSchema(target);
    HudiWriter client = writeClient.forSchema(avro);
    List<HoodieRecord<?>> records = records(todo, stages, target, avro, client.insertsPlainRecords());
    try {
      String instant = client.startCommit();
      List<WriteStatus> written = client.write(instant, records, spec.isUpsert());
      failIfAnyFailed(written, records.size());
      try {
        writeClient.servicesBeforeCommit();
        beforeCommit.run();
      } catch (RuntimeException | Error notNow) {
        abandon(client, instant, notNow);
        throw notNow;
      }
      long firstSeq = todo.get(0).tag().seq();
      lease.confirm(); // still the one writer (a frozen container's lease may have been taken over meanwhile)
      if (!client.commit(instant, written, CommitTag.entries(todo), meta.getCommitActionType(),
          notYetPublished(app, firstSeq))) {
        throw new IllegalStateException("Hudi did not complete commit " + instant + " of table " + spec.table());
      }
      writeClient.committed();
    } catch (RuntimeException | Error failed) {
      writeClient.discard();
      throw failed;
    }
    todo.forEach(p -> StagedOutput.parts(p.ref()).forEach(recentStages::forget));
  }

  /** Rolls back {@code instant}, which {@code cause} keeps from being completed; a failed rollback is attached. */
  private static void abandon(HudiWriter client, String instant, Throwable cause) {
    try {
      client.abandon(instant);
    } catch (RuntimeException rollbackFailed) {
      // left to a later clean (LAZY rollback of failed writes)
      cause.addSuppressed(rollbackFailed);
    }
  }

  /**
   * The Hudi records of {@code stages} (each the parts of one pending stage): aligned to {@code target}, and for
   * an upsert the last change of each key (a later commit wins, and within a commit a later part); a change that
   * deletes its key is a record with an empty payload, which Hudi's upsert applies as the delete of that key. An
   * appended row is a plain Avro record when the writer takes them ({@code plainInserts}), else a payload record.
   */
  private List<HoodieRecord<?>> records(List<PendingPublish> todo, List<List<ChangeRows>> stages, StructType target,
      Schema avro, boolean plainInserts) {
    List<InternalRow> rows = new ArrayList<>();
    BitSet deletes = new BitSet();
    List<String> appendKeys = new ArrayList<>();
    for (int s = 0; s < stages.size(); s++) {
      int place = 0;
      for (ChangeRows part : stages.get(s)) {
        ChangeRows aligned = part.aligned(target, spec.table());
        aligned.deletes().stream().forEach(i -> deletes.set(rows.size() + i));
        rows.addAll(aligned.rows().rows());
        // an appended row's key is its place in its commit's stage (parts in order): unique, the same on every retry
        for (int i = 0; i < aligned.size(); i++) {
          appendKeys.add(todo.get(s).tag().txnId() + "_" + place++);
        }
      }
    }
    ChangeRows changes = new ChangeRows(new StageRows(target, rows), deletes);
    if (spec.isUpsert()) {
      changes = changes.lastPerKey(spec.keys(), spec.table());
    }
    Function1<InternalRow, GenericRecord> toAvro =
        AvroConversionUtils.createInternalRowToAvroConverter(target, avro, false);
    List<InternalRow> last = changes.rows().rows();
    List<HoodieRecord<?>> records = new ArrayList<>(last.size());
    for (int i = 0; i < last.size(); i++) {
      GenericRecord record = toAvro.apply(last.get(i));
      if (!spec.isUpsert() && plainInserts) {
        records.add(new HoodieAvroIndexedRecord(new HoodieKey(appendKeys.get(i), partitionPath(record)), record));
        continue;
      }
      HoodieKey key = new HoodieKey(spec.isUpsert() ? recordKey(record) : appendKeys.get(i), partitionPath(record));
      Option<GenericRecord> value = changes.deletes().get(i) ? Option.empty() : Option.of(record);
      records.add(new HoodieAvroRecord<>(key, new OverwriteWithLatestAvroPayload(value)));
    }
    return records;
  }

  /** The record key as Hudi's Simple (one key column) or Complex (several) key generators make it. */
  private String recordKey(GenericRecord record) {
    return spec.keys().size() == 1 ? KeyGenUtils.getRecordKey(record, spec.keys().get(0), false)
        : KeyGenUtils.getRecordKey(record, spec.keys(), false);
  }

  private String partitionPath(GenericRecord record) {
    return spec.partitionBy() == null ? ""
        : KeyGenUtils.getPartitionPath(record, spec.partitionBy(), true, false, false);
  }

  private void failIfAnyFailed(List<WriteStatus> statuses, int rows) {
    for (WriteStatus status : statuses) {
      if (status.hasErrors()) {
        Throwable cause = status.getGlobalError();
        if (cause == null && !status.getErrors().isEmpty()) {
          cause = status.getErrors().values().iterator().next();
        }
        throw new IllegalStateException("Hudi could not write " + status.getTotalErrorRecords() + " of " + rows
            + " rows to table " + spec.table() + " (file group " + status.getFileId() + "); nothing was committed",
            cause);
      }
    }
  }

  /**
   * The check Hudi runs under its table lock, just before our commit completes: that no commit of {@code app} at
   * or after {@code firstSeq} completed meanwhile, on the timeline the writer read under that lock
   * ({@link HudiWriter#commit}).
   */
  private BiConsumer<HoodieTableMetaClient, HoodieCommitMetadata> notYetPublished(String app, long firstSeq) {
    return (table, metadata) -> {
      long held = CommitTimeline.latestSeqAsRead(table, app).orElse(Long.MIN_VALUE);
      if (held >= firstSeq) {
        throw new AlreadyPublished(spec.table() + " already holds commit " + held + " of app " + app);
      }
    };
  }

  /** This app's seqs reached the table while we wrote them (only possible after a lapsed publish lease). */
  static final class AlreadyPublished extends RuntimeException {
    AlreadyPublished(String message) {
      super(message);
    }
  }

  @Override
  public boolean isPublished(String app, long seq) {
    return heldSeq(metaClient(), app) >= seq;
  }

  @Override
  public String toString() {
    return "HudiSink[" + spec.table() + " at " + location + "]";
  }
}
