package io.spindrift.commit;

import java.util.List;
import java.util.Map;

/**
 * One entry of the commit log: the durable act that made a batch's effects final (DESIGN §5, invariant I6).
 *
 * @param seq the app-wide commit sequence number this commit took
 * @param txnId the transaction id that tags every staged object and table commit of the batch
 * @param lanes the lane ranges the batch covered
 * @param stages references to staged sink output, by sink name ("table", "rejects"), published after the commit
 * @param counts record counts (input, output, rejected, duplicates dropped)
 * @param committedAtMs wall-clock time of the commit
 */
public record CommitRecord(
    long seq,
    String txnId,
    List<LaneRange> lanes,
    Map<String, String> stages,
    Map<String, Long> counts,
    long committedAtMs) {
  public CommitRecord {
    lanes = List.copyOf(lanes);
    stages = Map.copyOf(stages);
    counts = Map.copyOf(counts);
  }

  /** The same commit taking another sequence number (a rebase after a commit on other lanes). */
  public CommitRecord withSeq(long newSeq) {
    return new CommitRecord(newSeq, txnId, lanes, stages, counts, committedAtMs);
  }
}
