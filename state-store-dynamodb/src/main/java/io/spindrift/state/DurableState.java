package io.spindrift.state;

import java.util.Collection;
import java.util.List;

/**
 * The durable state of one app's stateful operators, as the commit protocol uses it (DESIGN §6): a cache valid as
 * of a commit seq that the protocol brings to the head before a batch runs, the state deltas that a publish applies
 * once per commit, and the place where a delta too large for a commit record is written before the commit. {@link
 * StateTable} keeps it in DynamoDB (and S3 for large values).
 */
public interface DurableState {
  /** The commit seq the cached state is valid through. */
  long validThrough();

  /** Drops every cached bucket (after a long gap the protocol re-reads lazily instead of bucket by bucket). */
  void invalidate();

  /** Makes the cache valid through {@code toSeq}: the {@code touched} buckets are read again on next use. */
  void refresh(long toSeq, Collection<StateBucket> touched);

  /**
   * Applies commit {@code seq}'s deltas durably, once per bucket (a bucket already at or past {@code seq} is
   * skipped); {@code beforeMarkers} runs after the rows and before the buckets' markers (a fault point). Safe to
   * repeat and to run concurrently with another application of the same or a later commit.
   *
   * @return how many buckets this call wrote
   */
  int apply(Collection<StateDelta> deltas, long seq, Runnable beforeMarkers);

  /** Writes an encoded delta too large for a commit record under {@code txnId}; returns its reference. */
  String stageDeltas(String txnId, byte[] encoded);

  /** Reads back the deltas written by {@link #stageDeltas}. */
  List<StateDelta> stagedDeltas(String ref);

  /** DynamoDB requests made so far (for the invocation log). */
  StateIoCounts counts();
}
