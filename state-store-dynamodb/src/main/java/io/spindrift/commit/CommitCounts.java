package io.spindrift.commit;

/**
 * How many records a commit covered: {@code records} new input records, {@code duplicates} dropped as already
 * committed, {@code output} rows staged for the table and {@code rejected} rows staged for the rejects table.
 */
public record CommitCounts(long records, long duplicates, long output, long rejected) {
  public static final CommitCounts NONE = new CommitCounts(0, 0, 0, 0);
}
