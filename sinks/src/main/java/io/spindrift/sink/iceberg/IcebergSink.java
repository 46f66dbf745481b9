package io.spindrift.sink.iceberg;

import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import io.spindrift.sink.TableColumns;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.ContentFileParser;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Metrics;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotAncestryValidator;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.JsonNode;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.node.ArrayNode;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.iceberg.spark.SparkSchemaUtil;
import org.apache.iceberg.spark.data.SparkParquetWriters;
import org.apache.iceberg.util.SnapshotUtil;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructType;

/**
 * Stages a batch as Parquet data files written directly in the table's data location (so publishing copies
 * nothing) and publishes them with one append (merging small manifests) whose snapshot summary carries the {@link CommitTag}.
 * Idempotence: before and during the append (on every retry of Iceberg's optimistic commit) the snapshot
 * ancestry is checked for the app's sequence number, as Iceberg's own streaming sink checks its epoch id.
 * Staged files of a commit that never lands are orphans, removed by Iceberg's orphan-file clean-up.
 */
public final class IcebergSink implements Sink {
  /** Stage documents up to this size travel inside the commit item; larger ones are written to S3. */
  private static final int INLINE_STAGE_LIMIT = 48 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Catalog catalog;
  private final TableIdentifier id;
  private final SinkSpec spec;
  private final String stageLocation;
  private volatile Table table;

  /**
   * @param stageLocation where stage documents too large for the commit log go ({@code s3://bucket/app/stage})
   */
  public IcebergSink(Catalog catalog, SinkSpec spec, String stageLocation) {
    this.catalog = catalog;
    this.spec = spec;
    this.id = TableIdentifier.of(spec.namespace(), spec.name());
    this.stageLocation = stageLocation;
  }

  public TableIdentifier tableId() {
    return id;
  }

  @Override
  public StagedOutput stage(String txnId, StageRows rows) {
    if (rows.isEmpty()) {
      return StagedOutput.EMPTY;
    }
    Table table = tableFor(rows.schema());
    StructType tableType = SparkSchemaUtil.convert(table.schema());
    List<InternalRow> aligned = TableColumns.align(rows, tableType, id.toString());
    DataFile file = writeDataFile(table, txnId, tableType, aligned);
    String document = stageDocument(table.spec(), List.of(file));
    return new StagedOutput(storeStage(table, txnId, document), aligned.size());
  }

  private Table tableFor(StructType outputSchema) {
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

  private DataFile writeDataFile(Table table, String txnId, StructType sparkType, List<InternalRow> rows) {
    if (!table.spec().isUnpartitioned()) {
      throw new IllegalStateException("Table " + id + " is partitioned; partitioned staging is not supported yet");
    }
    OutputFile out = table.io().newOutputFile(
        table.locationProvider().newDataLocation("spindrift-" + txnId + "-00000.parquet"));
    FileAppender<InternalRow> appender;
    try {
      appender = Parquet.write(out).schema(table.schema())
          .createWriterFunc(messageType -> SparkParquetWriters.buildWriter(sparkType, messageType))
          .setAll(table.properties())
          .metricsConfig(MetricsConfig.forTable(table))
          .overwrite()
          .build();
      try (appender) {
        appender.addAll(rows);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write staged data file " + out.location(), e);
    }
    Metrics metrics = appender.metrics();
    return DataFiles.builder(table.spec())
        .withPath(out.location())
        .withFormat(FileFormat.PARQUET)
        .withFileSizeInBytes(appender.length())
        .withMetrics(metrics)
        .withSplitOffsets(appender.splitOffsets())
        .build();
  }

  private static String stageDocument(PartitionSpec partitioning, List<DataFile> files) {
    ObjectNode doc = JSON.createObjectNode();
    ArrayNode array = doc.putArray("files");
    for (DataFile file : files) {
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

  private List<DataFile> readStage(Table table, String ref) {
    try {
      String document = ref.startsWith("{") ? ref : readString(table.io().newInputFile(ref));
      List<DataFile> files = new ArrayList<>();
      for (JsonNode node : JSON.readTree(document).get("files")) {
        files.add((DataFile) ContentFileParser.fromJson(node, table.specs()));
      }
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read stage " + ref, e);
    }
  }

  private static String readString(InputFile in) throws IOException {
    try (var stream = in.newStream()) {
      return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Override
  public List<Long> publish(List<PendingPublish> pending) {
    if (pending.stream().allMatch(p -> p.ref() == null)) {
      return List.of();
    }
    String app = pending.get(0).tag().app();
    for (int attempt = 1; ; attempt++) {
      Table current = refreshedTable();
      long held = lastPublished(SnapshotUtil.currentAncestors(current), app);
      List<PendingPublish> todo = pending.stream().filter(p -> p.tag().seq() > held && p.ref() != null).toList();
      if (todo.isEmpty()) {
        return List.of();
      }
      // a merging append: a commit every few seconds must not grow the manifest list without bound
      AppendFiles append = current.newAppend();
      todo.forEach(p -> readStage(current, p.ref()).forEach(append::appendFile));
      tag(append, todo);
      long first = todo.get(0).tag().seq();
      append.validateWith(new NotYetPublished(app, first));
      try {
        append.commit();
        return todo.stream().map(p -> p.tag().seq()).toList();
      } catch (ValidationException published) {
        // another container published some of these meanwhile: publish what is left
        if (attempt >= 10) {
          throw published;
        }
      }
    }
  }

  private static void tag(AppendFiles append, List<PendingPublish> todo) {
    CommitTag first = todo.get(0).tag();
    CommitTag last = todo.get(todo.size() - 1).tag();
    append.set(CommitTag.APP, first.app())
        .set(CommitTag.SEQ, Long.toString(last.seq()))
        .set(CommitTag.FIRST_SEQ, Long.toString(first.seq()))
        .set(CommitTag.TXN_ID, todo.stream().map(p -> p.tag().txnId()).collect(Collectors.joining(",")))
        .set(CommitTag.LANES, todo.stream().map(p -> p.tag().lanes()).collect(Collectors.joining(" ")));
  }

  private Table refreshedTable() {
    Table known = table;
    if (known == null) {
      known = catalog.loadTable(id);
      table = known;
    } else {
      known.refresh();
    }
    return known;
  }

  @Override
  public boolean isPublished(String app, long seq) {
    try {
      return contains(SnapshotUtil.currentAncestors(catalog.loadTable(id)), app, seq);
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
   * already holds {@code first} or a later commit of the app.
   */
  private record NotYetPublished(String app, long first) implements SnapshotAncestryValidator {
    @Override
    public boolean validate(Iterable<Snapshot> ancestry) {
      return lastPublished(ancestry, app) < first;
    }

    @Override
    public String errorMessage() {
      return "Commits of " + app + " from seq " + first + " on were published concurrently";
    }
  }
}
