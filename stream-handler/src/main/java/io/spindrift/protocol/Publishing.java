package io.spindrift.protocol;

import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.LogSnapshot;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When committed output reaches the table (SPINDRIFT_PUBLISH): {@link Inline} publishes before the invocation
 * responds; {@link Deferred} responds once the commit is durable and publishes on the container's publisher thread
 * (I1 lets the table lag the log). Both publish through one {@link Publication}; a publish that fails changes
 * nothing durable, and the commit stays for the next roll-forward in any container.
 */
sealed interface Publishing extends AutoCloseable permits Publishing.Inline, Publishing.Deferred {
  /** Runs before step 1 of each attempt. */
  default void beforeRead(Map<String, Long> timings) {}

  /** True when step 2 (roll forward) runs before the Spark work; false when it overlaps it and runs after. */
  boolean rollsForwardBeforeRun();

  /**
   * Step 2: publishes the commits before {@code snapshot}'s head; returns how many this call published. With group
   * publishing, when another invocation holds the publish claim, {@code ownCommitFollows} (the batch goes on to
   * commit) leaves them to the holder and to the batch's own step 5; otherwise (a batch of duplicates, e.g. the
   * retry of a crashed commit) this call waits for them until {@code deadlineNanos}.
   */
  int rollForward(LogSnapshot snapshot, boolean ownCommitFollows, long deadlineNanos, Map<String, Long> timings);

  /**
   * Step 5: publishes {@code committed} (and anything pending before it), or waits until {@code deadlineNanos}
   * ({@link System#nanoTime()} scale; {@link Long#MAX_VALUE}: none) for another invocation's group publish to.
   */
  Result publish(long publishedSeq, CommitRecord committed, long deadlineNanos, Map<String, Long> timings);

  /** What step 5 did: the outcome for the invocation, how many commits it published, how long it waited (ms). */
  record Result(PublishOutcome outcome, int published, long waitedMs) {}

  /** Waits for publishes in flight; false if the last one failed (its commits wait for a roll-forward). */
  boolean await();

  @Override
  void close();

  /**
   * Publishes before the response: by itself, or, given a {@link GroupPublisher}, as one group with the other
   * invocations committing at the same time: one publishes, the others wait for it. A stateful batch's roll-forward
   * always waits for the backlog (its state must be applied before the batch reads state): the claim's holder
   * applies it once for every waiting lane, where each lane used to apply every other lane's deltas itself.
   */
  final class Inline implements Publishing {
    private final Publication publication;
    private final GroupPublisher group;
    private final boolean stateful;

    /**
     * @param group the app's group publish (null: every invocation publishes its own backlog itself)
     * @param stateful the job keeps state: step 2 must leave the backlog applied before the batch runs
     */
    Inline(Publication publication, GroupPublisher group, boolean stateful) {
      this.publication = publication;
      this.group = group;
      this.stateful = stateful;
    }

    @Override
    public boolean rollsForwardBeforeRun() {
      return true;
    }

    @Override
    public int rollForward(LogSnapshot snapshot, boolean ownCommitFollows, long deadlineNanos,
        Map<String, Long> timings) {
      if (group == null) {
        return publication.rollForward(snapshot.publishedSeq(), snapshot.headSeq(), timings);
      }
      if (!snapshot.hasUnpublished()) {
        return 0;
      }
      if (!stateful) {
        return group.publishThrough(snapshot.headSeq(), null, !ownCommitFollows, deadlineNanos, timings)
            .published();
      }
      Result waited = group.publishThrough(snapshot.headSeq(), null, true, deadlineNanos, timings);
      if (waited.outcome() == PublishOutcome.UNPUBLISHED) {
        // the holder did not finish in the time the wait had: the batch may not read state before the backlog is
        // applied, so it applies it itself, as without a group (idempotent beside the holder's publish)
        return publication.rollForward(snapshot.publishedSeq(), snapshot.headSeq(), timings);
      }
      return waited.published();
    }

    @Override
    public Result publish(long publishedSeq, CommitRecord committed, long deadlineNanos, Map<String, Long> timings) {
      if (group != null) {
        return group.publishThrough(committed.seq(), committed, true, deadlineNanos, timings);
      }
      int published = publication.publishThrough(publishedSeq, committed, timings);
      publication.afterPublish(deadlineNanos, timings);
      return new Result(published > 0 ? PublishOutcome.PUBLISHED : PublishOutcome.PUBLISHED_BY_ANOTHER, published, 0);
    }

    @Override
    public boolean await() {
      publication.awaitMark();
      return true;
    }

    @Override
    public void close() {
      try {
        if (group != null) {
          group.close();
        }
      } finally {
        publication.close();
      }
    }
  }

  /**
   * Publishes after the response, on one publisher thread. The next invocation joins that publish and rolls
   * forward whatever it left: a stateless batch after its Spark work and before its commit (so the publish
   * overlaps the Spark work, also in a container frozen between invocations), a stateful batch before it reads
   * state (state deltas are applied by the publish).
   */
  final class Deferred implements Publishing {
    private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.publish");
    private final String app;
    private final Publication publication;
    private final boolean stateful;
    private ExecutorService publisher;
    private volatile Future<?> last = CompletableFuture.completedFuture(null);

    Deferred(String app, Publication publication, boolean stateful) {
      this.app = app;
      this.publication = publication;
      this.stateful = stateful;
    }

    @Override
    public void beforeRead(Map<String, Long> timings) {
      if (stateful) {
        join(timings);
      }
    }

    @Override
    public boolean rollsForwardBeforeRun() {
      return stateful;
    }

    @Override
    public int rollForward(LogSnapshot snapshot, boolean ownCommitFollows, long deadlineNanos,
        Map<String, Long> timings) {
      join(timings);
      return publication.rollForward(snapshot.publishedSeq(), snapshot.headSeq(), timings);
    }

    @Override
    public synchronized Result publish(long publishedSeq, CommitRecord committed, long deadlineNanos,
        Map<String, Long> ignored) {
      if (publisher == null || publisher.isShutdown()) {
        publisher = Publication.daemonThread("spindrift-publish-" + app);
      }
      last = publisher.submit(() -> {
        Map<String, Long> timings = new LinkedHashMap<>();
        try {
          publication.publishThrough(publishedSeq, committed, timings);
          publication.afterPublish(Long.MAX_VALUE, timings);
          LOG.info("{\"app\":\"{}\",\"publishedThrough\":{},\"deferred\":true,\"timingsMs\":{}}", app,
              committed.seq(), timings.getOrDefault("publish", 0L));
        } catch (RuntimeException e) {
          LOG.warn("Deferred publish of {} through seq {} failed; the commit stays in the log and the next"
              + " invocation's roll-forward publishes it: {}", app, committed.seq(), e.toString());
          throw e;
        }
        return null;
      });
      return new Result(PublishOutcome.DEFERRED, 0, 0);
    }

    /** Waits for the deferred publishes scheduled so far; whatever they left undone, the roll-forward does. */
    private void join(Map<String, Long> timings) {
      long start = System.nanoTime();
      await();
      timings.merge("publish_join", Publication.ms(start), Long::sum);
    }

    @Override
    public boolean await() {
      try {
        last.get(Publication.DRAIN_TIMEOUT_MINUTES, TimeUnit.MINUTES);
        return true;
      } catch (ExecutionException failed) {
        return false;
      } catch (TimeoutException e) {
        throw new IllegalStateException("A deferred publish of " + app + " did not finish in "
            + Publication.DRAIN_TIMEOUT_MINUTES + " minutes", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while waiting for a deferred publish of " + app, e);
      } finally {
        publication.awaitMark();
      }
    }

    @Override
    public void close() {
      try {
        await();
      } finally {
        synchronized (this) {
          if (publisher != null) {
            publisher.shutdown();
          }
        }
        publication.close();
      }
    }
  }
}
