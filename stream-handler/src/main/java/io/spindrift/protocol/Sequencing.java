package io.spindrift.protocol;

import io.spindrift.commit.BucketVersion;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.CommitResult;
import io.spindrift.commit.LaneRange;
import io.spindrift.commit.LogSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BinaryOperator;

/**
 * Gives lane commits their place in the app's publication order (DESIGN §5, lane-independent commits). A stateless
 * batch commits on its lanes alone ({@link CommitLog#tryCommitLanes}), so batches of different lanes never
 * contend; the order the sinks publish in (one seq per commit) is assigned afterwards, for every pending commit at
 * once: whoever sequences takes all of them in one conditional write on the head, and the others find theirs
 * sequenced and go on. The head is then written once per group, not once per commit, and a lost race costs a
 * re-read, never a re-run of the batch.
 *
 * <p>Order: per lane, commits are sequenced in position order (a commit whose lane range starts where another
 * pending commit's ends comes after it), which keeps I5 for upserts; commits of different lanes have no order to
 * keep and are taken by commit time. A crash between the lane commit and its sequencing leaves a pending commit
 * that the next sequencing of any lane, the batch's retry, or the scheduled roll-forward sequences and publishes.
 *
 * <p>Stateful bucket commits ({@link CommitLog#tryCommitBuckets}) are sequenced the same way, and also in each
 * bucket's version order (a commit that wrote a bucket from the version another pending commit left comes after it),
 * so per key state deltas and upserts apply in the order the buckets saw them (I5). Their query checkpoints are
 * merged into the head's in the same write ({@code checkpoints}: the runtime's merge, which keeps every lane's
 * newest event time and the highest watermark): the one global order a stateful app keeps is this, written once
 * per group of concurrent commits, and no batch waits for it to run or commit.
 */
final class Sequencing {
  private final String app;
  private final CommitLog log;
  private final int maxAttempts;
  /** Merges two query checkpoints (the head's and a bucket commit's) into one; null when none are expected. */
  private final BinaryOperator<String> checkpoints;

  Sequencing(String app, CommitLog log, int maxAttempts, BinaryOperator<String> checkpoints) {
    this.app = app;
    this.log = log;
    this.maxAttempts = Math.max(maxAttempts, 10);
    this.checkpoints = checkpoints;
  }

  /** Where sequencing left the app: the head, and the seq the asked-for commit took (0 when none was asked). */
  record Sequenced(long headSeq, long seq) {}

  /**
   * Sequences {@code ours}, just committed on its lanes (and buckets), with one write when nothing changed since the
   * batch read the log ({@code atRead}: the head and its checkpoint): {@code pendingAtRead} is the app's pending
   * commits as read (consistently) after the batch's lanes and head, while the batch ran, and before {@code ours}
   * was committed. A pending commit on one of our lanes was then made before our read, so it is in that list and
   * comes first; one on another lane made since has no order to keep with ours. A pending commit that wrote one of
   * our buckets cannot exist: the head recorded every commit up to the version our commit was conditioned on. An
   * empty list is also right when the caller knows every earlier commit of its lanes is sequenced. The write is
   * conditioned on the head still being at {@code atRead} and on each commit still being pending, so if anyone
   * sequenced in between it fails and the general loop below takes over: an uncontended batch pays one write
   * instead of a head read, a query and a write. Query checkpoints are merged into the head's as read.
   */
  Sequenced sequence(CommitRecord ours, LogSnapshot atRead, List<CommitRecord> pendingAtRead,
      Map<String, Long> timings) {
    long headAtRead = atRead.headSeq();
    if (pendingAtRead != null && (checkpoints != null || (ours.checkpoint() == null
        && pendingAtRead.stream().allMatch(c -> c.checkpoint() == null)))) {
      long start = System.nanoTime();
      // every commit pending at the read was made before ours (the read came before our commit), and none of them
      // can wait for ours: ours comes last, even when its commit time falls in the same millisecond as theirs
      List<CommitRecord> ordered = new ArrayList<>(inLaneOrder(
          pendingAtRead.stream().filter(c -> !c.txnId().equals(ours.txnId())).toList()));
      ordered.add(ours);
      List<CommitRecord> group = ordered.subList(0, CommitLog.sequenceable(ordered));
      int at = group.indexOf(ours);
      boolean sequenced = at >= 0 && log.sequence(app, headAtRead, group, merged(atRead.checkpoint(), group))
          == CommitResult.COMMITTED;
      timings.merge("sequence", Publication.ms(start), Long::sum);
      if (sequenced) {
        return new Sequenced(headAtRead + group.size(), headAtRead + at + 1);
      }
    }
    return sequence(ours.txnId(), headAtRead, timings);
  }

  /**
   * Sequences every pending commit of the app, at least until {@code txnId} (null: all of them) has a seq, and
   * returns it. {@code sequencedAfter} is a head read before that commit was made: it cannot have a lower seq.
   */
  Sequenced sequence(String txnId, long sequencedAfter, Map<String, Long> timings) {
    long start = System.nanoTime();
    try {
      int lost = 0;
      for (int round = 0; lost < maxAttempts && round < maxAttempts + 1_000; round++) {
        LogSnapshot head = log.read(app, List.of());
        List<CommitRecord> pending = log.pending(app);
        boolean oursPending = txnId != null && pending.stream().anyMatch(c -> c.txnId().equals(txnId));
        if (txnId != null && !oursPending) {
          long seq = seqOf(txnId, sequencedAfter, head.headSeq());
          if (seq > 0) {
            return new Sequenced(head.headSeq(), seq);
          }
          lost++;
          continue; // sequenced between the two reads: the next read of the head sees it
        }
        if (pending.isEmpty()) {
          return new Sequenced(head.headSeq(), 0);
        }
        List<CommitRecord> ordered = inLaneOrder(pending);
        List<CommitRecord> group = ordered.subList(0, CommitLog.sequenceable(ordered));
        if (log.sequence(app, head.headSeq(), group, merged(head.checkpoint(), group)) == CommitResult.COMMITTED) {
          for (int i = 0; i < group.size(); i++) {
            if (group.get(i).txnId().equals(txnId)) {
              return new Sequenced(head.headSeq() + group.size(), head.headSeq() + i + 1);
            }
          }
          if (txnId == null && group.size() == ordered.size()) {
            return new Sequenced(head.headSeq() + group.size(), 0);
          }
          continue; // progress, not a lost race: go on with the rest
        }
        backoff(++lost);
      }
      throw new IllegalStateException("The lane commit " + (txnId == null ? "backlog" : txnId) + " of app '" + app
          + "' could not be sequenced after " + maxAttempts + " attempts; it stays committed and the next"
          + " invocation or the scheduled roll-forward sequences it");
    } finally {
      timings.merge("sequence", Publication.ms(start), Long::sum);
    }
  }

  /**
   * Sequences every commit pending now (what the group publisher does before it publishes, so that lane commits
   * made at the same time as its own go into its one table commit). A failure is left to the commits' own
   * sequencing: they stay committed.
   */
  void sequenceAll(Map<String, Long> timings) {
    try {
      sequence(null, 0, timings);
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger("io.spindrift.publish").info("Sequencing the pending commits of {} before"
          + " a group publish failed; each is sequenced by its own batch or the roll-forward: {}", app, e.toString());
    }
  }

  /**
   * Sequences at least every commit pending now (commits made meanwhile may wait for their own sequencing): what a
   * bucket commit does before it reads the head, so that every commit whose bucket versions it read is in the head.
   */
  void sequencePending(Map<String, Long> timings) {
    long start = System.nanoTime();
    try {
      java.util.Set<String> waiting = new java.util.HashSet<>();
      log.pending(app).forEach(commit -> waiting.add(commit.txnId()));
      int lost = 0;
      while (!waiting.isEmpty()) {
        LogSnapshot head = log.read(app, List.of());
        List<CommitRecord> pending = log.pending(app);
        waiting.retainAll(pending.stream().map(CommitRecord::txnId).toList());
        if (waiting.isEmpty()) {
          return;
        }
        List<CommitRecord> ordered = inLaneOrder(pending);
        List<CommitRecord> group = ordered.subList(0, CommitLog.sequenceable(ordered));
        if (log.sequence(app, head.headSeq(), group, merged(head.checkpoint(), group)) != CommitResult.COMMITTED) {
          if (++lost >= maxAttempts) {
            throw new IllegalStateException("The pending commits of app '" + app + "' could not be sequenced after "
                + maxAttempts + " lost races; they stay committed and the next invocation sequences them");
          }
          backoff(lost);
        }
      }
    } finally {
      timings.merge("sequence", Publication.ms(start), Long::sum);
    }
  }

  /**
   * The head's checkpoint with those of {@code group} merged in, in order; null when the group left none (the
   * head's stays as it is).
   */
  String merged(String head, List<CommitRecord> group) {
    String merged = head;
    boolean any = false;
    for (CommitRecord commit : group) {
      if (commit.checkpoint() == null) {
        continue;
      }
      if (checkpoints == null) {
        throw new IllegalStateException("Commit " + commit.txnId() + " of app '" + app + "' carries a query"
            + " checkpoint, but this protocol was built without a checkpoint merge (CommitProtocol.Builder"
            + ".checkpointMerge): sequencing it here would lose its watermark");
      }
      merged = merged == null ? commit.checkpoint() : checkpoints.apply(merged, commit.checkpoint());
      any = true;
    }
    return any ? merged : null;
  }

  private long seqOf(String txnId, long after, long head) {
    for (CommitRecord commit : log.commits(app, after, head)) {
      if (commit.txnId().equals(txnId)) {
        return commit.seq();
      }
    }
    return 0;
  }

  /**
   * {@code pending} in an order that keeps each lane's positions and each bucket's versions ascending: a commit
   * comes after any pending commit whose range on a shared lane ends where its own starts, or that left a shared
   * bucket at the version it read. Otherwise by commit time, then transaction id.
   */
  static List<CommitRecord> inLaneOrder(List<CommitRecord> pending) {
    List<CommitRecord> remaining = new ArrayList<>(pending);
    remaining.sort(Comparator.comparingLong(CommitRecord::committedAtMs).thenComparing(CommitRecord::txnId));
    List<CommitRecord> ordered = new ArrayList<>(remaining.size());
    while (!remaining.isEmpty()) {
      CommitRecord next = remaining.stream().filter(c -> !waitsFor(c, remaining)).findFirst()
          .orElse(remaining.get(0)); // no cycle can exist: each lane's ranges and each bucket's versions chain
      remaining.remove(next);
      ordered.add(next);
    }
    return ordered;
  }

  private static boolean waitsFor(CommitRecord commit, List<CommitRecord> others) {
    for (BucketVersion bucket : commit.buckets()) {
      for (CommitRecord other : others) {
        if (other != commit && other.buckets().stream().anyMatch(o -> o.bucket() == bucket.bucket()
            && o.next() == bucket.read())) {
          return true;
        }
      }
    }
    for (LaneRange range : commit.lanes()) {
      if (range.previous() == null) {
        continue;
      }
      for (CommitRecord other : others) {
        if (other != commit && other.lanes().stream().anyMatch(o -> o.lane().equals(range.lane())
            && o.last().equals(range.previous()))) {
          return true;
        }
      }
    }
    return false;
  }

  private static void backoff(int attempt) {
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(1, 5L * Math.min(attempt, 10)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while sequencing lane commits", e);
    }
  }
}
