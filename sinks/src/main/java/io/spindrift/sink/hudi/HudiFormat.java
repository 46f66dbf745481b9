package io.spindrift.sink.hudi;

import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.maintenance.TableMaintenance;

/** Apache Hudi tables on S3: the format's sink and its table maintenance. */
public final class HudiFormat {
  private HudiFormat() {}

  /** The sink of {@code spec}'s table ({@link HudiSink}). */
  public static Sink sink(SinkSpec spec, SinkContext context) {
    return new HudiSink(spec, context, WriteOptions.Role.TABLE);
  }

  /**
   * The sink of a rejects table beside a job's table ({@link HudiSink}): its publish does all but the commit
   * before waiting for the table's ({@link WriteOptions.Role#REJECTS}).
   */
  public static Sink rejectsSink(SinkSpec spec, SinkContext context) {
    return new HudiSink(spec, context, WriteOptions.Role.REJECTS);
  }

  /** The maintenance of {@code spec}'s table ({@link HudiMaintenance}), with the sink's settings and location. */
  public static TableMaintenance maintenance(SinkSpec spec, SinkContext context) {
    return new HudiSink(spec, context, WriteOptions.Role.TABLE).maintenance();
  }
}
