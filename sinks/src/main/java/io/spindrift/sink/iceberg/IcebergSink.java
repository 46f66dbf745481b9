package io.spindrift.sink.iceberg;

import io.spindrift.sink.CommitTag;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StagedOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;

/**
 * Stages a batch as Parquet data files written directly in the table's data location (so publishing copies
 * nothing) and publishes them with one fast append whose snapshot summary carries the {@link CommitTag}.
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
  public StagedOutput stage(String txnId, Dataset<Row> rows) {
    Table table = tableFor(rows.schema());
    Dataset<Row> aligned = alignToTable(table, rows);
    List<InternalRow> collected = aligned.queryExecution().toRdd().toJavaRDD().map(InternalRow::copy).collect();
    if (collected.isEmpty()) {
      return StagedOutput.EMPTY;
    }
    DataFile file = writeDataFile(table, txnId, aligned.schema(), collected);
    String document = stageDocument(table.spec(), List.of(file));
    return new StagedOutput(storeStage(table, txnId, document), collected.size());
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
          .create();
    } catch (AlreadyExistsException raced) {
      return catalog.loadTable(id);
    }
  }

  /** Orders the output columns as the table does; a column the table lacks is an error naming it. */
  private Dataset<Row> alignToTable(Table table, Dataset<Row> rows) {
    List<String> outputColumns = Arrays.asList(rows.columns());
    for (String column : outputColumns) {
      if (table.schema().findField(column) == null) {
        throw new IllegalStateException("Column '" + column + "' of the job's output is not in table " + id
            + " (columns: " + table.schema().columns().stream().map(f -> f.name()).toList() + ")");
      }
    }
    List<Column> columns = new ArrayList<>();
    table.schema().columns().forEach(field -> columns.add(outputColumns.contains(field.name())
        ? functions.col(field.name())
        : functions.lit(null).cast(SparkSchemaUtil.convert(field.type())).as(field.name())));
    return rows.select(columns.toArray(Column[]::new));
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
  public boolean publish(StagedOutput staged, CommitTag tag) {
    if (staged.isEmpty()) {
      return false;
    }
    Table table = catalog.loadTable(id);
    if (contains(SnapshotUtil.currentAncestors(table), tag.app(), tag.seq())) {
      return false;
    }
    AppendFiles append = table.newFastAppend();
    readStage(table, staged.ref()).forEach(append::appendFile);
    append.set(CommitTag.APP, tag.app())
        .set(CommitTag.SEQ, Long.toString(tag.seq()))
        .set(CommitTag.TXN_ID, tag.txnId())
        .set(CommitTag.LANES, tag.lanes());
    append.validateWith(new NotYetPublished(tag));
    try {
      append.commit();
      return true;
    } catch (ValidationException alreadyThere) {
      if (contains(SnapshotUtil.currentAncestors(catalog.loadTable(id)), tag.app(), tag.seq())) {
        return false;
      }
      throw alreadyThere;
    }
  }

  @Override
  public boolean isPublished(String app, long seq) {
    try {
      return contains(SnapshotUtil.currentAncestors(catalog.loadTable(id)), app, seq);
    } catch (NoSuchTableException absent) {
      return false;
    }
  }

  /**
   * Walks back from the newest snapshot until the app's commit {@code seq} is found, or an older commit of the
   * same app shows it is not there (an app publishes its commits in seq order).
   */
  static boolean contains(Iterable<Snapshot> ancestry, String app, long seq) {
    for (Snapshot snapshot : ancestry) {
      Map<String, String> summary = snapshot.summary();
      if (summary != null && app.equals(summary.get(CommitTag.APP))) {
        long published = Long.parseLong(summary.get(CommitTag.SEQ));
        if (published == seq) {
          return true;
        }
        if (published < seq) {
          return false;
        }
      }
    }
    return false;
  }

  /** Fails the append, on any commit attempt, when the ancestry already holds the commit. */
  private record NotYetPublished(CommitTag tag) implements SnapshotAncestryValidator {
    @Override
    public boolean validate(Iterable<Snapshot> ancestry) {
      return !contains(ancestry, tag.app(), tag.seq());
    }

    @Override
    public String errorMessage() {
      return "Commit " + tag.app() + "/" + tag.seq() + " is already published";
    }
  }
}
