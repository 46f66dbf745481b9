package io.spindrift.commit;

import java.util.List;

/**
 * One entry of the commit log: the durable act that made a batch's effects final (DESIGN §5, invariant I6).
 * Immutable; a rebase onto a moved head is a copy with another seq ({@link #withSeq}).
 *
 * @param seq the app-wide commit sequence number this commit took
 * @param txnId the transaction id that tags every staged object and table commit of the batch
 * @param lanes the lane ranges the batch covered
 * @param stages the staged output and state changes the commit makes final, published after the commit
 * @param counts the batch's record counts
 * @param committedAtMs wall-clock time of the commit
 */
public record CommitRecord(
    long seq,
    String txnId,
    List<LaneRange> lanes,
    CommitStages stages,
    CommitCounts counts,
    long committedAtMs) {
  public CommitRecord {
    lanes = List.copyOf(lanes);
  }

  /** The same commit taking another sequence number (a rebase after a commit on other lanes). */
  public CommitRecord withSeq(long newSeq) {
    return new CommitRecord(newSeq, txnId, lanes, stages, counts, committedAtMs);
  }

  /** {@code lane=(previous,last]#records;…}: the lane ranges as table commits and error messages name them. */
  public String describeLanes() {
    return LaneRange.describe(lanes);
  }
}
