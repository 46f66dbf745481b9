package io.spindrift.sink.maintenance;

import java.util.List;

/**
 * What one table's maintenance run found and did.
 *
 * @param table the table ({@code namespace.name})
 * @param format iceberg, delta or hudi
 * @param liveFilesBefore data files the table's current version referenced before the run (-1: no table)
 * @param liveFilesAfter data files the current version references after it: the "files per table" metric
 * @param storedFilesBefore data files under the table's location before the run (every version's, and orphans)
 * @param storedFilesAfter the same after the run
 * @param versionsBefore versions the table keeps: Iceberg snapshots, Hudi completed instants, Delta log versions
 * @param versionsAfter the same after the run
 * @param actions what was done, one short line each (e.g. {@code "rewrite-data-files: 12 -> 1"})
 */
public record MaintenanceReport(String table, String format, long liveFilesBefore, long liveFilesAfter,
    long storedFilesBefore, long storedFilesAfter, long versionsBefore, long versionsAfter, List<String> actions) {
  public MaintenanceReport {
    actions = List.copyOf(actions);
  }

  /** The report of a table that does not exist (yet): nothing to do. */
  public static MaintenanceReport absent(String table, String format) {
    return new MaintenanceReport(table, format, -1, -1, 0, 0, 0, 0, List.of("table does not exist"));
  }

  public boolean tableExists() {
    return liveFilesBefore >= 0;
  }
}
