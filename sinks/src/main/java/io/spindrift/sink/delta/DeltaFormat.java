package io.spindrift.sink.delta;

import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.maintenance.TableMaintenance;
import java.util.Map;

/**
 * Delta Lake tables on S3: the format's sink, its table maintenance, and the Spark settings its commits need when the
 * JVM's Spark context is built.
 */
public final class DeltaFormat {
  private DeltaFormat() {}

  /** The sink of {@code spec}'s table ({@link DeltaSink}). */
  public static Sink sink(SinkSpec spec, SinkContext context) {
    return new DeltaSink(spec, context);
  }

  /** The SparkConf entries (set when the JVM's SparkContext is built) that route Delta's S3 log writes. */
  public static Map<String, String> sparkConf() {
    return DeltaSink.logStoreSparkConf();
  }

  /**
   * The maintenance of {@code spec}'s table ({@link DeltaMaintenance}), through its sink, which configures the
   * session for the table: S3A, Delta, and the DynamoDB log store every commit needs.
   */
  public static TableMaintenance maintenance(SinkSpec spec, SinkContext context) {
    return new DeltaSink(spec, context).maintenance();
  }
}
