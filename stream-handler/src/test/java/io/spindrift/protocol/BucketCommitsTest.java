package io.spindrift.protocol;

import static io.spindrift.protocol.ProtocolFakes.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.commit.BucketVersion;
import io.spindrift.commit.CommitCounts;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.CommitStages;
import io.spindrift.commit.InMemoryCommitLog;
import io.spindrift.commit.LaneRange;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.protocol.ProtocolFakes.FakeTable;
import io.spindrift.state.KeyBytes;
import io.spindrift.state.StateBucket;
import io.spindrift.state.StateChanges;
import io.spindrift.state.StateDelta;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Bucket commits (SPINDRIFT_STATEFUL_COMMIT_MODE=buckets): a stateful batch commits on its lanes and the state
 * buckets it writes, conditioned on the versions it read, and is sequenced like a lane commit. Batches that write
 * disjoint buckets never conflict; two that write one bucket do, and the one that re-runs reads the other's state.
 * A crash between the bucket commit and its sequencing is finished before anyone reads state, and the head's
 * watermark (the merged checkpoints) never goes back.
 */
class BucketCommitsTest {
  private static final String APP = "counts";
  private static final int PARTITIONS = 4;
  private final InMemoryCommitLog log = new InMemoryCommitLog();
  private final FakeTable table = new FakeTable();
  private final FakeTable rejects = new FakeTable();
  /** The durable state every container shares: one counter per partition. */
  private final Counters durable = new Counters();

  /** A checkpoint is the watermark alone here; the merge keeps the higher one, as the runtime's does. */
  private static String merge(String a, String b) {
    return Long.toString(Math.max(Long.parseLong(a), Long.parseLong(b)));
  }

  private final class Container {
    final CountingBatch microBatch;
    final Faults faults = new Faults();
    final CommitProtocol protocol;

    Container(int partition) {
      this(partition, null);
    }

    /** @param claims the app's publish claim (group publishing), or null: every batch publishes its backlog */
    Container(int partition, io.spindrift.commit.PublishClaim claims) {
      microBatch = new CountingBatch(partition);
      CommitProtocol.Builder builder = CommitProtocol.builder(APP, log).microBatch(microBatch)
          .sinks(table, rejects).faults(faults).maxAttempts(10).state(durable).bucketCommits(PARTITIONS)
          .checkpointMerge(BucketCommitsTest::merge);
      protocol = (claims == null ? builder : builder.groupPublish(claims, 10_000, 100)).build();
    }

    BatchOutcome process(Batch batch) {
      return protocol.process(batch);
    }
  }

  @Test
  void statefulBatchesOnDisjointBucketsBothCommitWithoutAConflict() {
    Container first = new Container(0);
    Container second = new Container(1);
    first.microBatch.duringRun = fresh -> {
      first.microBatch.duringRun = b -> {};
      assertThat(second.process(batch("shard-1", 1, 2)).conflicts()).isZero();
    };
    BatchOutcome outcome = first.process(batch("shard-0", 1, 3));

    assertThat(outcome.conflicts()).as("no head, no shared bucket on the commit path").isZero();
    assertThat(first.microBatch.runs).hasValue(1);
    assertThat(outcome.seq()).as("sequenced after the other lane's commit").isEqualTo(2);
    assertThat(durable.count(0)).isEqualTo(3);
    assertThat(durable.count(1)).isEqualTo(2);
    assertThat(table.rows()).isEqualTo(5);
    assertThat(log.pending(APP)).isEmpty();
    assertThat(log.bucketVersions(APP, PARTITIONS)).containsEntry(0, 1L).containsEntry(1, 1L).containsEntry(2, 0L);
  }

  @Test
  void statefulBatchesOnOneBucketConflictAndTheRerunReadsTheOthersState() {
    Container first = new Container(2);
    Container second = new Container(2);
    first.microBatch.duringRun = fresh -> {
      first.microBatch.duringRun = b -> {};
      second.process(batch("shard-1", 1, 2));
    };
    BatchOutcome outcome = first.process(batch("shard-0", 1, 3));

    assertThat(outcome.conflicts()).isEqualTo(1);
    assertThat(first.microBatch.runs).as("re-run on the state the other batch left").hasValue(2);
    assertThat(durable.count(2)).as("no update lost").isEqualTo(5);
    assertThat(outcome.seq()).isEqualTo(2);
    assertThat(log.bucketVersions(APP, PARTITIONS)).containsEntry(2, 2L);
  }

  @Test
  void aCrashBetweenTheBucketCommitAndSequencingIsFinishedBeforeAnotherBatchReadsTheBucket() {
    Container dying = new Container(0);
    dying.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> dying.process(batch("shard-0", 1, 4))).isInstanceOf(InjectedCrash.class);
    assertThat(log.pending(APP)).as("committed on its lane and bucket, not sequenced").hasSize(1);
    assertThat(durable.count(0)).as("not applied yet").isZero();

    Container next = new Container(0);
    BatchOutcome other = next.process(batch("shard-1", 1, 2));
    assertThat(other.conflicts()).as("the head did not have the crashed commit's version: one re-run").isEqualTo(1);
    assertThat(next.microBatch.runs).as("the re-run after sequencing the crashed commit").hasValue(2);
    assertThat(other.seq()).isEqualTo(2);
    assertThat(durable.count(0)).as("its state read included the crashed commit").isEqualTo(6);
    assertThat(table.rows()).isEqualTo(6);

    BatchOutcome retried = new Container(0).process(batch("shard-0", 1, 4));
    assertThat(retried.duplicates()).isEqualTo(4);
    assertThat(durable.count(0)).isEqualTo(6);
    assertThat(log.pending(APP)).isEmpty();
  }

  @Test
  void aCrashedBucketCommitIsFinishedByTheBatchsRetryAndByTheScheduledRollForward() {
    Container dying = new Container(3);
    dying.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> dying.process(batch("shard-0", 1, 4))).isInstanceOf(InjectedCrash.class);
    BatchOutcome retried = new Container(3).process(batch("shard-0", 1, 4));
    assertThat(retried.duplicates()).isEqualTo(4);
    assertThat(durable.count(3)).isEqualTo(4);

    Container again = new Container(3);
    again.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> again.process(batch("shard-0", 5, 6))).isInstanceOf(InjectedCrash.class);
    RollForward tick = CommitProtocol.builder(APP, log).sinks(table, rejects).state(durable)
        .checkpointMerge(BucketCommitsTest::merge).buildPublisher().rollForwardAll();
    assertThat(tick.published()).isEqualTo(1);
    assertThat(durable.count(3)).isEqualTo(6);
    assertThat(log.read(APP, List.of()).checkpoint()).isEqualTo("6");
  }

  /**
   * A lane alone: its batches take their bucket versions from the head and, the head being their own last commit,
   * commit and sequence in one write; no bucket items read, no pending commits queried, no second write.
   */
  @Test
  void aLaneAloneCommitsWithOneReadAndOneWrite() {
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    CommitLog counted = ProtocolFakes.counting(log, calls);
    CountingBatch microBatch = new CountingBatch(1);
    CommitProtocol protocol = CommitProtocol.builder(APP, counted).microBatch(microBatch).sinks(table, rejects)
        .maxAttempts(10).state(durable).bucketCommits(PARTITIONS).checkpointMerge(BucketCommitsTest::merge).build();
    protocol.process(batch("shard-0", 1, 3));
    calls.clear();

    for (int b = 1; b <= 3; b++) {
      BatchOutcome outcome = protocol.process(batch("shard-0", 1, 3 + 2 * b));
      assertThat(outcome.seq()).isEqualTo(1 + b);
      assertThat(outcome.conflicts()).isZero();
    }

    assertThat(calls.get("read")).as("step 1 only, once a batch").hasValue(3);
    assertThat(calls.get("tryCommitBucketsSequenced")).as("commit and sequence: one write").hasValue(3);
    assertThat(calls).as("no bucket items, no pending query, no second write")
        .doesNotContainKeys("bucketVersions", "pending", "tryCommitBuckets", "sequence");
    assertThat(durable.count(1)).isEqualTo(9);
    assertThat(log.read(APP, List.of()).checkpoint()).isEqualTo("9");
    assertThat(log.read(APP, List.of()).bucketVersions()).containsEntry(1, 4L);
    assertThat(table.rows()).isEqualTo(9);
  }

  /** A crash right after a commit sequenced in its own write: nothing pending, the next batch publishes it. */
  @Test
  void aCrashAfterACommitSequencedInItsOwnWriteIsRolledForwardByTheNextBatch() {
    Container container = new Container(2);
    container.process(batch("shard-0", 1, 2));
    container.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> container.process(batch("shard-0", 1, 5))).isInstanceOf(InjectedCrash.class);
    assertThat(log.pending(APP)).as("sequenced in the commit's own write").isEmpty();
    assertThat(log.read(APP, List.of()).headSeq()).isEqualTo(2);
    assertThat(durable.count(2)).as("not applied yet").isEqualTo(2);

    Container next = new Container(2);
    BatchOutcome retried = next.process(batch("shard-0", 1, 6));
    assertThat(retried.duplicates()).isEqualTo(5);
    assertThat(retried.conflicts()).as("the head holds the crashed commit's bucket version").isZero();
    assertThat(next.microBatch.runs).hasValue(1);
    assertThat(durable.count(2)).isEqualTo(6);
    assertThat(table.rows()).isEqualTo(6);
    assertThat(table.published.keySet()).containsExactly(1L, 2L, 3L);
  }

  /**
   * The head moved between a batch's read and its commit (another lane committed on another bucket): the one-write
   * commit fails on the head alone and is made again on the new head, on the same versions, without re-running.
   */
  @Test
  void aHeadMovedByAnotherBucketIsTakenWithoutARerun() {
    Container first = new Container(0);
    Container second = new Container(1);
    first.process(batch("shard-0", 1, 1));
    first.microBatch.duringRun = fresh -> {
      first.microBatch.duringRun = b -> {};
      second.process(batch("shard-1", 1, 2));
    };
    BatchOutcome outcome = first.process(batch("shard-0", 1, 3));

    assertThat(outcome.conflicts()).isZero();
    assertThat(first.microBatch.runs).as("no re-run").hasValue(2);
    assertThat(outcome.seq()).isEqualTo(3);
    assertThat(durable.count(0)).isEqualTo(3);
    assertThat(durable.count(1)).isEqualTo(2);
    assertThat(log.pending(APP)).isEmpty();
    assertThat(log.read(APP, List.of()).bucketVersions()).containsEntry(0, 2L).containsEntry(1, 1L);
  }

  /** An app whose stateful batches committed on the head continues with bucket commits: nothing to migrate. */
  @Test
  void anAppCommittedOnTheHeadContinuesWithBucketCommits() {
    CountingBatch onHead = new CountingBatch(3);
    CommitProtocol headProtocol = CommitProtocol.builder(APP, log).microBatch(onHead).sinks(table, rejects)
        .state(durable).build();
    headProtocol.process(batch("shard-0", 1, 3));
    headProtocol.process(batch("shard-1", 1, 40));
    assertThat(log.read(APP, List.of()).checkpoint()).isEqualTo("40");

    Container later = new Container(3);
    BatchOutcome first = later.process(batch("shard-0", 1, 5));
    BatchOutcome second = later.process(batch("shard-0", 1, 6));

    assertThat(first.conflicts() + second.conflicts()).isZero();
    assertThat(first.seq()).isEqualTo(3);
    assertThat(second.seq()).isEqualTo(4);
    assertThat(later.microBatch.watermarksSeen).as("the head commits' watermark carried on").containsExactly(40L, 40L);
    assertThat(durable.count(3)).isEqualTo(43 + 3);
    assertThat(log.read(APP, List.of()).checkpoint()).isEqualTo("40");
    assertThat(log.read(APP, List.of()).bucketVersions()).containsEntry(3, 2L);
    assertThat(table.rows()).isEqualTo(46);
  }

  /**
   * SPINDRIFT_STATEFUL_COMMIT_MODE=auto: a new app commits on buckets; an app whose log head commits wrote stays on
   * the head (containers of an older release may still be committing there) until it is switched explicitly, and
   * then stays on buckets.
   */
  @Test
  void theAutomaticModeIsChosenPerAppAndStable() {
    CommitProtocol fresh = CommitProtocol.builder("new-app", log).microBatch(new CountingBatch(0))
        .sinks(table, rejects).state(durable).bucketCommits(PARTITIONS).bucketCommitsPerApp(true)
        .checkpointMerge(BucketCommitsTest::merge).build();
    fresh.process(batch("shard-0", 1, 2));
    assertThat(log.read("new-app", List.of()).bucketCommits()).as("a new app: on buckets").isTrue();
    assertThat(log.bucketVersions("new-app", PARTITIONS)).containsEntry(0, 1L);

    CommitProtocol.builder(APP, log).microBatch(new CountingBatch(1)).sinks(table, rejects).state(durable).build()
        .process(batch("shard-0", 1, 2));
    CommitProtocol auto = CommitProtocol.builder(APP, log).microBatch(new CountingBatch(1)).sinks(table, rejects)
        .state(durable).bucketCommits(PARTITIONS).bucketCommitsPerApp(true)
        .checkpointMerge(BucketCommitsTest::merge).build();
    auto.process(batch("shard-0", 1, 4));
    assertThat(log.bucketVersions(APP, PARTITIONS)).as("an app of head commits: still on the head")
        .containsEntry(1, 0L);
    assertThat(log.read(APP, List.of()).bucketCommits()).isFalse();
    assertThat(log.commits(APP, 1, 2)).singleElement().satisfies(c -> assertThat(c.buckets()).isEmpty());

    new Container(1).process(batch("shard-0", 1, 6)); // switched explicitly (SPINDRIFT_STATEFUL_COMMIT_MODE=buckets)
    auto.process(batch("shard-0", 1, 8));
    assertThat(log.read(APP, List.of()).bucketCommits()).isTrue();
    assertThat(log.bucketVersions(APP, PARTITIONS)).as("then on buckets, in auto too").containsEntry(1, 2L);
    assertThat(durable.count(1)).isEqualTo(8);
  }

  @Test
  void theHeadsWatermarkNeverGoesBackWhenALaggingBatchCommitsLast() {
    Container lagging = new Container(0);
    Container ahead = new Container(1);
    lagging.microBatch.duringRun = fresh -> {
      lagging.microBatch.duringRun = b -> {};
      ahead.process(batch("shard-1", 100, 101)); // its watermark: 101
    };
    lagging.process(batch("shard-0", 1, 3)); // its watermark: 3, sequenced after the other

    assertThat(log.read(APP, List.of()).checkpoint()).as("merged on the head, the higher kept").isEqualTo("101");
    Container next = new Container(0);
    next.process(batch("shard-0", 4, 5));
    assertThat(next.microBatch.watermarksSeen).as("the next batch starts from the merged watermark")
        .containsExactly(101L);
    assertThat(log.read(APP, List.of()).checkpoint()).isEqualTo("101");
  }

  @Test
  void pendingCommitsOfOneBucketAreSequencedInVersionOrderWhateverTheirClocksSay() {
    CommitRecord later = commit("b", "lane-b", 2, 1, 1_000);
    CommitRecord earlier = commit("a", "lane-a", 2, 0, 5_000);
    CommitRecord otherBucket = commit("c", "lane-c", 3, 0, 2_000);
    CommitRecord laterStill = commit("d", "lane-d", 2, 2, 500);

    List<CommitRecord> ordered = Sequencing.inLaneOrder(List.of(laterStill, later, otherBucket, earlier));

    assertThat(ordered).extracting(CommitRecord::txnId).containsSubsequence("a", "b", "d");
    assertThat(ordered).extracting(CommitRecord::txnId).containsExactlyInAnyOrder("a", "b", "c", "d");
  }

  @Test
  void headCommitsOfAStatefulAppAreUnchangedWithoutBucketCommits() {
    CountingBatch microBatch = new CountingBatch(0);
    CommitProtocol protocol = CommitProtocol.builder(APP, log).microBatch(microBatch).sinks(table, rejects)
        .state(durable).laneCommits(true).build();
    protocol.process(batch("shard-0", 1, 3));
    assertThat(log.bucketVersions(APP, PARTITIONS)).containsEntry(0, 0L);
    assertThat(log.read(APP, List.of()).checkpoint()).as("left on the head by the head commit").isEqualTo("3");
    assertThat(log.commits(APP, 0, 1)).singleElement()
        .satisfies(c -> assertThat(c.buckets()).isEmpty())
        .satisfies(c -> assertThat(c.checkpoint()).isNull());
  }

  /** Eight lanes on eight threads over four buckets: every record counted once, conflicts only within a bucket. */
  @Test
  void eightLanesOverFourBucketsCountEveryRecordOnce() throws Exception {
    eightLanesOverFourBuckets(null);
  }

  /**
   * The same with group publishing: a stateful batch's roll-forward waits for the claim's holder, which applies the
   * backlog once for every lane, instead of each lane applying every other lane's deltas itself; every record is
   * still counted once, and each commit's state is applied exactly once.
   */
  @Test
  void eightStatefulLanesWithGroupPublishingApplyEachCommitsStateOnce() throws Exception {
    java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong(1_000_000);
    eightLanesOverFourBuckets(new io.spindrift.commit.InMemoryPublishClaim(clock::get));

    assertThat(durable.applyCalls).as("one apply per commit: nobody applied a commit another had applied")
        .hasValue(8 * 15);
    assertThat(log.read(APP, List.of()).publishedSeq()).isEqualTo(8 * 15);
    assertThat(table.published).hasSize(8 * 15);
  }

  private void eightLanesOverFourBuckets(io.spindrift.commit.PublishClaim claims) throws Exception {
    int lanes = 8;
    int batches = 15;
    ExecutorService pool = Executors.newFixedThreadPool(lanes);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Long>> futures = new ArrayList<>();
    for (int lane = 0; lane < lanes; lane++) {
      String shard = "shard-" + lane;
      Container container = new Container(lane % PARTITIONS, claims);
      futures.add(pool.submit(() -> {
        start.await();
        long conflicts = 0;
        for (int b = 0; b < batches; b++) {
          conflicts += container.process(batch(shard, b * 2 + 1, b * 2 + 2)).conflicts();
        }
        return conflicts;
      }));
    }
    start.countDown();
    for (Future<Long> future : futures) {
      future.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();

    for (int partition = 0; partition < PARTITIONS; partition++) {
      assertThat(durable.count(partition)).as("partition " + partition).isEqualTo(2L * batches * 2);
    }
    assertThat(table.rows()).isEqualTo(lanes * batches * 2L);
    assertThat(log.read(APP, List.of()).headSeq()).isEqualTo(lanes * batches);
    assertThat(log.pending(APP)).isEmpty();
  }

  private static CommitRecord commit(String txn, String lane, int bucket, long read, long atMs) {
    return new CommitRecord(0, txn, List.of(new LaneRange(lane, null, "1", 1)),
        new CommitStages(null, null, null, null, List.of()), new CommitCounts(1, 0, 1, 0), atMs)
        .withBuckets(List.of(new BucketVersion(bucket, read)), "0");
  }

  /**
   * A stateful micro-batch that adds its record count to one partition's counter, reading the counter as the
   * durable state holds it when it runs (as a real batch reads through the cache brought to the head), and leaves
   * the higher of the head's watermark and its newest position as its checkpoint.
   */
  private final class CountingBatch implements MicroBatch {
    final StateBucket bucket;
    final AtomicInteger runs = new AtomicInteger();
    final List<Long> watermarksSeen = new ArrayList<>();
    Consumer<Batch> duringRun = b -> {};

    CountingBatch(int partition) {
      bucket = new StateBucket(0, "default", partition);
    }

    @Override
    public Result run(Batch fresh, String txnId, LogSnapshot snapshot, Map<String, Long> timings) {
      runs.incrementAndGet();
      long read = durable.count(bucket.partition());
      long watermark = snapshot.checkpoint() == null ? 0 : Long.parseLong(snapshot.checkpoint());
      watermarksSeen.add(watermark);
      duringRun.accept(fresh);
      long newest = fresh.records().stream().mapToLong(r -> Long.parseLong(r.position())).max().orElse(0);
      StateDelta delta = new StateDelta(bucket, Map.of(Counters.KEY, Counters.bytes(read + fresh.size())), Set.of());
      return new Result(new io.spindrift.sink.StagedOutput("table/" + txnId + "/" + fresh.size(), fresh.size()),
          io.spindrift.sink.StagedOutput.EMPTY, new StateChanges(List.of(delta), Set.of(bucket)),
          Long.toString(Math.max(watermark, newest)), runs.get());
    }

    @Override
    public boolean isStateful() {
      return true;
    }

    @Override
    public void close() {}
  }

  /** Durable state in memory: one counter per bucket, applied once per bucket and seq, in any container. */
  private static final class Counters extends ProtocolFakes.InlineDeltasState {
    static final KeyBytes KEY = KeyBytes.wrap("count".getBytes(StandardCharsets.UTF_8));
    private final Map<StateBucket, Long> markers = new HashMap<>();
    private final Map<Integer, Long> counts = new HashMap<>();
    /** Calls to {@link #apply}: one per commit with state each time a publish applies it. */
    final AtomicInteger applyCalls = new AtomicInteger();

    static byte[] bytes(long value) {
      return Long.toString(value).getBytes(StandardCharsets.UTF_8);
    }

    synchronized long count(int partition) {
      return counts.getOrDefault(partition, 0L);
    }

    @Override
    public long validThrough() {
      return 0;
    }

    @Override
    public void invalidate() {}

    @Override
    public void refresh(long toSeq, Collection<StateBucket> touched) {}

    @Override
    public synchronized int apply(Collection<StateDelta> deltas, long seq, Runnable beforeMarkers) {
      applyCalls.incrementAndGet();
      int applied = 0;
      for (StateDelta delta : deltas) {
        if (markers.getOrDefault(delta.bucket(), 0L) < seq) {
          counts.put(delta.bucket().partition(),
              Long.parseLong(new String(delta.puts().get(KEY), StandardCharsets.UTF_8)));
          markers.put(delta.bucket(), seq);
          applied++;
        }
      }
      beforeMarkers.run();
      return applied;
    }

  }
}
