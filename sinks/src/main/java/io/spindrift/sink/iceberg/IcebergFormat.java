package io.spindrift.sink.iceberg;

import io.spindrift.config.Setting;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.maintenance.TableMaintenance;

/** Apache Iceberg tables, through the runtime's catalog: the format's sink and its table maintenance. */
public final class IcebergFormat {
  private IcebergFormat() {}

  /** The sink of {@code spec}'s table ({@link IcebergSink}). */
  public static Sink sink(SinkSpec spec, SinkContext context) {
    return new IcebergSink(context.icebergCatalog(), spec, context.stageLocation(), maxSnapshots(context));
  }

  private static int maxSnapshots(SinkContext context) {
    String value = context.setting(Setting.ICEBERG_MAX_SNAPSHOTS);
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Invalid " + Setting.ICEBERG_MAX_SNAPSHOTS.key() + ": '" + value
          + "' (a whole number: 0, or at least 2)", e);
    }
  }

  /** The maintenance of {@code spec}'s table ({@link IcebergMaintenance}). */
  public static TableMaintenance maintenance(SinkSpec spec, SinkContext context) {
    return new IcebergMaintenance(context.icebergCatalog(), spec, context.spark());
  }
}
