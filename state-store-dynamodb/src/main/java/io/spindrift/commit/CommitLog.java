package io.spindrift.commit;

import java.util.Collection;
import java.util.List;

/**
 * The optimistic commit log of DESIGN §5: an app's head seq, its lanes' committed positions, one {@link
 * CommitRecord} per commit and an advisory publication watermark. A commit is all or nothing: {@link #tryCommit}
 * either makes the record, the new head and every new lane position durable together, or changes nothing and
 * answers {@link CommitResult#CONFLICT} when another commit moved the head or one of the batch's lanes since they
 * were read. {@link DynamoDbCommitLog} is the durable implementation; {@link InMemoryCommitLog} keeps the same
 * contract in memory for protocol tests.
 */
public interface CommitLog {
  /** Reads the head, the publication watermark and the given lanes' positions, consistently. */
  LogSnapshot read(String app, Collection<String> lanes);

  /** Returns the commits after {@code afterSeq} up to and including {@code toSeq}, in seq order. */
  List<CommitRecord> commits(String app, long afterSeq, long toSeq);

  /**
   * Tries to make {@code commit} durable at {@code commit.seq()}, conditioned on the head being at {@code
   * commit.seq() - 1} and on every lane still being at the position the commit started from; also leaves {@code
   * checkpoint} (a stateful query's checkpoint; null for none) on the head in the same write.
   *
   * @return {@link CommitResult#COMMITTED}, or {@link CommitResult#CONFLICT} with nothing written
   * @throws IllegalArgumentException if the commit spans more lanes than one commit may hold
   */
  CommitResult tryCommit(String app, CommitRecord commit, String checkpoint);

  /** Raises the publication watermark to {@code seq}; a lower or equal value leaves it as it is. */
  void markPublished(String app, long seq);
}
