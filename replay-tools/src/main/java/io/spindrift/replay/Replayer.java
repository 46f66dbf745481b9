package io.spindrift.replay;

import io.spindrift.commit.LaneRange;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.protocol.BatchOutcome;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a replay: every lane of the plan, at most {@code parallelism} at once and never before its parents, read
 * in batches of at most {@code batchSize} records and {@code maxBatchBytes} bytes. Records at or below the app's
 * committed position of their lane (read when the lane starts) are counted as duplicates and not sent; the rest
 * go to the target, whose runtime drops anything committed since (I2) and conflicts with concurrent commits of
 * the same lane (I4), so the replay is exactly once with the live pipeline. After each batch the lane's progress
 * item is written; a lane fails after {@code attempts} failed tries of one batch, and the replay with it.
 *
 * <p>A dry run reads the same records and counts them, writing nothing.
 */
final class Replayer {
  private final ReplaySource source;
  private final RangeSpec range;
  private final AppLog log;
  private final ReplayProgress progress;
  private final ReplayTarget target;
  private final Options options;
  private final RateLimit rateLimit;
  private final ProgressDisplay display;
  private final java.io.PrintStream warnings;
  private final java.util.concurrent.atomic.AtomicLong retried = new java.util.concurrent.atomic.AtomicLong();

  /**
   * @param batchSize records per batch
   * @param maxBatchBytes payload bytes per batch (the Lambda target's cap)
   * @param parallelism lanes at once
   * @param recordsPerSecond the rate limit, 0 for none
   * @param attempts tries of one batch before the replay fails
   */
  record Options(int batchSize, long maxBatchBytes, int parallelism, double recordsPerSecond, int attempts) {}

  /** {@code progress} and {@code target} are null for a dry run. */
  Replayer(ReplaySource source, RangeSpec range, AppLog log, ReplayProgress progress, ReplayTarget target,
      Options options, ProgressDisplay display, java.io.PrintStream warnings) {
    this.source = source;
    this.range = range;
    this.log = log;
    this.progress = progress;
    this.target = target;
    this.options = options;
    this.rateLimit = new RateLimit(options.recordsPerSecond());
    this.display = display;
    this.warnings = warnings;
  }

  /**
   * Records in batches that failed at least once and were tried again. A failed attempt may have committed (a
   * failure after the commit, before the response): those records then count as duplicates of the retry.
   */
  long retriedRecords() {
    return retried.get();
  }

  /** Replays every lane of {@code plans}; returns the counts per lane (including earlier runs' counts). */
  Map<String, ReplayCounts> run(List<LanePlan> plans) throws InterruptedException {
    Map<String, ReplayProgress.LaneProgress> earlier = progress == null ? Map.of() : progress.read();
    Map<String, ReplayCounts> counts = new LinkedHashMap<>();
    Set<String> done = new HashSet<>();
    List<LanePlan> waiting = new ArrayList<>();
    for (LanePlan plan : plans) {
      ReplayProgress.LaneProgress before = earlier.getOrDefault(plan.lane(),
          ReplayProgress.LaneProgress.fresh(plan.lane()));
      counts.put(plan.lane(), before.counts());
      if (before.done()) {
        done.add(plan.lane());
        display.laneAlreadyDone();
      } else {
        waiting.add(plan);
      }
    }
    ExecutorService workers = Executors.newFixedThreadPool(options.parallelism(), runnable -> {
      Thread thread = new Thread(runnable, "spindrift-replay-lane");
      thread.setDaemon(true);
      return thread;
    });
    CompletionService<String> completions = new ExecutorCompletionService<>(workers);
    int running = 0;
    try {
      while (!waiting.isEmpty() || running > 0) {
        for (var it = waiting.iterator(); it.hasNext() && running < options.parallelism(); ) {
          LanePlan plan = it.next();
          if (done.containsAll(plan.parents())) {
            it.remove();
            ReplayProgress.LaneProgress before = earlier.getOrDefault(plan.lane(),
                ReplayProgress.LaneProgress.fresh(plan.lane()));
            completions.submit(() -> replayLane(plan, before.position(), counts.get(plan.lane())));
            running++;
          }
        }
        if (running == 0) {
          throw new IllegalStateException("lanes wait for parents that never finish: " + waiting);
        }
        Future<String> finished = completions.take();
        running--;
        done.add(finished.get());
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause);
    } finally {
      workers.shutdownNow();
    }
    return counts;
  }

  private String replayLane(LanePlan plan, String resumeAfter, ReplayCounts counts) throws InterruptedException {
    String committed = log.snapshot(List.of(plan.lane())).position(plan.lane()).orElse(null);
    display.laneStarted(plan, counts.get("read"));
    long firstArrivalMs = -1;
    String position = resumeAfter;
    try (LaneReader reader = source.open(plan, range, resumeAfter)) {
      while (!reader.finished()) {
        List<SourceRecord> read = reader.next(options.batchSize());
        for (List<SourceRecord> records : bySize(read)) {
          rateLimit.acquire(records.size());
          List<SourceRecord> fresh = new ArrayList<>();
          long bytes = 0;
          for (SourceRecord record : records) {
            bytes += record.size();
            if (committed == null || LaneRange.compare(record.position(), committed) > 0) {
              fresh.add(record);
            }
          }
          long start = System.nanoTime();
          BatchOutcome outcome = fresh.isEmpty() || target == null ? null : process(new Batch(kind(), fresh));
          long processingMs = outcome == null ? 0 : (System.nanoTime() - start) / 1_000_000;
          int skipped = records.size() - fresh.size();
          counts.addBatch(records.size(), bytes, skipped, outcome, processingMs);
          if (target == null) {
            counts.add("committed", fresh.size());
          }
          position = records.get(records.size() - 1).position();
          if (progress != null) {
            progress.write(new ReplayProgress.LaneProgress(plan.lane(), position, false, counts));
          }
          firstArrivalMs = firstArrivalMs < 0 ? records.get(0).timestampMs() : firstArrivalMs;
          display.advanced(plan.lane(), counts.get("read"), firstArrivalMs,
              records.get(records.size() - 1).timestampMs());
        }
      }
    }
    if (progress != null) {
      progress.write(new ReplayProgress.LaneProgress(plan.lane(), position, true, counts));
    }
    display.laneFinished(plan.lane(), counts);
    return plan.lane();
  }

  /**
   * Splits {@code records} so that no part exceeds the byte cap (a record larger than the cap goes alone), never
   * between records of one position (a KPL aggregate's user records, from the archive): one batch commits it.
   */
  private List<List<SourceRecord>> bySize(List<SourceRecord> records) {
    List<List<SourceRecord>> parts = new ArrayList<>();
    List<SourceRecord> part = new ArrayList<>();
    long bytes = 0;
    for (SourceRecord record : records) {
      boolean samePosition = !part.isEmpty() && part.get(part.size() - 1).position().equals(record.position());
      if (!part.isEmpty() && !samePosition && bytes + record.size() > options.maxBatchBytes()) {
        parts.add(part);
        part = new ArrayList<>();
        bytes = 0;
      }
      part.add(record);
      bytes += record.size();
    }
    if (!part.isEmpty()) {
      parts.add(part);
    }
    return parts;
  }

  private BatchOutcome process(Batch batch) throws InterruptedException {
    RuntimeException last = null;
    for (int attempt = 1; attempt <= options.attempts(); attempt++) {
      try {
        BatchOutcome outcome = target.process(batch);
        if (!outcome.failedPositions().isEmpty()) {
          throw new IllegalStateException("lane " + batch.lanes() + ": the runtime could not handle the record at"
              + " position " + outcome.failedPositions().get(0));
        }
        return outcome;
      } catch (RuntimeException e) {
        last = e;
        retried.addAndGet(batch.size());
        // the attempt may have committed before it failed: its records then come back as duplicates
        warnings.printf("%s: a batch of %d records from position %s failed (attempt %d of %d): %s%n",
            String.join(",", batch.lanes()), batch.size(), batch.records().get(0).position(), attempt,
            options.attempts(), e);
        Thread.sleep(200L * attempt);
      }
    }
    throw new IllegalStateException("lane " + batch.lanes() + ": a batch of " + batch.size() + " records from position "
        + batch.records().get(0).position() + " failed " + options.attempts() + " times; run the same replay again"
        + " to resume: " + last.getMessage(), last);
  }

  private SourceKind kind() {
    return source.kind();
  }
}
