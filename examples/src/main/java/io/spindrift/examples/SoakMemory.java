package io.spindrift.examples;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The soak's memory samples, one a minute: the driver's heap after a collection and the resident set size of each
 * live container (read from {@code /proc/<pid>/status}, which a stopped process answers too). {@link #rssGrowth}
 * compares the largest container RSS over the last third of the run with that over the second third, the first
 * third being warm-up.
 */
final class SoakMemory {
  /**
   * One sample.
   *
   * @param minute minutes since the traffic started
   * @param heapMb the driver's heap in use after a collection
   * @param containers live containers sampled
   * @param rssSumMb their resident set sizes, summed
   * @param rssMaxMb the largest of them
   */
  record Sample(int minute, long heapMb, int containers, long rssSumMb, long rssMaxMb) {}

  private final List<Sample> samples = Collections.synchronizedList(new ArrayList<>());

  /** Samples the driver's heap (after asking for a collection) and the RSS of {@code pids}; returns the sample. */
  Sample sample(int minute, List<Long> pids) {
    System.gc();
    long heapBytes = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(pool -> pool.getType() == MemoryType.HEAP)
        .mapToLong(pool -> pool.getUsage().getUsed())
        .sum();
    long sumKb = 0;
    long maxKb = 0;
    int sampled = 0;
    for (long pid : pids) {
      long kb = rssKb(pid);
      if (kb >= 0) {
        sumKb += kb;
        maxKb = Math.max(maxKb, kb);
        sampled++;
      }
    }
    Sample sample = new Sample(minute, heapBytes >> 20, sampled, sumKb >> 10, maxKb >> 10);
    samples.add(sample);
    return sample;
  }

  List<Sample> samples() {
    return List.copyOf(samples);
  }

  /** A process's resident set size in kB, or -1 when it is gone. */
  static long rssKb(long pid) {
    try {
      return vmRssKb(Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")));
    } catch (IOException | RuntimeException gone) {
      return -1;
    }
  }

  /** The {@code VmRSS} line of a {@code /proc/<pid>/status} file, in kB; -1 when absent (a zombie has none). */
  static long vmRssKb(List<String> statusLines) {
    for (String line : statusLines) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.substring("VmRSS:".length()).replace("kB", "").strip());
      }
    }
    return -1;
  }

  /**
   * How much the largest container RSS grew after warm-up: the maximum over the last third of {@code samples}
   * divided by the maximum over the second third, less one (0.1 is 10 % growth); NaN when there are fewer than
   * three samples or the second third saw no container.
   */
  static double rssGrowth(List<Sample> samples) {
    int n = samples.size();
    if (n < 3) {
      return Double.NaN;
    }
    long second = maxRss(samples.subList(n / 3, 2 * n / 3));
    long last = maxRss(samples.subList(2 * n / 3, n));
    return second == 0 ? Double.NaN : (double) last / second - 1;
  }

  private static long maxRss(List<Sample> samples) {
    return samples.stream().mapToLong(Sample::rssMaxMb).max().orElse(0);
  }

  static String describe(double growth) {
    return Double.isNaN(growth) ? "not judged (fewer than 3 samples)"
        : String.format(Locale.ROOT, "%+.1f %%", growth * 100);
  }
}
