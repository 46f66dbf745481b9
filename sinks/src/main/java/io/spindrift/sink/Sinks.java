package io.spindrift.sink;

import io.spindrift.sink.delta.DeltaFormat;
import io.spindrift.sink.hudi.HudiFormat;
import io.spindrift.sink.iceberg.IcebergFormat;
import java.util.Map;

/** Builds the sink for a {@link SinkSpec}: the one place that maps a table format to its implementation. */
public final class Sinks {
  private Sinks() {}

  public static Sink create(SinkSpec spec, SinkContext context) {
    return switch (spec.format()) {
      case ICEBERG -> IcebergFormat.sink(spec, context);
      case DELTA -> DeltaFormat.sink(spec, context);
      case HUDI -> HudiFormat.sink(spec, context);
    };
  }

  /**
   * Builds the sink of a rejects table ({@code spec}: the job's table name with {@code _rejects}, append): the same
   * format and table as {@link #create} builds, whose publish the runtime runs beside the job's table and whose
   * commit waits for the table's ({@link Sink#publish(java.util.List, long, Runnable)}); a format may do more of
   * it before that wait (Hudi: cleaning, archival and small-file merging instead of inline clustering after the
   * commit).
   */
  public static Sink createRejects(SinkSpec spec, SinkContext context) {
    return spec.format() == SinkSpec.Format.HUDI ? HudiFormat.rejectsSink(spec, context) : create(spec, context);
  }

  /** The SparkConf entries the formats need set when the JVM's SparkContext is built (Delta's S3 log store). */
  public static Map<String, String> sparkConf() {
    return DeltaFormat.sparkConf();
  }
}
