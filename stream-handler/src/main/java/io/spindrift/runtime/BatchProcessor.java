package io.spindrift.runtime;

import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.CommitResult;
import io.spindrift.commit.LaneRange;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.Sink;
import io.spindrift.sink.PendingPublish;
import io.spindrift.state.StateBucket;
import io.spindrift.state.StateChanges;
import io.spindrift.state.StateDeltaCodec;
import io.spindrift.state.StateIoCounts;
import io.spindrift.state.StateTable;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * The exactly-once protocol of DESIGN §5 for one batch: read the log, roll forward unpublished commits, drop
 * records at or below each lane's position, run and stage the micro-batch under a fresh transaction id, commit
 * with one conditional transaction (rebasing when only the head moved, re-running when a lane moved), then
 * publish in seq order. A crash anywhere leaves either staged garbage (before the commit) or a commit that the
 * next invocation on any lane publishes (after it).
 */
final class BatchProcessor implements AutoCloseable {
  static final String TABLE_STAGE = "table";
  static final String REJECTS_STAGE = "rejects";
  static final String STATE_STAGE = "state";
  static final String STATE_BUCKETS = "state-buckets";
  /** DynamoDB items hold 400 KB; the commit record keeps the rest of its room for lanes and stages. */
  private static final int MAX_INLINE_STATE = 300 * 1024;

  private final String app;
  private final CommitLog log;
  private final MicroBatchRunner runner;
  private final Sink table;
  private final Sink rejects;
  private final Faults faults;
  private final int maxAttempts;
  private final StatefulRunner stateful;
  private final StateTable state;
  private final AtomicLong conflicts = new AtomicLong();

  /**
   * @param stateful the runner for a stateful job (null for a stateless one, which {@code runner} runs)
   * @param state the durable state of a stateful job (null for a stateless one)
   */
  BatchProcessor(String app, CommitLog log, MicroBatchRunner runner, Sink table, Sink rejects, Faults faults,
      int maxAttempts, StatefulRunner stateful, StateTable state) {
    this.stateful = stateful;
    this.state = state;
    this.app = app;
    this.log = log;
    this.runner = runner;
    this.table = table;
    this.rejects = rejects;
    this.faults = faults;
    this.maxAttempts = maxAttempts;
  }

  @Override
  public void close() {
    runner.close();
  }

  /** DynamoDB requests of the state store so far (null for a stateless job). */
  StateIoCounts stateIo() {
    return state == null ? null : state.counts();
  }

  long conflicts() {
    return conflicts.get();
  }

  BatchOutcome process(Batch batch) {
    Map<String, Long> timings = new LinkedHashMap<>();
    int attemptConflicts = 0;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      long start = System.nanoTime();
      LogSnapshot snapshot = log.read(app, batch.lanes());
      timings.merge("read", ms(start), Long::sum);
      int published = rollForward(snapshot.publishedSeq(), snapshot.headSeq(), timings);
      Batch fresh = batch.after(snapshot.lanePositions());
      if (fresh.isEmpty()) {
        return new BatchOutcome(0, null, batch.size(), batch.size(), 0, 0, attemptConflicts, published, List.of(), timings);
      }
      String txnId = UUID.randomUUID().toString();
      faults.hit(FaultPoint.BEFORE_STAGE);
      start = System.nanoTime();
      StagedBatch staged;
      String checkpoint = null;
      Map<String, String> stateStages = Map.of();
      if (stateful == null) {
        staged = runner.run(fresh, txnId, table, rejects, timings);
      } else {
        refreshState(snapshot);
        StatefulRunner.Result result = stateful.run(fresh, txnId,
            snapshot.checkpoint() == null ? null : QueryCheckpoint.fromJson(snapshot.checkpoint()), table, rejects, timings);
        staged = result.staged();
        checkpoint = result.checkpoint().toJson();
        stateStages = stateStages(result.changes());
      }
      timings.merge("spark_total", ms(start), Long::sum);
      faults.hit(FaultPoint.AFTER_STAGE);
      CommitRecord commit = commitRecord(snapshot, fresh, batch, txnId, staged, stateStages);
      start = System.nanoTime();
      Attempt outcome = commit(commit, snapshot, batch, checkpoint);
      timings.merge("commit", ms(start), Long::sum);
      attemptConflicts += outcome.conflicts();
      CommitRecord committed = outcome.committed();
      if (committed == null) {
        backoff(attempt);
        continue;
      }
      faults.hit(FaultPoint.AFTER_COMMIT);
      boolean onlyOurs = snapshot.publishedSeq() == snapshot.headSeq() && committed.seq() == snapshot.headSeq() + 1;
      published += onlyOurs
          ? publish(List.of(committed), timings)
          : rollForward(snapshot.publishedSeq(), committed.seq(), timings);
      return new BatchOutcome(committed.seq(), txnId, batch.size(), batch.size() - fresh.size(),
          staged.table().rows(), staged.rejects().rows(), attemptConflicts, published, List.of(), timings);
    }
    throw new IllegalStateException("Batch on lanes " + batch.lanes() + " could not commit after " + maxAttempts
        + " attempts (SPINDRIFT_MAX_COMMIT_ATTEMPTS): other invocations kept committing the same lanes");
  }

  private CommitRecord commitRecord(LogSnapshot snapshot, Batch fresh, Batch batch, String txnId, StagedBatch staged,
      Map<String, String> stateStages) {
    Map<String, String> stages = new HashMap<>(stateStages);
    if (!staged.table().isEmpty()) {
      stages.put(TABLE_STAGE, staged.table().ref());
    }
    if (!staged.rejects().isEmpty()) {
      stages.put(REJECTS_STAGE, staged.rejects().ref());
    }
    Map<String, Long> counts = Map.of(
        "records", (long) fresh.size(),
        "duplicates", (long) (batch.size() - fresh.size()),
        "output", staged.table().rows(),
        "rejected", staged.rejects().rows());
    return new CommitRecord(snapshot.headSeq() + 1, txnId, fresh.ranges(snapshot.lanePositions()), stages, counts,
        System.currentTimeMillis());
  }

  /**
   * Commits, rebasing onto a moved head while our lanes are untouched (stateless batches do not conflict with
   * other lanes). Returns the commit as made, or null when a lane moved and the batch must be re-run.
   */
  private Attempt commit(CommitRecord commit, LogSnapshot read, Batch batch, String checkpoint) {
    CommitRecord attempt = commit;
    for (int rebase = 0; rebase < maxAttempts; rebase++) {
      if (log.tryCommit(app, attempt, checkpoint) == CommitResult.COMMITTED) {
        return new Attempt(attempt, rebase);
      }
      conflicts.incrementAndGet();
      if (stateful != null) {
        // a stateful batch read state and the watermark as of the head it started from: re-run, never rebase
        return new Attempt(null, rebase + 1);
      }
      LogSnapshot now = log.read(app, batch.lanes());
      if (!now.lanePositions().equals(read.lanePositions())) {
        return new Attempt(null, rebase + 1);
      }
      attempt = attempt.withSeq(now.headSeq() + 1);
    }
    return new Attempt(null, maxAttempts);
  }

  /** A commit as made (null if the batch must be re-run) and how many conflicts it met. */
  private record Attempt(CommitRecord committed, int conflicts) {}

  /**
   * Publishes every commit in (publishedSeq, upTo]: one table commit per table for the whole backlog (a group
   * commit), then raises the publication watermark. Returns how many commits this call published.
   */
  private int rollForward(long publishedSeq, long upTo, Map<String, Long> timings) {
    if (upTo <= publishedSeq) {
      return 0;
    }
    long start = System.nanoTime();
    List<CommitRecord> commits = log.commits(app, publishedSeq, upTo);
    timings.merge("publish", ms(start), Long::sum);
    return publish(commits, timings);
  }

  /** Publishes these consecutive commits (table, then rejects) and raises the watermark past the last one. */
  private int publish(List<CommitRecord> commits, Map<String, Long> timings) {
    if (commits.isEmpty()) {
      return 0;
    }
    long start = System.nanoTime();
    List<PendingPublish> tableStages = new ArrayList<>();
    List<PendingPublish> rejectStages = new ArrayList<>();
    for (CommitRecord commit : commits) {
      CommitTag tag = new CommitTag(app, commit.seq(), commit.txnId(), describe(commit.lanes()));
      tableStages.add(new PendingPublish(tag, commit.stages().get(TABLE_STAGE)));
      rejectStages.add(new PendingPublish(tag, commit.stages().get(REJECTS_STAGE)));
    }
    applyState(commits);
    int published = table.publish(tableStages).size();
    faults.hit(FaultPoint.MID_PUBLISH);
    published = Math.max(published, rejects.publish(rejectStages).size());
    log.markPublished(app, commits.get(commits.size() - 1).seq());
    timings.merge("publish", ms(start), Long::sum);
    return published;
  }

  /** Encodes a batch's state changes for the commit record: the delta (inline) and the buckets it touched. */
  private static Map<String, String> stateStages(StateChanges changes) {
    if (changes.isEmpty()) {
      return Map.of();
    }
    String delta = Base64.getEncoder().encodeToString(StateDeltaCodec.encode(changes.deltas()));
    if (delta.length() > MAX_INLINE_STATE) {
      throw new IllegalStateException("The batch changed " + delta.length() / 1024 + " KiB of state, more than a"
          + " commit record holds; lower the event-source batch size (state spill to S3 is not built yet)");
    }
    String buckets = changes.touched().stream().map(StateBucket::id).sorted().collect(Collectors.joining(","));
    return Map.of(STATE_STAGE, delta, STATE_BUCKETS, buckets);
  }

  /** Applies the state deltas of these commits, in seq order; idempotent per bucket and seq. */
  private void applyState(List<CommitRecord> commits) {
    if (state == null) {
      return;
    }
    for (CommitRecord commit : commits) {
      String delta = commit.stages().get(STATE_STAGE);
      if (delta != null) {
        state.apply(StateDeltaCodec.decode(Base64.getDecoder().decode(delta)), commit.seq(),
            () -> faults.hit(FaultPoint.MID_STATE_APPLY));
      }
    }
  }

  /**
   * Brings the state cache to the head the batch starts from: buckets that commits since the cache's seq touched
   * are re-read; after a long gap the cache is dropped instead.
   */
  private void refreshState(LogSnapshot snapshot) {
    long from = state.validThrough();
    if (from >= snapshot.headSeq()) {
      return;
    }
    if (snapshot.headSeq() - from > 50) {
      state.invalidate();
      state.refresh(snapshot.headSeq(), List.of());
      return;
    }
    List<StateBucket> touched = new ArrayList<>();
    for (CommitRecord commit : log.commits(app, from, snapshot.headSeq())) {
      String buckets = commit.stages().get(STATE_BUCKETS);
      if (buckets != null && !buckets.isEmpty()) {
        for (String id : buckets.split(",")) {
          touched.add(StateBucket.parse(id));
        }
      }
    }
    state.refresh(snapshot.headSeq(), touched);
  }

  static String describe(List<LaneRange> lanes) {
    return lanes.stream()
        .map(r -> r.lane() + "=(" + (r.previous() == null ? "" : r.previous()) + "," + r.last() + "]#" + r.records())
        .collect(Collectors.joining(";"));
  }

  private static void backoff(int attempt) {
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(5, 20L * attempt));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while backing off from a commit conflict", e);
    }
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
