package io.spindrift.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The samples of one measurement (milliseconds) reduced to what the report quotes: count, p50, p95, mean,
 * min and max. Percentiles are nearest-rank (the smallest sample with at least p% of samples at or below it),
 * so every quoted figure is a latency that was actually observed.
 */
public record Summary(int count, double p50, double p95, double mean, double min, double max) {
  public static final Summary NONE = new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

  public static Summary of(List<Double> samples) {
    if (samples.isEmpty()) {
      return NONE;
    }
    List<Double> sorted = new ArrayList<>(samples);
    Collections.sort(sorted);
    double sum = 0;
    for (double sample : sorted) {
      sum += sample;
    }
    return new Summary(sorted.size(), percentile(sorted, 50), percentile(sorted, 95), sum / sorted.size(),
        sorted.get(0), sorted.get(sorted.size() - 1));
  }

  /** Nearest-rank percentile of ascending {@code sorted}; NaN when empty. */
  public static double percentile(List<Double> sorted, double p) {
    if (p <= 0 || p > 100) {
      throw new IllegalArgumentException("Invalid percentile: " + p + " (expected 0 < p <= 100)");
    }
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  /** The median of {@code samples} in any order (nearest-rank, like {@link #p50}); NaN when empty. */
  public static double median(List<Double> samples) {
    return of(samples).p50();
  }

  /**
   * {@code numerator / denominator}, or NaN when either is missing (NaN) or the denominator is not positive:
   * a ratio against a peer that was not measured is not a number, never zero or infinity.
   */
  public static double ratio(double numerator, double denominator) {
    if (Double.isNaN(numerator) || Double.isNaN(denominator) || denominator <= 0) {
      return Double.NaN;
    }
    return numerator / denominator;
  }

  /** Records per second for a batch of {@code records} taking {@code millis}; NaN when not measured. */
  public static double throughput(int records, double millis) {
    return ratio(records * 1000.0, millis);
  }

  public boolean isEmpty() {
    return count == 0;
  }
}
