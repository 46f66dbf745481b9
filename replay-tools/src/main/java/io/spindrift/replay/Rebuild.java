package io.spindrift.replay;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec;
import java.io.PrintStream;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * {@code replay --rebuild}: the replay writes into a new app ({@code <app>_rebuild_<stamp>}, its own lane positions
 * and commit log) and a new table ({@code <table>_rebuild_<stamp>}) from scratch; when it has ended, the new table
 * is swapped in for the live one ({@link TableSwap}). Only Iceberg's catalog can swap a table's contents in one
 * commit; Delta and Hudi tables are paths, and replacing one path's contents with another's is not atomic, so a
 * rebuild of those is refused with how to do it by hand.
 */
final class Rebuild implements AutoCloseable {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");

  private final SpindriftRuntime live;
  private final SpindriftConfig rebuilt;
  private final String stamp;
  private final String liveApp;

  private Rebuild(SpindriftRuntime live, SpindriftConfig rebuilt, String stamp, String liveApp) {
    this.live = live;
    this.rebuilt = rebuilt;
    this.stamp = stamp;
    this.liveApp = liveApp;
  }

  static Rebuild prepare(SpindriftConfig config) {
    SpindriftRuntime live = SpindriftRuntime.create(config);
    SinkSpec sink = live.sink();
    if (sink.format() != SinkSpec.Format.ICEBERG) {
      live.close();
      throw new BadArgument("--rebuild: the app's table " + sink.table() + " is " + sink.format() + "; only an"
          + " Iceberg table can be swapped in one catalog commit. For Delta or Hudi, replay with --new-app into a"
          + " new app and SPINDRIFT_SINK_TABLE, then point readers and the function at the new table");
    }
    String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(STAMP);
    String app = config.app() + "_rebuild_" + stamp;
    SpindriftConfig rebuilt = config.with(Map.of(Setting.APP.key(), app,
        Setting.SINK_TABLE.key(), sink.table() + "_rebuild_" + stamp));
    return new Rebuild(live, rebuilt, stamp, config.app());
  }

  SpindriftConfig rebuiltConfig() {
    return rebuilt;
  }

  void swapAndReport(PrintStream out) {
    TableIdentifier liveTable = TableIdentifier.parse(live.sink().table());
    TableIdentifier rebuiltTable = TableIdentifier.parse(rebuilt.get(Setting.SINK_TABLE));
    // a plain catalog: the runtime's own (OwnCommitsDynamoDbCatalog) is for its publishes
    org.apache.iceberg.catalog.Catalog catalog = org.apache.iceberg.CatalogUtil.buildIcebergCatalog(
        rebuilt.get(Setting.CATALOG_NAME), SpindriftRuntime.catalogSettings(rebuilt).properties(),
        live.spark().sparkContext().hadoopConfiguration());
    TableSwap.Swapped swapped = TableSwap.swap(catalog, liveTable, rebuiltTable, stamp);
    // the rejects table follows its table (a second catalog commit: rejects are never read with the table)
    TableSwap.replace(catalog, TableIdentifier.parse(live.rejectsTable()),
        TableIdentifier.parse(rebuilt.get(Setting.SINK_TABLE) + "_rejects"), stamp);
    out.printf("Rebuilt %s as app '%s' and swapped it in: %s now holds the rebuilt table (snapshot %d); the old"
        + " table is registered as %s.%n", swapped.live(), rebuilt.app(), swapped.live(), swapped.snapshotId(),
        swapped.backup());
    out.printf("Cut-over: the rebuilt table's commits belong to app '%s'. Set SPINDRIFT_APP=%s on the function"
        + " (its lane positions are where this replay ended) before it commits again; app '%s' must not publish"
        + " to %s any more. Roll back with the same swap from %s.%n", rebuilt.app(), rebuilt.app(), liveApp,
        swapped.live(), swapped.backup());
    out.flush();
  }

  @Override
  public void close() {
    live.close();
  }
}
