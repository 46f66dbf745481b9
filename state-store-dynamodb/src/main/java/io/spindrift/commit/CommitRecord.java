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
 * @param buckets the state buckets a bucket commit wrote, each with the version it read (empty for other commits)
 * @param checkpoint the query checkpoint a stateful bucket commit left for the head (null for other commits: a
 *     head commit writes its checkpoint on the head itself)
 */
public record CommitRecord(
    long seq,
    String txnId,
    List<LaneRange> lanes,
    CommitStages stages,
    CommitCounts counts,
    long committedAtMs,
    List<BucketVersion> buckets,
    String checkpoint) {
  public CommitRecord {
    lanes = List.copyOf(lanes);
    buckets = List.copyOf(buckets);
  }

  /** A commit that writes no bucket versions and leaves no checkpoint in its record (head and lane commits). */
  public CommitRecord(long seq, String txnId, List<LaneRange> lanes, CommitStages stages, CommitCounts counts,
      long committedAtMs) {
    this(seq, txnId, lanes, stages, counts, committedAtMs, List.of(), null);
  }

  /** The same commit taking another sequence number (a rebase after a commit on other lanes). */
  public CommitRecord withSeq(long newSeq) {
    return new CommitRecord(newSeq, txnId, lanes, stages, counts, committedAtMs, buckets, checkpoint);
  }

  /** The same commit as a bucket commit: writing {@code buckets} from the versions read, leaving {@code checkpoint}. */
  public CommitRecord withBuckets(List<BucketVersion> buckets, String checkpoint) {
    return new CommitRecord(seq, txnId, lanes, stages, counts, committedAtMs, buckets, checkpoint);
  }

  /** Whether this is a bucket commit: it carries its query checkpoint or buckets (lane and head commits neither). */
  public boolean isBucketCommit() {
    return checkpoint != null || !buckets.isEmpty();
  }

  /** {@code lane=(previous,last]#records;…}: the lane ranges as table commits and error messages name them. */
  public String describeLanes() {
    return LaneRange.describe(lanes);
  }
}
