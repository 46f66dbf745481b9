package io.spindrift.sink.hudi;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hudi.client.WriteStatus;
import org.apache.hudi.common.model.HoodieCommitMetadata;
import org.apache.hudi.common.model.HoodieRecord;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.hudi.common.table.HoodieTableMetaClient;

/**
 * One of Hudi's write clients for one table and Avro schema, as the sink drives it: start an instant, write the
 * records (nothing is visible yet), complete the commit with its metadata and a check Hudi runs under the table
 * lock, clean. Two engines: {@link JavaClientWriter} (Hudi's Java client: the write, index lookup, workload profile
 * and commit run in the calling JVM) and {@link SparkClientWriter} (Hudi's Spark client: the same steps as Spark
 * jobs). A writer that threw is closed and not used again ({@link WarmWriteClient#discard}).
 */
interface HudiWriter extends AutoCloseable {

  /** Starts a commit: returns the new instant's time (an inflight instant on the timeline, with a heartbeat). */
  String startCommit();

  /**
   * Writes {@code records} under {@code instant} as an {@code upsert} (keys looked up in the table) or an
   * {@code insert}; returns the write statuses of every file written, nothing committed yet. An upsert's records
   * carry an {@link OverwriteWithLatestAvroPayload}; an insert's are plain Avro records
   * ({@link org.apache.hudi.common.model.HoodieAvroIndexedRecord}) when {@link #insertsPlainRecords}.
   */
  List<WriteStatus> write(String instant, List<HoodieRecord<?>> records, boolean upsert);

  /**
   * Whether an insert may be given plain Avro records ({@link org.apache.hudi.common.model.HoodieAvroIndexedRecord})
   * instead of payload records: an insert merges nothing, and a payload serializes each record to Avro bytes when
   * built and back when its file is written.
   */
  default boolean insertsPlainRecords() {
    return false;
  }

  /**
   * Completes {@code instant} with {@code written}'s stats and {@code metadata} in the commit's extra metadata,
   * after Hudi's conflict resolution and {@code check}, both under Hudi's table lock; {@code check} gets a meta
   * client whose active timeline was read under that lock (it need not read it again), and throws to abandon the
   * commit. Returns whether Hudi completed it.
   */
  boolean commit(String instant, List<WriteStatus> written, Map<String, String> metadata, String actionType,
      BiConsumer<HoodieTableMetaClient, HoodieCommitMetadata> check);

  /**
   * Rolls {@code instant} back (its files, markers and inflight instant): a written commit that will not be
   * completed. Left to a later clean instead, the files of a table's very first instant would count as committed
   * once another commit completes (Hudi treats instants older than the first completed one as archived).
   */
  void abandon(String instant);

  /** Runs Hudi's cleaner, which also rolls back failed writes of dead writers (the LAZY policy). */
  void clean();

  /** Runs Hudi's archival: moves completed instants past the active timeline's bound to the archived timeline. */
  void archive();

  /**
   * Whether a table service the last commit found due was left for {@link #runServicesLeft} (the Java client's
   * inline clustering: a commit that finds one still left runs it itself).
   */
  default boolean servicesLeft() {
    return false;
  }

  /** Runs the table services {@link #servicesLeft} (the caller holds the table's publish lease). */
  default void runServicesLeft() {}

  /**
   * Deletes what completed commits left that nothing reads any more (the Java client's markers and heartbeat
   * files, which it leaves for after the publication; the next commit sweeps them itself if nobody did).
   */
  default void sweep() {}

  /** Stops the client's heartbeats and closes its lock provider. */
  @Override
  void close();
}
