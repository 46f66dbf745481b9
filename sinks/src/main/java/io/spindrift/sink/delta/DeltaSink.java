package io.spindrift.sink.delta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.sink.ChangeRows;
import io.spindrift.sink.CommitTag;
import io.spindrift.config.Setting;
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
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.TaskAttemptID;
import org.apache.hadoop.mapreduce.task.TaskAttemptContextImpl;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.DeltaOperations;
import org.apache.spark.sql.delta.OptimisticTransaction;
import org.apache.spark.sql.delta.Snapshot;
import org.apache.spark.sql.delta.actions.Action;
import org.apache.spark.sql.delta.actions.AddFile;
import org.apache.spark.sql.delta.actions.Format;
import org.apache.spark.sql.delta.actions.Metadata;
import org.apache.spark.sql.delta.actions.SetTransaction;
import org.apache.spark.sql.execution.datasources.OutputWriter;
import org.apache.spark.sql.execution.datasources.OutputWriterFactory;
import org.apache.spark.sql.execution.datasources.parquet.ParquetOptions;
import org.apache.spark.sql.execution.datasources.parquet.ParquetUtils;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * A Delta Lake table on S3 (through S3A) at {@code <warehouse>/<namespace>/<table>}. Stages a batch as one
 * Parquet file written by the driver directly in the table's directory, invisible until an {@code AddFile}
 * names it; the stage ref is those {@code add} actions as Delta writes them (a composite stage's parts' actions
 * are concatenated). Publishes consecutive commits with
 * one Delta commit whose {@code SetTransaction} ({@code txnAppId} = app, {@code txnVersion} = the last seq)
 * makes it idempotent, as Delta's own streaming sink is: seqs at or below the table's txnVersion for the app are
 * skipped, and a concurrent publisher of the same app makes the commit fail with Delta's
 * {@code ConcurrentTransactionException}, after which what is left is published. Every commit is a
 * {@code STREAMING UPDATE} (queryId = app, epochId = seq) carrying the {@link CommitTag} in its commit info's
 * tags and userMetadata. Staged files of commits that never land are removed by Delta's {@code VACUUM}.
 */
final class DeltaSink extends TableSink<Snapshot> {
  private static final Logger LOG = LoggerFactory.getLogger(DeltaSink.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * Versions a warm append moves past, each written by another writer that touched neither the app's txnVersion
   * nor the protocol, before it gives the lost race to the publish loop (Delta's own transaction rebases blind
   * appends the same way).
   */
  private static final int MAX_REBASES = 100;
  private static final String SEQ_COLUMN = "__spindrift_seq";
  private static final String RANK_COLUMN = "__spindrift_rank";
  private static final String PART_COLUMN = "__spindrift_part";

  private final SparkSession spark;
  private final Path location;
  /**
   * Commits between Delta checkpoints ({@code SPINDRIFT_DELTA_CHECKPOINT_INTERVAL}). A checkpoint is written
   * synchronously by the commit that reaches it, and a container that loads the table replays every JSON commit
   * since the last one: see DESIGN §13 for the latency each choice gave here.
   */
  private final String checkpointInterval;
  /** Bytes an upsert may rewrite on the driver ({@code SPINDRIFT_DELTA_UPSERT_REWRITE_MAX_MB}); beyond, MERGE. */
  private final long maxRewriteBytes;
  /** Where upsert stages go: {@code s3a://<bucket>/<app>/stage}. */
  private final Path stageDirectory;
  /** The table's log as this container knows it, loaded by the first publish; guarded by {@code this}. */
  private WarmLog warm;

  DeltaSink(SinkSpec spec, SinkContext context) {
    super(spec);
    this.spark = context.spark();
    S3aSettings.from(context).applyTo(spark);
    S3aSettings.configureDelta(spark);
    configureLogStore(spark, context);
    this.location = new Path(SinkSettings.tableLocation(context, spec));
    this.checkpointInterval = context.setting(Setting.DELTA_CHECKPOINT_INTERVAL);
    this.maxRewriteBytes = Long.parseLong(context.setting(Setting.DELTA_UPSERT_REWRITE_MAX_MB).trim()) << 20;
    this.stageDirectory = new Path(context.stageLocation().replaceFirst("^s3n?://", "s3a://"));
  }

  /** The SparkConf entries (set when the JVM's SparkContext is built) that route Delta's S3 log writes. */
  static Map<String, String> logStoreSparkConf() {
    return Map.of("spark.delta.logStore.s3a.impl", DynamoDbLogStore.class.getName(),
        "spark.delta.logStore.s3.impl", DynamoDbLogStore.class.getName());
  }

  /** Where the {@link DynamoDbLogStore} of this sink's writes keeps its entries (session settings). */
  private static void configureLogStore(SparkSession session, SinkContext context) {
    session.conf().set(DynamoDbLogStore.TABLE, context.setting(Setting.DELTA_LOG_TABLE));
    session.conf().set(DynamoDbLogStore.ENDPOINT, context.setting(Setting.DYNAMODB_ENDPOINT));
    session.conf().set(DynamoDbLogStore.REGION, context.setting(Setting.REGION));
    session.conf().set(DynamoDbLogStore.ACCESS_KEY, context.setting(Setting.ACCESS_KEY));
    session.conf().set(DynamoDbLogStore.SECRET_KEY, context.setting(Setting.SECRET_KEY));
  }

  /** The table's maintenance, on this sink's session and location. */
  DeltaMaintenance maintenance() {
    return new DeltaMaintenance(spec, spark, location);
  }

  private DeltaLog deltaLog() {
    return DeltaLog.forTable(spark, location);
  }

  /**
   * Runs {@code work} with this sink's session active: Delta works on {@code SparkSession.active}, which inside a
   * query's {@code foreachBatch} is the query's session, not the one configured for Delta.
   */
  @Override
  protected <T> T inContext(Supplier<T> work) {
    Option<SparkSession> previous = SparkSession.getActiveSession();
    SparkSession.setActiveSession(spark);
    try {
      return work.get();
    } finally {
      if (previous.isDefined()) {
        SparkSession.setActiveSession(previous.get());
      } else {
        SparkSession.clearActiveSession();
      }
    }
  }

  @Override
  protected Snapshot tableFor(StructType output) {
    return evolved(tableSnapshot(output), output);
  }

  @Override
  protected StructType columns(Snapshot snapshot) {
    return snapshot.schema();
  }

  @Override
  protected StagedOutput write(Snapshot snapshot, String txnId, ChangeRows changes) {
    StructType tableType = snapshot.schema();
    List<InternalRow> aligned = changes.rows().rows();
    if (spec.isUpsert()) {
      // an upsert is a MERGE at publish time: stage the batch's last change per key as a Parquet file of its own,
      // with the delete marker (ChangeRows) as its last column
      StageRows last = changes.lastPerKey(spec.keys(), spec.table()).withMarker();
      Path file = new Path(stageDirectory, txnId + "/" + spec.table() + ".parquet");
      writeParquet(file, last.schema(), last.rows());
      ObjectNode doc = JSON.createObjectNode();
      doc.put("upsert", file.toString());
      return new StagedOutput(doc.toString(), last.rows().size());
    }
    List<String> partitionColumns = ScalaValues.list(snapshot.metadata().partitionColumns());
    List<AddFile> files = new ArrayList<>();
    int part = 0;
    for (Map.Entry<Map<String, String>, List<InternalRow>> partition
        : partitions(tableType, partitionColumns, aligned).entrySet()) {
      files.add(writeDataFile(txnId, part++, tableType, partitionColumns, partition.getKey(), partition.getValue()));
    }
    return new StagedOutput(stageDocument(files), aligned.size());
  }

  /**
   * The table with every output column it lacks added as a nullable column, in a metadata-only commit (schema
   * evolution); an output column whose type differs from the table's fails, naming it.
   */
  private Snapshot evolved(Snapshot known, StructType output) {
    if (TableColumns.added(output, known.schema(), spec.table()).isEmpty()) {
      return known;
    }
    return evolving(ConcurrentModificationException.class, () -> {
      OptimisticTransaction txn = deltaLog().startTransaction();
      Metadata current = txn.metadata();
      List<StructField> added = TableColumns.added(output, current.schema(), spec.table());
      if (added.isEmpty()) {
        return txn.snapshot();
      }
      StructType merged = current.schema();
      for (StructField column : added) {
        merged = merged.add(column);
      }
      txn.updateMetadata(new Metadata(current.id(), current.name(), current.description(), current.format(),
          merged.json(), current.partitionColumns(), current.configuration(), current.createdTime()), false);
      txn.commit(ScalaValues.seq(List.of()), new DeltaOperations.UpdateSchema(current.schema(), merged));
      return deltaLog().update(false, ScalaValues.none(), ScalaValues.none());
    });
  }

  /** Rows by their partition values (one entry with no values for an unpartitioned table), first-seen order. */
  private static Map<Map<String, String>, List<InternalRow>> partitions(StructType type, List<String> columns,
      List<InternalRow> rows) {
    if (columns.isEmpty()) {
      return TableColumns.grouped(rows, null, Map.of());
    }
    int[] at = columns.stream().mapToInt(type::fieldIndex).toArray();
    return TableColumns.grouped(rows, row -> {
      Map<String, String> values = new LinkedHashMap<>();
      for (int i = 0; i < at.length; i++) {
        // Delta keeps partition values as strings (null for a null value)
        Object value = TableColumns.value(row, type, at[i]);
        values.put(columns.get(i), value == null ? null : String.valueOf(value));
      }
      return values;
    }, Map.of());
  }

  /** The table's latest known snapshot, creating the table from {@code schema} when it does not exist. */
  private Snapshot tableSnapshot(StructType schema) {
    DeltaLog log = deltaLog();
    Snapshot known = log.unsafeVolatileSnapshot();
    if (known.version() < 0) {
      known = log.update(false, ScalaValues.none(), ScalaValues.none());
    }
    if (known.version() < 0) {
      createTable(log, schema);
      known = log.update(false, ScalaValues.none(), ScalaValues.none());
    }
    return known;
  }

  private void createTable(DeltaLog log, StructType schema) {
    OptimisticTransaction txn = log.startTransaction();
    if (txn.readVersion() >= 0) {
      return;
    }
    Map<String, String> properties = Map.of("delta.checkpointInterval", checkpointInterval);
    requireColumns(schema);
    List<String> partitionColumns = spec.partitionBy() == null ? List.of() : List.of(spec.partitionBy());
    Metadata metadata = new Metadata(UUID.randomUUID().toString(), spec.table(), null,
        new Format("parquet", ScalaValues.map(Map.of())), schema.asNullable().json(), ScalaValues.seq(partitionColumns),
        ScalaValues.map(properties), ScalaValues.some(System.currentTimeMillis()));
    txn.updateMetadataForNewTable(metadata);
    try {
      txn.commit(ScalaValues.seq(List.of()),
          new DeltaOperations.CreateTable(metadata, false, false, ScalaValues.none()));
    } catch (ConcurrentModificationException raced) {
      // another container created the table first: use theirs
    }
  }

  /**
   * Writes {@code rows} as one Parquet file of the table: in the partition's directory and without the partition
   * columns, as Delta's own writer lays files out.
   */
  private AddFile writeDataFile(String txnId, int part, StructType schema, List<String> partitionColumns,
      Map<String, String> partition, List<InternalRow> rows) {
    StringBuilder directory = new StringBuilder();
    partition.forEach((column, value) -> directory.append(column).append('=')
        .append(value == null ? "__HIVE_DEFAULT_PARTITION__" : escape(value)).append('/'));
    String name = directory + String.format("spindrift-%s-%05d.parquet", txnId, part);
    StructType dataType = schema;
    List<InternalRow> data = rows;
    if (!partitionColumns.isEmpty()) {
      int[] keep = java.util.stream.IntStream.range(0, schema.size())
          .filter(i -> !partitionColumns.contains(schema.fields()[i].name())).toArray();
      dataType = new StructType(java.util.Arrays.stream(keep).mapToObj(i -> schema.fields()[i])
          .toArray(StructField[]::new));
      data = new ArrayList<>(rows.size());
      for (InternalRow row : rows) {
        Object[] values = new Object[keep.length];
        for (int i = 0; i < keep.length; i++) {
          values[i] = TableColumns.value(row, schema, keep[i]);
        }
        data.add(new GenericInternalRow(values));
      }
    }
    FileStatus status = writeParquet(new Path(location, name), dataType, data);
    Map<String, String> partitionValues = new LinkedHashMap<>(partition);
    return new AddFile(name, ScalaValues.map(partitionValues), status.getLen(), status.getModificationTime(), true,
        stats(dataType, data), null, null, ScalaValues.none(), ScalaValues.none(), ScalaValues.none());
  }

  /**
   * A data file's statistics as Delta keeps them: its row count and, for an upsert table, the min, max and null
   * count of each key column that is a string or an integer (what {@link UpsertRewrite} prunes files by).
   */
  private String stats(StructType type, List<InternalRow> rows) {
    ObjectNode stats = JSON.createObjectNode();
    stats.put("numRecords", rows.size());
    if (spec.isUpsert()) {
      ObjectNode min = stats.putObject("minValues");
      ObjectNode max = stats.putObject("maxValues");
      ObjectNode nulls = stats.putObject("nullCount");
      for (String key : spec.keys()) {
        if (!List.of(type.fieldNames()).contains(key)
            || !UpsertRewrite.hasStatValues(type.fields()[type.fieldIndex(key)].dataType())) {
          continue;
        }
        keyStats(type, type.fieldIndex(key), rows, min, max, nulls);
      }
    }
    return stats.toString();
  }

  private static void keyStats(StructType type, int at, List<InternalRow> rows, ObjectNode min, ObjectNode max,
      ObjectNode nulls) {
    String name = type.fields()[at].name();
    boolean string = type.fields()[at].dataType() instanceof org.apache.spark.sql.types.StringType;
    Comparable<Object> low = null;
    Comparable<Object> high = null;
    long nullCount = 0;
    for (InternalRow row : rows) {
      if (row.isNullAt(at)) {
        nullCount++;
        continue;
      }
      @SuppressWarnings("unchecked")
      Comparable<Object> value = (Comparable<Object>) (string ? row.getUTF8String(at).clone()
          : (Object) ((Number) row.get(at, type.fields()[at].dataType())).longValue());
      low = low == null || value.compareTo(low) < 0 ? value : low;
      high = high == null || value.compareTo(high) > 0 ? value : high;
    }
    nulls.put(name, nullCount);
    if (low != null) {
      if (string) {
        min.put(name, low.toString());
        max.put(name, high.toString());
      } else {
        min.put(name, (Long) (Object) low);
        max.put(name, (Long) (Object) high);
      }
    }
  }

  private static String escape(String value) {
    return org.apache.spark.sql.catalyst.catalog.ExternalCatalogUtils.escapePathName(value);
  }

  /** Writes {@code rows} to {@code file} with Spark's own Parquet writer, on the driver. */
  private FileStatus writeParquet(Path file, StructType schema, List<InternalRow> rows) {
    SQLConf sqlConf = spark.sessionState().conf();
    try {
      Job job = Job.getInstance(spark.sessionState().newHadoopConf());
      OutputWriterFactory factory = ParquetUtils.prepareWrite(sqlConf, job, schema,
          new ParquetOptions(ScalaValues.<String, String>map(Map.of()), sqlConf));
      Configuration conf = job.getConfiguration();
      TaskAttemptContext task = new TaskAttemptContextImpl(conf, new TaskAttemptID());
      OutputWriter writer = factory.newInstance(file.toString(), schema, task);
      try {
        rows.forEach(writer::write);
      } finally {
        writer.close();
      }
      return file.getFileSystem(conf).getFileStatus(file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write staged data file " + file, e);
    }
  }

  private static String stageDocument(List<AddFile> files) {
    try {
      ObjectNode doc = JSON.createObjectNode();
      var actions = doc.putArray("actions");
      for (AddFile file : files) {
        actions.add(JSON.readTree(file.json()));
      }
      return doc.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The {@code add} actions of an append stage, every part of a composite ({@link StagedOutput#parts}) in order. */
  private static List<Action> readStage(String ref) {
    List<Action> actions = new ArrayList<>();
    for (String part : StagedOutput.parts(ref)) {
      for (JsonNode node : stageDocument(part).get("actions")) {
        actions.add(Action.fromJson(node.toString()));
      }
    }
    return actions;
  }

  /** The Parquet files of an upsert stage: one per part of a composite, in order. */
  private static List<String> upsertFiles(String ref) {
    return StagedOutput.parts(ref).stream().map(part -> stageDocument(part).get("upsert").asText()).toList();
  }

  /** One (non-composite) stage document. */
  static JsonNode stageDocument(String ref) {
    try {
      return JSON.readTree(ref);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read Delta stage " + ref, e);
    }
  }

  /**
   * Publishes through the warm log ({@link WarmPublication}) when the table's protocol allows a plain writer, and
   * through Delta's {@code OptimisticTransaction} otherwise. A warm publish that fails for a reason other than a
   * lost race drops the warm log, which the next publish loads again.
   */
  @Override
  public List<Long> publish(List<PendingPublish> pending) {
    return inContext(() -> {
      synchronized (this) {
        WarmLog log = warmLog();
        if (log.plainWriter(spec.isUpsert(), spec.isUpsert())) {
          try {
            return new WarmPublication(log).publish(pending);
          } catch (RuntimeException failed) {
            warm = null;
            throw failed;
          }
        }
      }
      return new DeltaPublication().publish(pending);
    });
  }

  /** The warm log, loaded on first use (or while the table does not exist) and caught up otherwise. */
  private WarmLog warmLog() {
    if (warm == null || warm.version() < 0) {
      warm = WarmLog.load(deltaLog(), location, spec.isUpsert());
    } else {
      warm.catchUp();
    }
    return warm;
  }

  /**
   * The publish loop on the warm log: the app's held seq is the log's {@code txnVersion}, a commit is written on the
   * version after the one read (a lost race when another writer has it, after which the winners are read).
   */
  private final class WarmPublication extends Publication<WarmLog> {
    private final WarmLog log;

    WarmPublication(WarmLog log) {
      super(spec.table());
      this.log = log;
    }

    @Override
    protected WarmLog read(int attempt, List<PendingPublish> pending) {
      if (attempt > 1) {
        log.catchUpAfterConflict();
      }
      return log;
    }

    @Override
    protected long held(WarmLog current, String app) {
      return current.txnVersion(app);
    }

    @Override
    protected List<Long> commit(WarmLog current, String app, List<PendingPublish> todo) {
      if (spec.isUpsert()) {
        upsert(current, app, todo);
      } else {
        append(current, app, todo);
      }
      return seqs(todo);
    }

    @Override
    protected boolean lostRace(RuntimeException failure) {
      return failure instanceof ConcurrentModificationException;
    }
  }

  /**
   * Commits the stages' {@code add} actions and the app's {@code SetTransaction} as the next version of the warm
   * log; when another writer took that version without touching the app's txnVersion or the protocol, commits on
   * the version after it (a blind append conflicts with nothing else).
   */
  private void append(WarmLog log, String app, List<PendingPublish> todo) {
    List<Action> files = new ArrayList<>();
    todo.forEach(p -> files.addAll(readStage(p.ref())));
    long last = todo.get(todo.size() - 1).tag().seq();
    Map<String, String> tags = CommitTag.entries(todo);
    DeltaOperations.StreamingUpdate operation = new DeltaOperations.StreamingUpdate(OutputMode.Append(), app, last,
        ScalaValues.some(userMetadata(tags)));
    long rows = 0;
    long bytes = 0;
    for (Action file : files) {
      AddFile add = (AddFile) file;
      rows += add.numLogicalRecords().isDefined() ? (Long) add.numLogicalRecords().get() : 0;
      bytes += add.size();
    }
    Map<String, String> metrics = Map.of("numAddedFiles", Integer.toString(files.size()), "numRemovedFiles", "0",
        "numOutputRows", Long.toString(rows), "numOutputBytes", Long.toString(bytes));
    for (int rebase = 0; ; rebase++) {
      List<Action> actions = new ArrayList<>(files);
      actions.add(new SetTransaction(app, last, ScalaValues.some(System.currentTimeMillis())));
      long held = log.txnVersion(app);
      try {
        commit(log, operation.name(), ScalaValues.javaMap(operation.jsonEncodedValues()), true, metrics, tags,
            actions);
        return;
      } catch (ConcurrentModificationException raced) {
        if (rebase >= MAX_REBASES) {
          throw raced;
        }
        log.catchUpAfterConflict();
        if (log.txnVersion(app) != held || !log.plainWriter(false, false)) {
          throw raced;
        }
      }
    }
  }

  /**
   * Publishes upsert stages as an {@link UpsertRewrite} on the warm log's files in one commit with the app's
   * {@code SetTransaction}; one that would read too much of the table goes through Delta's MERGE ({@link #merge}).
   */
  private void upsert(WarmLog log, String app, List<PendingPublish> todo) {
    List<String> stageFiles = new ArrayList<>();
    todo.forEach(p -> stageFiles.addAll(upsertFiles(p.ref())));
    String rewriteId = UUID.randomUUID().toString();
    Optional<UpsertRewrite.Plan> plan = new UpsertRewrite(spark, log, spec.keys(), maxRewriteBytes)
        .plan(stageFiles, rows -> tableFiles(log.metadata(), rewriteId, rows));
    if (plan.isEmpty()) {
      merge(app, todo);
      return;
    }
    long last = todo.get(todo.size() - 1).tag().seq();
    Map<String, String> tags = CommitTag.entries(todo);
    List<Action> actions = new ArrayList<>(plan.get().actions());
    actions.add(new SetTransaction(app, last, ScalaValues.some(System.currentTimeMillis())));
    Map<String, String> parameters = new LinkedHashMap<>();
    parameters.put("predicate", jsonString(List.of(mergeCondition())));
    parameters.put("queryId", jsonString(app));
    parameters.put("epochId", jsonString(Long.toString(last)));
    Map<String, String> metrics = Map.of("numTargetFilesRemoved", Integer.toString(plan.get().removedFiles()),
        "numTargetFilesAdded", Integer.toString(plan.get().addedFiles()),
        "numOutputRows", Long.toString(plan.get().outputRows()));
    commit(log, "MERGE", parameters, false, metrics, tags, actions);
  }

  /** {@code rows} (laid out as the table's columns) written as data files of the table, one per partition. */
  private List<AddFile> tableFiles(Metadata metadata, String txnId, List<InternalRow> rows) {
    StructType tableType = metadata.schema();
    List<String> partitionColumns = ScalaValues.list(metadata.partitionColumns());
    List<AddFile> files = new ArrayList<>();
    int part = 0;
    for (Map.Entry<Map<String, String>, List<InternalRow>> partition
        : partitions(tableType, partitionColumns, rows).entrySet()) {
      files.add(writeDataFile(txnId, part++, tableType, partitionColumns, partition.getKey(), partition.getValue()));
    }
    return files;
  }

  /**
   * Writes {@code actions} with their commit info (operation, {@link CommitTag} tags and userMetadata) as the warm
   * log's next version, and the checkpoint when the table's interval falls on it, as Delta's post-commit does.
   */
  private void commit(WarmLog log, String operation, Map<String, String> parameters, boolean blindAppend,
      Map<String, String> metrics, Map<String, String> tags, List<Action> actions) {
    ObjectNode info = JSON.createObjectNode();
    info.put("timestamp", System.currentTimeMillis());
    info.put("operation", operation);
    parameters.forEach(info.putObject("operationParameters")::put);
    info.put("readVersion", log.version());
    info.put("isolationLevel", "Serializable");
    info.put("isBlindAppend", blindAppend);
    metrics.forEach(info.putObject("operationMetrics")::put);
    tags.forEach(info.putObject("tags")::put);
    info.put("userMetadata", userMetadata(tags));
    info.put("engineInfo", "Apache-Spark/" + spark.version() + " Delta-Lake/" + io.delta.package$.MODULE$.VERSION());
    info.put("txnId", UUID.randomUUID().toString());
    ObjectNode line = JSON.createObjectNode();
    line.set("commitInfo", info);
    List<String> lines = new ArrayList<>();
    lines.add(line.toString());
    actions.forEach(action -> lines.add(action.json()));
    long version = log.commit(lines, actions);
    if (log.checkpointDue(version)) {
      checkpoint(version);
    }
  }

  private void checkpoint(long version) {
    try {
      DeltaLog deltaLog = deltaLog();
      deltaLog.checkpoint(deltaLog.update(false, ScalaValues.none(), ScalaValues.none()), ScalaValues.none());
    } catch (RuntimeException e) {
      // as Delta's post-commit hook: the commit stands, readers replay JSON commits until the next checkpoint
      LOG.warn("Delta checkpoint of {} at version {} failed: {}", location, version, e.toString());
    }
  }

  private String mergeCondition() {
    return spec.keys().stream().map(key -> "t.`" + key + "` <=> s.`" + key + "`")
        .collect(Collectors.joining(" AND "));
  }

  private static String jsonString(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The publish loop's Delta parts: each attempt is an optimistic transaction, whose {@code txnVersion} of the app
   * is what the table holds; a concurrent commit of the app (or a change of the table's metadata) makes the commit
   * fail with Delta's {@link ConcurrentModificationException}s: a lost race.
   */
  private final class DeltaPublication extends Publication<OptimisticTransaction> {
    DeltaPublication() {
      super(spec.table());
    }

    @Override
    protected OptimisticTransaction read(int attempt, List<PendingPublish> pending) {
      return deltaLog().startTransaction();
    }

    @Override
    protected long held(OptimisticTransaction txn, String app) {
      return txn.txnVersion(app);
    }

    @Override
    protected List<Long> commit(OptimisticTransaction txn, String app, List<PendingPublish> todo) {
      if (spec.isUpsert()) {
        merge(app, todo);
      } else {
        DeltaSink.this.commit(txn, app, todo);
      }
      return seqs(todo);
    }

    @Override
    protected boolean lostRace(RuntimeException failure) {
      return failure instanceof ConcurrentModificationException;
    }
  }

  private void commit(OptimisticTransaction txn, String app, List<PendingPublish> todo) {
    List<Action> actions = new ArrayList<>();
    todo.forEach(p -> actions.addAll(readStage(p.ref())));
    long last = todo.get(todo.size() - 1).tag().seq();
    actions.add(new SetTransaction(app, last, ScalaValues.some(System.currentTimeMillis())));
    Map<String, String> tags = CommitTag.entries(todo);
    txn.commit(ScalaValues.seq(actions),
        new DeltaOperations.StreamingUpdate(OutputMode.Append(), app, last, ScalaValues.some(userMetadata(tags))),
        ScalaValues.map(tags));
  }

  /**
   * Publishes upsert stages with one Delta MERGE on the keys: the stages' changes, the last per key across them (a
   * later commit wins; within a composite stage, a later part), delete matching rows for a delete
   * ({@code WHEN MATCHED AND <delete> THEN DELETE}), update the other matching rows and insert the rest but deletes.
   * A stage written before stages carried the delete marker has no deletes. Idempotent by Delta's own idempotent DML
   * ({@code txnAppId} = app, {@code txnVersion} = last seq): Delta skips the MERGE when the table already holds
   * that version for the app, and writes the {@code SetTransaction} in the MERGE's commit otherwise. The settings
   * go on a clone of the session, so concurrent publishers never see each other's.
   */
  private void merge(String app, List<PendingPublish> todo) {
    SparkSession session = spark.cloneSession();
    Map<String, String> tags = CommitTag.entries(todo);
    long last = todo.get(todo.size() - 1).tag().seq();
    session.conf().set("spark.databricks.delta.write.txnAppId", app);
    session.conf().set("spark.databricks.delta.write.txnVersion", Long.toString(last));
    session.conf().set("spark.databricks.delta.commitInfo.userMetadata", userMetadata(tags));
    Dataset<Row> source = null;
    for (PendingPublish pending : todo) {
      List<String> files = upsertFiles(pending.ref());
      for (int part = 0; part < files.size(); part++) {
        Dataset<Row> rows = session.read().parquet(files.get(part))
            .withColumn(SEQ_COLUMN, functions.lit(pending.tag().seq()))
            .withColumn(PART_COLUMN, functions.lit(part));
        source = source == null ? rows : source.unionByName(rows, true);
      }
    }
    if (!List.of(source.columns()).contains(ChangeRows.COLUMN)) {
      source = source.withColumn(ChangeRows.COLUMN, functions.lit(false));
    }
    Column[] keys = spec.keys().stream().map(functions::col).toArray(Column[]::new);
    Dataset<Row> latest = source
        .withColumn(RANK_COLUMN, functions.row_number().over(
            Window.partitionBy(keys).orderBy(functions.col(SEQ_COLUMN).desc(), functions.col(PART_COLUMN).desc())))
        .where(functions.col(RANK_COLUMN).equalTo(1))
        .drop(SEQ_COLUMN, PART_COLUMN, RANK_COLUMN);
    String condition = mergeCondition();
    String deleted = "coalesce(s.`" + ChangeRows.COLUMN + "`, false)";
    Map<String, String> values = new LinkedHashMap<>();
    for (String column : latest.columns()) {
      if (!column.equals(ChangeRows.COLUMN)) {
        values.put(column, "s.`" + column + "`");
      }
    }
    io.delta.tables.DeltaTable.forPath(session, location.toString()).as("t")
        .merge(latest.as("s"), condition)
        .whenMatched(deleted).delete()
        .whenMatched().updateExpr(values)
        .whenNotMatched("NOT " + deleted).insertExpr(values)
        .execute();
  }

  private static String userMetadata(Map<String, String> tags) {
    try {
      return JSON.writeValueAsString(tags);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public boolean isPublished(String app, long seq) {
    return inContext(() -> holds(app, seq));
  }

  private synchronized boolean holds(String app, long seq) {
    WarmLog log = warmLog();
    return log.version() >= 0 && log.txnVersion(app) >= seq;
  }

  @Override
  public String toString() {
    return "DeltaSink[" + spec.table() + " at " + location + "]";
  }
}
