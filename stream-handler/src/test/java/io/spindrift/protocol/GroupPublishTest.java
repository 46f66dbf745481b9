package io.spindrift.protocol;

import static io.spindrift.protocol.ProtocolFakes.batch;
import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.commit.InMemoryCommitLog;
import io.spindrift.commit.InMemoryPublishClaim;
import io.spindrift.commit.PublishClaim;
import io.spindrift.protocol.ProtocolFakes.FakeMicroBatch;
import io.spindrift.protocol.ProtocolFakes.FakeTable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Group publishing (SPINDRIFT_PUBLISH_GROUP=on): of several invocations whose commits wait to be published, the one
 * holding the app's publish claim publishes all of them in one table commit and the others wait for the publication
 * watermark and return; a claim whose holder died is taken over once it expires; a wait ends before the invocation's
 * time does, leaving the commit durable for the next roll-forward.
 */
class GroupPublishTest {
  private static final String APP = "orders";
  private static final long CLAIM_MS = 10_000;
  private static final long MARGIN_MS = 100;
  private final InMemoryCommitLog log = new InMemoryCommitLog();
  private final AtomicLong clock = new AtomicLong(1_000_000);
  private final CountingClaim claims = new CountingClaim(new InMemoryPublishClaim(clock::get));
  private final FakeTable table = new FakeTable();
  private final FakeTable rejects = new FakeTable();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  private final class Container {
    final FakeMicroBatch microBatch = new FakeMicroBatch(false);
    final Faults faults = new Faults();
    final CommitProtocol protocol = CommitProtocol.builder(APP, log).microBatch(microBatch).sinks(table, rejects)
        .faults(faults).laneCommits(true).groupPublish(claims, CLAIM_MS, MARGIN_MS).build();
  }

  /** Four lanes commit at once (held after their lane commits until all four have one): one table commit. */
  @Test
  void fourLanesCommittingAtOncePublishInOneTableCommitAndTheOthersWaitForIt() throws Exception {
    int lanes = 4;
    CyclicBarrier allCommitted = new CyclicBarrier(lanes);
    List<Future<BatchOutcome>> calls = new ArrayList<>();
    for (int lane = 0; lane < lanes; lane++) {
      Container container = new Container();
      container.faults.holdAt(FaultPoint.AFTER_COMMIT, () -> await(allCommitted));
      String shard = "shard-" + lane;
      int records = lane + 1;
      calls.add(pool.submit(() -> container.protocol.process(batch(shard, 1, records))));
    }
    List<BatchOutcome> outcomes = new ArrayList<>();
    for (Future<BatchOutcome> call : calls) {
      outcomes.add(call.get(30, TimeUnit.SECONDS));
    }

    assertThat(table.publishCalls).as("one table commit for the four commits").hasValue(1);
    assertThat(table.published.keySet()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(table.rows()).isEqualTo(1 + 2 + 3 + 4);
    assertThat(outcomes).extracting(BatchOutcome::publication).containsExactlyInAnyOrder(PublishOutcome.PUBLISHED,
        PublishOutcome.PUBLISHED_BY_ANOTHER, PublishOutcome.PUBLISHED_BY_ANOTHER,
        PublishOutcome.PUBLISHED_BY_ANOTHER);
    assertThat(outcomes).filteredOn(o -> o.publication() == PublishOutcome.PUBLISHED).singleElement()
        .satisfies(o -> assertThat(o.published()).isEqualTo(4));
    assertThat(log.read(APP, List.of()).publishedSeq()).as("raised before the claim was released").isEqualTo(4);
    assertThat(claims.read(APP)).as("released").isNull();
  }

  /**
   * The holder runs the tables' upkeep ({@code Sink.afterPublish}) once it has marked the publication, still
   * holding the claim (commits made meanwhile gather for the next holder): the waiter returns while the upkeep runs,
   * and the claim is released after it.
   */
  @Test
  void theHolderRunsTheTablesUpkeepAfterMarkingThePublicationWhileTheWaiterReturns() throws Exception {
    CountDownLatch upkeepMayEnd = new CountDownLatch(1);
    List<Long> claimedDuringUpkeep = new ArrayList<>();
    table.upkeep = () -> {
      PublishClaim.Claim claim = claims.read(APP);
      claimedDuringUpkeep.add(claim == null ? -1 : claim.through());
      try {
        assertThat(upkeepMayEnd.await(30, TimeUnit.SECONDS)).as("the test ends the upkeep").isTrue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    CyclicBarrier bothCommitted = new CyclicBarrier(2);
    List<CompletableFuture<BatchOutcome>> calls = new ArrayList<>();
    for (int lane = 0; lane < 2; lane++) {
      Container container = new Container();
      container.faults.holdAt(FaultPoint.AFTER_COMMIT, () -> await(bothCommitted));
      String shard = "shard-" + lane;
      int records = lane + 2;
      calls.add(CompletableFuture.supplyAsync(() -> container.protocol.process(batch(shard, 1, records)), pool));
    }

    pollUntil(() -> table.upkeeps.get() == 1, "the holder's upkeep starts");
    CompletableFuture<Object> first = CompletableFuture.anyOf(calls.toArray(CompletableFuture[]::new));
    BatchOutcome waiter = (BatchOutcome) first.get(30, TimeUnit.SECONDS);
    assertThat(waiter.publication()).as("the waiter returned while the upkeep ran")
        .isEqualTo(PublishOutcome.PUBLISHED_BY_ANOTHER);
    assertThat(calls).filteredOn(call -> !call.isDone()).as("the holder, in its upkeep").hasSize(1);
    assertThat(claimedDuringUpkeep).as("the claim, held by the holder during the upkeep").singleElement()
        .satisfies(through -> assertThat(through).isPositive());
    assertThat(log.read(APP, List.of()).publishedSeq()).as("marked before the upkeep").isEqualTo(2);
    assertThat(table.rows()).isEqualTo(2 + 3);
    upkeepMayEnd.countDown();

    BatchOutcome holder = calls.stream().filter(call -> call.join() != waiter).findFirst().orElseThrow().join();
    assertThat(holder.publication()).isEqualTo(PublishOutcome.PUBLISHED);
    assertThat(holder.published()).isEqualTo(2);
    assertThat(holder.timingsMs()).containsKey("publish_upkeep");
    assertThat(table.upkeeps).as("once, by the holder").hasValue(1);
    assertThat(rejects.upkeeps).hasValue(1);
    assertThat(claims.read(APP)).as("released after the upkeep").isNull();
  }

  /**
   * A waiter reads the watermark (its commit not yet in), the holder then publishes its commit, raises the
   * watermark and releases the claim, and only then does the waiter read the claim: free, so it takes it and finds
   * nothing left to publish. Its commit was published by another invocation, and it says so (it said PUBLISHED
   * with 0 commits, once in a CI run of the four-lane test above).
   */
  @Test
  void aWaiterThatFindsTheClaimFreeAfterItsCommitWasPublishedSaysAnotherPublishedIt() throws Exception {
    CountDownLatch waiterSawItHeld = new CountDownLatch(1);
    CountDownLatch holderReleased = new CountDownLatch(1);
    AtomicInteger heldReads = new AtomicInteger();
    claims.released = holderReleased::countDown;
    claims.whileHeld = () -> {
      if (heldReads.incrementAndGet() == 1) {
        waiterSawItHeld.countDown();
        await(holderReleased);
      }
    };
    CyclicBarrier bothCommitted = new CyclicBarrier(2);
    List<Future<BatchOutcome>> calls = new ArrayList<>();
    for (int lane = 0; lane < 2; lane++) {
      Container container = new Container();
      container.faults.holdAt(FaultPoint.AFTER_COMMIT, () -> await(bothCommitted));
      // the holder, its table commit made, goes on to raise the watermark once the waiter has seen the claim held
      container.faults.holdAt(FaultPoint.MID_PUBLISH, () -> await(waiterSawItHeld));
      String shard = "shard-" + lane;
      int records = lane + 2;
      calls.add(pool.submit(() -> container.protocol.process(batch(shard, 1, records))));
    }
    List<BatchOutcome> outcomes = new ArrayList<>();
    for (Future<BatchOutcome> call : calls) {
      outcomes.add(call.get(30, TimeUnit.SECONDS));
    }

    assertThat(heldReads).as("the waiter read the claim while it was held").hasPositiveValue();
    assertThat(claims.takes).as("the holder's, and the waiter's once it was free").hasValue(2);
    assertThat(table.publishCalls).as("one table commit").hasValue(1);
    assertThat(table.rows()).isEqualTo(2 + 3);
    assertThat(outcomes).extracting(BatchOutcome::publication)
        .containsExactlyInAnyOrder(PublishOutcome.PUBLISHED, PublishOutcome.PUBLISHED_BY_ANOTHER);
    assertThat(outcomes).filteredOn(o -> o.publication() == PublishOutcome.PUBLISHED_BY_ANOTHER).singleElement()
        .satisfies(o -> assertThat(o.published()).isZero());
    assertThat(claims.read(APP)).as("released").isNull();
  }

  @Test
  void anInvocationAloneTakesTheClaimPublishesItsCommitAndReleasesIt() {
    BatchOutcome outcome = new Container().protocol.process(batch("shard-0", 1, 3));

    assertThat(outcome.publication()).isEqualTo(PublishOutcome.PUBLISHED);
    assertThat(outcome.published()).isEqualTo(1);
    assertThat(table.rows()).isEqualTo(3);
    assertThat(claims.takes).hasValue(1);
    assertThat(claims.read(APP)).isNull();
    assertThat(log.read(APP, List.of()).publishedSeq()).isEqualTo(1);
  }

  /** The holder died (its claim is never renewed nor released): once it expires, the waiter takes over. */
  @Test
  void aClaimWhoseHolderDiedIsTakenOverOnceItExpires() throws Exception {
    assertThat(claims.tryTake(APP, "dead-container", 0, CLAIM_MS)).isTrue();
    Container container = new Container();
    CompletableFuture<BatchOutcome> call = CompletableFuture.supplyAsync(
        () -> container.protocol.process(batch("shard-0", 1, 5)), pool);

    pollUntil(() -> claims.reads.get() >= 3, "the invocation waits on the dead container's claim");
    assertThat(call).isNotDone();
    assertThat(table.rows()).isZero();
    clock.addAndGet(CLAIM_MS + 1);
    BatchOutcome outcome = call.get(30, TimeUnit.SECONDS);

    assertThat(outcome.publication()).isEqualTo(PublishOutcome.PUBLISHED);
    assertThat(outcome.timingsMs()).containsKey("publish_wait");
    assertThat(table.rows()).isEqualTo(5);
    assertThat(claims.read(APP)).as("released by its new holder").isNull();
  }

  /**
   * Another invocation holds a live claim past this one's deadline: the invocation returns in time, its commit
   * durable and unpublished, and the next invocation rolls it forward before its own.
   */
  @Test
  void aWaitEndsBeforeTheInvocationsTimeAndTheNextInvocationPublishesTheCommit() {
    assertThat(claims.tryTake(APP, "slow-container", 0, CLAIM_MS)).isTrue();
    Container container = new Container();
    long start = System.nanoTime();
    BatchOutcome outcome = container.protocol.process(batch("shard-0", 1, 4),
        start + TimeUnit.MILLISECONDS.toNanos(MARGIN_MS + 300));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    assertThat(outcome.publication()).isEqualTo(PublishOutcome.UNPUBLISHED);
    assertThat(outcome.seq()).as("committed").isEqualTo(1);
    assertThat(tookMs).as("returned before the deadline").isLessThan(400);
    assertThat(outcome.timingsMs().get("publish_wait")).isPositive();
    assertThat(table.rows()).isZero();

    claims.release(APP, "slow-container");
    BatchOutcome next = container.protocol.process(batch("shard-1", 1, 2));
    assertThat(next.publication()).isEqualTo(PublishOutcome.PUBLISHED);
    assertThat(next.published()).as("the backlog in step 2, its own commit in step 5").isEqualTo(2);
    assertThat(table.published.keySet()).containsExactly(1L, 2L);
    assertThat(table.rows()).isEqualTo(6);
  }

  /** A retried batch (all duplicates) whose commit was not published waits for the holder to publish it. */
  @Test
  void aRetryOfAnUnpublishedCommitPublishesItOnceTheClaimIsFree() {
    Container crashed = new Container();
    crashed.faults.arm(FaultPoint.MID_PUBLISH, 1);
    try {
      crashed.protocol.process(batch("shard-0", 1, 3));
    } catch (InjectedCrash expected) {
      // the container died after the table commit, before the rejects and the watermark
    }
    assertThat(claims.read(APP)).as("a crash inside the protocol still releases (a real one lets it expire)")
        .isNull();

    BatchOutcome retried = new Container().protocol.process(batch("shard-0", 1, 3));
    assertThat(retried.duplicates()).isEqualTo(3);
    assertThat(table.rows()).as("published once").isEqualTo(3);
    assertThat(log.read(APP, List.of()).publishedSeq()).isEqualTo(1);
  }

  /** Deferred publishing ignores the claim: it publishes as before. */
  @Test
  void deferredPublishingDoesNotTakeTheClaim() {
    CommitProtocol deferred = CommitProtocol.builder(APP, log).microBatch(new FakeMicroBatch(false))
        .sinks(table, rejects).laneCommits(true).deferredPublishing(true).groupPublish(claims, CLAIM_MS, MARGIN_MS)
        .build();
    BatchOutcome outcome = deferred.process(batch("shard-0", 1, 2));
    assertThat(deferred.awaitPublication()).isTrue();

    assertThat(outcome.publication()).isEqualTo(PublishOutcome.DEFERRED);
    assertThat(table.rows()).isEqualTo(2);
    assertThat(claims.takes).hasValue(0);
    deferred.close();
  }

  private static void await(CyclicBarrier barrier) {
    try {
      barrier.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(30, TimeUnit.SECONDS)).as("latch opened").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void pollUntil(java.util.function.BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }

  /** A claim that counts its reads and successful takes. */
  private static final class CountingClaim implements PublishClaim {
    final PublishClaim claim;
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger takes = new AtomicInteger();

    CountingClaim(PublishClaim claim) {
      this.claim = claim;
    }

    /** Runs when a read finds the claim held (only waiters read it then), before the read that is returned. */
    volatile Runnable whileHeld = () -> { };
    /** Runs after a release. */
    volatile Runnable released = () -> { };

    @Override
    public Claim read(String app) {
      reads.incrementAndGet();
      if (claim.read(app) != null) {
        whileHeld.run();
      }
      return claim.read(app);
    }

    @Override
    public boolean tryTake(String app, String owner, long through, long durationMs) {
      boolean taken = claim.tryTake(app, owner, through, durationMs);
      if (taken) {
        takes.incrementAndGet();
      }
      return taken;
    }

    @Override
    public boolean renew(String app, String owner, long durationMs) {
      return claim.renew(app, owner, durationMs);
    }

    @Override
    public void release(String app, String owner) {
      claim.release(app, owner);
      released.run();
    }
  }
}
