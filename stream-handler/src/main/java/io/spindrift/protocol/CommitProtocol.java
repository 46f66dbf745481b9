package io.spindrift.protocol;

import io.spindrift.commit.BucketVersion;
import io.spindrift.commit.CommitCounts;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.CommitResult;
import io.spindrift.commit.CommitStages;
import io.spindrift.commit.LaneRange;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.commit.PublishClaim;
import io.spindrift.event.Batch;
import io.spindrift.sink.Sink;
import io.spindrift.state.DurableState;
import io.spindrift.state.StateBucket;
import io.spindrift.state.StateChanges;
import io.spindrift.state.StateIoCounts;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BinaryOperator;
import java.util.function.Consumer;

/**
 * The exactly-once protocol of DESIGN §5 for one batch, its six steps in the order {@link #process} takes them:
 * {@link #read} the log, {@link #rollForward} unpublished commits, {@link #run} the micro-batch over the records
 * after each lane's position, {@link #commit} with one conditional write, {@link #publish}, {@link #respond}.
 *
 * <p>A crash before the commit ({@link FaultPoint#BEFORE_STAGE}, {@link FaultPoint#AFTER_STAGE}) leaves only
 * staged garbage: the retry runs the batch again under a new transaction id. A crash after it ({@link
 * FaultPoint#AFTER_COMMIT}, {@link FaultPoint#MID_PUBLISH}, {@link FaultPoint#MID_STATE_APPLY}) leaves a commit
 * that the next invocation on any lane publishes, and the retried batch finds its records at or below the lanes'
 * positions. A conflict on the head alone is rebased (stateless batches of other lanes do not conflict); a conflict
 * on a lane, or any conflict of a stateful batch, re-runs the batch, at most {@code maxAttempts} times.
 *
 * <p>With lane commits ({@link Builder#laneCommits}, the runtime's default for stateless jobs) step 4 writes only
 * the batch's lanes and a pending record, and {@link Sequencing} then gives it, with every other pending commit,
 * its seq in one write on the head: batches of different lanes never conflict (docs/PROTOCOL.md).
 *
 * <p>With bucket commits ({@link Builder#bucketCommits}, SPINDRIFT_STATEFUL_COMMIT_MODE=auto or buckets) a stateful
 * batch does the same, and its write is also conditioned on the version of every state bucket it writes, as the
 * head it read records them (a re-run reads the bucket items after sequencing what moved them): the state it read,
 * rolled forward to that head, includes every commit up to those versions, so stateful batches conflict only when
 * they write a common bucket, and then one re-runs. The query checkpoint (the watermark) is merged into the head by
 * {@link Sequencing}, never a condition of a pending commit. A lane alone commits and sequences in one write, on the
 * head it read ({@link CommitLog#tryCommitBucketsSequenced}); when the head moved, it goes pending instead.
 */
public final class CommitProtocol implements AutoCloseable {
  private final String app;
  private final CommitLog log;
  private final MicroBatch microBatch;
  private final Publishing publishing;
  private final Publication publication;
  private final StateCommits state;
  private final Faults faults;
  private final int maxAttempts;
  /** Writes a batch's raw input to the S3 archive before its commit (SPINDRIFT_ARCHIVE); null when off. */
  private final Consumer<Batch> archive;
  private final AtomicLong conflicts = new AtomicLong();
  /** Orders lane and bucket commits for publication, merging bucket commits' checkpoints into the head. */
  private final Sequencing sequencing;
  private final boolean laneCommits;
  /** Reads the pending lane commits beside the Spark work (lane commits only). */
  private ExecutorService pendingReader;
  /** The app's state partitions when a stateful batch commits on its buckets (0: on the head). */
  private final int bucketPartitions;
  /** Bucket commits only for an app that is new or already on them (SPINDRIFT_STATEFUL_COMMIT_MODE=auto). */
  private final boolean perApp;
  /** Per lane, the position this container's last sequenced bucket commit of it left. */
  private final Map<String, String> sequencedByUs = new java.util.concurrent.ConcurrentHashMap<>();
  /** The seq of this container's last sequenced bucket commit (-1: none yet). */
  private volatile long lastSequenced = -1;
  /**
   * Whether this container's last one-write bucket commit succeeded: then the next tries one write too, even if
   * others committed since its last commit (the head did not move between its read and its commit last time).
   */
  private volatile boolean oneWriteWorks;

  private CommitProtocol(String app, CommitLog log, MicroBatch microBatch, Publishing publishing,
      Publication publication, StateCommits state, Faults faults, int maxAttempts, Consumer<Batch> archive,
      boolean laneCommits, int bucketPartitions, boolean perApp, BinaryOperator<String> checkpointMerge) {
    this.perApp = perApp;
    this.sequencing = new Sequencing(app, log, maxAttempts, checkpointMerge);
    this.laneCommits = laneCommits && state == null;
    this.bucketPartitions = state == null ? 0 : bucketPartitions;
    this.publication = publication;
    this.archive = archive;
    this.app = app;
    this.log = log;
    this.microBatch = microBatch;
    this.publishing = publishing;
    this.state = state;
    this.faults = faults;
    this.maxAttempts = maxAttempts;
  }

  /** Starts building the protocol of {@code app} over {@code log}. */
  public static Builder builder(String app, CommitLog log) {
    return new Builder(app, log);
  }

  /**
   * Runs {@code batch} through the protocol. Returns what the invocation did; records at or below their lanes'
   * positions count as duplicates and change nothing.
   *
   * @throws InjectedCrash at an armed fault point (a test's stand-in for the container dying there)
   * @throws BatchFailedException for any other failure, naming the app, lanes, seq and transaction id
   */
  public BatchOutcome process(Batch batch) {
    return process(batch, Long.MAX_VALUE);
  }

  /**
   * As {@link #process(Batch)} for an invocation that must respond by {@code deadlineNanos} ({@link
   * System#nanoTime()} scale; {@link Long#MAX_VALUE}: no deadline): waiting for another invocation's publish, and a
   * publish's wait for another writer, end in time.
   */
  public BatchOutcome process(Batch batch, long deadlineNanos) {
    Attempting attempting = new Attempting(LaneRange.describe(batch.ranges(Map.of())));
    try {
      return attempt(batch, attempting, deadlineNanos);
    } catch (InjectedCrash crash) {
      throw crash;
    } catch (RuntimeException e) {
      throw new BatchFailedException(attempting.describe(app), e);
    }
  }

  private BatchOutcome attempt(Batch batch, Attempting attempting, long deadlineNanos) {
    Map<String, Long> timings = new LinkedHashMap<>();
    int attemptConflicts = 0;
    boolean onBuckets = false;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      publishing.beforeRead(timings);
      // a bucket commit's first attempt takes the bucket versions the head records; a re-run (another commit
      // wrote one of its buckets, perhaps still unsequenced) reads the bucket items and sequences what moved them
      Map<Integer, Long> bucketsRead = onBuckets && attempt > 1 ? readBuckets(timings) : null;
      LogSnapshot snapshot = read(batch, timings);
      onBuckets = onBuckets(snapshot);
      if (onBuckets && bucketsRead == null) {
        bucketsRead = snapshot.bucketVersions();
      }
      Batch fresh = batch.after(snapshot.lanePositions());
      attempting.at(fresh.isEmpty() ? attempting.lanes : LaneRange.describe(fresh.ranges(snapshot.lanePositions())),
          snapshot.headSeq() + 1, null);
      int published = 0;
      boolean rolledForward = publishing.rollsForwardBeforeRun() || fresh.isEmpty();
      if (fresh.isEmpty()) {
        // a retry or a duplicate: its batch may have crashed between its lane commit and its sequencing
        snapshot = sequenced(snapshot, sequencing.sequence(null, snapshot.headSeq(), timings));
      }
      if (rolledForward) {
        published += rollForward(snapshot, !fresh.isEmpty(), deadlineNanos, timings);
      }
      if (fresh.isEmpty()) {
        return respond(batch, fresh, null, null, attemptConflicts, published, PublishOutcome.NOTHING, timings);
      }
      String txnId = UUID.randomUUID().toString();
      attempting.txnId = txnId;
      // a bucket commit whose lanes this container's own sequenced commits left where they are needs no list
      boolean lanesOurs = onBuckets && lanesLeftSequencedByUs(snapshot, fresh);
      // read after the lanes and the head, while the batch runs: what sequencing needs to take one write
      CompletableFuture<List<CommitRecord>> pendingAtRead = laneCommits || (onBuckets && !lanesOurs)
          ? CompletableFuture.supplyAsync(() -> log.pending(app), pendingReader()) : null;
      MicroBatch.Result result = run(fresh, txnId, snapshot, timings);
      if (!rolledForward) {
        published += rollForward(snapshot, true, deadlineNanos, timings);
      }
      // joined before the commit: every commit in it was made before ours (sequencing relies on that)
      List<CommitRecord> pendingBefore = lanesOurs ? List.of() : pendingOrNull(pendingAtRead);
      Attempt made = commit(batch, fresh, snapshot, txnId, result, onBuckets ? bucketsRead : null, pendingBefore,
          timings);
      attemptConflicts += made.conflicts();
      if (made.committed() == null) {
        backoff(attempt);
        continue;
      }
      faults.hit(FaultPoint.AFTER_COMMIT);
      CommitRecord committed = made.committed();
      if (laneCommits || onBuckets) {
        if (!made.sequenced()) {
          committed = committed.withSeq(sequencing.sequence(committed, snapshot,
              made.headMoved() ? null : pendingBefore, timings).seq());
        }
        microBatch.committed(result, committed.seq());
        if (onBuckets) {
          remember(committed);
        }
      }
      attempting.seq = committed.seq();
      Publishing.Result publication = publish(snapshot, committed, deadlineNanos, timings);
      published += publication.published();
      return respond(batch, fresh, committed, result, attemptConflicts, published, publication.outcome(), timings);
    }
    throw new IllegalStateException("The batch could not commit after " + maxAttempts
        + " attempts (SPINDRIFT_MAX_COMMIT_ATTEMPTS): other invocations kept committing the same lanes");
  }

  /**
   * Whether every lane of {@code fresh} is new or still where a commit of this container left it after that
   * commit was sequenced: then no pending commit can have to come before the batch's (positions only advance, so
   * another commit of the lane would have moved it).
   */
  private boolean lanesLeftSequencedByUs(LogSnapshot snapshot, Batch fresh) {
    for (LaneRange range : fresh.ranges(snapshot.lanePositions())) {
      if (range.previous() != null && !range.previous().equals(sequencedByUs.get(range.lane()))) {
        return false;
      }
    }
    return true;
  }

  /** Keeps where {@code sequenced} left its lanes, and its seq: a sign that nobody else has committed since. */
  private void remember(CommitRecord sequenced) {
    if (sequencedByUs.size() > 10_000) {
      sequencedByUs.clear(); // a container that wandered over many lanes: only a cache
    }
    sequenced.lanes().forEach(range -> sequencedByUs.put(range.lane(), range.last()));
    lastSequenced = sequenced.seq();
  }

  private synchronized ExecutorService pendingReader() {
    if (pendingReader == null) {
      pendingReader = Publication.daemonThread("spindrift-pending-" + app);
    }
    return pendingReader;
  }

  /** The pending commits read while the batch ran, or null if that read failed (sequencing then reads itself). */
  private static List<CommitRecord> pendingOrNull(CompletableFuture<List<CommitRecord>> pendingAtRead) {
    try {
      return pendingAtRead == null ? null : pendingAtRead.join();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * Step 1 of a bucket commit's re-run, before the head is read: the versions of the app's state bucket items, then
   * every commit already made sequenced, so the head read next (and rolled forward to) holds every commit that moved
   * a version read here, and the head's checkpoint holds their watermarks. (A first attempt takes the versions the
   * head records instead; a commit that moved one since, even pending, makes it conflict and re-run here.)
   */
  private Map<Integer, Long> readBuckets(Map<String, Long> timings) {
    long start = System.nanoTime();
    Map<Integer, Long> versions = log.bucketVersions(app, Math.min(bucketPartitions, CommitLog.MAX_BUCKETS));
    timings.merge("read_buckets", Publication.ms(start), Long::sum);
    sequencing.sequencePending(timings);
    return versions;
  }

  /**
   * Whether the batch that read {@code snapshot} commits on buckets: always with bucket commits on, or, when the
   * choice is per app (SPINDRIFT_STATEFUL_COMMIT_MODE=auto), for a new app or one a bucket commit has reached (an
   * app of head commits stays on the head: a head commit beside a bucket commit of one bucket would lose an update).
   */
  private boolean onBuckets(LogSnapshot snapshot) {
    return bucketPartitions > 0 && (!perApp || snapshot.commitsOnBuckets());
  }

  /** The bucket items {@code changes} write, each with the version read before the batch ran. */
  private List<BucketVersion> written(StateChanges changes, Map<Integer, Long> versions) {
    Map<Integer, BucketVersion> written = new TreeMap<>();
    for (StateBucket bucket : changes.touched()) {
      int item = CommitLog.bucketOf(bucket.partition(), bucketPartitions);
      written.computeIfAbsent(item, b -> new BucketVersion(b, versions.getOrDefault(b, 0L)));
    }
    return List.copyOf(written.values());
  }

  /** Step 1: the head, the publication watermark and the batch's lane positions, read consistently. */
  private LogSnapshot read(Batch batch, Map<String, Long> timings) {
    long start = System.nanoTime();
    LogSnapshot snapshot = log.read(app, batch.lanes());
    timings.merge("read", Publication.ms(start), Long::sum);
    return snapshot;
  }

  /**
   * Step 2: publishes what is committed but not yet published, in seq order (normally nothing); with group
   * publishing a batch that goes on to commit ({@code ownCommitFollows}) leaves it to another invocation already
   * publishing it.
   */
  private int rollForward(LogSnapshot snapshot, boolean ownCommitFollows, long deadlineNanos,
      Map<String, Long> timings) {
    return publishing.rollForward(snapshot, ownCommitFollows, deadlineNanos, timings);
  }

  /** Step 3: the micro-batch over exactly the fresh records, its output staged under {@code txnId}. */
  private MicroBatch.Result run(Batch fresh, String txnId, LogSnapshot snapshot, Map<String, Long> timings) {
    faults.hit(FaultPoint.BEFORE_STAGE);
    long start = System.nanoTime();
    if (state != null) {
      state.catchUp(snapshot);
    }
    MicroBatch.Result result = microBatch.run(fresh, txnId, snapshot, timings);
    timings.merge("spark_total", Publication.ms(start), Long::sum);
    faults.hit(FaultPoint.AFTER_STAGE);
    if (archive != null) {
      // before the commit: a crash never leaves a committed range unarchived (a re-run archives the same records)
      long archiveStart = System.nanoTime();
      archive.accept(fresh);
      timings.merge("archive", Publication.ms(archiveStart), Long::sum);
    }
    return result;
  }

  /**
   * Step 4: one conditional write of the head, the lanes and the commit record, rebased onto a moved head while
   * the batch's lanes are untouched (stateless only). Returns the commit as made, or none when the batch must be
   * re-run.
   */
  private Attempt commit(Batch batch, Batch fresh, LogSnapshot read, String txnId, MicroBatch.Result result,
      Map<Integer, Long> bucketsRead, List<CommitRecord> pendingBefore, Map<String, Long> timings) {
    long start = System.nanoTime();
    CommitRecord attempt = commitRecord(read, fresh, batch, txnId, result);
    try {
      if (bucketsRead != null) {
        return commitOnBuckets(attempt.withBuckets(written(result.changes(), bucketsRead), result.checkpoint()),
            read, pendingBefore);
      }
      if (laneCommits) {
        // on its lanes alone: only another commit of the same lanes (a duplicate delivery) can conflict
        if (log.tryCommitLanes(app, attempt) == CommitResult.COMMITTED) {
          return new Attempt(attempt, 0, false);
        }
        conflicts.incrementAndGet();
        return new Attempt(null, 1, false);
      }
      for (int rebase = 0; rebase < maxAttempts; rebase++) {
        if (log.tryCommit(app, attempt, result.checkpoint()) == CommitResult.COMMITTED) {
          microBatch.committed(result, attempt.seq());
          return new Attempt(attempt, rebase, true);
        }
        conflicts.incrementAndGet();
        if (microBatch.isStateful()) {
          // a stateful batch read state and the watermark as of the head it started from: re-run, never rebase
          return new Attempt(null, rebase + 1, false);
        }
        LogSnapshot now = log.read(app, batch.lanes());
        if (!now.lanePositions().equals(read.lanePositions())) {
          return new Attempt(null, rebase + 1, false);
        }
        attempt = attempt.withSeq(now.headSeq() + 1);
      }
      return new Attempt(null, maxAttempts, false);
    } finally {
      timings.merge("commit", Publication.ms(start), Long::sum);
    }
  }

  /**
   * A bucket commit: on its lanes and the buckets it writes, so only a duplicate delivery, or a batch that wrote
   * one of the same buckets since the versions were read, can conflict; either way the batch re-runs on what they
   * left. When no pending commit has to come before it ({@code pendingBefore} holds none of its lanes), and the
   * head is still this container's last commit (nobody else committed since: a lane alone, or a quiet app) or its
   * last one-write commit succeeded, it is sequenced in the same write; if only the head moved meanwhile, it is made
   * pending instead, without re-running (the choice is a guess at contention, never a condition of safety).
   */
  private Attempt commitOnBuckets(CommitRecord onBuckets, LogSnapshot read, List<CommitRecord> pendingBefore) {
    boolean headMoved = false;
    if (pendingBefore != null && (oneWriteWorks || lastSequenced == read.headSeq())
        && noneOnLanesOf(onBuckets, pendingBefore)) {
      LogSnapshot head = read;
      for (int rebase = 0; ; rebase++) {
        long seq = head.headSeq() + 1;
        CommitResult direct = log.tryCommitBucketsSequenced(app, head.headSeq(), onBuckets.withSeq(seq),
            sequencing.merged(head.checkpoint(), List.of(onBuckets)));
        oneWriteWorks = direct == CommitResult.COMMITTED;
        if (direct == CommitResult.COMMITTED) {
          return new Attempt(onBuckets.withSeq(seq), 0, true, false);
        }
        if (direct == CommitResult.CONFLICT) {
          conflicts.incrementAndGet();
          return new Attempt(null, 1, false, false);
        }
        headMoved = true;
        if (rebase == 1) {
          break;
        }
        // only the head moved: the lanes and buckets were as read, and no pending commit has to come first, so
        // the commit may take the new head as well (its watermark merges into the new head's)
        head = log.read(app, List.of());
      }
    }
    if (log.tryCommitBuckets(app, onBuckets) == CommitResult.COMMITTED) {
      // after a failed one-write commit the head is known to have moved: sequencing skips its one-write path
      return new Attempt(onBuckets, 0, false, headMoved);
    }
    conflicts.incrementAndGet();
    return new Attempt(null, 1, false, false);
  }

  private static boolean noneOnLanesOf(CommitRecord ours, List<CommitRecord> pending) {
    for (CommitRecord other : pending) {
      for (LaneRange range : other.lanes()) {
        if (ours.lanes().stream().anyMatch(r -> r.lane().equals(range.lane()))) {
          return false;
        }
      }
    }
    return true;
  }

  private CommitRecord commitRecord(LogSnapshot snapshot, Batch fresh, Batch batch, String txnId,
      MicroBatch.Result result) {
    CommitStages stages = new CommitStages(result.table().ref(), result.rejects().ref(), null, null, List.of());
    if (state != null) {
      stages = state.attach(stages, result.changes(), txnId);
    }
    CommitCounts counts = new CommitCounts(fresh.size(), batch.size() - fresh.size(), result.table().rows(),
        result.rejects().rows());
    return new CommitRecord(snapshot.headSeq() + 1, txnId, fresh.ranges(snapshot.lanePositions()), stages, counts,
        System.currentTimeMillis());
  }

  /** Step 5: the committed output reaches the table, now or after the response (the strategy decides). */
  private Publishing.Result publish(LogSnapshot snapshot, CommitRecord committed, long deadlineNanos,
      Map<String, Long> timings) {
    return publishing.publish(snapshot.publishedSeq(), committed, deadlineNanos, timings);
  }

  /** Step 6: what the handler answers: all records handled (committed now, or duplicates of committed ones). */
  private static BatchOutcome respond(Batch batch, Batch fresh, CommitRecord committed, MicroBatch.Result result,
      int conflicts, int published, PublishOutcome publication, Map<String, Long> timings) {
    if (committed == null) {
      return new BatchOutcome(0, null, batch.size(), batch.size(), 0, 0, conflicts, published, List.of(), timings,
          publication);
    }
    return new BatchOutcome(committed.seq(), committed.txnId(), batch.size(), batch.size() - fresh.size(),
        result.table().rows(), result.rejects().rows(), conflicts, published, List.of(), timings, publication);
  }

  /**
   * Publishes whatever is committed and not yet published, in seq order, before returning, whatever the publishing
   * strategy: the scheduled roll-forward that completes I1 when a deferred publish was frozen with its container
   * and no invocation follows on a quiet stream. Idempotent, like every publish.
   *
   * @return the head, what was waiting, what this call published and the oldest waiting commit's age
   */
  public RollForward rollForwardAll() {
    Map<String, Long> timings = new LinkedHashMap<>();
    publishing.await();
    sequencing.sequence(null, 0, timings);
    LogSnapshot snapshot = log.read(app, List.of());
    List<CommitRecord> waiting = log.commits(app, snapshot.publishedSeq(), snapshot.headSeq());
    long oldestAgeMs = waiting.isEmpty() ? 0 : Math.max(0, System.currentTimeMillis() - waiting.get(0).committedAtMs());
    int published = publication.rollForward(snapshot.publishedSeq(), snapshot.headSeq(), timings);
    publication.awaitMark();
    return new RollForward(snapshot.headSeq(), waiting.size(), published, oldestAgeMs);
  }

  /**
   * Waits for this protocol's publishes in flight (deferred publishing). Returns false if the last one failed: its
   * commits stay unpublished until the next roll-forward, in any container.
   */
  public boolean awaitPublication() {
    return publishing.await();
  }

  /** Commit conflicts met so far. */
  public long conflicts() {
    return conflicts.get();
  }

  /** DynamoDB requests of the state store so far (null for a stateless job). */
  public StateIoCounts stateIo() {
    return state == null ? null : state.state().counts();
  }

  /** Waits for deferred publishes in flight (a failed one is left to the next roll-forward), then stops. */
  @Override
  public void close() {
    try {
      publishing.close();
    } finally {
      synchronized (this) {
        if (pendingReader != null) {
          pendingReader.shutdown();
        }
      }
      microBatch.close();
    }
  }

  /** {@code snapshot} with the head sequencing left. */
  private static LogSnapshot sequenced(LogSnapshot snapshot, Sequencing.Sequenced sequenced) {
    return sequenced.headSeq() == snapshot.headSeq() ? snapshot : new LogSnapshot(sequenced.headSeq(),
        snapshot.publishedSeq(), snapshot.lanePositions(), snapshot.checkpoint());
  }

  private static void backoff(int attempt) {
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(5, 20L * attempt));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while backing off from a commit conflict", e);
    }
  }

  /**
   * A commit as made (null if the batch must be re-run), how many conflicts it met, whether it already has its
   * seq (a head commit, or a bucket commit sequenced in its own write), and whether the head is known to have moved
   * since the batch read it (sequencing's one-write path would fail).
   */
  private record Attempt(CommitRecord committed, int conflicts, boolean sequenced, boolean headMoved) {
    Attempt(CommitRecord committed, int conflicts, boolean sequenced) {
      this(committed, conflicts, sequenced, false);
    }
  }

  /** What a failure message names: the lanes with their ranges, the seq being taken and the transaction id. */
  private static final class Attempting {
    private String lanes;
    private long seq = -1;
    private String txnId;

    private Attempting(String lanes) {
      this.lanes = lanes;
    }

    private void at(String lanes, long seq, String txnId) {
      this.lanes = lanes;
      this.seq = seq;
      this.txnId = txnId;
    }

    private String describe(String app) {
      return "Batch of app '" + app + "' on lanes " + lanes + (seq < 0 ? "" : ", seq " + seq)
          + (txnId == null ? "" : ", txn " + txnId) + " failed";
    }
  }

  /** Builds a {@link CommitProtocol}; the micro-batch is required, the rest has defaults. */
  public static final class Builder {
    private final String app;
    private final CommitLog log;
    private MicroBatch microBatch;
    private Sink table;
    private Sink rejects;
    private DurableState durableState;
    private Faults faults = new Faults();
    private int maxAttempts = 10;
    private boolean deferred;
    private boolean laneCommits;
    private int bucketPartitions;
    private boolean bucketCommitsPerApp;
    private BinaryOperator<String> checkpointMerge;
    private Consumer<Batch> archive;
    private PublishClaim publishClaim;
    private long publishClaimMs;
    private long publishWaitMarginMs;

    private Builder(String app, CommitLog log) {
      this.app = app;
      this.log = log;
    }

    /** The job's micro-batch (step 3). */
    public Builder microBatch(MicroBatch microBatch) {
      this.microBatch = microBatch;
      return this;
    }

    /** The sinks committed output is published to: the job's table and its rejects table. */
    public Builder sinks(Sink table, Sink rejects) {
      this.table = table;
      this.rejects = rejects;
      return this;
    }

    /** The durable state of a stateful job (none for a stateless one). */
    public Builder state(DurableState durableState) {
      this.durableState = durableState;
      return this;
    }

    /** Where fault tests arm crashes (a fresh, disarmed set by default). */
    public Builder faults(Faults faults) {
      this.faults = faults;
      return this;
    }

    /** Commit attempts before the batch fails (SPINDRIFT_MAX_COMMIT_ATTEMPTS). */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("Invalid commit attempts: " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** Keeps each batch's raw input before its commit (the S3 archive of SPINDRIFT_ARCHIVE); none by default. */
    public Builder archive(Consumer<Batch> archive) {
      this.archive = archive;
      return this;
    }

    /**
     * Stateless batches commit on their lanes alone and are sequenced for publication afterwards, so batches of
     * different lanes never contend (SPINDRIFT_COMMIT_MODE=lanes); off, every commit moves the app's head
     * (SPINDRIFT_COMMIT_MODE=head). Stateful batches commit on the head unless {@link #bucketCommits} is set.
     */
    public Builder laneCommits(boolean laneCommits) {
      this.laneCommits = laneCommits;
      return this;
    }

    /**
     * Stateless batches publishing inline publish as a group (SPINDRIFT_PUBLISH_GROUP=on): the invocation that takes
     * {@code claims} publishes every commit waiting, the others wait for it; a claim not renewed for {@code claimMs}
     * is taken over, and a wait ends {@code waitMarginMs} before the invocation's deadline. Off (the default here),
     * every invocation publishes its own backlog. Deferred publishing and stateful batches ignore it.
     */
    public Builder groupPublish(PublishClaim claims, long claimMs, long waitMarginMs) {
      if (waitMarginMs < 0) {
        throw new IllegalArgumentException("Invalid publish wait margin: " + waitMarginMs + " ms");
      }
      this.publishClaim = claims;
      this.publishClaimMs = claimMs;
      this.publishWaitMarginMs = waitMarginMs;
      return this;
    }

    /**
     * Stateful batches commit on their lanes and the state buckets they write, then are sequenced like lane
     * commits, so stateful batches that write disjoint buckets never contend (SPINDRIFT_STATEFUL_COMMIT_MODE=
     * buckets); {@code partitions} is the app's state partition count (spark.sql.shuffle.partitions, fixed per
     * app). 0, the default, commits stateful batches on the head. Needs {@link #checkpointMerge}.
     */
    public Builder bucketCommits(int partitions) {
      if (partitions < 0) {
        throw new IllegalArgumentException("Invalid state partition count: " + partitions);
      }
      this.bucketPartitions = partitions;
      return this;
    }

    /**
     * With {@link #bucketCommits}: commit on buckets only for an app that is new or whose head a bucket commit has
     * reached, and on the head for an app whose log head commits wrote (SPINDRIFT_STATEFUL_COMMIT_MODE=auto). The
     * choice is stable per app: containers of an older release that commit on the head never run beside bucket
     * commits of the same app. Off (the default here), every stateful batch commits on buckets.
     */
    public Builder bucketCommitsPerApp(boolean perApp) {
      this.bucketCommitsPerApp = perApp;
      return this;
    }

    /**
     * How two query checkpoints combine into the head's (the runtime's: every lane's newest event time, the highest
     * watermark): used when sequencing bucket commits, wherever they are sequenced.
     */
    public Builder checkpointMerge(BinaryOperator<String> merge) {
      this.checkpointMerge = merge;
      return this;
    }

    /** Publish after the response instead of before it (SPINDRIFT_PUBLISH=deferred). */
    public Builder deferredPublishing(boolean deferred) {
      this.deferred = deferred;
      return this;
    }

    /**
     * A protocol that only publishes ({@link #rollForwardAll}): it runs no batches, so it needs no job. Given
     * durable state, it applies the state deltas of the commits it publishes.
     */
    public CommitProtocol buildPublisher() {
      microBatch = new MicroBatch() {
        @Override
        public Result run(Batch fresh, String txnId, LogSnapshot snapshot, Map<String, Long> timings) {
          throw new IllegalStateException("This protocol of app '" + app + "' only publishes; it runs no batches");
        }

        @Override
        public boolean isStateful() {
          return durableState != null;
        }

        @Override
        public void close() {}
      };
      deferred = false;
      return build();
    }

    public CommitProtocol build() {
      if (microBatch == null || table == null || rejects == null) {
        throw new IllegalStateException("A commit protocol needs a micro-batch and its sinks");
      }
      if (microBatch.isStateful() != (durableState != null)) {
        throw new IllegalStateException("A stateful micro-batch needs durable state, and only it");
      }
      StateCommits state = durableState == null ? null : new StateCommits(app, log, durableState, faults);
      Publication publication = new Publication(app, log, table, rejects, state, faults);
      // a stateful batch must see every earlier commit's state applied before it reads state: its roll-forward
      // waits for the claim's holder to apply the backlog (Publishing.Inline) instead of applying it again itself
      boolean pending = state == null ? laneCommits : bucketPartitions > 0;
      GroupPublisher group = publishClaim == null || deferred ? null
          : new GroupPublisher(app, log, publishClaim, publication, publishClaimMs, publishWaitMarginMs,
              pending ? new Sequencing(app, log, maxAttempts, state == null ? null : checkpointMerge)::sequenceAll : timings -> { });
      Publishing publishing = deferred ? new Publishing.Deferred(app, publication, state != null)
          : new Publishing.Inline(publication, group, state != null);
      if (bucketPartitions > 0 && durableState != null && checkpointMerge == null) {
        throw new IllegalStateException("Bucket commits need a checkpoint merge (Builder.checkpointMerge)");
      }
      return new CommitProtocol(app, log, microBatch, publishing, publication, state, faults, maxAttempts,
          archive, laneCommits, bucketPartitions, bucketCommitsPerApp, checkpointMerge);
    }
  }
}
