package io.spindrift.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How much to measure. The defaults are the full run (about 6 minutes of measuring on the 2-core reference
 * machine, plus the build); {@code --quick} is a smoke run of about 1.5 minutes with too few samples to quote.
 *
 * @param sizes batch sizes for the warm comparisons
 * @param warmup untimed invocations per system and batch size before the timed ones
 * @param reps timed invocations per system for batches up to 1,000 records
 * @param bigReps timed invocations per system for larger batches
 * @param coldReps new JVMs per system for cold start
 * @param coldRecords records in the first batch of a cold JVM
 * @param chain batches in one back-to-back chain (1,000 records each)
 * @param chains timed back-to-back chains per system
 * @param appCdsArchive the archive infra-cdk's image script writes; the AppCDS row is n/a without it
 * @param out directory for bench-results.json, the chart and the child JVMs' logs
 */
public record BenchOptions(List<Integer> sizes, int warmup, int reps, int bigReps, int coldReps, int coldRecords,
    int chain, int chains, boolean quick, Path appCdsArchive, Path out) {

  private static final String USAGE = "options: --quick | --reps N | --big-reps N | --warmup N | --cold-reps N"
      + " | --cold-records N | --chain N | --chains N | --sizes 1,100,1000,10000 | --appcds-archive PATH | --out DIR";

  public BenchOptions {
    sizes = List.copyOf(sizes);
    for (int size : sizes) {
      positive("--sizes", size);
    }
    if (sizes.isEmpty()) {
      throw new IllegalArgumentException("Invalid --sizes: empty (e.g. --sizes 1,100,1000,10000)");
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("Invalid --warmup: " + warmup + " (0 or more)");
    }
    positive("--reps", reps);
    positive("--big-reps", bigReps);
    if (coldReps < 0) {
      throw new IllegalArgumentException("Invalid --cold-reps: " + coldReps + " (0 skips cold start)");
    }
    positive("--cold-records", coldRecords);
    positive("--chain", chain);
    if (chains < 0) {
      throw new IllegalArgumentException("Invalid --chains: " + chains + " (0 skips the back-to-back chains)");
    }
  }

  public static BenchOptions parse(String[] args, Path repoRoot) {
    List<String> list = new ArrayList<>(Arrays.asList(args));
    list.removeIf(String::isBlank);
    boolean quick = list.remove("--quick");
    List<Integer> sizes = List.of(1, 100, 1000, 10_000);
    int warmup = quick ? 2 : 4;
    int reps = quick ? 5 : 25;
    int bigReps = quick ? 3 : 11;
    int coldReps = quick ? 1 : 4;
    int coldRecords = 1000;
    int chain = quick ? 4 : 8;
    int chains = quick ? 2 : 7;
    Path archive = repoRoot.resolve("infra-cdk/image/build/task/cds/spindrift.jsa");
    Path out = repoRoot.resolve("bench/target");
    for (int i = 0; i < list.size(); i += 2) {
      String name = list.get(i);
      if (i + 1 >= list.size()) {
        throw new IllegalArgumentException("Missing value for " + name + "; " + USAGE);
      }
      String value = list.get(i + 1);
      switch (name) {
        case "--reps" -> reps = integer(name, value);
        case "--big-reps" -> bigReps = integer(name, value);
        case "--warmup" -> warmup = integer(name, value);
        case "--cold-reps" -> coldReps = integer(name, value);
        case "--cold-records" -> coldRecords = integer(name, value);
        case "--chain" -> chain = integer(name, value);
        case "--chains" -> chains = integer(name, value);
        case "--sizes" -> sizes = Arrays.stream(value.split(",")).map(v -> integer(name, v.trim())).toList();
        case "--appcds-archive" -> archive = Path.of(value);
        case "--out" -> out = Path.of(value);
        default -> throw new IllegalArgumentException("Unknown option " + name + "; " + USAGE);
      }
    }
    return new BenchOptions(sizes, warmup, reps, bigReps, coldReps, coldRecords, chain, chains, quick, archive, out);
  }

  /** Timed repetitions for a batch of {@code size} records. */
  public int repsFor(int size) {
    return size > 1000 ? bigReps : reps;
  }

  private static int integer(String name, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Invalid " + name + ": '" + value + "' (an integer)");
    }
  }

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException("Invalid " + name + ": " + value + " (a positive integer)");
    }
  }
}
