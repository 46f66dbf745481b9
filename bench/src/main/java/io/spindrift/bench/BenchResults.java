package io.spindrift.bench;

import java.util.List;
import java.util.Map;

/**
 * Everything one benchmark run measured, from which the table, the JSON file and the chart are drawn.
 *
 * @param machine where and when it ran (cores, CPU, memory, Java, date, load average before and after)
 * @param command the command line as typed
 * @param warm per system, per batch size: latency samples summarised (milliseconds)
 * @param phases per system, per batch size: median milliseconds of each phase
 * @param cold per cold-start variant: launch-to-committed samples summarised (milliseconds)
 * @param coldPhases per cold-start variant: the child's own split, medians
 * @param unavailable rows that could not be measured in this run, with the reason
 * @param rowChecks per table writer: rows in its table after the warm runs against records it was given
 * @param sizes the batch sizes, ascending
 * @param backToBack per system: milliseconds per invocation over back-to-back chains of {@link #CHAIN_SIZE}-record
 *     batches, publish included (empty when skipped)
 */
public record BenchResults(
    Map<String, Object> machine,
    String command,
    Map<String, Map<Integer, Summary>> warm,
    Map<String, Map<Integer, Map<String, Double>>> phases,
    Map<String, Summary> cold,
    Map<String, Map<String, Double>> coldPhases,
    Map<String, String> unavailable,
    Map<String, String> rowChecks,
    List<Integer> sizes,
    Map<String, Summary> backToBack) {
  /** Records per batch in the back-to-back chains. */
  public static final int CHAIN_SIZE = 1000;

  /** Median latency of {@code system} at {@code size}, NaN if not measured. */
  public double p50(String system, int size) {
    Summary summary = warm.getOrDefault(system, Map.of()).get(size);
    return summary == null ? Double.NaN : summary.p50();
  }

  /** Records per second of {@code system} at {@code size}, from the median latency. */
  public double throughput(String system, int size) {
    return Summary.throughput(size, p50(system, size));
  }

  /** Spindrift's median latency divided by {@code peer}'s, at {@code size}: below 1 means Spindrift is faster. */
  public double latencyRatio(String system, String peer, int size) {
    return Summary.ratio(p50(system, size), p50(peer, size));
  }

  /** Median per-invocation milliseconds of {@code system} in back-to-back chains, NaN if not measured. */
  public double backToBackP50(String system) {
    Summary summary = backToBack.get(system);
    return summary == null || summary.count() == 0 ? Double.NaN : summary.p50();
  }

  public double coldP50(String variant) {
    Summary summary = cold.get(variant);
    return summary == null ? Double.NaN : summary.p50();
  }
}
