package io.spindrift.job;

import io.spindrift.sink.SinkSpec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A Spindrift job: an ordinary Spark Structured Streaming transformation and the table it writes to. The same
 * class runs inside Lambda (one micro-batch per invocation) and, unchanged, as a query on a Spark cluster.
 *
 * <p>The input is a streaming Dataset with the schema of Spark's connector for the source (see {@link
 * io.spindrift.event.SourceKind}). Output columns named {@code spindrift_*} are Spindrift's and never reach the
 * table: a non-null {@code spindrift_reject} (string) sends the row to the rejects table with that error,
 * together with {@code spindrift_lane}, {@code spindrift_position} and {@code spindrift_payload}. {@link
 * JobContext#parseJson} produces all four.
 */
public interface StreamJob {
  /** The transformation from the input stream to the rows to write. */
  Dataset<Row> transform(Dataset<Row> input, JobContext ctx);

  /** Where the output goes. */
  SinkSpec sink();

  /** Spark output mode: {@code append} (default) or {@code update}. */
  default String outputMode() {
    return "append";
  }
}
