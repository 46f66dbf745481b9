package io.spindrift.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the head combines the query checkpoints of stateful batches that committed side by side (bucket commits). */
class QueryCheckpointMergeTest {
  private static final long IDLE = 60_000;

  private static QueryCheckpoint checkpoint(long batchId, long batchWatermark, long next, LaneWatermarks lanes) {
    return new QueryCheckpoint(batchId, "{\"batchWatermarkMs\":" + batchWatermark + ",\"conf\":{}}",
        "{\"batchWatermarkMs\":0,\"conf\":{}}", "{\"nextBatchWatermarkMs\":" + next + "}", 1, lanes);
  }

  @Test
  void mergingACheckpointWithTheOneItWasDerivedFromGivesItBack() {
    LaneWatermarks before = LaneWatermarks.none().advance(Map.of("a", 50_000L, "b", 40_000L), 1_000, IDLE);
    QueryCheckpoint head = checkpoint(7, 20_000, 30_000, before);
    QueryCheckpoint next = checkpoint(8, 30_000, 35_000, before.advance(Map.of("a", 60_000L), 2_000, IDLE));

    assertThat(QueryCheckpoint.merge(head, next, IDLE)).isEqualTo(next);
    assertThat(QueryCheckpoint.merge(next, head, IDLE)).isEqualTo(next);
  }

  @Test
  void twoBatchesFromOneHeadMergeToEveryLanesProgressAndTheHigherWatermark() {
    LaneWatermarks start = LaneWatermarks.none().advance(Map.of("a", 50_000L, "b", 40_000L), 1_000, IDLE);
    QueryCheckpoint laneA = checkpoint(8, 30_000, 45_000, start.advance(Map.of("a", 90_000L), 2_000, IDLE));
    QueryCheckpoint laneB = checkpoint(8, 30_000, 30_000, start.advance(Map.of("b", 70_000L), 2_100, IDLE));

    QueryCheckpoint merged = QueryCheckpoint.fromJson(QueryCheckpoint.merge(laneB.toJson(), laneA.toJson(), IDLE));

    assertThat(merged.nextBatchWatermarkMs()).as("never below either").isEqualTo(45_000);
    assertThat(merged.lanes().lanes()).containsEntry("a", new LaneWatermarks.Lane(90_000, 2_000))
        .containsEntry("b", new LaneWatermarks.Lane(70_000, 2_100));
    assertThat(merged.batchId()).isEqualTo(8);
  }

  @Test
  void aLaggingBatchMergedAfterALaterOneLeavesTheWatermarkWhereItWas() {
    QueryCheckpoint ahead = checkpoint(12, 80_000, 90_000, LaneWatermarks.none());
    QueryCheckpoint lagging = checkpoint(9, 20_000, 25_000, LaneWatermarks.none());

    QueryCheckpoint merged = QueryCheckpoint.merge(ahead, lagging, IDLE);

    assertThat(merged).isEqualTo(ahead);
    assertThat(merged.batchWatermarkMs()).isEqualTo(80_000);
    assertThat(merged.nextBatchWatermarkMs()).isEqualTo(90_000);
  }
}
