package io.spindrift.protocol;

import static io.spindrift.protocol.ProtocolFakes.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.commit.CommitCounts;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.CommitStages;
import io.spindrift.commit.InMemoryCommitLog;
import io.spindrift.commit.LaneRange;
import io.spindrift.event.Batch;
import io.spindrift.protocol.ProtocolFakes.FakeMicroBatch;
import io.spindrift.protocol.ProtocolFakes.FakeTable;
import java.util.ArrayList;
import java.util.HashSet;
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
import org.junit.jupiter.api.Test;

/**
 * Lane commits (SPINDRIFT_COMMIT_MODE=lanes): a stateless batch commits on its lanes alone and is sequenced for
 * publication afterwards. Batches of different lanes never conflict, a duplicate of the same lane still does, and a
 * crash between the lane commit and its sequencing is finished by the next invocation of any lane, by the batch's
 * retry or by the scheduled roll-forward, in lane order.
 */
class LaneCommitsTest {
  private static final String APP = "orders";
  private final InMemoryCommitLog log = new InMemoryCommitLog();
  private final FakeTable table = new FakeTable();
  private final FakeTable rejects = new FakeTable();

  private final class Container {
    final FakeMicroBatch microBatch = new FakeMicroBatch(false);
    final Faults faults = new Faults();
    final CommitProtocol protocol;

    Container(boolean deferred) {
      protocol = CommitProtocol.builder(APP, log).microBatch(microBatch).sinks(table, rejects).faults(faults)
          .maxAttempts(4).deferredPublishing(deferred).laneCommits(true).build();
    }

    BatchOutcome process(Batch batch) {
      return protocol.process(batch);
    }
  }

  @Test
  void aCommitOnAnotherLaneDuringTheRunIsNoConflictAndBothAreSequencedAndPublished() {
    Container first = new Container(false);
    Container second = new Container(false);
    first.microBatch.duringRun = fresh -> {
      first.microBatch.duringRun = b -> {};
      second.process(batch("shard-1", 1, 2));
    };
    BatchOutcome outcome = first.process(batch("shard-0", 1, 3));

    assertThat(outcome.conflicts()).as("the head is not on a lane commit's path").isZero();
    assertThat(outcome.seq()).as("sequenced after the other lane's commit").isEqualTo(2);
    assertThat(first.microBatch.runs).hasValue(1);
    assertThat(table.rows()).isEqualTo(5);
    assertThat(table.published.keySet()).containsExactly(1L, 2L);
    assertThat(log.pending(APP)).isEmpty();
  }

  @Test
  void aDuplicateOfTheSameLaneStillConflictsAndItsRerunFindsOnlyDuplicates() {
    Container original = new Container(false);
    Container duplicate = new Container(false);
    original.microBatch.duringRun = fresh -> {
      original.microBatch.duringRun = b -> {};
      duplicate.process(batch("shard-0", 1, 3));
    };
    BatchOutcome outcome = original.process(batch("shard-0", 1, 3));

    assertThat(outcome.conflicts()).isEqualTo(1);
    assertThat(outcome.duplicates()).isEqualTo(3);
    assertThat(table.rows()).isEqualTo(3);
    assertThat(log.read(APP, List.of()).headSeq()).isEqualTo(1);
  }

  @Test
  void aCrashBeforeSequencingIsSequencedAndPublishedByAnotherLanesBatchFirst() {
    Container dying = new Container(false);
    dying.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> dying.process(batch("shard-0", 1, 4))).isInstanceOf(InjectedCrash.class);
    assertThat(log.pending(APP)).as("committed on its lane, not sequenced").hasSize(1);
    assertThat(log.read(APP, List.of("kinesis:clicks/shard-0")).lanePositions())
        .containsEntry("kinesis:clicks/shard-0", "4");
    assertThat(table.rows()).isZero();

    Container other = new Container(false);
    BatchOutcome outcome = other.process(batch("shard-1", 1, 2));
    assertThat(outcome.seq()).as("the crashed commit took seq 1").isEqualTo(2);
    assertThat(table.rows()).isEqualTo(6);

    BatchOutcome retried = other.process(batch("shard-0", 1, 4));
    assertThat(retried.duplicates()).isEqualTo(4);
    assertThat(table.rows()).isEqualTo(6);
    assertThat(log.pending(APP)).isEmpty();
  }

  @Test
  void aCrashBeforeSequencingIsFinishedByTheBatchsOwnRetry() {
    Container dying = new Container(false);
    dying.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> dying.process(batch("shard-0", 1, 4))).isInstanceOf(InjectedCrash.class);

    BatchOutcome retried = new Container(false).process(batch("shard-0", 1, 4));
    assertThat(retried.duplicates()).isEqualTo(4);
    assertThat(retried.published()).as("the crashed commit, published by its retry").isEqualTo(1);
    assertThat(table.rows()).isEqualTo(4);
    assertThat(log.read(APP, List.of()).headSeq()).isEqualTo(1);
  }

  @Test
  void theScheduledRollForwardSequencesAndPublishesACrashedLaneCommit() {
    Container dying = new Container(true);
    dying.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> dying.process(batch("shard-0", 1, 4))).isInstanceOf(InjectedCrash.class);

    RollForward tick = CommitProtocol.builder(APP, log).sinks(table, rejects).buildPublisher().rollForwardAll();
    assertThat(tick.unpublished()).isEqualTo(1);
    assertThat(tick.published()).isEqualTo(1);
    assertThat(table.rows()).isEqualTo(4);
    assertThat(log.pending(APP)).isEmpty();
  }

  @Test
  void pendingCommitsOfOneLaneAreSequencedInPositionOrderWhateverTheirClocksSay() {
    CommitRecord later = commit("b", "lane-a", "3", "6", 1_000);
    CommitRecord earlier = commit("a", "lane-a", null, "3", 5_000); // a container whose clock runs ahead
    CommitRecord otherLane = commit("c", "lane-b", null, "9", 2_000);
    CommitRecord laterStill = commit("d", "lane-a", "6", "8", 500);

    List<CommitRecord> ordered = Sequencing.inLaneOrder(List.of(laterStill, later, otherLane, earlier));

    assertThat(ordered).extracting(CommitRecord::txnId).containsSubsequence("a", "b", "d");
    assertThat(ordered).extracting(CommitRecord::txnId).containsExactlyInAnyOrder("a", "b", "c", "d");
  }

  /**
   * The pending commits read while the batch ran let an uncontended batch sequence its commit with one write: no
   * second read of the head and no second query of the pending commits after the lane commit.
   */
  @Test
  void anUncontendedLaneCommitIsSequencedInOneWriteWithoutReadingTheLogAgain() {
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    CommitLog counted = ProtocolFakes.counting(log, calls);
    CommitProtocol protocol = CommitProtocol.builder(APP, counted).microBatch(new FakeMicroBatch(false))
        .sinks(table, rejects).maxAttempts(4).laneCommits(true).build();
    protocol.process(batch("shard-0", 1, 3));
    calls.clear();

    BatchOutcome outcome = protocol.process(batch("shard-0", 1, 6));

    assertThat(outcome.seq()).isEqualTo(2);
    assertThat(outcome.conflicts()).isZero();
    assertThat(calls.get("read")).as("step 1 only").hasValue(1);
    assertThat(calls.get("pending")).as("once, beside the run").hasValue(1);
    assertThat(calls.get("sequence")).as("one write").hasValue(1);
    assertThat(table.rows()).isEqualTo(6);
    assertThat(log.pending(APP)).isEmpty();
  }

  /** The one-write sequencing keeps lane order: a crashed commit of the same lane, read while the batch ran, goes first. */
  @Test
  void aCrashedCommitOfTheSameLaneIsSequencedBeforeTheNextBatchsCommitInItsOneWrite() {
    Container dying = new Container(false);
    dying.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> dying.process(batch("shard-0", 1, 4))).isInstanceOf(InjectedCrash.class);
    String crashedTxn = log.pending(APP).get(0).txnId();

    BatchOutcome next = new Container(false).process(batch("shard-0", 1, 7));

    assertThat(next.duplicates()).isEqualTo(4);
    assertThat(next.seq()).as("after the crashed commit of its lane").isEqualTo(2);
    assertThat(log.commits(APP, 0, 2)).extracting(CommitRecord::txnId).first().isEqualTo(crashedTxn);
    assertThat(table.rows()).isEqualTo(7);
    assertThat(table.published.keySet()).containsExactly(1L, 2L);
    assertThat(log.pending(APP)).isEmpty();
  }

  /** Eight containers on eight lanes at once: every commit lands once, none conflicts, the seqs have no gap. */
  @Test
  void concurrentLanesNeverConflictAndEveryCommitTakesOneSeq() throws Exception {
    int lanes = 8;
    int batches = 25;
    ExecutorService pool = Executors.newFixedThreadPool(lanes);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<List<BatchOutcome>>> futures = new ArrayList<>();
    for (int lane = 0; lane < lanes; lane++) {
      String shard = "shard-" + lane;
      Container container = new Container(false);
      futures.add(pool.submit(() -> {
        start.await();
        List<BatchOutcome> outcomes = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
          outcomes.add(container.process(batch(shard, b * 2 + 1, b * 2 + 2)));
        }
        return outcomes;
      }));
    }
    start.countDown();
    Set<Long> seqs = new HashSet<>();
    long conflicts = 0;
    for (Future<List<BatchOutcome>> future : futures) {
      for (BatchOutcome outcome : future.get(60, TimeUnit.SECONDS)) {
        seqs.add(outcome.seq());
        conflicts += outcome.conflicts();
      }
    }
    pool.shutdown();

    assertThat(conflicts).isZero();
    assertThat(seqs).hasSize(lanes * batches);
    assertThat(seqs).allSatisfy(seq -> assertThat(seq).isBetween(1L, (long) lanes * batches));
    assertThat(table.rows()).isEqualTo(lanes * batches * 2L);
    assertThat(log.read(APP, List.of()).headSeq()).isEqualTo(lanes * batches);
    assertThat(log.pending(APP)).isEmpty();
  }

  private static CommitRecord commit(String txn, String lane, String previous, String last, long atMs) {
    return new CommitRecord(0, txn, List.of(new LaneRange(lane, previous, last, 1)),
        new CommitStages(null, null, null, null, List.of()), new CommitCounts(1, 0, 1, 0), atMs);
  }
}
