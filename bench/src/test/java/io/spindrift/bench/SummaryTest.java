package io.spindrift.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SummaryTest {
  @Test
  void percentilesAreNearestRankOverObservedSamples() {
    Summary summary = Summary.of(List.of(50.0, 10.0, 40.0, 20.0, 30.0, 60.0, 70.0, 80.0, 90.0, 100.0));

    assertThat(summary.count()).isEqualTo(10);
    assertThat(summary.p50()).isEqualTo(50.0);
    assertThat(summary.p95()).isEqualTo(100.0);
    assertThat(summary.mean()).isEqualTo(55.0);
    assertThat(summary.min()).isEqualTo(10.0);
    assertThat(summary.max()).isEqualTo(100.0);
  }

  @Test
  void medianOfOddCountIsTheMiddleSampleAndOfOneIsItself() {
    assertThat(Summary.median(List.of(300.0, 100.0, 200.0))).isEqualTo(200.0);
    assertThat(Summary.of(List.of(7.5)).p95()).isEqualTo(7.5);
  }

  @Test
  void p95OfTwentySamplesIsTheNineteenth() {
    List<Double> samples = IntStream.rangeClosed(1, 20).mapToObj(i -> (double) i).toList();

    assertThat(Summary.percentile(samples, 95)).isEqualTo(19.0);
    assertThat(Summary.percentile(samples, 100)).isEqualTo(20.0);
  }

  @Test
  void noSamplesGiveNaNRatherThanZero() {
    assertThat(Summary.of(List.of()).isEmpty()).isTrue();
    assertThat(Summary.of(List.of()).p50()).isNaN();
  }

  @Test
  void invalidPercentileIsRefusedNamingIt() {
    assertThatThrownBy(() -> Summary.percentile(List.of(1.0), 0)).hasMessageContaining("Invalid percentile: 0");
  }

  @Test
  void ratioIsSpindriftOverPeerAndNaNWhenAPeerIsMissing() {
    assertThat(Summary.ratio(200, 800)).isEqualTo(0.25);
    assertThat(Summary.ratio(900, 300)).isEqualTo(3.0);
    assertThat(Summary.ratio(100, Double.NaN)).isNaN();
    assertThat(Summary.ratio(Double.NaN, 100)).isNaN();
    assertThat(Summary.ratio(100, 0)).isNaN();
  }

  @Test
  void throughputIsRecordsPerSecondOfTheMedian() {
    assertThat(Summary.throughput(10_000, 400)).isEqualTo(25_000.0);
    assertThat(Summary.throughput(10_000, Double.NaN)).isNaN();
  }

  @Test
  void resultsCompareSystemsPairByPairAtEachSize() {
    BenchResults results = new BenchResults(Map.of(), "", Map.of(
        "spindrift", Map.of(1000, Summary.of(List.of(100.0, 120.0, 140.0))),
        "plain-restarted", Map.of(1000, Summary.of(List.of(400.0, 480.0, 500.0)))),
        Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), List.of(1000), Map.of());

    assertThat(results.latencyRatio("spindrift", "plain-restarted", 1000)).isEqualTo(0.25);
    assertThat(results.latencyRatio("spindrift", "plain-long-running", 1000)).isNaN();
    assertThat(results.throughput("spindrift", 1000)).isCloseTo(8_333.333, offset(0.001));
  }
}
