package io.spindrift.sink.hudi;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hudi.client.clustering.plan.strategy.JavaSizeBasedClusteringPlanStrategy;
import org.apache.hudi.common.engine.HoodieEngineContext;
import org.apache.hudi.common.model.FileSlice;
import org.apache.hudi.common.model.HoodieBaseFile;
import org.apache.hudi.common.table.timeline.HoodieInstant;
import org.apache.hudi.common.table.timeline.HoodieTimeline;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.table.HoodieTable;

/**
 * The plan of a publish's inline clustering: the files written since the last clustering, plus earlier clusterings'
 * output only while it is no bigger than what the plan already holds, smallest first, so a clustering doubles a
 * file at most. Hudi's size-based plan takes every file below the small-file limit (96 MiB by default), which a
 * table fed a commit per second stays below for hours: every clustering rewrote the whole table, and a publish's
 * cost grew with the table. With tiers a row is rewritten about log2(commits / clustering interval) times and the
 * live files are as many, until maintenance clusters them to the target size (its own plan, not this one).
 *
 * <p>A file is fresh when a completed commit (not a clustering's replacecommit) on the active timeline wrote it; a
 * file whose instant was archived counts as earlier output, kept by size alone.
 */
public final class TieredClusteringPlanStrategy<T> extends JavaSizeBasedClusteringPlanStrategy<T> {

  /** Hudi builds plan strategies by reflection, with this constructor. */
  public TieredClusteringPlanStrategy(HoodieTable table, HoodieEngineContext context, HoodieWriteConfig config) {
    super(table, context, config);
  }

  @Override
  protected Stream<FileSlice> getFileSlicesEligibleForClustering(String partition) {
    Set<String> writtenByCommits = getHoodieTable().getActiveTimeline().getCommitsTimeline()
        .filterCompletedInstants().getInstantsAsStream()
        .filter(instant -> !HoodieTimeline.REPLACE_COMMIT_ACTION.equals(instant.getAction()))
        .map(HoodieInstant::getTimestamp)
        .collect(Collectors.toSet());
    List<FileSlice> small = super.getFileSlicesEligibleForClustering(partition).toList();
    return lowestTier(small, slice -> writtenByCommits.contains(slice.getBaseInstantTime()),
        TieredClusteringPlanStrategy::bytes).stream();
  }

  private static long bytes(FileSlice slice) {
    return slice.getBaseFile().map(HoodieBaseFile::getFileSize).orElse(0L);
  }

  /**
   * The files of the lowest tier: every {@code fresh} one, then the others by ascending size while each is no bigger
   * than the sum of those taken (with no fresh file, the smallest starts the tier).
   */
  static <F> List<F> lowestTier(List<F> files, Predicate<F> fresh, ToLongFunction<F> size) {
    List<F> tier = new ArrayList<>();
    List<F> earlier = new ArrayList<>();
    long taken = 0;
    for (F file : files) {
      if (fresh.test(file)) {
        tier.add(file);
        taken += size.applyAsLong(file);
      } else {
        earlier.add(file);
      }
    }
    earlier.sort(Comparator.comparingLong(size));
    for (F file : earlier) {
      long bytes = size.applyAsLong(file);
      if (!tier.isEmpty() && bytes > taken) {
        break;
      }
      tier.add(file);
      taken += bytes;
    }
    return tier;
  }
}
