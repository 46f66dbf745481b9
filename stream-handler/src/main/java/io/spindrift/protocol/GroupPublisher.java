package io.spindrift.protocol;

import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.commit.PublishClaim;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 5 for an app publishing inline when several invocations commit at once: one of them takes the app's
 * {@link PublishClaim}, sequences the lane (or bucket) commits still pending, re-reads the head and publishes every
 * commit sequenced through it, one table commit per table (a group commit), applying a stateful app's state deltas
 * beside it; the others poll the durable publication watermark, with back-off, until it passes their seq, and
 * return without touching the tables. The claim holder raises the watermark before it releases the claim, so a
 * waiter learns its commit is in from one read; the holder then runs the tables' upkeep its publish left
 * ({@link Publication#afterPublish}) while the waiters go on, and releases the claim after it.
 *
 * <p>Failure: a holder that dies leaves its claim to expire (SPINDRIFT_PUBLISH_CLAIM_SECONDS), and the next waiter
 * or invocation takes it over and publishes the same commits again, which the sinks' idempotent publish makes
 * harmless, also when the old holder is still publishing. A waiter whose invocation runs short of time (its
 * remaining time less SPINDRIFT_PUBLISH_WAIT_MARGIN_MS) returns with its commit unpublished: the commit is
 * durable (I1 lets the table lag) and the next roll-forward, in any container, publishes it.
 */
final class GroupPublisher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.publish");
  private static final long FIRST_PAUSE_MS = 10;
  private static final long MAX_PAUSE_MS = 200;

  private final String app;
  private final CommitLog log;
  private final PublishClaim claims;
  private final Publication publication;
  private final long claimMs;
  private final long marginMs;
  /** Sequences the lane commits still pending, right before the holder reads the head it publishes through. */
  private final Consumer<Map<String, Long>> sequencePending;
  private ScheduledExecutorService renewer;

  GroupPublisher(String app, CommitLog log, PublishClaim claims, Publication publication, long claimMs,
      long marginMs, Consumer<Map<String, Long>> sequencePending) {
    if (claimMs < 100) {
      throw new IllegalArgumentException("Invalid publish claim duration: " + claimMs + " ms");
    }
    this.app = app;
    this.log = log;
    this.claims = claims;
    this.publication = publication;
    this.claimMs = claimMs;
    this.marginMs = marginMs;
    this.sequencePending = sequencePending;
  }

  /**
   * Returns once {@code seq} is published: by this call, holding the claim, or by the claim's holder while this call
   * waited. Waiting ends at {@code deadlineNanos} less the margin; this call then returns {@link
   * PublishOutcome#UNPUBLISHED}. {@code wait} false: when another holds a live claim, returns at once ({@link
   * PublishOutcome#NOTHING}; the holder, or the invocation's own step 5, publishes). {@code committed} (null: none) is
   * the caller's own commit at {@code seq}.
   */
  Publishing.Result publishThrough(long seq, CommitRecord committed, boolean wait, long deadlineNanos,
      Map<String, Long> timings) {
    long start = System.nanoTime();
    long waitUntil = waitUntil(start, deadlineNanos);
    long pause = FIRST_PAUSE_MS;
    PublishClaim.Claim seen = null;
    while (true) {
      if (publication.publishedThrough() >= seq) {
        return alreadyIn(committed, start, seen, timings);
      }
      LogSnapshot now = log.read(app, List.of());
      if (now.publishedSeq() >= seq) {
        return alreadyIn(committed, start, seen, timings);
      }
      PublishClaim.Claim claim = claims.read(app);
      if (claim == null || claim.expired()) {
        if (System.nanoTime() >= waitUntil) {
          return unpublished(seq, start, "no time is left for a publish of its own", timings);
        }
        String owner = UUID.randomUUID().toString();
        if (claims.tryTake(app, owner, Math.max(seq, now.headSeq()), claimMs)) {
          if (claim != null) {
            LOG.info("{\"app\":\"{}\",\"publishClaim\":\"taken over\",\"expiredOwner\":\"{}\",\"through\":{}}", app,
                claim.owner(), claim.through());
          }
          long waitedMs = recordWait(start, seen, timings);
          Held held = holding(owner, seq, committed, deadlineNanos, timings);
          if (held.published() == 0 && held.inBefore()) {
            // the claim was free only because its holder had published this seq and released it since we looked
            return new Publishing.Result(committed == null ? PublishOutcome.NOTHING
                : PublishOutcome.PUBLISHED_BY_ANOTHER, 0, waitedMs);
          }
          return new Publishing.Result(PublishOutcome.PUBLISHED, held.published(), waitedMs);
        }
        continue; // another claimer was one write faster: look again
      }
      if (!wait) {
        return new Publishing.Result(PublishOutcome.NOTHING, 0, 0);
      }
      seen = claim;
      if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pause) >= waitUntil) {
        return unpublished(seq, start, "another invocation (" + claim.owner() + ") holds the publish claim through"
            + " seq " + claim.through(), timings);
      }
      sleep(pause);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }

  /**
   * What a claim holder did: how many commits it published, and whether {@code seq} was already published when it
   * read the head (another holder published it, and released the claim, after this call last looked).
   */
  private record Held(int published, boolean inBefore) {}

  /** Publishes everything sequenced so far while holding the claim, renewing it, and releases it. */
  private Held holding(String owner, long seq, CommitRecord committed, long deadlineNanos,
      Map<String, Long> timings) {
    ScheduledFuture<?> renewal = renewer().scheduleAtFixedRate(() -> renew(owner), claimMs / 3, claimMs / 3,
        TimeUnit.MILLISECONDS);
    try {
      // lane commits made at the same time as ours may not be sequenced yet: sequenced now, they join this publish
      sequencePending.accept(timings);
      // the head right before publishing: every commit sequenced until now goes into this one table commit
      LogSnapshot head = log.read(app, List.of());
      int published = publication.publishAndMark(head.publishedSeq(), head.headSeq(), committed, deadlineNanos,
          timings);
      // marked: the waiters go on while the tables' upkeep runs here, still holding the claim, so that the commits
      // they make meanwhile gather for the next holder's one publish instead of each taking the table in turn
      publication.afterPublish(deadlineNanos, timings);
      return new Held(published, head.publishedSeq() >= seq);
    } finally {
      renewal.cancel(false);
      claims.release(app, owner);
    }
  }

  private void renew(String owner) {
    try {
      if (!claims.renew(app, owner, claimMs)) {
        LOG.info("{\"app\":\"{}\",\"publishClaim\":\"lost\",\"owner\":\"{}\"}: it expired and was taken over while"
            + " this container published; the publishes are idempotent", app, owner);
      }
    } catch (RuntimeException e) {
      LOG.warn("Renewing the publish claim of {} failed (the next renewal tries again): {}", app, e.toString());
    }
  }

  private long waitUntil(long startNanos, long deadlineNanos) {
    long cap = startNanos + TimeUnit.MINUTES.toNanos(Publication.DRAIN_TIMEOUT_MINUTES);
    if (deadlineNanos == Long.MAX_VALUE) {
      return cap;
    }
    return Math.min(cap, deadlineNanos - TimeUnit.MILLISECONDS.toNanos(marginMs));
  }

  /** {@code seq} is in the tables: published by another invocation (or, before, by this container). */
  private static Publishing.Result alreadyIn(CommitRecord committed, long startNanos, PublishClaim.Claim seen,
      Map<String, Long> timings) {
    long waitedMs = recordWait(startNanos, seen, timings);
    PublishOutcome outcome = committed == null ? PublishOutcome.NOTHING : PublishOutcome.PUBLISHED_BY_ANOTHER;
    return new Publishing.Result(outcome, 0, waitedMs);
  }

  /** The time this call spent waiting for another holder (0 if it never saw one), added to the timings. */
  private static long recordWait(long startNanos, PublishClaim.Claim seen, Map<String, Long> timings) {
    if (seen == null) {
      return 0;
    }
    long waitedMs = elapsedMs(startNanos);
    timings.merge("publish_wait", waitedMs, Long::sum);
    return waitedMs;
  }

  private Publishing.Result unpublished(long seq, long startNanos, String why, Map<String, Long> timings) {
    long waitedMs = elapsedMs(startNanos);
    timings.merge("publish_wait", waitedMs, Long::sum);
    LOG.warn("{\"app\":\"{}\",\"seq\":{},\"publication\":\"UNPUBLISHED\",\"waitedMs\":{},\"reason\":\"{}; the"
        + " invocation's remaining time is short (SPINDRIFT_PUBLISH_WAIT_MARGIN_MS). The commit is durable and the"
        + " next roll-forward publishes it\"}", app, seq, waitedMs, why);
    return new Publishing.Result(PublishOutcome.UNPUBLISHED, 0, waitedMs);
  }

  private synchronized ScheduledExecutorService renewer() {
    if (renewer == null) {
      renewer = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "spindrift-publish-claim-" + app);
        thread.setDaemon(true);
        return thread;
      });
    }
    return renewer;
  }

  private static long elapsedMs(long startNanos) {
    return Publication.ms(startNanos);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for another invocation's publish", e);
    }
  }

  @Override
  public synchronized void close() {
    if (renewer != null) {
      renewer.shutdown();
    }
  }
}
