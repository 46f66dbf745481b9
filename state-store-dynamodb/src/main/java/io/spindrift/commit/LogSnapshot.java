package io.spindrift.commit;

import java.util.Map;
import java.util.Optional;

/**
 * What an invocation reads before it runs: the app's head sequence, how far publication has got, the
 * committed position of each lane it is about to process (absent for a lane that never committed) and, for
 * stateful jobs, the query checkpoint the head commit left (null if none).
 */
public record LogSnapshot(long headSeq, long publishedSeq, Map<String, String> lanePositions, String checkpoint) {
  public LogSnapshot {
    lanePositions = Map.copyOf(lanePositions);
  }

  public Optional<String> position(String lane) {
    return Optional.ofNullable(lanePositions.get(lane));
  }

  /** True when some committed batch has not been published yet and must be rolled forward. */
  public boolean hasUnpublished() {
    return publishedSeq < headSeq;
  }
}
