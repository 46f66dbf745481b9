package io.spindrift.sink;

import io.spindrift.sink.internal.TableColumns;
import io.spindrift.job.ChangeEvents;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A batch's rows as changes of their keys, for every format: the rows without the delete marker ({@value
 * #COLUMN}, {@link ChangeEvents}) and, per row, whether it deletes its key. Rows reach a sink with the marker
 * column when the job sets it ({@link #of}); a sink stages table columns only, plus the marker where its publish
 * needs it again ({@link #withMarker}). For an upsert the last change of each key wins ({@link #lastPerKey}).
 */
public record ChangeRows(StageRows rows, BitSet deletes) {
  /** The reserved column that marks a row as the delete of its key (boolean; null is false). */
  public static final String COLUMN = ChangeEvents.DELETE_COLUMN;

  public ChangeRows {
    deletes = (BitSet) deletes.clone();
  }

  /** The rows of {@code staged} without the marker column, and which of them delete; none when it has no marker. */
  public static ChangeRows of(StageRows staged) {
    int marker = markerIndex(staged.schema());
    if (marker < 0) {
      return new ChangeRows(staged, new BitSet());
    }
    StructField[] fields = staged.schema().fields();
    int[] source = IntStream.range(0, fields.length).filter(i -> i != marker).toArray();
    StructField[] kept = Arrays.stream(source).mapToObj(i -> fields[i]).toArray(StructField[]::new);
    BitSet deletes = new BitSet();
    List<InternalRow> rows = new ArrayList<>(staged.rows().size());
    for (InternalRow row : staged.rows()) {
      if (!row.isNullAt(marker) && row.getBoolean(marker)) {
        deletes.set(rows.size());
      }
      Object[] values = new Object[source.length];
      for (int i = 0; i < source.length; i++) {
        values[i] = row.isNullAt(source[i]) ? null : row.get(source[i], kept[i].dataType());
      }
      rows.add(new GenericInternalRow(values));
    }
    return new ChangeRows(new StageRows(new StructType(kept), rows), deletes);
  }

  /**
   * Where the marker column is in {@code schema} (-1 when it has none); a marker that is not boolean is an error
   * naming it.
   */
  public static int markerIndex(StructType schema) {
    int at = Arrays.asList(schema.fieldNames()).indexOf(COLUMN);
    if (at >= 0 && !schema.fields()[at].dataType().equals(DataTypes.BooleanType)) {
      throw new IllegalStateException("Column " + COLUMN + " of the job's output has type "
          + schema.fields()[at].dataType().simpleString() + ": it must be boolean (true deletes the row's key)");
    }
    return at;
  }

  public boolean hasDeletes() {
    return !deletes.isEmpty();
  }

  public int size() {
    return rows.rows().size();
  }

  /** The same changes laid out as {@code tableType} ({@link TableColumns#align}). */
  public ChangeRows aligned(StructType tableType, String table) {
    return new ChangeRows(new StageRows(tableType, TableColumns.align(rows, tableType, table)), deletes);
  }

  /**
   * The last change of each key (in first-seen key order), so a delete followed by a re-insert leaves the row and
   * an insert followed by a delete leaves none. A missing key column or a null key is an error naming the column.
   */
  public ChangeRows lastPerKey(List<String> keys, String table) {
    StructType type = rows.schema();
    int[] at = TableColumns.keyIndexes(type, keys, table);
    Map<List<Object>, Integer> last = new LinkedHashMap<>();
    List<InternalRow> all = rows.rows();
    for (int i = 0; i < all.size(); i++) {
      last.put(TableColumns.key(all.get(i), type, at, keys, table), i);
    }
    if (last.size() == all.size()) {
      return this;
    }
    List<InternalRow> kept = new ArrayList<>(last.size());
    BitSet keptDeletes = new BitSet();
    for (int i : last.values()) {
      if (deletes.get(i)) {
        keptDeletes.set(kept.size());
      }
      kept.add(all.get(i));
    }
    return new ChangeRows(new StageRows(type, kept), keptDeletes);
  }

  /** The rows that are not deletes: what an upsert writes. */
  public List<InternalRow> upserts() {
    if (deletes.isEmpty()) {
      return rows.rows();
    }
    List<InternalRow> out = new ArrayList<>(rows.rows().size() - deletes.cardinality());
    for (int i = 0; i < rows.rows().size(); i++) {
      if (!deletes.get(i)) {
        out.add(rows.rows().get(i));
      }
    }
    return out;
  }

  /** The rows with the marker column last (true for a delete), as a stage that publish reads back ({@link #of}). */
  public StageRows withMarker() {
    StructType type = rows.schema().add(COLUMN, DataTypes.BooleanType, false);
    DataType[] types = Arrays.stream(rows.schema().fields()).map(StructField::dataType).toArray(DataType[]::new);
    List<InternalRow> out = new ArrayList<>(rows.rows().size());
    for (int i = 0; i < rows.rows().size(); i++) {
      InternalRow row = rows.rows().get(i);
      Object[] values = new Object[types.length + 1];
      for (int c = 0; c < types.length; c++) {
        values[c] = row.isNullAt(c) ? null : row.get(c, types[c]);
      }
      values[types.length] = deletes.get(i);
      out.add(new GenericInternalRow(values));
    }
    return new StageRows(type, out);
  }
}
