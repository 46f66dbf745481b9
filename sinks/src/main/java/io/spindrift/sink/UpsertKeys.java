package io.spindrift.sink;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The key columns of an upsert sink and the data checks they impose: every key column of a row has a value
 * (not null, and not an empty string, which Hudi refuses as a record key), and a row that deletes its key
 * ({@link ChangeRows#COLUMN}) has a sink with keys to delete from. The checks belong before the commit
 * (invariant I7): rows that fail them go to the rejects table with their lane and position ({@link
 * Bound#rejectReason}), and a stage never sees one ({@link #requireValues} fails fast if it does). An append sink
 * has no keys and accepts every row but a delete.
 */
public record UpsertKeys(String table, List<String> columns) {
  /** No keys (a sink that appends): every row but a delete passes. */
  public static final UpsertKeys NONE = new UpsertKeys("", List.of());

  public UpsertKeys {
    columns = List.copyOf(columns);
  }

  /** The keys of {@code spec} (none for an append). */
  public static UpsertKeys of(SinkSpec spec) {
    return new UpsertKeys(spec.table(), spec.isUpsert() ? spec.keys() : List.of());
  }

  /** The key columns located in {@code schema}; a key column the schema lacks is not checked (staging names it). */
  public Bound bind(StructType schema) {
    List<String> names = Arrays.asList(schema.fieldNames());
    int[] at = columns.stream().mapToInt(names::indexOf).toArray();
    boolean[] text = new boolean[at.length];
    for (int i = 0; i < at.length; i++) {
      text[i] = at[i] >= 0 && schema.fields()[at[i]].dataType().equals(DataTypes.StringType);
    }
    return new Bound(at, text, ChangeRows.markerIndex(schema));
  }

  /** Fails, naming the key column, if any row of {@code rows} lacks a key value. */
  public void requireValues(StageRows rows) {
    Bound bound = bind(rows.schema());
    for (InternalRow row : rows.rows()) {
      String reason = bound.rejectReason(row);
      if (reason != null) {
        throw new IllegalStateException(reason + " (such rows go to the rejects table before staging)");
      }
    }
  }

  /** {@link UpsertKeys} located in one schema. */
  public final class Bound {
    private final int[] at;
    private final boolean[] text;
    private final int marker;

    private Bound(int[] at, boolean[] text, int marker) {
      this.at = at;
      this.text = text;
      this.marker = marker;
    }

    /**
     * Why {@code row} cannot be written (a key column without a value, named; a delete for a sink without keys),
     * or {@code null} when it can.
     */
    public String rejectReason(InternalRow row) {
      if (columns.isEmpty() && marker >= 0 && !row.isNullAt(marker) && row.getBoolean(marker)) {
        return "A delete (" + ChangeRows.COLUMN + " = true) needs an upsert sink, but "
            + (table.isEmpty() ? "the sink" : "table " + table) + " appends: declare it as an upsert on its key"
            + " (SinkSpec.upsert(...) or SPINDRIFT_SINK_MODE=upsert with SPINDRIFT_SINK_KEYS)";
      }
      for (int i = 0; i < at.length; i++) {
        if (at[i] < 0) {
          continue;
        }
        if (row.isNullAt(at[i])) {
          return missing(columns.get(i), "null");
        }
        if (text[i] && row.getUTF8String(at[i]).numBytes() == 0) {
          return missing(columns.get(i), "an empty string");
        }
      }
      return null;
    }
  }

  private String missing(String column, String value) {
    return "Upsert key column '" + column + "' of table " + table + " is " + value
        + ": an upsert needs a value in every key column (" + String.join(", ", columns) + ")";
  }
}
