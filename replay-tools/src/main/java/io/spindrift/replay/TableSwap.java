package io.spindrift.replay;

import org.apache.iceberg.BaseTable;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * The swap at the end of {@code replay --rebuild} (Iceberg): the live table's catalog entry is pointed at the
 * rebuilt table's current metadata in one conditional catalog commit, so a reader sees the old table or the
 * rebuilt one, never a mix or a missing table. Before it, the live table's current metadata is registered as
 * {@code <table>_before_<stamp>} (a rollback is the same swap back); after it, the rebuilt table's own entry is
 * dropped without purging its files (the live entry now owns them).
 */
final class TableSwap {
  private TableSwap() {}

  /** What a swap did: the live table, its backup and the rebuilt table's snapshot now current under the live name. */
  record Swapped(String live, String backup, String rebuilt, long snapshotId) {}

  static Swapped swap(Catalog catalog, TableIdentifier live, TableIdentifier rebuilt, String stamp) {
    Table liveTable = catalog.loadTable(live);
    Table rebuiltTable = catalog.loadTable(rebuilt);
    TableOperations liveOps = ((HasTableOperations) liveTable).operations();
    TableMetadata before = liveOps.refresh();
    TableIdentifier backup = TableIdentifier.of(live.namespace(), live.name() + "_before_" + stamp);
    catalog.registerTable(backup, before.metadataFileLocation());
    TableMetadata replacement = ((BaseTable) rebuiltTable).operations().refresh();
    // one compare-and-swap of the live entry's metadata pointer: from what we read to the rebuilt table's state
    // keeping the live table's UUID: a reader or warm container holding the live table refreshes onto the rebuilt
    // contents instead of failing Iceberg's "Table UUID does not match" check
    liveOps.commit(before, TableMetadata.buildFrom(replacement).assignUUID(before.uuid()).build());
    catalog.dropTable(rebuilt, false);
    Table now = catalog.loadTable(live);
    return new Swapped(live.toString(), backup.toString(), rebuilt.toString(),
        now.currentSnapshot() == null ? -1 : now.currentSnapshot().snapshotId());
  }

  /**
   * {@link #swap} when both tables exist; otherwise the rebuilt table is renamed to the live name, or (no rebuilt
   * table: the rebuild rejected nothing) the live table is kept as the backup and its name freed.
   */
  static void replace(Catalog catalog, TableIdentifier live, TableIdentifier rebuilt, String stamp) {
    boolean hasLive = catalog.tableExists(live);
    boolean hasRebuilt = catalog.tableExists(rebuilt);
    if (hasLive && hasRebuilt) {
      swap(catalog, live, rebuilt, stamp);
    } else if (hasRebuilt) {
      catalog.renameTable(rebuilt, live);
    } else if (hasLive) {
      TableIdentifier backup = TableIdentifier.of(live.namespace(), live.name() + "_before_" + stamp);
      catalog.registerTable(backup,
          ((HasTableOperations) catalog.loadTable(live)).operations().current().metadataFileLocation());
      catalog.dropTable(live, false);
    }
  }
}
