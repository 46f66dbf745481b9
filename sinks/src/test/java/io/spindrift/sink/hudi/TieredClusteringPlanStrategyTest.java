package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TieredClusteringPlanStrategyTest {
  /** A base file (its name, so equal sizes are different files): its size, and whether a plain commit wrote it. */
  private record File(String name, long bytes, boolean fresh) {}

  private int files;

  private File file(long bytes, boolean fresh) {
    return new File("f" + files++, bytes, fresh);
  }

  private static List<File> tier(List<File> files) {
    return TieredClusteringPlanStrategy.lowestTier(files, File::fresh, File::bytes);
  }

  @Test
  void aTierTakesTheNewFilesAndEarlierOutputNoBiggerThanWhatItHolds() {
    List<File> fresh = List.of(file(100, true), file(120, true), file(80, true));
    File small = file(250, false);
    File equal = file(550, false);
    File big = file(5_000, false);

    // 300 fresh bytes take the 250-byte file (550 taken), then the 550-byte one (1,100); 5,000 stays
    assertThat(tier(concat(fresh, List.of(big, equal, small)))).containsExactlyInAnyOrder(
        fresh.get(0), fresh.get(1), fresh.get(2), small, equal);
    assertThat(tier(concat(fresh, List.of(big)))).containsExactlyInAnyOrderElementsOf(fresh);
    // without new files the smallest starts the tier: files of one size merge, a bigger one stays
    File smallest = file(60, false);
    File twin = file(60, false);
    assertThat(tier(List.of(big, file(150, false), twin, smallest))).containsExactlyInAnyOrder(smallest, twin);
  }

  /**
   * 64 inline clusterings of a table fed 10 equal commits between each: the tiers keep the live files and the bytes
   * rewritten logarithmic, where a plan of every small file rewrites the whole table each time.
   */
  @Test
  void sixtyFourClusteringsRewriteEachRowAboutLogTimesAndLeaveLogFiles() {
    List<File> live = new ArrayList<>();
    long written = 0;
    long rewritten = 0;
    long wholeTable = 0;
    for (int clustering = 1; clustering <= 64; clustering++) {
      for (int commit = 0; commit < 10; commit++) {
        live.add(file(100, true));
        written += 100;
      }
      List<File> tier = tier(live);
      long bytes = tier.stream().mapToLong(File::bytes).sum();
      live.removeAll(tier);
      live.add(file(bytes, false));
      rewritten += bytes;
      wholeTable += written;
      assertThat(live).as("live files after clustering %s", clustering)
          .hasSizeLessThanOrEqualTo(1 + Integer.numberOfTrailingZeros(Integer.highestOneBit(clustering)) + 1);
    }
    assertThat(live.stream().mapToLong(File::bytes).sum()).isEqualTo(written);
    // each row rewritten at most 1 + log2(64) = 7 times; the whole-table plan: 32.5 times on average
    assertThat((double) rewritten / written).isLessThanOrEqualTo(7.0);
    assertThat((double) wholeTable / written).isGreaterThan(30.0);
  }

  private static List<File> concat(List<File> a, List<File> b) {
    List<File> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
