package io.spindrift.sink;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Fits a batch's output rows to a table's columns, for every format: values are reordered as the table's columns,
 * with nulls for table columns the output lacks. A column the table lacks, or whose type differs from the
 * table's, is an error naming it.
 */
public final class TableColumns {
  private TableColumns() {}

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
        throw new IllegalStateException("Column '" + column.name() + "' of the job's output has type "
            + output.fields()[source[i]].dataType().simpleString() + " but table " + table + " has "
            + column.dataType().simpleString());
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
}
