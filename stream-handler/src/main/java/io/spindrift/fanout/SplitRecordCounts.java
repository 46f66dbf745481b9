package io.spindrift.fanout;

import io.spindrift.commit.CommitCounts;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.CommitResult;
import io.spindrift.commit.LaneRange;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.protocol.BatchOutcome;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The record counts of a batch run's manifests ({@link S3Split}): the protocol counts a manifest's items, which are
 * splits, but only the readers of the splits (the map children, or the parent below the fan-out thresholds) know
 * how many records the commit covers. {@link FanOutMicroBatch} notes them by transaction id as it runs a manifest,
 * and {@link #counting} gives the commit log through which the protocol commits: a commit of a noted transaction is
 * written with the records it ran as its count and as its lane range's count. Its duplicates are not counted (0):
 * records at or below the lane's position are never read (whole splits) or are dropped by their reader.
 *
 * <p>Commits of any other batch pass unchanged. The counts of the newest {@value #KEPT} manifests are kept (a
 * transaction that lost its commit leaves its count behind until then).
 */
public final class SplitRecordCounts {
  static final int KEPT = 256;

  private final Map<String, Long> records = new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > KEPT;
    }
  };

  /** Notes that the manifest run under {@code txnId} covered {@code count} records. */
  synchronized void note(String txnId, long count) {
    records.put(txnId, count);
  }

  /** The records of the manifest run under {@code txnId}, if it was one. */
  public synchronized Optional<Long> records(String txnId) {
    return Optional.ofNullable(txnId == null ? null : records.get(txnId));
  }

  /** {@code commit} with its manifest's record counts, or as it is for any other batch. */
  CommitRecord counted(CommitRecord commit) {
    Optional<Long> count = records(commit.txnId());
    if (count.isEmpty()) {
      return commit;
    }
    List<LaneRange> lanes = commit.lanes().stream()
        .map(lane -> new LaneRange(lane.lane(), lane.previous(), lane.last(), count.get())).toList();
    CommitCounts counts = new CommitCounts(count.get(), 0, commit.counts().output(), commit.counts().rejected());
    // a bucket commit keeps its bucket versions (its conditions) and its query checkpoint
    return new CommitRecord(commit.seq(), commit.txnId(), lanes, commit.stages(), counts, commit.committedAtMs(),
        commit.buckets(), commit.checkpoint());
  }

  /**
   * {@code outcome} (the protocol's answer for a manifest) with the records its commit covered and no duplicates
   * counted, or as it is when it committed nothing or was not a manifest.
   */
  public BatchOutcome counted(BatchOutcome outcome) {
    Optional<Long> count = records(outcome.txnId());
    if (outcome.seq() == 0 || count.isEmpty()) {
      return outcome;
    }
    return new BatchOutcome(outcome.seq(), outcome.txnId(), Math.toIntExact(count.get()), 0, outcome.outputRows(),
        outcome.rejected(), outcome.conflicts(), outcome.published(), outcome.failedPositions(),
        outcome.timingsMs());
  }

  /** {@code log}, writing a manifest's commit with its record counts (every other call passes through). */
  public CommitLog counting(CommitLog log) {
    return new CommitLog() {
      @Override
      public LogSnapshot read(String app, Collection<String> lanes) {
        return log.read(app, lanes);
      }

      @Override
      public List<CommitRecord> commits(String app, long afterSeq, long toSeq) {
        return log.commits(app, afterSeq, toSeq);
      }

      @Override
      public CommitResult tryCommit(String app, CommitRecord commit, String checkpoint) {
        return log.tryCommit(app, counted(commit), checkpoint);
      }

      @Override
      public CommitResult tryCommitLanes(String app, CommitRecord commit) {
        return log.tryCommitLanes(app, counted(commit));
      }

      @Override
      public List<CommitRecord> pending(String app) {
        return log.pending(app);
      }

      @Override
      public CommitResult sequence(String app, long headSeq, List<CommitRecord> inOrder) {
        return log.sequence(app, headSeq, inOrder);
      }

      @Override
      public java.util.Map<Integer, Long> bucketVersions(String app, int buckets) {
        return log.bucketVersions(app, buckets);
      }

      @Override
      public CommitResult tryCommitBuckets(String app, CommitRecord commit) {
        return log.tryCommitBuckets(app, counted(commit));
      }

      @Override
      public CommitResult sequence(String app, long headSeq, List<CommitRecord> inOrder, String checkpoint) {
        return log.sequence(app, headSeq, inOrder, checkpoint);
      }

      @Override
      public CommitResult tryCommitBucketsSequenced(String app, long headSeq, CommitRecord commit,
          String checkpoint) {
        return log.tryCommitBucketsSequenced(app, headSeq, counted(commit), checkpoint);
      }

      @Override
      public void markPublished(String app, long seq) {
        log.markPublished(app, seq);
      }
    };
  }
}
