package io.spindrift.bench;

import io.spindrift.examples.ClickstreamGenerator;
import java.util.List;
import java.util.Map;

/** One of the systems compared on warm batches: takes a batch, processes it completely, says how long it took. */
interface WarmSystem extends AutoCloseable {
  /** Short name used in the table, the JSON and the chart. */
  String name();

  /** Processes one batch end to end (for a table writer: until its rows are committed to the table). */
  Trial run(List<ClickstreamGenerator.Event> batch) throws Exception;

  /** Untimed work before any batch of any size (e.g. enough to get the JIT past interpretation). */
  default void prime(ClickCorpus corpus) throws Exception {}

  /**
   * Waits for work a batch left running after {@link #run} returned (a deferred publish), untimed, so that it does
   * not load the next system's timed batch. A system that leaves nothing behind does nothing.
   */
  default void settle() throws Exception {}

  /**
   * Processes {@code batches} back to back, nothing in between, and returns the wall milliseconds from the first
   * batch in until the last batch's rows are in the table (work left in the background included).
   */
  default double chain(List<List<ClickstreamGenerator.Event>> batches) throws Exception {
    double total = 0;
    for (List<ClickstreamGenerator.Event> batch : batches) {
      total += run(batch).millis();
    }
    long start = System.nanoTime();
    settle();
    return total + (System.nanoTime() - start) / 1e6;
  }

  @Override
  default void close() throws Exception {}

  /** One timed batch: wall-clock milliseconds, and the phases it could attribute them to. */
  record Trial(double millis, Map<String, Double> phases) {}
}
