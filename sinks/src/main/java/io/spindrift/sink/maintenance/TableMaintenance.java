package io.spindrift.sink.maintenance;

import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.delta.DeltaFormat;
import io.spindrift.sink.hudi.HudiFormat;
import io.spindrift.sink.iceberg.IcebergFormat;
import java.util.Set;

/**
 * Keeps one sink table fast and its storage bounded (DESIGN §7): Iceberg rewrites small data files and manifests,
 * expires snapshots and removes orphan files; Delta checkpoints, compacts (OPTIMIZE) and VACUUMs; Hudi clusters and
 * cleans. A run never breaks exactly-once: the idempotence records the sink publishes with (Iceberg's published-seq
 * table property, Delta's {@code txnAppId}/{@code txnVersion}, Hudi's tagged commit metadata) are kept by every
 * action, and no object in {@link ProtectedObjects} (what committed-but-unpublished commits reference, I7) is ever
 * deleted. A run that loses a race with a publisher fails or leaves the table as it was; it is safe to run again.
 */
public interface TableMaintenance {
  /**
   * Every object a stage ref of this sink references (data files, staged manifests, stage documents and files),
   * as normalized locations ({@link ProtectedObjects#normalize}); empty for a null ref.
   */
  Set<String> referencedObjects(String ref);

  /**
   * Runs the format's maintenance on the table, keeping every object of {@code keep}; a missing table is left alone.
   *
   * @return counts before and after, and what was done
   * @throws RuntimeException if an action failed (the table then holds what it held, or a consistent later version)
   */
  MaintenanceReport run(MaintenancePolicy policy, ProtectedObjects keep);

  /** The maintenance of {@code spec}'s table: the one place that maps a format to its implementation. */
  static TableMaintenance create(SinkSpec spec, SinkContext context) {
    return switch (spec.format()) {
      case ICEBERG -> IcebergFormat.maintenance(spec, context);
      case DELTA -> DeltaFormat.maintenance(spec, context);
      case HUDI -> HudiFormat.maintenance(spec, context);
    };
  }
}
