package io.spindrift.sink;

import io.spindrift.sink.delta.DeltaSink;
import io.spindrift.sink.hudi.HudiSink;
import io.spindrift.sink.iceberg.IcebergSink;

/** Builds the sink for a {@link SinkSpec}: the one place that maps a table format to its implementation. */
public final class Sinks {
  private Sinks() {}

  public static Sink create(SinkSpec spec, SinkContext context) {
    return switch (spec.format()) {
      case ICEBERG -> new IcebergSink(context.icebergCatalog(), spec, context.stageLocation());
      case DELTA -> new DeltaSink(spec, context);
      case HUDI -> new HudiSink(spec, context);
    };
  }
}
