package io.spindrift.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.window;

import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.sink.SinkSpec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A stateful example: views per page in 10-second event-time windows, with a 10-second watermark, in append mode
 * (a window is written once, when the watermark passes its end). Its state lives in DynamoDB between invocations.
 * Malformed events are dropped before the aggregation (a stateful job's output rows are aggregates, not records).
 */
public final class PageViewCounts implements StreamJob {
  @Override
  public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
    return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
        .filter(col(JobContext.REJECT_COLUMN).isNull())
        .withWatermark("ts", "10 seconds")
        .groupBy(window(col("ts"), "10 seconds"), col("page"))
        .count()
        .select(col("window.start").as("window_start"), col("window.end").as("window_end"), col("page"),
            col("count").as("views"));
  }

  @Override
  public SinkSpec sink() {
    return SinkSpec.iceberg("analytics.page_view_counts");
  }
}
