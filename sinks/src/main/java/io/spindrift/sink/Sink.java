package io.spindrift.sink;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * One table a batch writes to, in two steps (DESIGN §7). {@link #stage} writes the batch's rows as files that
 * are not yet part of the table and returns a reference for the commit log. {@link #publish} makes a staged
 * output visible, tagged with the commit; it is idempotent: publishing the same commit again, concurrently
 * or after a crash, changes nothing. Staged output that is never committed is ignored and later collected.
 */
public interface Sink {
  /** Writes {@code rows} (a non-streaming Dataset) under {@code txnId}; never changes the table's contents. */
  StagedOutput stage(String txnId, Dataset<Row> rows);

  /**
   * Makes {@code staged} visible in the table, once.
   *
   * @return true if this call published it, false if the commit was already in the table
   */
  boolean publish(StagedOutput staged, CommitTag tag);

  /** True if the table already holds the commit tagged {@code app}/{@code seq}. */
  boolean isPublished(String app, long seq);
}
