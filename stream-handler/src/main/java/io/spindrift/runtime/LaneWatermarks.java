package io.spindrift.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Event-time progress per lane and the watermark it allows (DESIGN §6, issue 14 defect 11). A cluster reading all
 * lanes in one query sees every lane's rows before its watermark passes them; Spindrift runs each lane's batches in
 * their own invocations, so a watermark taken from the newest event of any lane would drop the rows of a lane that
 * lags (retries, throttling, a slow shard) as late. Instead each lane keeps the newest event time it delivered, and
 * the app's watermark is the minimum over the lanes that are active, minus the job's delay, the way Flink combines
 * the watermarks of a source's partitions: a lane that delivered nothing for the idle timeout (processing time) stops
 * holding the others back until it delivers again. The watermark never goes back.
 *
 * <p>Kept on the query checkpoint of each stateful commit, so it travels with the head like Spark's own watermark.
 */
final class LaneWatermarks {
  /** A lane's progress: the newest event time it delivered and when (wall clock) it last delivered a batch. */
  record Lane(long maxEventMs, long seenAtMs) {}

  /** How long after its last batch a lane's progress is kept at all (beyond it, a lane is forgotten). */
  private static final long FORGET_AFTER_IDLE_TIMEOUTS = 100;

  private final Map<String, Lane> lanes;

  LaneWatermarks(Map<String, Lane> lanes) {
    this.lanes = new TreeMap<>(lanes);
  }

  static LaneWatermarks none() {
    return new LaneWatermarks(Map.of());
  }

  Map<String, Lane> lanes() {
    return Map.copyOf(lanes);
  }

  /**
   * The progress after a batch whose lanes delivered events up to {@code batchMax} (event-time milliseconds per
   * lane; a lane of the batch whose rows had no event time is absent) at wall-clock {@code nowMs}.
   */
  LaneWatermarks advance(Map<String, Long> batchMax, long nowMs, long idleTimeoutMs) {
    Map<String, Lane> next = new TreeMap<>(lanes);
    batchMax.forEach((lane, max) -> {
      Lane before = next.get(lane);
      next.put(lane, new Lane(before == null ? max : Math.max(before.maxEventMs(), max), nowMs));
    });
    long forget = Math.max(idleTimeoutMs, 1) * FORGET_AFTER_IDLE_TIMEOUTS;
    next.values().removeIf(lane -> nowMs - lane.seenAtMs() > forget);
    return new LaneWatermarks(next);
  }

  /**
   * The watermark for the next batch: the minimum newest event time over the lanes active at {@code nowMs}, less
   * {@code delayMs}, and never below {@code currentMs} (the watermark the batch just run used). With no active lane
   * it stays where it is.
   */
  long watermark(long currentMs, long delayMs, long nowMs, long idleTimeoutMs) {
    long min = Long.MAX_VALUE;
    for (Lane lane : lanes.values()) {
      if (nowMs - lane.seenAtMs() <= idleTimeoutMs) {
        min = Math.min(min, lane.maxEventMs());
      }
    }
    return min == Long.MAX_VALUE ? currentMs : Math.max(currentMs, min - delayMs);
  }

  /** Progress merged from several views of one batch (fan-out reducers): per lane the newest of each. */
  LaneWatermarks merge(LaneWatermarks other) {
    Map<String, Lane> merged = new TreeMap<>(lanes);
    other.lanes.forEach((lane, theirs) -> merged.merge(lane, theirs, (a, b) ->
        new Lane(Math.max(a.maxEventMs(), b.maxEventMs()), Math.max(a.seenAtMs(), b.seenAtMs()))));
    return new LaneWatermarks(merged);
  }

  ObjectNode toJson() {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    lanes.forEach((lane, progress) -> node.putArray(lane).add(progress.maxEventMs()).add(progress.seenAtMs()));
    return node;
  }

  static LaneWatermarks fromJson(JsonNode node) {
    if (node == null || !node.isObject()) {
      return none();
    }
    Map<String, Lane> lanes = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> lane = it.next();
      lanes.put(lane.getKey(), new Lane(lane.getValue().get(0).asLong(), lane.getValue().get(1).asLong()));
    }
    return new LaneWatermarks(lanes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LaneWatermarks other && other.lanes.equals(lanes);
  }

  @Override
  public int hashCode() {
    return lanes.hashCode();
  }

  @Override
  public String toString() {
    return lanes.toString();
  }
}
