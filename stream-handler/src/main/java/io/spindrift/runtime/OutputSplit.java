package io.spindrift.runtime;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;

import io.spindrift.event.SourceKind;
import io.spindrift.job.JobContext;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Splits a job's output into the rows for the table (without Spindrift's {@code spindrift_*} columns) and the
 * rejected rows, shaped for the rejects table: lane, position, error, payload, time.
 */
final class OutputSplit {
  static final StructType REJECTS_SCHEMA = new StructType()
      .add("lane", DataTypes.StringType)
      .add("position", DataTypes.StringType)
      .add("error", DataTypes.StringType)
      .add("payload", DataTypes.BinaryType)
      .add("rejected_at", DataTypes.TimestampType);

  private OutputSplit() {}

  static boolean hasRejects(StructType output) {
    return Arrays.asList(output.fieldNames()).contains(JobContext.REJECT_COLUMN);
  }

  /** Fails fast when the job marks rejects but drops what a reject must carry. */
  static void check(StructType output) {
    List<String> names = Arrays.asList(output.fieldNames());
    if (hasRejects(output)) {
      for (String needed : List.of(SourceKind.LANE_COLUMN, SourceKind.POSITION_COLUMN)) {
        if (!names.contains(needed)) {
          throw new IllegalStateException("The job's output has " + JobContext.REJECT_COLUMN + " but not " + needed
              + ": keep it so rejected records can be traced to their source");
        }
      }
    }
    if (names.stream().noneMatch(n -> !n.startsWith("spindrift_"))) {
      throw new IllegalStateException("The job's output has no column for the table (only spindrift_* columns)");
    }
  }

  static Dataset<Row> tableRows(Dataset<Row> output) {
    Dataset<Row> kept = hasRejects(output.schema()) ? output.filter(col(JobContext.REJECT_COLUMN).isNull()) : output;
    Column[] columns = Arrays.stream(output.columns())
        .filter(name -> !name.startsWith("spindrift_"))
        .map(name -> col("`" + name + "`"))
        .toArray(Column[]::new);
    return kept.select(columns);
  }

  static Dataset<Row> rejectRows(Dataset<Row> output) {
    boolean hasPayload = Arrays.asList(output.columns()).contains(JobContext.PAYLOAD_COLUMN);
    return output.filter(col(JobContext.REJECT_COLUMN).isNotNull()).select(
        col(SourceKind.LANE_COLUMN).as("lane"),
        col(SourceKind.POSITION_COLUMN).as("position"),
        col(JobContext.REJECT_COLUMN).as("error"),
        (hasPayload ? col(JobContext.PAYLOAD_COLUMN).cast("binary") : lit(null).cast("binary")).as("payload"),
        current_timestamp().as("rejected_at"));
  }
}
