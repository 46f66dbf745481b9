package io.spindrift.sink.iceberg;

import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StagedOutput;
import io.spindrift.sink.maintenance.MaintenancePolicy;
import io.spindrift.sink.maintenance.MaintenanceReport;
import io.spindrift.sink.maintenance.ProtectedObjects;
import io.spindrift.sink.maintenance.TableMaintenance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.ContentFileParser;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.actions.RewriteDataFiles;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.JsonNode;
import org.apache.iceberg.shaded.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.iceberg.spark.actions.SparkActions;
import org.apache.spark.sql.SparkSession;

/**
 * Iceberg maintenance with Iceberg's own Spark actions, in this order: bin-pack small data files
 * ({@code rewriteDataFiles}), rewrite manifests, expire snapshots, remove orphan files. The app's published seq is
 * a table property ({@link IcebergSink#held}), which every one of these commits carries over, so expiring the
 * app's tagged snapshots never makes a publish repeat. Orphan removal deletes only files older than the
 * {@link ProtectedObjects#cutoffMs cutoff}, and never one an unpublished commit references (its staged data,
 * delete and manifest files live in the table's location, untracked until published).
 */
final class IcebergMaintenance implements TableMaintenance {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Catalog catalog;
  private final SinkSpec spec;
  private final SparkSession spark;
  private final TableIdentifier id;

  IcebergMaintenance(Catalog catalog, SinkSpec spec, SparkSession spark) {
    this.catalog = catalog;
    this.spec = spec;
    this.spark = spark;
    this.id = TableIdentifier.of(spec.namespace(), spec.name());
  }

  @Override
  public Set<String> referencedObjects(String ref) {
    Set<String> out = new HashSet<>();
    if (ref == null) {
      return out;
    }
    Table table;
    try {
      table = catalog.loadTable(id);
    } catch (NoSuchTableException absent) {
      // a stage's files are written into an existing table: without one, only a stage document can be named
      StagedOutput.parts(ref).stream().filter(part -> !part.startsWith("{")).forEach(out::add);
      return out;
    }
    for (String part : StagedOutput.parts(ref)) {
      if (!part.startsWith("{")) {
        out.add(part);
      }
      JsonNode document = readDocument(table, part);
      JsonNode manifest = document.get("manifest");
      if (manifest != null) {
        try {
          out.add(ManifestFiles.decode(Base64.getDecoder().decode(manifest.asText())).path());
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot decode a staged manifest of " + id, e);
        }
      }
      JsonNode files = document.get("files");
      if (files != null) {
        files.forEach(node -> out.add(ContentFileParser.fromJson(node, table.specs()).location()));
      }
    }
    return out;
  }

  private static JsonNode readDocument(Table table, String ref) {
    try {
      if (ref.startsWith("{")) {
        return JSON.readTree(ref);
      }
      try (var in = table.io().newInputFile(ref).newStream()) {
        return JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read stage " + ref + " of " + table.name(), e);
    }
  }

  @Override
  public MaintenanceReport run(MaintenancePolicy policy, ProtectedObjects keep) {
    Table table;
    try {
      table = catalog.loadTable(id);
    } catch (NoSuchTableException absent) {
      return MaintenanceReport.absent(spec.table(), "iceberg");
    }
    long liveBefore = liveFiles(table);
    long storedBefore = storedDataFiles(table);
    long snapshotsBefore = snapshots(table);
    List<String> actions = new ArrayList<>();
    SparkActions actionsOf = SparkActions.get(spark);
    if (table.currentSnapshot() != null) {
      RewriteDataFiles.Result rewritten = actionsOf.rewriteDataFiles(table).binPack()
          .option("target-file-size-bytes", Long.toString(policy.targetFileBytes()))
          .option("min-input-files", Integer.toString(policy.minInputFiles()))
          .option(RewriteDataFiles.PARTIAL_PROGRESS_ENABLED, "true")
          .execute();
      actions.add("rewrite-data-files: " + rewritten.rewrittenDataFilesCount() + " -> "
          + rewritten.addedDataFilesCount());
      table.refresh();
      var manifests = actionsOf.rewriteManifests(table).execute();
      actions.add("rewrite-manifests: " + count(manifests.rewrittenManifests()) + " -> "
          + count(manifests.addedManifests()));
      table.refresh();
    }
    long expireBefore = System.currentTimeMillis() - policy.snapshotRetention().toMillis();
    var expired = actionsOf.expireSnapshots(table).expireOlderThan(expireBefore)
        .retainLast(policy.retainSnapshots()).execute();
    actions.add("expire-snapshots: " + expired.deletedDataFilesCount() + " data files, "
        + expired.deletedManifestsCount() + " manifests deleted");
    table.refresh();
    List<String> kept = new ArrayList<>();
    List<String> deleted = new ArrayList<>();
    actionsOf.deleteOrphanFiles(table)
        .olderThan(keep.cutoffMs())
        .usePrefixListing(table.io() instanceof SupportsPrefixOperations)
        .deleteWith(location -> {
          if (keep.isReferenced(location)) {
            kept.add(location);
          } else {
            table.io().deleteFile(location);
            deleted.add(location);
          }
        })
        .execute();
    actions.add("delete-orphan-files: " + deleted.size() + " deleted, " + kept.size()
        + " kept (referenced by unpublished commits)");
    table.refresh();
    return new MaintenanceReport(spec.table(), "iceberg", liveBefore, liveFiles(table), storedBefore,
        storedDataFiles(table), snapshotsBefore, snapshots(table), actions);
  }

  private static long count(Iterable<?> items) {
    long n = 0;
    for (Object ignored : items) {
      n++;
    }
    return n;
  }

  /** Data files of the current snapshot, from its summary (0 for an empty table). */
  static long liveFiles(Table table) {
    Snapshot current = table.currentSnapshot();
    if (current == null || current.summary() == null) {
      return 0;
    }
    return Long.parseLong(current.summary().getOrDefault(SnapshotSummary.TOTAL_DATA_FILES_PROP, "0"));
  }

  private static long snapshots(Table table) {
    return count(table.snapshots());
  }

  /** Parquet files under the table's data location, referenced or not (-1 when the file IO cannot list). */
  private static long storedDataFiles(Table table) {
    if (!(table.io() instanceof SupportsPrefixOperations listing)) {
      return -1;
    }
    long n = 0;
    for (FileInfo file : listing.listPrefix(table.location() + "/data/")) {
      if (file.location().endsWith(".parquet")) {
        n++;
      }
    }
    return n;
  }
}
