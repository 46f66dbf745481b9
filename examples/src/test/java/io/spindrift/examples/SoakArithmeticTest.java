package io.spindrift.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SoakArithmeticTest {
  @Test
  void eventsInNeitherTableAreLostAndExtraRowsAreDuplicated() {
    SoakCount count = new SoakCount(1_000, 985, 980, 12, 11);

    assertThat(count.lost()).isEqualTo(1_000 - 980 - 11);
    assertThat(count.duplicated()).isEqualTo(5 + 1);
    assertThat(count.exactlyOnce()).isFalse();
    assertThat(new SoakCount(1_000, 990, 990, 10, 10).exactlyOnce()).isTrue();
  }

  @Test
  void rssIsReadFromTheVmRssLineOfProcStatus() {
    List<String> status = List.of("Name:\tjava", "State:\tT (stopped)", "VmPeak:\t 5000000 kB", "VmRSS:\t  654321 kB",
        "Threads:\t40");

    assertThat(SoakMemory.vmRssKb(status)).isEqualTo(654_321);
    assertThat(SoakMemory.vmRssKb(List.of("Name:\tjava", "State:\tZ (zombie)"))).isEqualTo(-1);
    assertThat(SoakMemory.rssKb(ProcessHandle.current().pid())).isPositive();
  }

  @Test
  void rssGrowthComparesTheLastThirdWithTheSecondAfterWarmUp() {
    List<SoakMemory.Sample> samples = List.of(sample(1, 200), sample(2, 900), sample(3, 500), sample(4, 600),
        sample(5, 550), sample(6, 660));

    assertThat(SoakMemory.rssGrowth(samples)).isCloseTo(0.10, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(SoakMemory.rssGrowth(samples.subList(0, 2))).isNaN();
  }

  private static SoakMemory.Sample sample(int minute, long rssMaxMb) {
    return new SoakMemory.Sample(minute, 100, 3, rssMaxMb * 3, rssMaxMb);
  }
}
