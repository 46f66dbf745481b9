package io.spindrift.fanout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.sink.StagedOutput;
import java.util.List;

/**
 * A child's manifest: what it staged (table rows and rejects, as stage refs the parent combines into its one
 * commit), how many records it ran and, for a reduce child, its state changes (the {@code StateDeltaCodec} bytes,
 * base64; only buckets of the partitions it owns), the buckets it read and the query checkpoint its batch left
 * (whose next-batch watermark the parent combines over all reducers). A partition map's manifest carries its
 * object's block index ({@link Exchange#writeRouted}) and its split's newest event times (per lane, and over all
 * lanes; null when the job has no watermark).
 */
public record ChildResult(String exchange, ChildTask.Role role, int index, String stageId, String tableRef,
    long tableRows, String rejectsRef, long rejectsRows, long records, String stateDeltas,
    List<List<String>> bucketsRead, String checkpoint, long durationMs, List<Long> mapIndex,
    java.util.Map<String, Long> newestPerLane, Long newestMs) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public ChildResult {
    bucketsRead = bucketsRead == null ? List.of() : List.copyOf(bucketsRead);
  }

  public StagedOutput table() {
    return new StagedOutput(tableRef, tableRows);
  }

  public StagedOutput rejects() {
    return new StagedOutput(rejectsRef, rejectsRows);
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static ChildResult fromJson(String json) {
    try {
      return JSON.readValue(json, ChildResult.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("Not a Spindrift child result: " + e.getOriginalMessage(), e);
    }
  }
}
