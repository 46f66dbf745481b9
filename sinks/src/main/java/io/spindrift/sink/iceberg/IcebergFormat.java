package io.spindrift.sink.iceberg;

import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.maintenance.TableMaintenance;

/** Apache Iceberg tables, through the runtime's catalog: the format's sink and its table maintenance. */
public final class IcebergFormat {
  private IcebergFormat() {}

  /** The sink of {@code spec}'s table ({@link IcebergSink}). */
  public static Sink sink(SinkSpec spec, SinkContext context) {
    return new IcebergSink(context.icebergCatalog(), spec, context.stageLocation());
  }

  /** The maintenance of {@code spec}'s table ({@link IcebergMaintenance}). */
  public static TableMaintenance maintenance(SinkSpec spec, SinkContext context) {
    return new IcebergMaintenance(context.icebergCatalog(), spec, context.spark());
  }
}
