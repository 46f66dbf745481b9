package io.spindrift.sink.iceberg;

import io.spindrift.sink.ChangeRows;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StagedOutput;
import io.spindrift.sink.internal.Publication;
import io.spindrift.sink.internal.TableColumns;
import io.spindrift.sink.internal.TableSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.ContentFileParser;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.GenericManifestFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.ManifestWriter;
import org.apache.iceberg.PartitionData;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotAncestryValidator;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.relocated.com.google.common.base.Preconditions;
import org.apache.iceberg.relocated.com.google.common.collect.Iterables;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.JsonNode;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.node.ArrayNode;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.iceberg.spark.SparkSchemaUtil;
import org.apache.iceberg.spark.data.SparkParquetWriters;
import org.apache.iceberg.util.PropertyUtil;
import org.apache.iceberg.util.SnapshotUtil;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stages a batch as Parquet data files written directly in the table's data location, with (for an append) the
 * manifest that lists them, so publishing copies and writes no file but the snapshot's own: one append (merging
 * small manifests) that links the staged manifests, whose snapshot summary carries the {@link CommitTag}. A
 * composite stage ({@link StagedOutput#combine}) links every part's manifest in that one append.
 * Idempotence: every publish sets the table property {@code spindrift.published-seq.<app>} in the same table
 * commit (one transaction) as its data, and before and during the commit (on every retry of Iceberg's optimistic
 * commit) that property and the snapshot ancestry are checked for the app's sequence number, as Iceberg's own
 * streaming sink checks its epoch id. The property is what makes it safe under table maintenance: snapshot expiry
 * and compaction remove the app's tagged snapshots from the history, never a table property.
 * Staged files of a commit that never lands are orphans, removed by Iceberg's orphan-file clean-up.
 *
 * <p>UPSERT (MERGE on the spec's keys) stages, beside the data file, an equality delete file on the keys of the
 * batch's changes (the last change per key): readers drop older rows with those keys (merge on read, as Iceberg's
 * Flink upsert sink does; compaction rewrites them). A change that deletes its key ({@link ChangeRows}) is in the
 * equality deletes and not in the data file. Tables are partitioned by the identity of one declared column; an
 * output column the table lacks is added to its schema.
 */
final class IcebergSink extends TableSink<Table> {
  /** Stage documents up to this size travel inside the commit item; larger ones are written to S3. */
  private static final int INLINE_STAGE_LIMIT = 48 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long NO_SNAPSHOT = -1L;
  private static final Logger LOG = LoggerFactory.getLogger(IcebergSink.class);
  /** Table property prefix of an app's published seq ({@link #held}). */
  static final String PUBLISHED_SEQ_PREFIX = "spindrift.published-seq.";
  /** Snapshot summary entry of a composite upsert's part published before its last ({@link #upsert}). */
  static final String COMPOSITE_PART = "spindrift.composite-part";

  private final Catalog catalog;
  private final TableIdentifier id;
  private final String stageLocation;
  /** Snapshots a table may hold after a publish before the publish expires the oldest ({@link #expireOldest}). */
  private final int maxSnapshots;
  private volatile Table table;
  /** Reads the manifest list of this sink's last snapshot after its commit returned, for the next append. */
  private final ExecutorService prefetcher = BackgroundThread.named("spindrift-iceberg-prefetch");
  private volatile Future<?> prefetch = CompletableFuture.completedFuture(null);

  /**
   * @param stageLocation where stage documents too large for the commit log go ({@code s3://bucket/app/stage})
   */
  IcebergSink(Catalog catalog, SinkSpec spec, String stageLocation, int maxSnapshots) {
    super(spec);
    Preconditions.checkArgument(maxSnapshots == 0 || maxSnapshots >= 2,
        "Invalid SPINDRIFT_ICEBERG_MAX_SNAPSHOTS: %s (0, or at least 2)", maxSnapshots);
    this.catalog = catalog;
    this.id = TableIdentifier.of(spec.namespace(), spec.name());
    this.stageLocation = stageLocation;
    this.maxSnapshots = maxSnapshots;
  }

  @Override
  protected Table tableFor(StructType output) {
    return evolved(loadOrCreate(output), output);
  }

  @Override
  protected StructType columns(Table table) {
    return SparkSchemaUtil.convert(table.schema());
  }

  @Override
  protected StagedOutput write(Table table, String txnId, ChangeRows changes) {
    StructType tableType = changes.rows().schema();
    if (spec.isUpsert()) {
      changes = changes.lastPerKey(spec.keys(), spec.table());
    }
    List<ContentFile<?>> files = new ArrayList<>();
    int part = 0;
    for (Map.Entry<PartitionData, List<InternalRow>> partition
        : partitions(table, tableType, changes.rows().rows()).entrySet()) {
      PartitionData key = partition.getKey();
      // an upsert's equality deletes cover every key it changes; its data file holds the rows that are not deletes
      List<InternalRow> written = spec.isUpsert() ? withoutDeletes(changes, partition.getValue()) : partition.getValue();
      if (!written.isEmpty()) {
        files.add(writeDataFile(table, txnId, part, key, tableType, written));
      }
      if (spec.isUpsert()) {
        files.add(writeEqualityDeletes(table, txnId, part, key, tableType, partition.getValue()));
      }
      part++;
    }
    // an append's manifest is written now, beside its data files: publishing then only links it into the table
    ManifestFile manifest = spec.isUpsert() ? null : writeManifest(table, txnId, files);
    String document = stageDocument(table.spec(), files, manifest);
    return new StagedOutput(storeStage(table, txnId, document), changes.size());
  }

  /** The rows of {@code partition} (rows of {@code changes}, by identity) that are not deletes. */
  private static List<InternalRow> withoutDeletes(ChangeRows changes, List<InternalRow> partition) {
    if (!changes.hasDeletes()) {
      return partition;
    }
    Set<InternalRow> upserts = Collections.newSetFromMap(new IdentityHashMap<>());
    upserts.addAll(changes.upserts());
    return partition.stream().filter(upserts::contains).toList();
  }

  /**
   * The table with every output column it lacks added as a nullable column (schema evolution); an output column
   * whose type differs from the table's fails, naming it. Another container may have evolved the table first.
   */
  private Table evolved(Table known, StructType output) {
    if (TableColumns.added(output, columns(known), spec.table()).isEmpty()) {
      return known;
    }
    return evolving(CommitFailedException.class, () -> {
      refreshFromCatalog(known);
      List<StructField> added = TableColumns.added(output, columns(known), spec.table());
      if (!added.isEmpty()) {
        UpdateSchema update = known.updateSchema();
        added.forEach(column -> update.addColumn(column.name(), SparkSchemaUtil.convert(column.dataType())));
        update.commit();
        refreshFromCatalog(known);
      }
      return known;
    });
  }

  /** The rows by partition (one entry with a null key for an unpartitioned table), in first-seen order. */
  private Map<PartitionData, List<InternalRow>> partitions(Table table, StructType type, List<InternalRow> rows) {
    if (table.spec().isUnpartitioned()) {
      return TableColumns.grouped(rows, null, null);
    }
    List<PartitionField> fields = table.spec().fields();
    int[] source = new int[fields.size()];
    for (int i = 0; i < source.length; i++) {
      PartitionField field = fields.get(i);
      if (!field.transform().isIdentity()) {
        throw new IllegalStateException("Table " + id + " has partition field " + field.name() + " with transform "
            + field.transform() + "; Spindrift writes tables partitioned by identity only");
      }
      source[i] = type.fieldIndex(table.schema().findColumnName(field.sourceId()));
    }
    return TableColumns.grouped(rows, row -> {
      PartitionData key = new PartitionData(table.spec().partitionType());
      for (int i = 0; i < source.length; i++) {
        Object value = TableColumns.value(row, type, source[i]);
        key.set(i, value instanceof UTF8String text ? text.toString() : value);
      }
      return key;
    }, null);
  }

  private Table loadOrCreate(StructType outputSchema) {
    Table known = table;
    if (known == null) {
      try {
        known = catalog.loadTable(id);
      } catch (NoSuchTableException absent) {
        known = createTable(outputSchema);
      }
      table = known;
    }
    return known;
  }

  private Table createTable(StructType outputSchema) {
    if (catalog instanceof SupportsNamespaces namespaces && !namespaces.namespaceExists(Namespace.of(spec.namespace()))) {
      try {
        namespaces.createNamespace(Namespace.of(spec.namespace()));
      } catch (AlreadyExistsException raced) {
        // created concurrently
      }
    }
    Schema schema = SparkSchemaUtil.convert(outputSchema);
    if (spec.isUpsert() && spec.partitionBy() != null && !spec.keys().contains(spec.partitionBy())) {
      throw new IllegalStateException("Sink " + id + ": an upsert table partitioned by '" + spec.partitionBy()
          + "' needs that column among its keys " + spec.keys() + " (a key must stay in one partition)");
    }
    requireColumns(outputSchema);
    PartitionSpec partitioning = spec.partitionBy() == null
        ? PartitionSpec.unpartitioned()
        : PartitionSpec.builderFor(schema).identity(spec.partitionBy()).build();
    try {
      return catalog.buildTable(id, schema).withPartitionSpec(partitioning)
          .withProperty(TableProperties.FORMAT_VERSION, "2")
          .withProperty(TableProperties.DEFAULT_FILE_FORMAT, "parquet")
          // a commit every few seconds: keep the metadata log short (snapshots need expiry as maintenance)
          .withProperty(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true")
          .withProperty(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "20")
          .create();
    } catch (AlreadyExistsException raced) {
      return catalog.loadTable(id);
    }
  }

  private DataFile writeDataFile(Table table, String txnId, int part, PartitionData partition, StructType sparkType,
      List<InternalRow> rows) {
    OutputFile out = table.io().newOutputFile(dataLocation(table, partition,
        String.format("spindrift-%s-%05d.parquet", txnId, part)));
    try {
      DataWriter<InternalRow> writer = Parquet.writeData(out).forTable(table)
          .createWriterFunc(messageType -> SparkParquetWriters.buildWriter(sparkType, messageType))
          .withSpec(table.spec()).withPartition(partition)
          .overwrite()
          .build();
      try (writer) {
        rows.forEach(writer::write);
      }
      return writer.toDataFile();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write staged data file " + out.location(), e);
    }
  }

  /** An equality delete file on the key columns of {@code rows}: applied to older rows, it makes the append an upsert. */
  private DeleteFile writeEqualityDeletes(Table table, String txnId, int part, PartitionData partition,
      StructType sparkType, List<InternalRow> rows) {
    int[] at = TableColumns.keyIndexes(sparkType, spec.keys(), id.toString());
    Schema keySchema = table.schema().select(spec.keys());
    StructType keyType = SparkSchemaUtil.convert(keySchema);
    int[] keyFieldIds = spec.keys().stream().mapToInt(key -> table.schema().findField(key).fieldId()).toArray();
    OutputFile out = table.io().newOutputFile(dataLocation(table, partition,
        String.format("spindrift-%s-%05d-eq-deletes.parquet", txnId, part)));
    try {
      EqualityDeleteWriter<InternalRow> writer = Parquet.writeDeletes(out).forTable(table)
          .rowSchema(keySchema)
          .withSpec(table.spec()).withPartition(partition)
          .equalityFieldIds(keyFieldIds)
          .createWriterFunc(messageType -> SparkParquetWriters.buildWriter(keyType, messageType))
          .overwrite()
          .buildEqualityWriter();
      try (writer) {
        for (InternalRow row : rows) {
          Object[] key = new Object[at.length];
          for (int i = 0; i < at.length; i++) {
            key[i] = row.get(at[i], sparkType.fields()[at[i]].dataType());
          }
          writer.write(new GenericInternalRow(key));
        }
      }
      return writer.toDeleteFile();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write staged delete file " + out.location(), e);
    }
  }

  private static String dataLocation(Table table, PartitionData partition, String name) {
    return partition == null
        ? table.locationProvider().newDataLocation(name)
        : table.locationProvider().newDataLocation(table.spec(), partition, name);
  }

  /**
   * A manifest of the stage's data files, in the table's metadata location, without a snapshot id: an append
   * adds it to the manifest list as it is (format v2 tables inherit the snapshot id; Iceberg copies it for v1).
   * A manifest that no snapshot takes is an orphan, like the data files of a stage that is never published.
   */
  private static ManifestFile writeManifest(Table table, String txnId, List<ContentFile<?>> files) {
    TableOperations ops = ((HasTableOperations) table).operations();
    OutputFile out = table.io().newOutputFile(
        ops.metadataFileLocation(FileFormat.AVRO.addExtension("spindrift-" + txnId + "-m0")));
    ManifestWriter<DataFile> writer = ManifestFiles.write(ops.current().formatVersion(), table.spec(), out, null);
    try (writer) {
      files.forEach(file -> writer.add((DataFile) file));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write staged manifest " + out.location(), e);
    }
    return writer.toManifestFile();
  }

  private static String stageDocument(PartitionSpec partitioning, List<ContentFile<?>> files, ManifestFile manifest) {
    ObjectNode doc = JSON.createObjectNode();
    if (manifest != null) {
      try {
        // Iceberg's manifest encoding requires a snapshot id, which a staged manifest has not yet: a placeholder,
        // taken off again when the stage is read
        ManifestFile encodable = GenericManifestFile.copyOf(manifest).withSnapshotId(NO_SNAPSHOT).build();
        doc.put("manifest", Base64.getEncoder().encodeToString(ManifestFiles.encode(encodable)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    ArrayNode array = doc.putArray("files");
    for (ContentFile<?> file : files) {
      try {
        array.add(JSON.readTree(ContentFileParser.toJson(file, partitioning)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return doc.toString();
  }

  private String storeStage(Table table, String txnId, String document) {
    if (document.length() <= INLINE_STAGE_LIMIT) {
      return document;
    }
    String location = stageLocation + "/" + txnId + "/" + id + ".json";
    try (PositionOutputStream out = table.io().newOutputFile(location).createOrOverwrite()) {
      out.write(document.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write stage document " + location, e);
    }
    return location;
  }

  /**
   * What a stage ref stands for, over all its parts (a composite's, in order): {@code manifests}, the staged
   * manifests of append parts, and {@code files}, the files no staged manifest lists (every file of an upsert
   * part, and of an append part staged before stages carried a manifest).
   */
  private record Stage(List<ContentFile<?>> files, List<ManifestFile> manifests) {}

  /** The files and manifests of {@code ref}, every part of a composite ({@link StagedOutput#parts}) concatenated. */
  private Stage readStage(Table table, String ref) {
    List<ContentFile<?>> files = new ArrayList<>();
    List<ManifestFile> manifests = new ArrayList<>();
    for (String part : StagedOutput.parts(ref)) {
      JsonNode document = readDocument(table, part);
      JsonNode manifest = document.get("manifest");
      if (manifest != null) {
        manifests.add(decodeManifest(manifest.asText()));
        continue;
      }
      for (JsonNode node : document.get("files")) {
        files.add(ContentFileParser.fromJson(node, table.specs()));
      }
    }
    return new Stage(files, manifests);
  }

  /** The stage document of one (non-composite) ref: inline, or the S3 object it names. */
  private static JsonNode readDocument(Table table, String ref) {
    try {
      return JSON.readTree(ref.startsWith("{") ? ref : readString(table.io().newInputFile(ref)));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read stage " + ref, e);
    }
  }

  private static ManifestFile decodeManifest(String encoded) {
    try {
      return GenericManifestFile.copyOf(ManifestFiles.decode(Base64.getDecoder().decode(encoded)))
          .withSnapshotId(null).build();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot decode a staged manifest", e);
    }
  }

  private static String readString(InputFile in) throws IOException {
    try (var stream = in.newStream()) {
      return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Override
  public List<Long> publish(List<PendingPublish> pending) {
    return new IcebergPublication().publish(pending);
  }

  /**
   * The publish loop's Iceberg parts: the first attempt trusts the table as this container last saw it (usually its
   * own last commit): the catalog update is conditional on that version, and Iceberg's retry after a lost race
   * refreshes and checks the ancestry again (validateWith); a stale view only costs a second attempt. An append
   * that finds the app's seqs published meanwhile fails its validation: a lost race. An upsert settles its races
   * itself, seq by seq ({@link #upsert}).
   */
  private final class IcebergPublication extends Publication<Table> {
    IcebergPublication() {
      super(spec.table());
    }

    @Override
    protected List<Long> publish(String app, List<PendingPublish> withRows) {
      awaitPrefetch();
      return attempts(app, withRows);
    }

    @Override
    protected Table read(int attempt, List<PendingPublish> pending) {
      return attempt == 1 && table != null ? table : refreshedTable();
    }

    @Override
    protected long held(Table current, String app) {
      return IcebergSink.held(current, app);
    }

    @Override
    protected List<Long> commit(Table current, String app, List<PendingPublish> todo) {
      List<Long> published = spec.isUpsert() ? upsert(current, app, todo) : append(current, app, todo);
      expireOldest(current);
      return published;
    }

    @Override
    protected boolean lostRace(RuntimeException failure) {
      return !spec.isUpsert() && failure instanceof ValidationException;
    }
  }

  /**
   * Publishes append stages in one table commit. A commit every few seconds must not grow the manifest list without
   * bound: a merging append once it reaches Iceberg's merge threshold, a fast append (no merge, no re-read of the
   * manifest list after it) until then; the app's published seq is a table property set in the same table commit
   * (see {@link #held}).
   */
  private List<Long> append(Table current, String app, List<PendingPublish> todo) {
    Transaction txn = current.newTransaction();
    boolean merge = timeToMerge(current);
    AppendFiles append = merge ? txn.newAppend() : txn.newFastAppend();
    for (PendingPublish p : todo) {
      Stage stage = readStage(current, p.ref());
      for (ManifestFile manifest : stage.manifests()) {
        if (merge) {
          appendFilesOf(manifest, current, append);
        } else {
          append.appendManifest(manifest);
        }
      }
      stage.files().forEach(file -> append.appendFile((DataFile) file));
    }
    tag(append, todo);
    append.validateWith(new NotYetPublished(app, todo.get(0).tag().seq(), properties(current)));
    append.commit();
    recordPublished(txn, app, todo.get(todo.size() - 1).tag().seq());
    txn.commitTransaction();
    prefetchManifestList(current);
    return todo.stream().map(p -> p.tag().seq()).toList();
  }

  /**
   * Hands a merging append the data files of a staged manifest rather than the manifest: once a merging append has
   * merged a manifest it was handed, it deletes it (Iceberg's {@code MergingSnapshotProducer.cleanUncommittedAppends}),
   * before the transaction around it commits. The staged manifest belongs to the commit record: a transaction that
   * loses its race and is re-applied (then perhaps without merging) would reference the deleted file, and a retry or
   * another container's roll-forward of the same commit would not find it (found by the soak: a table whose snapshot
   * named a missing {@code -m0.avro}). A fast append never deletes what it was handed.
   */
  private static void appendFilesOf(ManifestFile manifest, Table table, AppendFiles append) {
    try (ManifestReader<DataFile> files = ManifestFiles.read(withSnapshotId(manifest), table.io(), table.specs())) {
      for (DataFile file : files) {
        append.appendFile(file.copy());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the staged manifest " + manifest.path(), e);
    }
  }

  /**
   * A staged manifest as a reader accepts it: written for snapshot-id inheritance, it has no snapshot id, which
   * {@link ManifestFiles#read} refuses; its entries' snapshot id is not kept (only the data files are appended).
   */
  private static ManifestFile withSnapshotId(ManifestFile manifest) {
    if (manifest.snapshotId() != null) {
      return manifest;
    }
    return (ManifestFile) java.lang.reflect.Proxy.newProxyInstance(ManifestFile.class.getClassLoader(),
        new Class<?>[] {ManifestFile.class}, (proxy, method, args) -> {
          if (method.getName().equals("snapshotId") && method.getParameterCount() == 0) {
            return 0L;
          }
          try {
            return method.invoke(manifest, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  /**
   * Publishes upsert stages one table commit each, in seq order: a stage's equality deletes apply only to rows of
   * earlier data sequence numbers, so two stages in one snapshot would both keep a key they share. Each commit is
   * tagged and validated on its own; the table still holds a prefix of the app's commits after each one. A composite
   * stage's parts go into its seq's one table commit as one row delta each, in part order, so a later part's change
   * of a key (an update or a delete) wins over an earlier part's, as a later seq's does; only the last of those
   * snapshots carries the {@link CommitTag} (the others carry the txn id and their part number).
   */
  private List<Long> upsert(Table current, String app, List<PendingPublish> todo) {
    List<Long> published = new ArrayList<>();
    for (PendingPublish pending : todo) {
      long seq = pending.tag().seq();
      Transaction txn = current.newTransaction();
      List<String> parts = StagedOutput.parts(pending.ref());
      try {
        for (int part = 0; part < parts.size(); part++) {
          RowDelta delta = txn.newRowDelta();
          for (ContentFile<?> file : readStage(current, parts.get(part)).files()) {
            if (file instanceof DeleteFile deletes) {
              delta.addDeletes(deletes);
            } else {
              delta.addRows((DataFile) file);
            }
          }
          if (part == parts.size() - 1) {
            tag(delta, List.of(pending));
          } else {
            delta.set(CommitTag.TXN_ID, pending.tag().txnId());
            delta.set(COMPOSITE_PART, (part + 1) + "/" + parts.size());
          }
          if (part == 0) {
            // later parts' snapshots sit on this one, inside the same table commit
            delta.validateWith(new NotYetPublished(app, seq, properties(current)));
          }
          delta.commit();
        }
        recordPublished(txn, app, seq);
        txn.commitTransaction();
        published.add(seq);
      } catch (ValidationException failed) {
        // skipped only when another container published this seq meanwhile: any other refusal is not "done"
        refreshFromCatalog(current);
        if (held(current, app) < seq) {
          throw failed;
        }
      }
    }
    return published;
  }

  /** The table property holding the highest seq of {@code app} the table holds. */
  static String publishedSeqProperty(String app) {
    return PUBLISHED_SEQ_PREFIX + app;
  }

  /**
   * The highest seq of {@code app} the table holds (0 for none): its durable published-seq property, written in
   * the same table commit as the data, so snapshot expiry and compaction (which drop the app's tagged snapshots
   * from the history) cannot lose it; a table published before the property existed answers from its ancestry.
   */
  static long held(Table table, String app) {
    return Math.max(propertySeq(table.properties(), app), lastPublished(SnapshotUtil.currentAncestors(table), app));
  }

  private static long propertySeq(Map<String, String> properties, String app) {
    String value = properties == null ? null : properties.get(publishedSeqProperty(app));
    return value == null ? 0 : Long.parseLong(value);
  }

  /** Sets the app's published seq in the transaction (never lowers it: the table holds a prefix of the app). */
  private static void recordPublished(Transaction txn, String app, long seq) {
    txn.updateProperties().set(publishedSeqProperty(app), Long.toString(seq)).commit();
  }

  /** The table's properties as its operations see them now (refreshed by every commit attempt). */
  private static Supplier<Map<String, String>> properties(Table table) {
    return table instanceof HasTableOperations t ? () -> t.operations().current().properties() : table::properties;
  }

  /**
   * Whether the current snapshot lists as many manifests as the table's {@code commit.manifest.min-count-to-merge}
   * (100 by default), read from its summary (no manifest list read). A merging append then compacts them, about
   * once per that many commits; a snapshot without the counts (written by another engine) is merged as well.
   * Fast appends measured 102–103 ms against 116–117 ms for merging ones (1,000-row publish, p50, local stack).
   */
  static boolean timeToMerge(Table table) {
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return false;
    }
    Map<String, String> summary = current.summary();
    String created = summary == null ? null : summary.get(SnapshotSummary.CREATED_MANIFESTS_COUNT);
    String kept = summary == null ? null : summary.get(SnapshotSummary.KEPT_MANIFESTS_COUNT);
    if (created == null || kept == null) {
      return true;
    }
    int threshold = PropertyUtil.propertyAsInt(table.properties(), TableProperties.MANIFEST_MIN_MERGE_COUNT,
        TableProperties.MANIFEST_MIN_MERGE_COUNT_DEFAULT);
    return Integer.parseInt(created) + Integer.parseInt(kept) + 1 >= threshold;
  }

  /**
   * Once a table holds more than {@code maxSnapshots} snapshots, expires the oldest in a commit of its own, keeping
   * the newest nine tenths, and deletes the files only they referenced (manifest lists, replaced manifests):
   * every commit writes a metadata file that lists every snapshot, so at a commit a second the hourly maintenance
   * alone lets each commit write megabytes and take longer. Exactly once does not depend on snapshots (the
   * published-seq property does), and no unpublished commit's files are in one. A failed expiry (another writer
   * won every retry) fails nothing: the next publish, or maintenance, expires them.
   */
  private void expireOldest(Table current) {
    if (maxSnapshots == 0 || Iterables.size(current.snapshots()) <= maxSnapshots) {
      return;
    }
    try {
      current.expireSnapshots().expireOlderThan(System.currentTimeMillis())
          .retainLast(maxSnapshots - maxSnapshots / 10).commit();
    } catch (RuntimeException e) {
      LOG.warn("Expiring the oldest snapshots of {} failed; a later publish or maintenance expires them: {}", id,
          e.toString());
    }
  }

  private static void tag(SnapshotUpdate<?> update, List<PendingPublish> todo) {
    CommitTag.entries(todo).forEach(update::set);
  }

  private Table refreshedTable() {
    Table known = table;
    if (known == null) {
      known = catalog.loadTable(id);
      table = known;
    } else {
      refreshFromCatalog(known);
    }
    return known;
  }

  /**
   * Reads, in the background, the manifest list of the snapshot this sink just committed: the next append lists
   * its manifests again, and while the table holds its own commit as current (no read-back) that snapshot object
   * is the next append's parent. The next publish waits for the read (it has usually finished during the next
   * batch's Spark work) instead of making it on its own path.
   */
  private void prefetchManifestList(Table committed) {
    if (committed instanceof HasTableOperations t && t.operations() instanceof OwnCommitsTableOperations ops
        && ops.trusted() && committed.currentSnapshot() != null) {
      Snapshot parent = committed.currentSnapshot();
      prefetch = prefetcher.submit(() -> parent.allManifests(committed.io()));
    }
  }

  /** Joins the prefetch (also for the memory visibility of what it cached); a failed one is read again on use. */
  private void awaitPrefetch() {
    try {
      prefetch.get();
    } catch (ExecutionException failed) {
      // the append reads the manifest list itself
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a manifest list read", e);
    }
  }

  /** Reads the table's catalog entry again, also when the table holds its own last commit as current. */
  private static void refreshFromCatalog(Table table) {
    if (table instanceof HasTableOperations t && t.operations() instanceof OwnCommitsTableOperations ops) {
      ops.distrust();
    }
    table.refresh();
  }

  @Override
  public boolean isPublished(String app, long seq) {
    try {
      Table loaded = catalog.loadTable(id);
      return propertySeq(loaded.properties(), app) >= seq
          || contains(SnapshotUtil.currentAncestors(loaded), app, seq);
    } catch (NoSuchTableException absent) {
      return false;
    }
  }

  /** The highest seq of {@code app} the ancestry holds (0 for none): the newest snapshot the app made. */
  static long lastPublished(Iterable<Snapshot> ancestry, String app) {
    for (Snapshot snapshot : ancestry) {
      Map<String, String> summary = snapshot.summary();
      if (summary != null && app.equals(summary.get(CommitTag.APP))) {
        return Long.parseLong(summary.get(CommitTag.SEQ));
      }
    }
    return 0;
  }

  /**
   * Walks back from the newest snapshot until a snapshot of the app covers {@code seq}, or an older one shows
   * it is not there (an app's commits reach the table in seq order).
   */
  static boolean contains(Iterable<Snapshot> ancestry, String app, long seq) {
    for (Snapshot snapshot : ancestry) {
      Map<String, String> summary = snapshot.summary();
      if (summary != null && app.equals(summary.get(CommitTag.APP))) {
        long last = Long.parseLong(summary.get(CommitTag.SEQ));
        long first = Long.parseLong(summary.getOrDefault(CommitTag.FIRST_SEQ, summary.get(CommitTag.SEQ)));
        if (seq >= first && seq <= last) {
          return true;
        }
        if (last < seq) {
          return false;
        }
      }
    }
    return false;
  }

  /**
   * Fails the append, on any commit attempt (Iceberg re-validates after a concurrent commit), when the table
   * already holds {@code first} or a later commit of the app, by its published-seq property or its ancestry.
   */
  private record NotYetPublished(String app, long first, Supplier<Map<String, String>> properties)
      implements SnapshotAncestryValidator {
    @Override
    public boolean validate(Iterable<Snapshot> ancestry) {
      return Math.max(propertySeq(properties.get(), app), lastPublished(ancestry, app)) < first;
    }

    @Override
    public String errorMessage() {
      return "Commits of " + app + " from seq " + first + " on were published concurrently";
    }
  }
}
