package io.spindrift.sink.delta;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StagedOutput;
import io.spindrift.sink.maintenance.MaintenancePolicy;
import io.spindrift.sink.maintenance.MaintenanceReport;
import io.spindrift.sink.maintenance.ProtectedObjects;
import io.spindrift.sink.maintenance.TableMaintenance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.commands.VacuumCommand;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.Snapshot;
import org.apache.spark.sql.delta.actions.Action;
import org.apache.spark.sql.delta.actions.AddFile;
import scala.Option;

/**
 * Delta maintenance: OPTIMIZE (bin-packing small files into {@code targetFileBytes}), a checkpoint of the result,
 * VACUUM, then the log store's temp copies of written commits deleted. The app's {@code txnAppId}/{@code txnVersion}
 * live in the log and in every checkpoint (Spindrift never sets {@code delta.setTransactionRetentionDuration}), and
 * OPTIMIZE carries them over, so a publish repeated after maintenance is still skipped. VACUUM runs as Delta
 * computes it, with an exclusion list: files of unpublished commits' append stages (written into the table's
 * directory, untracked until published) are never deleted, nor anything younger than the
 * {@link ProtectedObjects#cutoffMs cutoff}.
 */
record DeltaMaintenance(SinkSpec spec, SparkSession spark, Path location) implements TableMaintenance {
  private static final long HOUR_MS = 3_600_000L;
  /** A log store temp file: {@code <version>.json.<uuid>} ({@link DynamoDbLogStore}). */
  private static final Pattern TEMP_FILE = Pattern.compile("(\\d{20})\\.json\\..+");

  @Override
  public Set<String> referencedObjects(String ref) {
    Set<String> out = new HashSet<>();
    for (String part : StagedOutput.parts(ref)) {
      JsonNode document = DeltaSink.stageDocument(part);
      if (document.has("upsert")) {
        out.add(document.get("upsert").asText());
      }
      JsonNode actions = document.get("actions");
      if (actions != null) {
        for (JsonNode node : actions) {
          if (Action.fromJson(node.toString()) instanceof AddFile add) {
            // the name the sink wrote the file under (DeltaSink#writeDataFile), relative to the table
            out.add(new Path(location, add.path()).toString());
          }
        }
      }
    }
    return out;
  }

  @Override
  public MaintenanceReport run(MaintenancePolicy policy, ProtectedObjects keep) {
    SparkSession session = spark.cloneSession();
    session.conf().set("spark.databricks.delta.optimize.maxFileSize", Long.toString(policy.targetFileBytes()));
    session.conf().set("spark.databricks.delta.optimize.minFileSize", Long.toString(policy.targetFileBytes()));
    // the retention passed to VACUUM below is computed from what must stay; Delta's 7-day floor guards readers
    session.conf().set("spark.databricks.delta.retentionDurationCheck.enabled", "false");
    // VACUUM lists the table with this many tasks (Spark's default, 10,000, is for clusters)
    session.conf().set("spark.sql.sources.parallelPartitionDiscovery.parallelism",
        Integer.toString(Math.max(1, spark.sparkContext().defaultParallelism())));
    Option<SparkSession> previous = SparkSession.getActiveSession();
    SparkSession.setActiveSession(session);
    try {
      return maintain(session, policy, keep);
    } finally {
      if (previous.isDefined()) {
        SparkSession.setActiveSession(previous.get());
      } else {
        SparkSession.clearActiveSession();
      }
    }
  }

  private MaintenanceReport maintain(SparkSession session, MaintenancePolicy policy, ProtectedObjects keep) {
    DeltaLog log = DeltaLog.forTable(session, location);
    Snapshot before = log.update(false, Option.empty(), Option.empty());
    if (before.version() < 0) {
      return MaintenanceReport.absent(spec.table(), "delta");
    }
    long storedBefore = storedDataFiles(session);
    List<String> actions = new ArrayList<>();
    var optimized = io.delta.tables.DeltaTable.forPath(session, location.toString()).optimize().executeCompaction();
    actions.add("optimize: " + optimized.selectExpr("metrics.numFilesRemoved", "metrics.numFilesAdded")
        .first().mkString(" -> "));
    Snapshot current = log.update(false, Option.empty(), Option.empty());
    log.checkpoint(current, Option.empty());
    actions.add("checkpoint: version " + current.version());
    double hours = vacuumHours(policy, keep);
    int[] kept = {0};
    long deleted = vacuum(session, log, hours, keep, kept);
    actions.add(String.format("vacuum: retention %.2f h, %d deleted, %d kept (referenced by unpublished commits)",
        hours, deleted, kept[0]));
    actions.add("log temp files: " + deleteCommittedTempFiles(session, log, current.version()) + " deleted");
    Snapshot after = log.update(false, Option.empty(), Option.empty());
    return new MaintenanceReport(spec.table(), "delta", before.numOfFiles(), after.numOfFiles(), storedBefore,
        storedDataFiles(session), before.version() + 1, after.version() + 1, actions);
  }

  /**
   * VACUUM's retention in hours: the policy's, and at least the time since the cutoff, so nothing a batch in flight
   * may still commit is old enough.
   */
  private static double vacuumHours(MaintenancePolicy policy, ProtectedObjects keep) {
    long sinceCutoff = Math.max(0, System.currentTimeMillis() - keep.cutoffMs());
    return Math.max(policy.vacuumRetention().toMillis(), sinceCutoff) / (double) HOUR_MS;
  }

  /**
   * VACUUM with an exclusion list: Delta's own garbage collection computes, in a dry run, the files it would delete
   * (untracked files and files removed from the table longer than {@code hours} ago); those no unpublished commit
   * references are deleted here. Delta's VACUUM has no exclusion list, and a time bound alone would keep every
   * younger file whenever a commit waits.
   *
   * @return files deleted; {@code kept[0]} receives how many were kept as referenced
   */
  private long vacuum(SparkSession session, DeltaLog log, double hours, ProtectedObjects keep, int[] kept) {
    List<Row> candidates = VacuumCommand.gc(session, log, true, Option.apply((Object) hours), Option.empty(),
        Option.empty(), VacuumCommand.gc$default$7(), VacuumCommand.gc$default$8()).collectAsList();
    FileSystem fs = fileSystem(session);
    long deleted = 0;
    for (Row candidate : candidates) {
      Path path = new Path(location, candidate.getString(0));
      if (keep.isReferenced(path.toString())) {
        kept[0]++;
        continue;
      }
      try {
        if (fs.delete(path, false)) {
          deleted++;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot delete " + path + " of Delta table " + spec.table(), e);
      }
    }
    return deleted;
  }

  /**
   * Deletes the log store's temp copies of commits up to {@code version}, a version the log holds: the
   * {@link DynamoDbLogStore} writes every commit as {@code _delta_log/.tmp/<v>.json.<uuid>} first and copies it to
   * {@code <v>.json}, and keeps the copy, so without this the log
   * directory holds every commit twice. Once {@code <v>.json} exists the temp file is never read again: completing
   * a claimed version starts by checking the commit file, and a writer that lost the version deletes its own. A
   * writer's temp file of a version after {@code version} may still be claimed and copied, and stays.
   *
   * @return temp files deleted
   */
  private long deleteCommittedTempFiles(SparkSession session, DeltaLog log, long version) {
    Path temp = new Path(log.logPath(), ".tmp");
    FileSystem fs = fileSystem(session);
    try {
      if (!fs.exists(temp)) {
        return 0;
      }
      long deleted = 0;
      RemoteIterator<LocatedFileStatus> files = fs.listFiles(temp, false);
      while (files.hasNext()) {
        Path file = files.next().getPath();
        Matcher name = TEMP_FILE.matcher(file.getName());
        if (name.matches() && Long.parseLong(name.group(1)) <= version && fs.delete(file, false)) {
          deleted++;
        }
      }
      return deleted;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot collect the log's temp files under " + temp, e);
    }
  }

  private FileSystem fileSystem(SparkSession session) {
    try {
      return location.getFileSystem(session.sessionState().newHadoopConf());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot reach " + location, e);
    }
  }

  /** Parquet files under the table's directory, outside its log: what the table's storage holds. */
  private long storedDataFiles(SparkSession session) {
    try {
      long n = 0;
      RemoteIterator<LocatedFileStatus> files = fileSystem(session).listFiles(location, true);
      while (files.hasNext()) {
        String path = files.next().getPath().toString();
        if (path.endsWith(".parquet") && !path.contains("/_delta_log/")) {
          n++;
        }
      }
      return n;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + location, e);
    }
  }
}
