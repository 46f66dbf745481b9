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

  @Override
  default void close() throws Exception {}

  /** One timed batch: wall-clock milliseconds, and the phases it could attribute them to. */
  record Trial(double millis, Map<String, Double> phases) {}
}
