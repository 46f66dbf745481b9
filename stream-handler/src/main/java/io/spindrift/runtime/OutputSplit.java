package io.spindrift.runtime;

import io.spindrift.event.SourceKind;
import io.spindrift.job.JobContext;
import io.spindrift.sink.ChangeRows;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.UpsertKeys;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Splits a job's computed output into the rows for the table (without Spindrift's {@code spindrift_*} columns)
 * and the rejected rows, shaped for the rejects table: lane, position, error, payload, time. A row is rejected when
 * the job set its {@code spindrift_reject} column, or when it lacks a value in a key column of an upsert sink
 * ({@link UpsertKeys}): every check that depends on the data happens here, before the commit (invariant I7).
 */
final class OutputSplit {
  static final StructType REJECTS_SCHEMA = new StructType()
      .add("lane", DataTypes.StringType)
      .add("position", DataTypes.StringType)
      .add("error", DataTypes.StringType)
      .add("payload", DataTypes.BinaryType)
      .add("rejected_at", DataTypes.TimestampType);

  private final StructType outputSchema;
  private final StructType tableSchema;
  private final int[] tableColumns;
  private final DataType[] tableTypes;
  private final int reject;
  private final int lane;
  private final int position;
  private final int payload;

  /** Fails fast when the output cannot be split: no table column, or rejects without their source position. */
  OutputSplit(StructType output) {
    List<String> names = Arrays.asList(output.fieldNames());
    // the delete marker travels with the table rows: the sink applies it and never writes it (ChangeRows)
    List<StructField> kept = Arrays.stream(output.fields())
        .filter(f -> !f.name().startsWith("spindrift_") || f.name().equals(ChangeRows.COLUMN)).toList();
    if (kept.stream().allMatch(f -> f.name().equals(ChangeRows.COLUMN))) {
      throw new IllegalStateException("The job's output has no column for the table (only spindrift_* columns)");
    }
    this.outputSchema = output;
    this.tableSchema = new StructType(kept.toArray(StructField[]::new));
    this.tableColumns = kept.stream().mapToInt(f -> names.indexOf(f.name())).toArray();
    this.tableTypes = kept.stream().map(StructField::dataType).toArray(DataType[]::new);
    this.reject = names.indexOf(JobContext.REJECT_COLUMN);
    this.lane = names.indexOf(SourceKind.LANE_COLUMN);
    this.position = names.indexOf(SourceKind.POSITION_COLUMN);
    int payloadIndex = names.indexOf(JobContext.PAYLOAD_COLUMN);
    this.payload = payloadIndex >= 0 && output.fields()[payloadIndex].dataType().equals(DataTypes.BinaryType)
        ? payloadIndex : -1;
    if (reject >= 0 && (lane < 0 || position < 0)) {
      throw new IllegalStateException("The job's output has " + JobContext.REJECT_COLUMN + " but not "
          + SourceKind.LANE_COLUMN + " and " + SourceKind.POSITION_COLUMN
          + ": keep them so rejected records can be traced to their source");
    }
  }

  /** The output split in two; {@code nowMicros} stamps the rejects. */
  Split split(List<InternalRow> output, long nowMicros) {
    return split(output, nowMicros, UpsertKeys.NONE);
  }

  /** As {@link #split(List, long)}, also rejecting rows without a value in one of {@code keys}. */
  Split split(List<InternalRow> output, long nowMicros, UpsertKeys keys) {
    List<InternalRow> table = new ArrayList<>(output.size());
    List<InternalRow> rejects = new ArrayList<>();
    UpsertKeys.Bound keyCheck = keys.bind(outputSchema);
    boolean identity = reject < 0 && tableColumns.length == tableSchema.size() && isIdentity();
    for (InternalRow row : output) {
      String error = reject >= 0 && !row.isNullAt(reject) ? row.getUTF8String(reject).toString()
          : keyCheck.rejectReason(row);
      if (error != null) {
        rejects.add(new GenericInternalRow(new Object[] {text(row, lane), text(row, position),
            UTF8String.fromString(error), payload < 0 || row.isNullAt(payload) ? null : row.getBinary(payload),
            nowMicros}));
      } else if (identity) {
        table.add(row);
      } else {
        Object[] values = new Object[tableColumns.length];
        for (int i = 0; i < tableColumns.length; i++) {
          values[i] = row.isNullAt(tableColumns[i]) ? null : row.get(tableColumns[i], tableTypes[i]);
        }
        table.add(new GenericInternalRow(values));
      }
    }
    return new Split(new StageRows(tableSchema, table), new StageRows(REJECTS_SCHEMA, rejects));
  }

  /** A lane or position column's value (null when the output does not keep it, e.g. an aggregation's). */
  private static UTF8String text(InternalRow row, int column) {
    return column < 0 || row.isNullAt(column) ? null : row.getUTF8String(column).clone();
  }

  private boolean isIdentity() {
    for (int i = 0; i < tableColumns.length; i++) {
      if (tableColumns[i] != i) {
        return false;
      }
    }
    return true;
  }

  /** The rows for the table and for the rejects table. */
  record Split(StageRows table, StageRows rejects) {}
}
