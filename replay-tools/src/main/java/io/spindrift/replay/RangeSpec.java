package io.spindrift.replay;

import java.time.Instant;
import java.util.Map;

/**
 * What part of each lane to replay. A lane starts at its entry in {@code startPositions} (inclusive), else at
 * {@code startTime} (the first record at or after it), else at the lane's oldest record; it ends at its entry in
 * {@code endPositions} (inclusive), else before {@code endTime} (exclusive), else at the lane's tip when the lane is
 * read. Lanes are keyed by shard id or partition number.
 */
record RangeSpec(Instant startTime, Map<String, String> startPositions, Instant endTime,
    Map<String, String> endPositions) {
  RangeSpec {
    startPositions = Map.copyOf(startPositions);
    endPositions = Map.copyOf(endPositions);
  }

  /** A stable description, part of the default replay id (the same range resumes the same progress). */
  String describe() {
    return "start=" + (startTime == null ? "earliest" : startTime) + " " + new java.util.TreeMap<>(startPositions)
        + " end=" + (endTime == null ? "latest" : endTime) + " " + new java.util.TreeMap<>(endPositions);
  }
}
