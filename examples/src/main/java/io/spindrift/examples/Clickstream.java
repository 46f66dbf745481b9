package io.spindrift.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.to_date;

import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.sink.SinkSpec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The example job: parses clickstream JSON events, keeps the fields analysts query, and lands them in
 * {@code analytics.page_views}. Events that are not valid JSON or lack an id, user or time go to
 * {@code analytics.page_views_rejects} with their lane, position and error.
 */
public final class Clickstream implements StreamJob {
  public static final StructType EVENT = new StructType()
      .add("event_id", DataTypes.StringType)
      .add("user_id", DataTypes.StringType)
      .add("session_id", DataTypes.StringType)
      .add("action", DataTypes.StringType)
      .add("page", DataTypes.StringType)
      .add("referrer", DataTypes.StringType)
      .add("country", DataTypes.StringType)
      .add("device", DataTypes.StringType)
      .add("amount", DataTypes.DoubleType)
      .add("ts", DataTypes.TimestampType);

  @Override
  public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
    return ctx.parseJson(input, EVENT, "event_id", "user_id", "ts")
        .withColumn("action", lower(col("action")))
        .withColumn("event_date", to_date(col("ts")));
  }

  @Override
  public SinkSpec sink() {
    return SinkSpec.iceberg("analytics.page_views");
  }
}
