package io.spindrift.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PhaseBreakdownTest {
  @Test
  void spindriftPhasesAddUpToTheHandlersWallTime() {
    Map<String, Double> phases = PhaseBreakdown.spindrift(400, 380,
        Map.of("read", 20.0, "spark_and_stage", 250.0, "commit", 30.0, "publish", 60.0),
        Map.of("triggerExecution", 150.0, "queryPlanning", 30.0, "latestOffset", 5.0, "walCommit", 10.0,
            "commitOffsets", 5.0, "addBatch", 90.0));

    assertThat(phases.get(PhaseBreakdown.DECODE)).isEqualTo(20.0);
    assertThat(phases.get(PhaseBreakdown.QUERY_START_STOP)).isEqualTo(100.0);
    assertThat(phases.get(PhaseBreakdown.OFFSETS)).isEqualTo(20.0);
    assertThat(phases.get(PhaseBreakdown.SPARK_OTHER)).isEqualTo(10.0);
    assertThat(phases.get(PhaseBreakdown.OTHER)).isEqualTo(20.0);
    assertThat(phases.entrySet().stream().filter(e -> !e.getKey().startsWith(PhaseBreakdown.RAW))
        .mapToDouble(Map.Entry::getValue).sum()).isCloseTo(400, within(1e-9));
    assertThat(phases).containsEntry("timingsMs.commit", 30.0).containsEntry("timingsMs.durationMs", 380.0);
  }

  @Test
  void aQueryThatOutlivesInvocationsIsSplitByTheRuntimesOwnTimings() {
    Map<String, Double> phases = PhaseBreakdown.spindrift(300, 290,
        Map.of("read", 5.0, "spark_start", 1.0, "spark_plan", 70.0, "spark_execute", 45.0,
            "spark_execute_and_stage", 70.0, "spark_total", 145.0, "commit", 15.0, "publish", 110.0),
        Map.of());

    assertThat(phases.get(PhaseBreakdown.TRIGGER_AND_PLAN)).isEqualTo(70.0);
    assertThat(phases.get(PhaseBreakdown.EXECUTE)).isEqualTo(45.0);
    assertThat(phases.get(PhaseBreakdown.STAGE)).isEqualTo(25.0);
    assertThat(phases.get(PhaseBreakdown.SPARK_OTHER)).isEqualTo(4.0);
    assertThat(phases.get(PhaseBreakdown.OTHER)).isEqualTo(15.0);
    assertThat(phases.entrySet().stream().filter(e -> !e.getKey().startsWith(PhaseBreakdown.RAW))
        .mapToDouble(Map.Entry::getValue).sum()).isCloseTo(300, within(1e-9));
  }

  @Test
  void restartedQueryWithoutProgressKeepsItsWholeTime() {
    assertThat(PhaseBreakdown.restartedQuery(300, Map.of()))
        .containsExactly(Map.entry("spark (no progress reported)", 300.0));
  }

  @Test
  void longRunningQueryCountsTimeOutsideTheTriggerAsFeedingAndWaiting() {
    Map<String, Double> phases =
        PhaseBreakdown.longRunningQuery(120, Map.of("triggerExecution", 100.0, "addBatch", 80.0));

    assertThat(phases.get(PhaseBreakdown.FEED_AND_WAIT)).isEqualTo(20.0);
    assertThat(phases).doesNotContainKey(PhaseBreakdown.QUERY_START_STOP);
    assertThat(phases.get(PhaseBreakdown.EXECUTE_WRITE)).isEqualTo(80.0);
  }
}
