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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exactly-once protocol of DESIGN §5 for one batch: read the log, roll forward unpublished commits, drop
 * records at or below each lane's position, run and stage the micro-batch under a fresh transaction id, commit
 * with one conditional transaction (rebasing when only the head moved, re-running when a lane moved), then
 * publish in seq order. A crash anywhere leaves either staged garbage (before the commit) or a commit that the
 * next invocation on any lane publishes (after it).
 *
 * <p>With deferred publishing ({@code SPINDRIFT_PUBLISH=deferred}) the invocation returns once its commit is
 * durable (I1 lets the table lag the log) and its publish runs on the container's one publisher thread. The next
 * invocation joins that publish and rolls forward whatever it left: a stateless batch after its Spark work and
 * before its commit (so the publish overlaps the Spark work, also in a Lambda container frozen between
 * invocations), a stateful batch before it reads state (state deltas are applied by the publish). Publishes of
 * one processor never run concurrently (one lock); those of other containers are made harmless by the sinks'
 * idempotent, tagged commits and the rising publication watermark. A background publish that fails changes
 * nothing durable: the commit stays unpublished until a roll-forward, here or in any container, completes it.
 */
final class BatchProcessor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.publish");
  private static final long DRAIN_TIMEOUT_MINUTES = 5;
  static final String TABLE_STAGE = "table";
  static final String REJECTS_STAGE = "rejects";
  static final String STATE_STAGE = "state";
  /** The S3 object holding a commit's state delta when it is too large for the record (instead of "state"). */
  static final String STATE_OBJECT_STAGE = "state-object";
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
  private final boolean deferred;
  /** Held by every publish of this processor, inline or in the background: one at a time. */
  private final Object publishing = new Object();
  /** The highest seq this processor has published and marked (the durable watermark may be higher). */
  private final AtomicLong publishedThrough = new AtomicLong();
  /** The publisher thread of deferred publishing (created on first use) and its newest task. */
  private ExecutorService publisher;
  private ExecutorService stateApplier;
  /** The thread that raises the publication watermark after a publish, and its newest task. */
  private ExecutorService marker;
  private volatile Future<?> lastMark = CompletableFuture.completedFuture(null);
  private volatile Future<?> lastDeferred = CompletableFuture.completedFuture(null);

  /**
   * @param stateful the runner for a stateful job (null for a stateless one, which {@code runner} runs)
   * @param state the durable state of a stateful job (null for a stateless one)
   * @param deferred publish after the response, in the background (SPINDRIFT_PUBLISH=deferred)
   */
  BatchProcessor(String app, CommitLog log, MicroBatchRunner runner, Sink table, Sink rejects, Faults faults,
      int maxAttempts, StatefulRunner stateful, StateTable state, boolean deferred) {
    this.deferred = deferred;
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

  /** Waits for deferred publishes in flight (a failed one is left to the next roll-forward), then stops. */
  @Override
  public void close() {
    try {
      awaitDeferred();
    } finally {
      synchronized (this) {
        if (publisher != null) {
          publisher.shutdown();
        }
        if (stateApplier != null) {
          stateApplier.shutdown();
        }
        if (marker != null) {
          marker.shutdown();
        }
      }
      runner.close();
      if (stateful != null) {
        stateful.close();
      }
    }
  }

  /**
   * Waits until every deferred publish scheduled so far, and the watermark writes after publishes, have ended.
   * Returns false if the last deferred publish failed (its commits stay for the next roll-forward); true when it
   * succeeded or there was none.
   */
  boolean awaitDeferred() {
    Future<?> last = lastDeferred;
    try {
      last.get(DRAIN_TIMEOUT_MINUTES, TimeUnit.MINUTES);
      return true;
    } catch (ExecutionException failed) {
      return false;
    } catch (TimeoutException e) {
      throw new IllegalStateException("A deferred publish did not finish in " + DRAIN_TIMEOUT_MINUTES + " minutes", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a deferred publish", e);
    } finally {
      awaitMark();
    }
  }

  /** Waits for the watermark write in flight (its failure is logged, never thrown). */
  private void awaitMark() {
    try {
      lastMark.get(DRAIN_TIMEOUT_MINUTES, TimeUnit.MINUTES);
    } catch (ExecutionException | TimeoutException failed) {
      LOG.warn("Publication watermark write of {} did not end: {}", app, failed.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** DynamoDB requests of the state store so far (null for a stateless job). */
  StateIoCounts stateIo() {
    return state == null ? null : state.counts();
  }

  long statefulQueryStarts() {
    return stateful == null ? 0 : stateful.queryStarts();
  }

  long conflicts() {
    return conflicts.get();
  }

  BatchOutcome process(Batch batch) {
    Map<String, Long> timings = new LinkedHashMap<>();
    int attemptConflicts = 0;
    // a stateless deferred batch catches up on publishing after its Spark work; everything else before it
    boolean catchUpLate = deferred && stateful == null;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      if (deferred && !catchUpLate) {
        joinDeferred(timings);
      }
      long start = System.nanoTime();
      LogSnapshot snapshot = log.read(app, batch.lanes());
      timings.merge("read", ms(start), Long::sum);
      Batch fresh = batch.after(snapshot.lanePositions());
      int published = 0;
      if (!catchUpLate || fresh.isEmpty()) {
        published += catchUp(snapshot, timings);
      }
      if (fresh.isEmpty()) {
        return new BatchOutcome(0, null, batch.size(), batch.size(), 0, 0, attemptConflicts, published, List.of(), timings);
      }
      String txnId = UUID.randomUUID().toString();
      faults.hit(FaultPoint.BEFORE_STAGE);
      start = System.nanoTime();
      StagedBatch staged;
      String checkpoint = null;
      Map<String, String> stateStages = Map.of();
      long statefulRun = -1;
      if (stateful == null) {
        staged = runner.run(fresh, txnId, table, rejects, timings);
      } else {
        refreshState(snapshot);
        StatefulRunner.Result result = stateful.run(fresh, txnId, snapshot.headSeq(),
            snapshot.checkpoint() == null ? null : QueryCheckpoint.fromJson(snapshot.checkpoint()), table, rejects, timings);
        statefulRun = result.run();
        staged = result.staged();
        checkpoint = result.checkpoint().toJson();
        stateStages = stateStages(result.changes(), txnId);
      }
      timings.merge("spark_total", ms(start), Long::sum);
      faults.hit(FaultPoint.AFTER_STAGE);
      if (catchUpLate) {
        published += catchUp(snapshot, timings);
      }
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
      if (stateful != null) {
        // the running query now stands at this head: the container's next batch may reuse it
        stateful.committed(statefulRun, committed.seq());
      }
      faults.hit(FaultPoint.AFTER_COMMIT);
      if (deferred) {
        publishInBackground(snapshot.publishedSeq(), committed);
      } else {
        published += publishThrough(snapshot.publishedSeq(), committed, timings);
      }
      return new BatchOutcome(committed.seq(), txnId, batch.size(), batch.size() - fresh.size(),
          staged.table().rows(), staged.rejects().rows(), attemptConflicts, published, List.of(), timings);
    }
    throw new IllegalStateException("Batch on lanes " + batch.lanes() + " could not commit after " + maxAttempts
        + " attempts (SPINDRIFT_MAX_COMMIT_ATTEMPTS): other invocations kept committing the same lanes");
  }

  /** Rolls forward the commits before the snapshot's head, after joining a deferred publish in flight. */
  private int catchUp(LogSnapshot snapshot, Map<String, Long> timings) {
    if (deferred) {
      joinDeferred(timings);
    }
    return rollForward(snapshot.publishedSeq(), snapshot.headSeq(), timings);
  }

  /** Publishes every commit up to {@code committed}: only it when nothing was pending before it, else the backlog. */
  private int publishThrough(long publishedSeq, CommitRecord committed, Map<String, Long> timings) {
    boolean onlyOurs = Math.max(publishedSeq, publishedThrough.get()) == committed.seq() - 1;
    if (!onlyOurs) {
      return rollForward(publishedSeq, committed.seq(), timings);
    }
    synchronized (publishing) {
      return publishedThrough.get() >= committed.seq() ? 0 : publish(List.of(committed), timings);
    }
  }

  /** Hands the publish up to {@code committed} to the publisher thread; a failure waits for a roll-forward. */
  private synchronized void publishInBackground(long publishedSeq, CommitRecord committed) {
    if (publisher == null || publisher.isShutdown()) {
      publisher = daemonThread("spindrift-publish-" + app);
    }
    lastDeferred = publisher.submit(() -> {
      Map<String, Long> timings = new LinkedHashMap<>();
      try {
        publishThrough(publishedSeq, committed, timings);
        LOG.info("{\"app\":\"{}\",\"publishedThrough\":{},\"deferred\":true,\"timingsMs\":{}}", app,
            committed.seq(), timings.getOrDefault("publish", 0L));
      } catch (RuntimeException e) {
        LOG.warn("Deferred publish of {} through seq {} failed; the commit stays in the log and the next invocation's"
            + " roll-forward publishes it: {}", app, committed.seq(), e.toString());
        throw e;
      }
      return null;
    });
  }

  /** Waits for the deferred publishes scheduled so far; whatever they left undone, the roll-forward after this does. */
  private void joinDeferred(Map<String, Long> timings) {
    long start = System.nanoTime();
    awaitDeferred();
    timings.merge("publish_join", ms(start), Long::sum);
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
    if (upTo <= Math.max(publishedSeq, publishedThrough.get())) {
      return 0;
    }
    synchronized (publishing) {
      long from = Math.max(publishedSeq, publishedThrough.get());
      if (upTo <= from) {
        return 0;
      }
      long start = System.nanoTime();
      List<CommitRecord> commits = log.commits(app, from, upTo);
      timings.merge("publish", ms(start), Long::sum);
      return publish(commits, timings);
    }
  }

  /**
   * Publishes these consecutive commits (table, then rejects) and raises the watermark past the last one. The
   * caller holds {@link #publishing}.
   */
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
    // the state rows and the table are independent and each idempotent: written side by side, and the watermark
    // below rises only once both are done (a crash in either leaves both to the next roll-forward)
    CompletableFuture<Void> stateApplied = state == null ? null
        : CompletableFuture.runAsync(() -> applyState(commits), stateApplier());
    long tableStart = System.nanoTime();
    int published;
    try {
      published = table.publish(tableStages).size();
      timings.merge("publish_table", ms(tableStart), Long::sum);
    } finally {
      if (stateApplied != null) {
        joinStateApply(stateApplied, timings);
      }
    }
    faults.hit(FaultPoint.MID_PUBLISH);
    published = Math.max(published, rejects.publish(rejectStages).size());
    long last = commits.get(commits.size() - 1).seq();
    publishedThrough.accumulateAndGet(last, Math::max);
    markInBackground(last);
    timings.merge("publish", ms(start), Long::sum);
    return published;
  }

  /**
   * Encodes a batch's state changes for the commit record: the delta (inline, or staged in S3 under the txn id
   * when too large for the record; staged now, before the commit, so a record never points at a missing object)
   * and the buckets it touched.
   */
  private Map<String, String> stateStages(StateChanges changes, String txnId) {
    if (changes.isEmpty()) {
      return Map.of();
    }
    byte[] encoded = StateDeltaCodec.encode(changes.deltas());
    String delta = Base64.getEncoder().encodeToString(encoded);
    String buckets = changes.touched().stream().map(StateBucket::id).sorted().collect(Collectors.joining(","));
    if (delta.length() > MAX_INLINE_STATE) {
      return Map.of(STATE_OBJECT_STAGE, state.stageDeltas(txnId, encoded), STATE_BUCKETS, buckets);
    }
    return Map.of(STATE_STAGE, delta, STATE_BUCKETS, buckets);
  }

  /**
   * Raises the publication watermark after the response: it is advisory (this processor goes on from
   * {@link #publishedThrough}; another container that reads a lower watermark re-checks the tables, whose publishes
   * are idempotent, and raises it itself), and the write only ever raises it. A lost write costs such a re-check.
   */
  private synchronized void markInBackground(long seq) {
    if (marker == null || marker.isShutdown()) {
      marker = daemonThread("spindrift-mark-" + app);
    }
    lastMark = marker.submit(() -> {
      long start = System.nanoTime();
      try {
        log.markPublished(app, seq);
      } catch (RuntimeException e) {
        LOG.warn("Raising the publication watermark of {} to {} failed; a later publish raises it: {}", app, seq,
            e.toString());
      }
      LOG.debug("Publication watermark of {} raised to {} in {} ms", app, seq, ms(start));
    });
  }

  /** The thread that writes a publish's state rows while the caller publishes its table (created on first use). */
  private synchronized ExecutorService stateApplier() {
    if (stateApplier == null) {
      stateApplier = daemonThread("spindrift-state-apply-" + app);
    }
    return stateApplier;
  }

  /** One daemon thread: it never keeps a JVM (a local run, a test) alive. */
  private static ExecutorService daemonThread(String name) {
    return Executors.newSingleThreadExecutor(task -> {
      Thread thread = new Thread(task, name);
      thread.setDaemon(true);
      return thread;
    });
  }

  private static void joinStateApply(CompletableFuture<Void> stateApplied, Map<String, Long> timings) {
    long start = System.nanoTime();
    try {
      stateApplied.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause : e;
    } finally {
      timings.merge("publish_state_wait", ms(start), Long::sum);
    }
  }

  /** Applies the state deltas of these commits, in seq order; idempotent per bucket and seq. */
  private void applyState(List<CommitRecord> commits) {
    if (state == null) {
      return;
    }
    for (CommitRecord commit : commits) {
      String delta = commit.stages().get(STATE_STAGE);
      String staged = commit.stages().get(STATE_OBJECT_STAGE);
      if (delta != null || staged != null) {
        state.apply(delta != null ? StateDeltaCodec.decode(Base64.getDecoder().decode(delta))
                : state.stagedDeltas(staged), commit.seq(), () -> faults.hit(FaultPoint.MID_STATE_APPLY));
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
