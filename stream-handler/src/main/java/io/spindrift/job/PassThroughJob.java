package io.spindrift.job;

import io.spindrift.sink.SinkSpec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** The default job: lands every record as it arrived, in the connector's schema, in {@code raw.events}. */
public final class PassThroughJob implements StreamJob {
  @Override
  public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
    return input;
  }

  @Override
  public SinkSpec sink() {
    return SinkSpec.iceberg("raw.events");
  }
}
