package io.spindrift.protocol;

import static io.spindrift.protocol.ProtocolFakes.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.InMemoryCommitLog;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.protocol.ProtocolFakes.FakeMicroBatch;
import io.spindrift.protocol.ProtocolFakes.FakeState;
import io.spindrift.protocol.ProtocolFakes.FakeTable;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import io.spindrift.state.StateBucket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The protocol of DESIGN §5 on an in-memory commit log, a fake micro-batch and a fake table: every crash point,
 * both kinds of conflict and both publishing strategies, in milliseconds. The same behaviours run end to end on the
 * local stack in tests/ (ExactlyOnceTest, ConcurrencyTest, DeferredPublishTest, StatefulBehaviourTest).
 */
class CommitProtocolTest {
  private static final String APP = "orders";
  private final InMemoryCommitLog log = new InMemoryCommitLog();
  private final FakeTable table = new FakeTable();
  private final FakeTable rejects = new FakeTable();

  /** A container: its own protocol over the shared log and table. */
  private final class Container {
    final FakeMicroBatch microBatch;
    final Faults faults = new Faults();
    final CommitProtocol protocol;

    Container(boolean stateful, FakeState state, boolean deferred) {
      microBatch = new FakeMicroBatch(stateful);
      protocol = CommitProtocol.builder(APP, log).microBatch(microBatch).sinks(table, rejects).state(state)
          .faults(faults).maxAttempts(4).deferredPublishing(deferred).build();
    }

    BatchOutcome process(Batch batch) {
      return protocol.process(batch);
    }
  }

  private Container container() {
    return new Container(false, null, false);
  }

  private LogSnapshot head(String... lanes) {
    return log.read(APP, List.of(lanes));
  }

  @Test
  void aBatchIsCommittedAndPublishedOnceAndItsRedeliveryChangesNothing() {
    Container container = container();
    BatchOutcome first = container.process(batch("shard-0", 1, 3));
    BatchOutcome again = container.process(batch("shard-0", 1, 3));

    assertThat(first.seq()).isEqualTo(1);
    assertThat(first.outputRows()).isEqualTo(3);
    assertThat(again.seq()).as("nothing new to commit").isZero();
    assertThat(again.duplicates()).isEqualTo(3);
    assertThat(table.rows()).isEqualTo(3);
    assertThat(head("kinesis:clicks/shard-0").lanePositions()).containsEntry("kinesis:clicks/shard-0", "3");
  }

  @Test
  void aBisectedRetryCommitsOnlyTheRecordsAfterTheLanePosition() {
    Container container = container();
    container.process(batch("shard-0", 1, 3));
    BatchOutcome overlapping = container.process(batch("shard-0", 2, 6));

    assertThat(overlapping.duplicates()).isEqualTo(2);
    assertThat(overlapping.outputRows()).isEqualTo(3);
    assertThat(table.rows()).isEqualTo(6);
  }

  @Test
  void crashBeforeOrAfterStagingLeavesNothingCommittedAndTheRetryCommitsOnce() {
    for (FaultPoint point : List.of(FaultPoint.BEFORE_STAGE, FaultPoint.AFTER_STAGE)) {
      InMemoryCommitLog fresh = new InMemoryCommitLog();
      FakeTable freshTable = new FakeTable();
      Faults faults = new Faults();
      CommitProtocol protocol = CommitProtocol.builder(APP, fresh).microBatch(new FakeMicroBatch(false))
          .sinks(freshTable, new FakeTable()).faults(faults).build();
      faults.arm(point, 1);

      assertThatThrownBy(() -> protocol.process(batch("shard-0", 1, 5))).isInstanceOf(InjectedCrash.class)
          .hasMessageContaining(point.name());
      assertThat(fresh.read(APP, List.of()).headSeq()).as(point + ": nothing committed").isZero();
      assertThat(protocol.process(batch("shard-0", 1, 5)).seq()).isEqualTo(1);
      assertThat(freshTable.rows()).as(point + ": the retry's rows, once").isEqualTo(5);
    }
  }

  @Test
  void crashAfterCommitIsRolledForwardByAnotherContainerOnAnotherLane() {
    Container dying = container();
    dying.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> dying.process(batch("shard-0", 1, 4))).isInstanceOf(InjectedCrash.class);
    assertThat(head().headSeq()).as("committed").isEqualTo(1);
    assertThat(table.rows()).as("not yet published").isZero();

    Container other = container();
    BatchOutcome outcome = other.process(batch("shard-1", 1, 2));
    assertThat(outcome.published()).as("the rolled-forward commit and its own").isEqualTo(2);
    assertThat(table.rows()).isEqualTo(6);

    BatchOutcome retried = other.process(batch("shard-0", 1, 4));
    assertThat(retried.duplicates()).as("Lambda's retry of the crashed batch").isEqualTo(4);
    assertThat(table.rows()).isEqualTo(6);
    assertThat(table.published.keySet()).containsExactly(1L, 2L);
  }

  @Test
  void crashMidPublishIsFinishedByTheNextInvocationWithoutPublishingTheTableTwice() {
    Container container = container();
    container.faults.arm(FaultPoint.MID_PUBLISH, 1);
    assertThatThrownBy(() -> container.process(batch("shard-0", 1, 3))).isInstanceOf(InjectedCrash.class);

    container.process(batch("shard-0", 1, 3));
    Container another = container();
    another.process(batch("shard-1", 1, 1));
    assertThat(table.rows()).isEqualTo(4);
    assertThat(table.published.keySet()).containsExactly(1L, 2L);
  }

  /** A table whose publish waits (at most 10 s) until the rejects' publish has begun, and says whether it had. */
  private static final class WaitingTable implements Sink {
    final FakeTable inner = new FakeTable();
    final CountDownLatch rejectsBegun = new CountDownLatch(1);
    final AtomicBoolean overlapped = new AtomicBoolean();

    @Override
    public StagedOutput stage(String txnId, StageRows rows) {
      return inner.stage(txnId, rows);
    }

    @Override
    public List<Long> publish(List<PendingPublish> pending) {
      try {
        overlapped.set(rejectsBegun.await(10, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return inner.publish(pending);
    }

    @Override
    public boolean isPublished(String app, long seq) {
      return inner.isPublished(app, seq);
    }
  }

  /** Rejects whose publish begins at once and commits once {@code beforeCommit} returns, noting the table then. */
  private static final class GatedRejects implements Sink {
    final FakeTable inner = new FakeTable();
    final WaitingTable table;
    final AtomicBoolean tableHeldAtCommit = new AtomicBoolean();

    GatedRejects(WaitingTable table) {
      this.table = table;
    }

    @Override
    public StagedOutput stage(String txnId, StageRows rows) {
      return inner.stage(txnId, rows);
    }

    @Override
    public List<Long> publish(List<PendingPublish> pending) {
      return inner.publish(pending);
    }

    @Override
    public List<Long> publish(List<PendingPublish> pending, long deadlineNanos, Runnable beforeCommit) {
      table.rejectsBegun.countDown();
      beforeCommit.run();
      tableHeldAtCommit.set(pending.stream().allMatch(p -> table.isPublished(APP, p.tag().seq())));
      return inner.publish(pending);
    }

    @Override
    public boolean isPublished(String app, long seq) {
      return inner.isPublished(app, seq);
    }
  }

  @Test
  void theRejectsArePublishedBesideTheTableAndCommitOnlyAfterIt() {
    WaitingTable slowTable = new WaitingTable();
    GatedRejects gated = new GatedRejects(slowTable);
    FakeMicroBatch microBatch = new FakeMicroBatch(false);
    microBatch.rejectOne = true;
    CommitProtocol protocol = CommitProtocol.builder(APP, log).microBatch(microBatch).sinks(slowTable, gated).build();

    protocol.process(batch("shard-0", 1, 3));
    assertThat(slowTable.overlapped).as("the rejects' publish began while the table's ran").isTrue();
    assertThat(gated.tableHeldAtCommit).as("the rejects committed after the table").isTrue();
    assertThat(slowTable.inner.published.keySet()).containsExactly(1L);
    assertThat(gated.inner.published.keySet()).containsExactly(1L);
  }

  @Test
  void aCrashBetweenTheTableAndTheRejectsLeavesTheRejectsUncommittedAndTheRetryPublishesThemOnce() {
    WaitingTable slowTable = new WaitingTable();
    GatedRejects gated = new GatedRejects(slowTable);
    FakeMicroBatch microBatch = new FakeMicroBatch(false);
    microBatch.rejectOne = true;
    Faults faults = new Faults();
    faults.arm(FaultPoint.MID_PUBLISH, 1);
    CommitProtocol protocol = CommitProtocol.builder(APP, log).microBatch(microBatch).sinks(slowTable, gated)
        .faults(faults).build();

    assertThatThrownBy(() -> protocol.process(batch("shard-0", 1, 3))).isInstanceOf(InjectedCrash.class);
    assertThat(slowTable.overlapped).isTrue();
    assertThat(slowTable.inner.published.keySet()).containsExactly(1L);
    assertThat(gated.inner.published).as("the rejects' publish began but did not commit").isEmpty();

    protocol.process(batch("shard-0", 1, 3));
    assertThat(slowTable.inner.published.keySet()).containsExactly(1L);
    assertThat(gated.inner.published.keySet()).containsExactly(1L);
  }

  @Test
  void aConflictOnTheHeadAloneIsRebasedWithoutRunningTheBatchAgain() {
    Container first = container();
    Container second = container();
    first.microBatch.duringRun = fresh -> {
      first.microBatch.duringRun = b -> {};
      second.process(batch("shard-1", 1, 2));
    };
    BatchOutcome outcome = first.process(batch("shard-0", 1, 3));

    assertThat(outcome.conflicts()).isEqualTo(1);
    assertThat(outcome.seq()).as("rebased past the other lane's commit").isEqualTo(2);
    assertThat(first.microBatch.runs).hasValue(1);
    assertThat(table.rows()).isEqualTo(5);
  }

  @Test
  void aDuplicateDeliveryThatCommitsTheSameLaneFirstMakesTheOtherRerunAndFindOnlyDuplicates() {
    Container original = container();
    Container duplicate = container();
    original.microBatch.duringRun = fresh -> {
      original.microBatch.duringRun = b -> {};
      duplicate.process(batch("shard-0", 1, 3));
    };
    BatchOutcome outcome = original.process(batch("shard-0", 1, 3));

    assertThat(outcome.conflicts()).isEqualTo(1);
    assertThat(outcome.seq()).as("nothing left to commit after the re-run's read").isZero();
    assertThat(outcome.duplicates()).isEqualTo(3);
    assertThat(table.rows()).isEqualTo(3);
  }

  @Test
  void aStatefulBatchIsNeverRebasedAndItsStateIsAppliedOnceAfterACrashMidApply() {
    FakeState state = new FakeState();
    Container first = new Container(true, state, false);
    Container second = new Container(true, state, false);
    first.microBatch.duringRun = fresh -> {
      first.microBatch.duringRun = b -> {};
      second.process(batch("shard-1", 1, 1));
    };
    BatchOutcome rerun = first.process(batch("shard-0", 1, 2));
    assertThat(rerun.conflicts()).isEqualTo(1);
    assertThat(first.microBatch.runs).as("re-run on the new head").hasValue(2);

    first.faults.arm(FaultPoint.MID_STATE_APPLY, 1);
    assertThatThrownBy(() -> first.process(batch("shard-0", 3, 3))).isInstanceOf(InjectedCrash.class);
    StateBucket bucket = new StateBucket(0, "default", 0);
    assertThat(state.markers.get(bucket)).as("the crashed apply raised no marker").isEqualTo(2);

    first.process(batch("shard-1", 2, 2));
    assertThat(state.markers.get(bucket)).isEqualTo(4);
    assertThat(table.published.keySet()).containsExactly(1L, 2L, 3L, 4L);
    List<CommitRecord> commits = log.commits(APP, 0, 4);
    assertThat(commits).allSatisfy(commit -> assertThat(commit.stages().stateBuckets()).containsExactly(bucket));
    assertThat(log.read(APP, Set.of()).checkpoint()).as("the head carries the query checkpoint").isNotNull();
  }

  @Test
  void deferredPublishingRespondsAfterTheCommitAndAFailedPublishIsRolledForwardLater() {
    Container container = new Container(false, null, true);
    table.failNext.set(1);
    BatchOutcome outcome = container.process(batch("shard-0", 1, 3));
    assertThat(outcome.seq()).isEqualTo(1);
    assertThat(container.protocol.awaitPublication()).as("the background publish failed").isFalse();
    assertThat(table.rows()).isZero();

    container.process(batch("shard-0", 4, 5));
    assertThat(container.protocol.awaitPublication()).isTrue();
    assertThat(table.rows()).isEqualTo(5);
    assertThat(table.published.keySet()).containsExactly(1L, 2L);
  }

  @Test
  void aFailedBatchNamesTheAppItsLaneRangesSeqAndTransaction() {
    Container container = container();
    container.process(batch("shard-0", 1, 3));
    container.microBatch.failWith = new IllegalStateException("the job divided by zero");

    assertThatThrownBy(() -> container.process(batch("shard-0", 2, 7)))
        .isInstanceOf(BatchFailedException.class)
        .hasMessageContaining("app 'orders'")
        .hasMessageContaining("kinesis:clicks/shard-0=(3,7]#4")
        .hasMessageContaining("seq 2")
        .hasMessageContaining("txn ")
        .hasMessageContaining("the job divided by zero");
    assertThat(head().headSeq()).isEqualTo(1);
  }

  @Test
  void aBatchThatNeverWinsItsLaneFailsNamingTheAttemptsSetting() {
    Container loser = container();
    Container winner = container();
    int[] position = {0};
    loser.microBatch.duringRun = fresh -> {
      position[0] += 1;
      winner.process(batch("shard-0", position[0], position[0]));
    };

    assertThatThrownBy(() -> loser.process(batch("shard-0", 1, 100)))
        .isInstanceOf(BatchFailedException.class)
        .hasMessageContaining("SPINDRIFT_MAX_COMMIT_ATTEMPTS");
    assertThat(loser.microBatch.runs).hasValue(4);
    assertThat(table.rows()).as("only the winner's records").isEqualTo(4);
  }
  @Test
  void theScheduledRollForwardPublishesWhatACrashedContainerLeftAndReportsItsAge() {
    Container dying = new Container(false, null, true);
    dying.faults.arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> dying.process(batch("shard-0", 1, 4))).isInstanceOf(InjectedCrash.class);

    CommitProtocol scheduled = CommitProtocol.builder(APP, log).sinks(table, rejects).buildPublisher();
    RollForward tick = scheduled.rollForwardAll();
    assertThat(tick.unpublished()).isEqualTo(1);
    assertThat(tick.published()).isEqualTo(1);
    assertThat(tick.oldestUnpublishedAgeMs()).isGreaterThanOrEqualTo(0);
    assertThat(table.rows()).isEqualTo(4);
    assertThat(log.read(APP, List.of()).publishedSeq()).isEqualTo(1);
    assertThat(scheduled.rollForwardAll().unpublished()).isZero();
    assertThatThrownBy(() -> scheduled.process(batch("shard-0", 5, 5))).hasMessageContaining("only publishes");
  }
}
