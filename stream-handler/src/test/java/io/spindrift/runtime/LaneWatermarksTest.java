package io.spindrift.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LaneWatermarksTest {
  private static final long IDLE = 60_000;
  private static final long DELAY = 10_000;

  @Test
  void theWatermarkIsTheSlowestActiveLanesNewestEventLessTheDelay() {
    LaneWatermarks lanes = LaneWatermarks.none()
        .advance(Map.of("a", 100_000L, "b", 40_000L), 1_000, IDLE)
        .advance(Map.of("a", 200_000L), 2_000, IDLE);
    assertThat(lanes.watermark(0, DELAY, 2_000, IDLE)).isEqualTo(30_000);
  }

  @Test
  void aLaneIdleLongerThanTheTimeoutStopsHoldingTheWatermarkBack() {
    LaneWatermarks lanes = LaneWatermarks.none()
        .advance(Map.of("slow", 40_000L), 1_000, IDLE)
        .advance(Map.of("fast", 200_000L), 1_000 + IDLE + 1, IDLE);
    assertThat(lanes.watermark(0, DELAY, 1_000 + IDLE + 1, IDLE)).isEqualTo(190_000);
    // it delivers again: active, it holds the watermark where it is (never back)
    LaneWatermarks back = lanes.advance(Map.of("slow", 50_000L), 2_000 + IDLE, IDLE);
    assertThat(back.watermark(190_000, DELAY, 2_000 + IDLE, IDLE)).isEqualTo(190_000);
  }

  @Test
  void theWatermarkNeverGoesBackAndStaysWithNoActiveLane() {
    LaneWatermarks lanes = LaneWatermarks.none().advance(Map.of("a", 20_000L), 0, IDLE);
    assertThat(lanes.watermark(50_000, DELAY, 0, IDLE)).isEqualTo(50_000);
    assertThat(lanes.watermark(5_000, DELAY, 10 * IDLE, IDLE)).as("no active lane").isEqualTo(5_000);
  }

  @Test
  void aLanesNewestEventOnlyRisesAndLongIdleLanesAreForgotten() {
    LaneWatermarks lanes = LaneWatermarks.none()
        .advance(Map.of("a", 90_000L, "old", 1L), 0, IDLE)
        .advance(Map.of("a", 80_000L), 1_000, IDLE);
    assertThat(lanes.lanes().get("a")).isEqualTo(new LaneWatermarks.Lane(90_000, 1_000));
    assertThat(lanes.advance(Map.of("a", 1L), 1_000 + 101 * IDLE, IDLE).lanes()).doesNotContainKey("old");
  }

  @Test
  void mergeKeepsEachLanesNewestAndJsonRoundTrips() throws Exception {
    LaneWatermarks one = new LaneWatermarks(Map.of("a", new LaneWatermarks.Lane(10, 5), "b",
        new LaneWatermarks.Lane(7, 9)));
    LaneWatermarks two = new LaneWatermarks(Map.of("a", new LaneWatermarks.Lane(12, 4)));
    LaneWatermarks merged = one.merge(two);
    assertThat(merged.lanes()).containsEntry("a", new LaneWatermarks.Lane(12, 5))
        .containsEntry("b", new LaneWatermarks.Lane(7, 9));
    assertThat(LaneWatermarks.fromJson(new ObjectMapper().readTree(merged.toJson().toString())))
        .isEqualTo(merged);
  }

  @Test
  void aCheckpointCarriesTheLanesAndTheNextWatermark() {
    QueryCheckpoint checkpoint = new QueryCheckpoint(3, "{\"batchWatermarkMs\":5}", "{\"batchWatermarkMs\":2}",
        "{\"nextBatchWatermarkMs\":99}", 1, LaneWatermarks.none());
    LaneWatermarks lanes = LaneWatermarks.none().advance(Map.of("a", 70L), 1, IDLE);
    QueryCheckpoint next = QueryCheckpoint.fromJson(checkpoint.withNextWatermark(60, lanes).toJson());
    assertThat(next.lanes()).isEqualTo(lanes);
    assertThat(next.commitMeta()).isEqualTo("{\"nextBatchWatermarkMs\":60}");
    assertThat(next.batchWatermarkMs()).isEqualTo(5);
    assertThat(next.lateEventsWatermarkMs()).isEqualTo(2);
  }
}
