package io.spindrift.protocol;

import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 5 of the protocol, whichever strategy runs it: publishes committed batches in seq order, one table commit
 * per table for a whole backlog (a group commit), the rejects beside the table (their commit after the table's), a
 * stateful commit's state rows beside its table commit, then raises the publication watermark in the background.
 * Every part is idempotent: a publish repeated by a retry, a duplicate or another container changes nothing.
 * Publishes of one container never overlap (one lock).
 */
final class Publication implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.publish");
  static final long DRAIN_TIMEOUT_MINUTES = 5;

  private final String app;
  private final CommitLog log;
  private final Sink table;
  private final Sink rejects;
  private final StateCommits state;
  private final Faults faults;
  /** Held by every publish of this container, inline or in the background: one at a time. */
  private final Object publishing = new Object();
  /** The highest seq this container has published (the durable watermark may be higher or, for a while, lower). */
  private final AtomicLong publishedThrough = new AtomicLong();
  private ExecutorService stateApplier;
  private ExecutorService rejectsPublisher;
  private ExecutorService marker;
  private volatile Future<?> lastMark = CompletableFuture.completedFuture(null);

  /** @param state the state of a stateful job (null for a stateless one) */
  Publication(String app, CommitLog log, Sink table, Sink rejects, StateCommits state, Faults faults) {
    this.app = app;
    this.log = log;
    this.table = table;
    this.rejects = rejects;
    this.state = state;
    this.faults = faults;
  }

  /**
   * Publishes every commit up to {@code committed}: only it when nothing was pending before it, else the backlog
   * read from the log. Returns how many commits this call published.
   */
  int publishThrough(long publishedSeq, CommitRecord committed, Map<String, Long> timings) {
    boolean onlyOurs = Math.max(publishedSeq, publishedThrough.get()) == committed.seq() - 1;
    if (!onlyOurs) {
      return rollForward(publishedSeq, committed.seq(), timings);
    }
    synchronized (publishing) {
      return publishedThrough.get() >= committed.seq() ? 0
          : publish(List.of(committed), Long.MAX_VALUE, false, timings);
    }
  }

  /**
   * Publishes every commit in (publishedSeq, upTo] that this container has not, the whole backlog in one table
   * commit per table, and raises the publication watermark to {@code upTo} before returning (others wait for it),
   * giving up any wait for another writer at {@code deadlineNanos}. {@code committed} (null: none) is the caller's
   * own commit: when it is all there is to publish, the log is not read. Returns how many it published.
   */
  int publishAndMark(long publishedSeq, long upTo, CommitRecord committed, long deadlineNanos,
      Map<String, Long> timings) {
    synchronized (publishing) {
      long from = Math.max(publishedSeq, publishedThrough.get());
      if (upTo <= from) {
        if (publishedSeq < upTo) {
          markNow(upTo);
        }
        return 0;
      }
      List<CommitRecord> commits;
      if (committed != null && committed.seq() == upTo && from == upTo - 1) {
        commits = List.of(committed);
      } else {
        long start = System.nanoTime();
        commits = log.commits(app, from, upTo);
        timings.merge("publish", ms(start), Long::sum);
      }
      return publish(commits, deadlineNanos, true, timings);
    }
  }

  /**
   * The upkeep the last publish left to its tables ({@link Sink#afterPublish}), run once its publication is marked
   * (by a group's claim holder before it releases the claim), so the invocations waiting for that publication go on
   * while it runs. Never throws (what it leaves, the next publish does).
   */
  void afterPublish(long deadlineNanos, Map<String, Long> timings) {
    long start = System.nanoTime();
    synchronized (publishing) {
      for (Sink sink : List.of(table, rejects)) {
        try {
          sink.afterPublish(deadlineNanos);
        } catch (RuntimeException e) {
          LOG.warn("Upkeep after a publish of {} to {} failed; its next publish does it: {}", app, sink,
              e.toString());
        }
      }
    }
    long took = ms(start);
    if (took > 0) {
      timings.merge("publish_upkeep", took, Long::sum);
    }
  }

  /** The highest seq this container has published. */
  long publishedThrough() {
    return publishedThrough.get();
  }

  /** Publishes every commit in (publishedSeq, upTo] that this container has not; returns how many it published. */
  int rollForward(long publishedSeq, long upTo, Map<String, Long> timings) {
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
      return publish(commits, Long.MAX_VALUE, false, timings);
    }
  }

  /**
   * Publishes these consecutive commits and raises the watermark past the last one, now ({@code markNow}) or in the
   * background; the caller holds the lock.
   */
  private int publish(List<CommitRecord> commits, long deadlineNanos, boolean markNow, Map<String, Long> timings) {
    if (commits.isEmpty()) {
      return 0;
    }
    long start = System.nanoTime();
    List<PendingPublish> tableStages = new ArrayList<>();
    List<PendingPublish> rejectStages = new ArrayList<>();
    for (CommitRecord commit : commits) {
      CommitTag tag = new CommitTag(app, commit.seq(), commit.txnId(), commit.describeLanes());
      tableStages.add(new PendingPublish(tag, commit.stages().table()));
      rejectStages.add(new PendingPublish(tag, commit.stages().rejects()));
    }
    // the state rows and the table are independent and each idempotent: written side by side, and the watermark
    // rises only once both are done (a crash in either leaves both to the next roll-forward)
    CompletableFuture<Void> stateApplied = state == null ? null
        : CompletableFuture.runAsync(() -> state.apply(commits), stateApplier());
    // the rejects are published beside the table, and their commit waits for the table's: what precedes a
    // commit (a Hudi publish's lease and files) overlaps, the rejects become visible after the table as before,
    // and a crash between the two (MID_PUBLISH) leaves the rejects unpublished
    CompletableFuture<Void> tablePublished = new CompletableFuture<>();
    Future<List<Long>> rejectsPublished = rejectStages.stream().allMatch(p -> p.ref() == null) ? null
        : rejectsPublisher().submit(() -> rejects.publish(rejectStages, deadlineNanos, tablePublished::join));
    long tableStart = System.nanoTime();
    int published;
    try {
      try {
        published = (deadlineNanos == Long.MAX_VALUE ? table.publish(tableStages)
            : table.publish(tableStages, deadlineNanos)).size();
        timings.merge("publish_table", ms(tableStart), Long::sum);
      } finally {
        if (stateApplied != null) {
          joinStateApply(stateApplied, timings);
        }
      }
      faults.hit(FaultPoint.MID_PUBLISH);
    } catch (RuntimeException | Error failed) {
      tablePublished.completeExceptionally(failed);
      awaitQuietly(rejectsPublished);
      throw failed;
    }
    tablePublished.complete(null);
    published = Math.max(published, rejectsPublished == null ? rejects.publish(rejectStages).size()
        : joinRejects(rejectsPublished, timings).size());
    long last = commits.get(commits.size() - 1).seq();
    publishedThrough.accumulateAndGet(last, Math::max);
    if (markNow) {
      markNow(last);
    } else {
      markInBackground(last);
    }
    timings.merge("publish", ms(start), Long::sum);
    return published;
  }

  /**
   * Raises the publication watermark after the response: it is advisory (this container goes on from what it
   * published; another that reads a lower watermark re-checks the tables, whose publishes are idempotent, and
   * raises it itself), and the write only ever raises it. A lost write costs such a re-check.
   */
  private synchronized void markInBackground(long seq) {
    if (marker == null || marker.isShutdown()) {
      marker = daemonThread("spindrift-mark-" + app);
    }
    lastMark = marker.submit(() -> {
      try {
        log.markPublished(app, seq);
      } catch (RuntimeException e) {
        LOG.warn("Raising the publication watermark of {} to {} failed; a later publish raises it: {}", app, seq,
            e.toString());
      }
    });
  }

  /** Raises the publication watermark before returning; a failed write is logged (a later publish raises it). */
  private void markNow(long seq) {
    try {
      log.markPublished(app, seq);
    } catch (RuntimeException e) {
      LOG.warn("Raising the publication watermark of {} to {} failed; a later publish raises it: {}", app, seq,
          e.toString());
    }
  }

  /** Waits for the watermark write in flight (its failure is logged, never thrown). */
  void awaitMark() {
    try {
      lastMark.get(DRAIN_TIMEOUT_MINUTES, TimeUnit.MINUTES);
    } catch (ExecutionException | TimeoutException failed) {
      LOG.warn("Publication watermark write of {} did not end: {}", app, failed.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The rejects' publish, once the table's is done; its failure propagates as the table's would. */
  private static List<Long> joinRejects(Future<List<Long>> rejectsPublished, Map<String, Long> timings) {
    long start = System.nanoTime();
    try {
      return rejectsPublished.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while publishing the rejects", e);
    } finally {
      timings.merge("publish_rejects_wait", ms(start), Long::sum);
    }
  }

  /**
   * Waits for a rejects publish the table's failure abandoned (it commits nothing once its wait for the table
   * throws), so that nothing of this publish runs on after it failed.
   */
  private static void awaitQuietly(Future<?> rejectsPublished) {
    if (rejectsPublished == null) {
      return;
    }
    try {
      rejectsPublished.get();
    } catch (ExecutionException abandoned) {
      // the table's failure, seen by the rejects' commit, or the rejects' own: the caller throws the table's
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized ExecutorService rejectsPublisher() {
    if (rejectsPublisher == null) {
      rejectsPublisher = daemonThread("spindrift-rejects-" + app);
    }
    return rejectsPublisher;
  }

  private synchronized ExecutorService stateApplier() {
    if (stateApplier == null) {
      stateApplier = daemonThread("spindrift-state-apply-" + app);
    }
    return stateApplier;
  }

  private static void joinStateApply(CompletableFuture<Void> stateApplied, Map<String, Long> timings) {
    long start = System.nanoTime();
    try {
      stateApplied.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause : e;
    } finally {
      timings.merge("publish_state_wait", ms(start), Long::sum);
    }
  }

  @Override
  public synchronized void close() {
    awaitMark();
    if (stateApplier != null) {
      stateApplier.shutdown();
    }
    if (rejectsPublisher != null) {
      rejectsPublisher.shutdown();
    }
    if (marker != null) {
      marker.shutdown();
    }
  }

  /** One daemon thread: it never keeps a JVM (a local run, a test) alive. */
  static ExecutorService daemonThread(String name) {
    return Executors.newSingleThreadExecutor(task -> {
      Thread thread = new Thread(task, name);
      thread.setDaemon(true);
      return thread;
    });
  }

  static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
