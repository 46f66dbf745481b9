package io.spindrift.sink;

/**
 * What every table commit carries (invariant I6), and what makes a publish idempotent: the app and the
 * commit-log sequence number. {@code lanes} is a compact description of the lane ranges, for people.
 *
 * <p>A table commit may publish several consecutive commits at once (a roll-forward of a backlog): its summary
 * then holds the first and last seq, and every txn id and lane range, in order.
 */
public record CommitTag(String app, long seq, String txnId, String lanes) {
  public static final String APP = "spindrift.app";
  /** The last (highest) commit seq a table commit publishes. */
  public static final String SEQ = "spindrift.seq";
  /** The first commit seq a table commit publishes (equal to {@link #SEQ} for one commit). */
  public static final String FIRST_SEQ = "spindrift.first-seq";
  public static final String TXN_ID = "spindrift.txn-id";
  public static final String LANES = "spindrift.lanes";
}
