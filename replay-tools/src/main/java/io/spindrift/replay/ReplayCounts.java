package io.spindrift.replay;

import io.spindrift.protocol.BatchOutcome;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Running totals of a replay (one per lane, and one overall): records read from the stream and their bytes,
 * records committed, duplicates dropped (at or below the app's lane positions), output rows, rejects, commits
 * made, function invocations, and milliseconds spent in the runtime (the basis of the Lambda cost). Thread-safe.
 */
final class ReplayCounts {
  static final List<String> NAMES =
      List.of("read", "bytes", "committed", "duplicates", "output", "rejected", "commits", "invocations",
          "processingMs");
  private final Map<String, AtomicLong> values = new LinkedHashMap<>();

  ReplayCounts() {
    NAMES.forEach(name -> values.put(name, new AtomicLong()));
  }

  static ReplayCounts of(Map<String, Long> counts) {
    ReplayCounts out = new ReplayCounts();
    counts.forEach((name, value) -> out.add(name, value));
    return out;
  }

  void add(String name, long delta) {
    values.get(name).addAndGet(delta);
  }

  long get(String name) {
    return values.get(name).get();
  }

  /** Adds what one processed batch did; {@code skipped} records were dropped before it reached the runtime. */
  void addBatch(int read, long bytes, int skipped, BatchOutcome outcome, long processingMs) {
    add("read", read);
    add("bytes", bytes);
    add("duplicates", skipped);
    add("processingMs", processingMs);
    if (outcome != null) {
      add("committed", outcome.records() - outcome.duplicates());
      add("duplicates", outcome.duplicates());
      add("output", outcome.outputRows());
      add("rejected", outcome.rejected());
      add("commits", outcome.seq() > 0 ? 1 : 0);
      add("invocations", outcome.timingsMs().getOrDefault("invocations", 1L));
    }
  }

  void addAll(ReplayCounts other) {
    NAMES.forEach(name -> add(name, other.get(name)));
  }

  Map<String, Long> asMap() {
    Map<String, Long> out = new LinkedHashMap<>();
    values.forEach((name, value) -> out.put(name, value.get()));
    return out;
  }
}
