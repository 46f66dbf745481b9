package io.spindrift.sink.internal;

import io.spindrift.sink.StageRows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Fits a batch's output rows to a table's columns, for every format: values are reordered as the table's columns,
 * with nulls for table columns the output lacks. Schema evolution is the same for every format: an output column
 * the table lacks is added to the table as a nullable column ({@link #added}); an output column whose type differs
 * from the table's is an error naming it. Rows are grouped by partition the same way too ({@link #grouped}).
 */
public final class TableColumns {
  private TableColumns() {}

  /**
   * The output columns {@code table} lacks, as nullable columns to add (in output order). Fails, naming the column,
   * when an output column exists in the table with another type: that change is not compatible.
   */
  public static List<StructField> added(StructType output, StructType tableType, String table) {
    List<StructField> added = new ArrayList<>();
    List<String> names = Arrays.asList(tableType.fieldNames());
    for (StructField field : output.fields()) {
      int at = names.indexOf(field.name());
      if (at < 0) {
        added.add(new StructField(field.name(), field.dataType(), true, field.metadata()));
      } else {
        DataType existing = tableType.fields()[at].dataType();
        if (!field.dataType().sameType(existing)) {
          throw incompatible(field.name(), field.dataType(), existing, table);
        }
      }
    }
    return added;
  }

  private static IllegalStateException incompatible(String column, DataType output, DataType existing, String table) {
    return new IllegalStateException("Column '" + column + "' of the job's output has type " + output.simpleString()
        + " but table " + table + " has " + existing.simpleString()
        + ": an incompatible schema change (only new nullable columns are added to a table)");
  }

  /** The rows of {@code rows} laid out as {@code tableType}; the same list when the layouts already agree. */
  public static List<InternalRow> align(StageRows rows, StructType tableType, String table) {
    StructType output = rows.schema();
    for (StructField field : output.fields()) {
      if (!Arrays.asList(tableType.fieldNames()).contains(field.name())) {
        throw new IllegalStateException("Column '" + field.name() + "' of the job's output is not in table " + table
            + " (columns: " + String.join(", ", tableType.fieldNames()) + ")");
      }
    }
    int[] source = new int[tableType.size()];
    DataType[] types = new DataType[tableType.size()];
    boolean identity = tableType.size() == output.size();
    for (int i = 0; i < tableType.size(); i++) {
      StructField column = tableType.fields()[i];
      source[i] = Arrays.asList(output.fieldNames()).indexOf(column.name());
      types[i] = column.dataType();
      if (source[i] >= 0 && !output.fields()[source[i]].dataType().sameType(column.dataType())) {
        throw incompatible(column.name(), output.fields()[source[i]].dataType(), column.dataType(), table);
      }
      identity &= source[i] == i;
    }
    if (identity) {
      return rows.rows();
    }
    List<InternalRow> aligned = new ArrayList<>(rows.rows().size());
    for (InternalRow row : rows.rows()) {
      Object[] values = new Object[source.length];
      for (int i = 0; i < source.length; i++) {
        values[i] = source[i] < 0 || row.isNullAt(source[i]) ? null : row.get(source[i], types[i]);
      }
      aligned.add(new GenericInternalRow(values));
    }
    return aligned;
  }

  /** The key of {@code row}: its key columns' values (strings as Java strings), comparable with equals. */
  public static List<Object> key(InternalRow row, StructType type, int[] at, List<String> keys, String table) {
    List<Object> key = new ArrayList<>(at.length);
    for (int i = 0; i < at.length; i++) {
      if (row.isNullAt(at[i])) {
        throw new IllegalStateException("Key column '" + keys.get(i) + "' of table " + table
            + " is null in an output row; an upsert needs a value for every key column");
      }
      Object value = row.get(at[i], type.fields()[at[i]].dataType());
      key.add(value instanceof org.apache.spark.unsafe.types.UTF8String s ? s.toString() : value);
    }
    return key;
  }

  /** Positions of {@code keys} in {@code type}; a missing one is an error naming it. */
  public static int[] keyIndexes(StructType type, List<String> keys, String table) {
    int[] at = new int[keys.size()];
    List<String> names = Arrays.asList(type.fieldNames());
    for (int i = 0; i < at.length; i++) {
      at[i] = names.indexOf(keys.get(i));
      if (at[i] < 0) {
        throw new IllegalStateException("Key column '" + keys.get(i) + "' of table " + table
            + " is not in the job's output (columns: " + String.join(", ", type.fieldNames()) + ")");
      }
    }
    return at;
  }

  /** The value of column {@code at} of {@code row} ({@code null} for a null value), as {@code type} lays it out. */
  public static Object value(InternalRow row, StructType type, int at) {
    return row.isNullAt(at) ? null : row.get(at, type.fields()[at].dataType());
  }

  /**
   * {@code rows} grouped by {@code keyOf} (a partition), in first-seen order; all under {@code whole} when
   * {@code keyOf} is null (an unpartitioned table).
   */
  public static <K> Map<K, List<InternalRow>> grouped(List<InternalRow> rows, Function<InternalRow, K> keyOf, K whole) {
    Map<K, List<InternalRow>> out = new LinkedHashMap<>();
    if (keyOf == null) {
      out.put(whole, rows);
      return out;
    }
    for (InternalRow row : rows) {
      out.computeIfAbsent(keyOf.apply(row), k -> new ArrayList<>()).add(row);
    }
    return out;
  }
}
