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

  /**
   * A lane commit (DESIGN §5, lane-independent commits): makes {@code commit} durable as a pending commit, conditioned
   * only on every lane still being at the position the commit started from, so commits of different lanes never
   * contend. It takes no seq ({@code commit.seq()} is ignored) until {@link #sequence} gives it one; until then it is
   * committed (its lanes have moved) but not yet in the app's publication order.
   *
   * @return {@link CommitResult#COMMITTED}, or {@link CommitResult#CONFLICT} with nothing written
   */
  CommitResult tryCommitLanes(String app, CommitRecord commit);

  /** The app's pending lane commits (committed, not yet sequenced), in no particular order. */
  List<CommitRecord> pending(String app);

  /**
   * Gives the pending commits {@code inOrder} the seqs {@code headSeq + 1, headSeq + 2, …}, in one write
   * conditioned on the head being at {@code headSeq} and on each still being pending: afterwards each is an ordinary
   * commit of {@link #commits} and none is pending. At most {@link #MAX_SEQUENCED} at a time.
   *
   * @return {@link CommitResult#COMMITTED}, or {@link CommitResult#CONFLICT} (another invocation moved the head or
   *     sequenced one of them) with nothing written
   */
  CommitResult sequence(String app, long headSeq, List<CommitRecord> inOrder);

  /** Pending commits one {@link #sequence} call may order (a DynamoDB transaction holds 100 items). */
  int MAX_SEQUENCED = 49;

  /**
   * How many of {@code inOrder}, from the first, one {@link #sequence} call takes: at most {@link #MAX_SEQUENCED},
   * and no more than fit DynamoDB's 4 MB per transaction (inline stages count; spilled ones are a reference).
   */
  static int sequenceable(List<CommitRecord> inOrder) {
    long maxBytes = 3L * 1024 * 1024;
    long bytes = 0;
    int n = 0;
    for (CommitRecord commit : inOrder) {
      long inline = CommitCodec.inlineSize(commit.stages());
      long size = (inline > DynamoDbCommitLog.MAX_INLINE_STAGES ? 0 : inline) + 2048;
      if (n == MAX_SEQUENCED || (n > 0 && bytes + size > maxBytes)) {
        break;
      }
      bytes += size;
      n++;
    }
    return n;
  }

  /**
   * The versions of the app's state buckets {@code 0 … buckets - 1} (DESIGN §5, per-partition heads), read
   * consistently; a bucket never written is at 0. A bucket commit conditions each bucket it writes on the version
   * read here.
   */
  java.util.Map<Integer, Long> bucketVersions(String app, int buckets);

  /**
   * A bucket commit: a lane commit ({@link #tryCommitLanes}) of a stateful batch that is also conditioned on every
   * bucket of {@code commit.buckets()} still being at the version it read, and moves each to the next version, in
   * the same write; the pending record keeps the buckets and {@code commit.checkpoint()}. Stateful batches that
   * write disjoint buckets (and lanes) never contend; two that write one bucket conflict, and one re-runs.
   *
   * @return {@link CommitResult#COMMITTED}, or {@link CommitResult#CONFLICT} with nothing written
   * @throws IllegalArgumentException if lanes and buckets together exceed one transaction
   */
  CommitResult tryCommitBuckets(String app, CommitRecord commit);

  /**
   * As {@link #sequence(String, long, List)}, also leaving {@code checkpoint} on the head in the same write (the
   * query checkpoints of the sequenced bucket commits merged into the head's): the one place a stateful app's
   * watermark is combined. Null leaves the head's checkpoint as it is. Either way, for every bucket the sequenced
   * commits wrote, the head records the version the last of them left it at ({@link LogSnapshot#bucketVersions}):
   * every commit that moved a bucket to the version the head records is then at or below the head.
   */
  CommitResult sequence(String app, long headSeq, List<CommitRecord> inOrder, String checkpoint);

  /**
   * A bucket commit ({@link #tryCommitBuckets}) and its sequencing in one write: {@code commit} takes seq {@code
   * headSeq + 1}, conditioned on the head being at {@code headSeq}, on every lane still being at the position the
   * commit started from and on every bucket still being at the version it read; the head records {@code
   * checkpoint} (null: left as it is) and the buckets' new versions. The caller must know that no pending commit
   * has to come before this one (none on its lanes: see {@link #sequence}); a pending commit of other lanes and
   * buckets may be sequenced after it.
   *
   * @return {@link CommitResult#COMMITTED}; {@link CommitResult#HEAD_MOVED} when only the head (or the commit
   *     item at its seq) stood in the way; otherwise {@link CommitResult#CONFLICT}. Nothing is written unless
   *     committed.
   */
  CommitResult tryCommitBucketsSequenced(String app, long headSeq, CommitRecord commit, String checkpoint);

  /**
   * Bucket items an app has at most: Spark state partitions are folded onto them ({@code partition % MAX_BUCKETS}),
   * so a bucket commit of up to {@code 100 - 1 - MAX_BUCKETS} lanes always fits one transaction. Folding only makes
   * more commits conflict, never fewer; it must never change for an app.
   */
  int MAX_BUCKETS = 32;

  /** The bucket item a Spark state partition belongs to, for an app of {@code partitions} state partitions. */
  static int bucketOf(int partition, int partitions) {
    return partition % Math.min(partitions, MAX_BUCKETS);
  }

  /** Raises the publication watermark to {@code seq}; a lower or equal value leaves it as it is. */
  void markPublished(String app, long seq);
}
