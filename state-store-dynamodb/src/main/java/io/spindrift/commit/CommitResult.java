package io.spindrift.commit;

/** Outcome of one commit attempt. */
public enum CommitResult {
  /** The commit is durable. */
  COMMITTED,
  /**
   * A condition failed: another commit moved the head or one of our lanes since we read them. The caller
   * re-reads the log to tell a rebase (only the head moved) from a re-run (one of its lanes moved).
   */
  CONFLICT,
  /**
   * Only from {@link CommitLog#tryCommitBucketsSequenced}: nothing was written because the head moved, while the
   * batch's lanes and buckets were as read; the same commit may still be made pending ({@link
   * CommitLog#tryCommitBuckets}), which checks them again, without re-running the batch.
   */
  HEAD_MOVED
}
