package io.spindrift.sink;

/**
 * What every table commit carries (invariant I6), and what makes a publish idempotent: the app and the
 * commit-log sequence number. {@code lanes} is a compact description of the lane ranges, for people.
 */
public record CommitTag(String app, long seq, String txnId, String lanes) {
  public static final String APP = "spindrift.app";
  public static final String SEQ = "spindrift.seq";
  public static final String TXN_ID = "spindrift.txn-id";
  public static final String LANES = "spindrift.lanes";
}
