package io.spindrift.sink.delta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.sink.ChangeRows;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.Type;
import org.apache.spark.paths.SparkPath;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.delta.actions.Action;
import org.apache.spark.sql.delta.actions.AddFile;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat;
import org.apache.spark.sql.types.BooleanType$;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import scala.Function1;

/**
 * An upsert of staged changes into a Delta table as a copy-on-write on the driver, with the result Delta's
 * {@code MERGE} on the keys gives ({@code WHEN MATCHED AND <delete> THEN DELETE}, {@code WHEN MATCHED THEN UPDATE}
 * the staged columns, {@code WHEN NOT MATCHED AND NOT <delete> THEN INSERT}), but without planning a Spark query:
 * the last change per key across the stages (a later stage, and a later part, wins), the table's files that may
 * hold one of those keys (by their partition values and the key columns' min/max statistics; a file without
 * statistics may hold any key), each of them read and rewritten when it holds a key (its other rows unchanged),
 * and the keys it does not hold inserted. The result is the remove and add actions of one Delta commit; the
 * caller commits them on the version the table's files were read at, so any concurrent commit makes it fail and
 * be planned again. Plans that would read more than {@code maxRewriteBytes} ({@code
 * SPINDRIFT_DELTA_UPSERT_REWRITE_MAX_MB}) are refused (Delta's own MERGE, which streams, does those).
 */
final class UpsertRewrite {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Writes rows laid out as the table's columns as new data files of the table: their {@code add} actions. */
  interface FileWriter {
    List<AddFile> write(List<InternalRow> rows);
  }

  /** The commit's file actions and what its commit info reports. */
  record Plan(List<Action> actions, int removedFiles, int addedFiles, long outputRows) {}

  /** One key's last staged change, as the stage file laid it out. */
  private record Change(InternalRow row, StructType type, boolean delete) {}

  private final SparkSession spark;
  private final Configuration conf;
  private final WarmLog warm;
  private final List<String> keys;
  private final StructType tableType;
  private final List<String> partitionColumns;
  private final int[] keyAt;
  /** Bytes of table files one rewrite may read (they are held in memory while rewritten). */
  private final long maxRewriteBytes;

  UpsertRewrite(SparkSession spark, WarmLog warm, List<String> keys, long maxRewriteBytes) {
    this.spark = spark;
    this.conf = spark.sessionState().newHadoopConf();
    this.warm = warm;
    this.keys = keys;
    this.tableType = warm.metadata().schema();
    this.partitionColumns = ScalaValues.list(warm.metadata().partitionColumns());
    this.keyAt = keys.stream().mapToInt(tableType::fieldIndex).toArray();
    this.maxRewriteBytes = maxRewriteBytes;
  }

  /** The commit's actions for {@code stageFiles} (in publish order), or empty if it would read too much. */
  Optional<Plan> plan(List<String> stageFiles, FileWriter writer) {
    Map<List<Object>, Change> changes = lastChanges(stageFiles);
    List<AddFile> candidates = candidates(changes.keySet());
    long bytes = candidates.stream().mapToLong(AddFile::size).sum();
    if (bytes > maxRewriteBytes) {
      return Optional.empty();
    }
    long now = System.currentTimeMillis();
    List<Action> actions = new ArrayList<>();
    List<InternalRow> output = new ArrayList<>();
    Set<List<Object>> matched = new HashSet<>();
    for (AddFile file : candidates) {
      List<InternalRow> kept = new ArrayList<>();
      boolean touched = false;
      for (InternalRow row : tableRows(file)) {
        Change change = changes.get(key(row, tableType, keyAt));
        if (change == null) {
          kept.add(row);
          continue;
        }
        touched = true;
        matched.add(key(row, tableType, keyAt));
        if (!change.delete()) {
          kept.add(updated(row, change));
        }
      }
      if (touched) {
        actions.add(file.removeWithTimestamp(now, true));
        output.addAll(kept);
      }
    }
    changes.forEach((key, change) -> {
      if (!change.delete() && !matched.contains(key)) {
        output.add(updated(new GenericInternalRow(tableType.size()), change));
      }
    });
    int removed = actions.size();
    List<AddFile> added = output.isEmpty() ? List.of() : writer.write(output);
    actions.addAll(added);
    return Optional.of(new Plan(actions, removed, added.size(), output.size()));
  }

  /** The last change per key across the stage files, a later file winning. */
  private Map<List<Object>, Change> lastChanges(List<String> stageFiles) {
    Map<List<Object>, Change> changes = new HashMap<>();
    for (String stageFile : stageFiles) {
      Path file = new Path(stageFile);
      HadoopInputFile input = input(file);
      StructType type = stageType(input);
      int marker = Arrays.asList(type.fieldNames()).indexOf(ChangeRows.COLUMN);
      int[] at = keys.stream().mapToInt(type::fieldIndex).toArray();
      for (InternalRow row : read(file, input.getLength(), type)) {
        boolean delete = marker >= 0 && !row.isNullAt(marker) && row.getBoolean(marker);
        changes.put(key(row, type, at), new Change(row, type, delete));
      }
    }
    return changes;
  }

  /** The columns of a stage file: the table's columns it has (as the table types them) and the delete marker. */
  private StructType stageType(HadoopInputFile file) {
    Set<String> names = new HashSet<>();
    try (ParquetFileReader reader = ParquetFileReader.open(file)) {
      for (Type field : reader.getFooter().getFileMetaData().getSchema().getFields()) {
        names.add(field.getName());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read staged upsert file " + file, e);
    }
    StructType type = new StructType();
    for (StructField column : tableType.fields()) {
      if (names.contains(column.name())) {
        type = type.add(column);
      }
    }
    return names.contains(ChangeRows.COLUMN) ? type.add(ChangeRows.COLUMN, BooleanType$.MODULE$, true) : type;
  }

  private HadoopInputFile input(Path file) {
    try {
      return HadoopInputFile.fromPath(file, conf);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read staged upsert file " + file, e);
    }
  }

  /** The table's files that may hold one of {@code staged}'s keys. */
  private List<AddFile> candidates(Set<List<Object>> staged) {
    List<Set<String>> partitionValues = new ArrayList<>();
    List<TreeSet<Comparable<Object>>> sorted = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      Set<String> asStrings = new HashSet<>();
      TreeSet<Comparable<Object>> values = new TreeSet<>();
      for (List<Object> key : staged) {
        Object value = statValue(key.get(i), tableType.fields()[keyAt[i]].dataType());
        asStrings.add(String.valueOf(key.get(i)));
        if (value != null) {
          values.add(comparable(value));
        }
      }
      partitionValues.add(asStrings);
      sorted.add(values);
    }
    List<AddFile> out = new ArrayList<>();
    for (AddFile file : warm.files().values()) {
      if (mayHold(file, partitionValues, sorted)) {
        out.add(file);
      }
    }
    return out;
  }

  private boolean mayHold(AddFile file, List<Set<String>> partitionValues, List<TreeSet<Comparable<Object>>> sorted) {
    JsonNode stats = parse(file.stats());
    for (int i = 0; i < keys.size(); i++) {
      String key = keys.get(i);
      if (partitionColumns.contains(key)) {
        scala.Option<String> value = file.partitionValues().get(key);
        if (value.isDefined() && value.get() != null && !partitionValues.get(i).contains(value.get())) {
          return false;
        }
        continue;
      }
      DataType type = tableType.fields()[keyAt[i]].dataType();
      JsonNode min = stats == null ? null : stats.path("minValues").get(key);
      JsonNode max = stats == null ? null : stats.path("maxValues").get(key);
      if (min == null || max == null || min.isNull() || max.isNull() || !hasStatValues(type)) {
        continue;
      }
      Comparable<Object> low = comparable(type instanceof StringType ? UTF8String.fromString(min.asText())
          : (Object) min.asLong());
      Comparable<Object> high = comparable(type instanceof StringType ? UTF8String.fromString(max.asText())
          : (Object) max.asLong());
      Comparable<Object> first = sorted.get(i).ceiling(low);
      if (first == null || first.compareTo(high) > 0) {
        return false;
      }
    }
    return true;
  }

  /** True for the key types whose min/max statistics are compared (strings and integers). */
  static boolean hasStatValues(DataType type) {
    return type instanceof StringType || type instanceof LongType || type instanceof IntegerType
        || type instanceof ShortType || type instanceof ByteType;
  }

  /** A key value as its statistics compare: a {@link UTF8String} (binary order, as Spark's) or a long. */
  private static Object statValue(Object keyValue, DataType type) {
    if (keyValue == null || !hasStatValues(type)) {
      return null;
    }
    return type instanceof StringType ? UTF8String.fromString((String) keyValue) : ((Number) keyValue).longValue();
  }

  @SuppressWarnings("unchecked")
  private static Comparable<Object> comparable(Object value) {
    return (Comparable<Object>) value;
  }

  private static JsonNode parse(String stats) {
    if (stats == null) {
      return null;
    }
    try {
      return JSON.readTree(stats);
    } catch (IOException e) {
      return null;
    }
  }

  /** A table file's rows as the table's columns (partition columns from its partition values). */
  private List<InternalRow> tableRows(AddFile file) {
    StructType dataType = warm.metadata().dataSchema();
    List<InternalRow> rows = read(new Path(warm.absolute(file.path())), file.size(), dataType);
    if (partitionColumns.isEmpty()) {
      return rows;
    }
    int[] from = new int[tableType.size()];
    for (int i = 0; i < from.length; i++) {
      String name = tableType.fields()[i].name();
      from[i] = partitionColumns.contains(name) ? -1 : dataType.fieldIndex(name);
    }
    List<InternalRow> out = new ArrayList<>(rows.size());
    for (InternalRow row : rows) {
      Object[] values = new Object[from.length];
      for (int i = 0; i < from.length; i++) {
        if (from[i] >= 0) {
          values[i] = row.isNullAt(from[i]) ? null : row.get(from[i], dataType.fields()[from[i]].dataType());
        } else {
          scala.Option<String> value = file.partitionValues().get(tableType.fields()[i].name());
          values[i] = value.isDefined() && value.get() != null ? UTF8String.fromString(value.get()) : null;
        }
      }
      out.add(new GenericInternalRow(values));
    }
    return out;
  }

  /** {@code target} (the table's columns) with the change's columns set from it: an update, or an insert. */
  private InternalRow updated(InternalRow target, Change change) {
    Object[] values = new Object[tableType.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = i < target.numFields() && !target.isNullAt(i)
          ? target.get(i, tableType.fields()[i].dataType()) : null;
    }
    StructField[] fields = change.type().fields();
    for (int i = 0; i < fields.length; i++) {
      if (!fields[i].name().equals(ChangeRows.COLUMN)) {
        values[tableType.fieldIndex(fields[i].name())] =
            change.row().isNullAt(i) ? null : change.row().get(i, fields[i].dataType());
      }
    }
    return new GenericInternalRow(values);
  }

  /** A row's key: its key columns' values (strings as Java strings; null for a null value). */
  private List<Object> key(InternalRow row, StructType type, int[] at) {
    List<Object> key = new ArrayList<>(at.length);
    for (int i : at) {
      Object value = row.isNullAt(i) ? null : row.get(i, type.fields()[i].dataType());
      key.add(value instanceof UTF8String s ? s.toString() : value);
    }
    return key;
  }

  /** Every row of a Parquet file as {@code type} (columns the file lacks are null), read on the driver. */
  private List<InternalRow> read(Path file, long size, StructType type) {
    Function1<PartitionedFile, scala.collection.Iterator<InternalRow>> reader = new ParquetFileFormat()
        .buildReaderWithPartitionValues(spark, type, new StructType(), type, ScalaValues.seq(List.of()),
            ScalaValues.map(Map.of("returning_batch", "false")), conf);
    scala.collection.Iterator<InternalRow> rows = reader.apply(new PartitionedFile(InternalRow.empty(),
        SparkPath.fromPath(file), 0L, size, new String[0], 0L, size, ScalaValues.map(new LinkedHashMap<>())));
    List<InternalRow> out = new ArrayList<>();
    while (rows.hasNext()) {
      out.add(rows.next().copy());
    }
    return out;
  }
}
