package io.spindrift.sink.delta;

import java.io.FileNotFoundException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileAlreadyExistsException;
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.Snapshot;
import org.apache.spark.sql.delta.actions.Action;
import org.apache.spark.sql.delta.actions.AddFile;
import org.apache.spark.sql.delta.actions.Metadata;
import org.apache.spark.sql.delta.actions.Protocol;
import org.apache.spark.sql.delta.actions.RemoveFile;
import org.apache.spark.sql.delta.actions.SetTransaction;
import org.apache.spark.sql.delta.util.FileNames;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;

/**
 * What a warm container knows of one Delta table's log, kept between publishes: the version it has read, the
 * protocol, the metadata, each app's {@code txnVersion} and (for an upsert table) the table's files. It is loaded
 * once from a Delta snapshot and then brought up to date by reading only the JSON commits after the version it
 * holds (one {@code GET} of the next commit file when nobody else wrote), never by rebuilding the snapshot's
 * state with a Spark job as {@code DeltaLog.update} and {@code OptimisticTransaction} do per commit.
 *
 * <p>A commit ({@link #commit}) writes version + 1 through the table's log store (the DynamoDB store's protocol:
 * one writer per version, never an overwrite) and so succeeds only on the version it was computed against; when
 * another writer has that version it fails with a {@link ConcurrentModificationException} (a lost race), after
 * which {@link #catchUpAfterConflict} reads the winners. Only tables whose protocol needs nothing from a writer
 * beyond adding and removing files take this path ({@link #plainWriter}); others go through Delta's transaction.
 * Not thread-safe: the sink serializes its use.
 */
final class WarmLog {
  /** Writer protocol version up to which a commit of add/remove/txn actions is all a writer owes the table. */
  private static final int PLAIN_WRITER_VERSION = 2;
  private static final int DEFAULT_CHECKPOINT_INTERVAL = 10;

  private final DeltaLog log;
  private final Path location;
  private final boolean withFiles;
  private long version;
  private Protocol protocol;
  private Metadata metadata;
  private final Map<String, Long> transactions = new HashMap<>();
  /** The table's files by absolute path (empty unless {@code withFiles}). */
  private final Map<String, AddFile> files = new LinkedHashMap<>();

  private WarmLog(DeltaLog log, Path location, boolean withFiles) {
    this.log = log;
    this.location = location;
    this.withFiles = withFiles;
  }

  /**
   * The table's log as of its latest snapshot (one state reconstruction, as a cold container's first commit pays
   * anyway), with its files if {@code withFiles}.
   */
  static WarmLog load(DeltaLog log, Path location, boolean withFiles) {
    WarmLog warm = new WarmLog(log, location, withFiles);
    Snapshot snapshot = log.update(false, ScalaValues.none(), ScalaValues.none());
    warm.version = snapshot.version();
    if (warm.version < 0) {
      return warm;
    }
    warm.protocol = snapshot.protocol();
    warm.metadata = snapshot.metadata();
    scala.collection.JavaConverters.mapAsJavaMap(snapshot.transactions())
        .forEach((app, version) -> warm.transactions.put(app, (Long) version));
    if (withFiles) {
      for (AddFile file : snapshot.allFiles().collectAsList()) {
        warm.files.put(warm.absolute(file.path()), file);
      }
    }
    return warm;
  }

  long version() {
    return version;
  }

  Metadata metadata() {
    return metadata;
  }

  /** The table's files (absolute path to its {@code add} action); only for a log loaded with files. */
  Map<String, AddFile> files() {
    return files;
  }

  /** The newest {@code txnVersion} of {@code app} the table holds, -1 if none. */
  long txnVersion(String app) {
    return transactions.getOrDefault(app, -1L);
  }

  /**
   * True if a commit of {@code add}, {@code remove}, {@code txn} and {@code commitInfo} actions is all the table's
   * protocol asks of a writer (writer version up to 2; for a table that loses rows, not append-only, no column
   * invariants) and, for files read back ({@code readsRows}), every partition column is a string.
   */
  boolean plainWriter(boolean removesRows, boolean readsRows) {
    if (version < 0 || protocol.minWriterVersion() > PLAIN_WRITER_VERSION) {
      return false;
    }
    if (removesRows && ("true".equalsIgnoreCase(setting("delta.appendOnly"))
        || metadata.schemaString().contains("delta.invariants"))) {
      return false;
    }
    if (readsRows) {
      for (StructField column : metadata.partitionSchema().fields()) {
        if (!(column.dataType() instanceof StringType)) {
          return false;
        }
      }
    }
    return true;
  }

  /** Reads the commits after the held version, if any (normally one {@code GET} that finds nothing). */
  void catchUp() {
    Configuration conf = log.newDeltaHadoopConf();
    for (List<String> lines = read(version + 1, conf); lines != null; lines = read(version + 1, conf)) {
      for (String line : lines) {
        apply(Action.fromJson(line));
      }
      version++;
    }
  }

  /**
   * Reads the commits after a lost race: first lists the log through the log store, which completes a commit
   * whose writer claimed its version and stopped before writing it (the DynamoDB store's recovery), then reads.
   */
  void catchUpAfterConflict() {
    Configuration conf = log.newDeltaHadoopConf();
    try {
      log.store().listFrom(FileNames.unsafeDeltaFile(log.logPath(), version + 1), conf);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("Cannot list the Delta log of " + location, e);
    }
    catchUp();
  }

  /**
   * Writes {@code actions} (JSON lines, commitInfo first) as commit version + 1 and applies them.
   *
   * @return the version written
   * @throws ConcurrentModificationException when another writer has that version
   */
  long commit(List<String> lines, List<Action> actions) {
    long next = version + 1;
    Path file = FileNames.unsafeDeltaFile(log.logPath(), next);
    try {
      log.store().write(file, scala.collection.JavaConverters.asScalaIterator(lines.iterator()), false,
          log.newDeltaHadoopConf());
    } catch (Exception e) {
      if (e instanceof FileAlreadyExistsException || e instanceof org.apache.hadoop.fs.FileAlreadyExistsException) {
        throw new ConcurrentModificationException("Delta version " + next + " of " + location
            + " was written by another writer", e);
      }
      if (e instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("Cannot write Delta commit " + file, e);
    }
    actions.forEach(this::apply);
    version = next;
    return next;
  }

  /** True if the table's checkpoint interval ({@code delta.checkpointInterval}) falls on {@code committed}. */
  boolean checkpointDue(long committed) {
    String interval = setting("delta.checkpointInterval");
    int every = interval == null ? DEFAULT_CHECKPOINT_INTERVAL : Integer.parseInt(interval);
    return committed > 0 && committed % every == 0;
  }

  /** The absolute path of a data file the log names ({@code path} of an add or remove: relative, URL-encoded). */
  String absolute(String path) {
    try {
      Path file = new Path(new URI(path));
      return (file.isAbsolute() ? file : new Path(location, file)).toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException("Delta log of " + location + " names an invalid path " + path, e);
    }
  }

  private String setting(String key) {
    scala.Option<String> value = metadata.configuration().get(key);
    return value.isDefined() ? value.get() : null;
  }

  private void apply(Action action) {
    if (action instanceof SetTransaction txn) {
      transactions.put(txn.appId(), txn.version());
    } else if (action instanceof Metadata changed) {
      metadata = changed;
    } else if (action instanceof Protocol changed) {
      protocol = changed;
    } else if (withFiles && action instanceof AddFile add) {
      files.put(absolute(add.path()), add);
    } else if (withFiles && action instanceof RemoveFile remove) {
      files.remove(absolute(remove.path()));
    }
  }

  /** The lines of commit {@code v}, or null if it does not exist (yet). */
  private List<String> read(long v, Configuration conf) {
    try {
      return new ArrayList<>(ScalaValues.list(log.store().read(FileNames.unsafeDeltaFile(log.logPath(), v), conf)));
    } catch (Exception e) {
      if (e instanceof FileNotFoundException) {
        return null;
      }
      if (e instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("Cannot read Delta commit " + v + " of " + location, e);
    }
  }
}
