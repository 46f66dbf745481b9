package io.spindrift.event;

import io.spindrift.commit.LaneRange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The records of one invocation, in delivery order, with the lanes they belong to. Immutable. */
public record Batch(SourceKind kind, List<SourceRecord> records) {
  public Batch {
    records = List.copyOf(records);
  }

  public Set<String> lanes() {
    Set<String> lanes = new LinkedHashSet<>();
    records.forEach(r -> lanes.add(r.lane()));
    return lanes;
  }

  public boolean isEmpty() {
    return records.isEmpty();
  }

  public int size() {
    return records.size();
  }

  /** The records after each lane's committed position (I2): the rest were committed before. */
  public Batch after(Map<String, String> committedPositions) {
    List<SourceRecord> fresh = new ArrayList<>();
    for (SourceRecord record : records) {
      String committed = committedPositions.get(record.lane());
      if (committed == null || LaneRange.compare(record.position(), committed) > 0) {
        fresh.add(record);
      }
    }
    return new Batch(kind, fresh);
  }

  /** One range per lane, from the committed position (exclusive) to the batch's highest position. */
  public List<LaneRange> ranges(Map<String, String> committedPositions) {
    Map<String, String> last = new LinkedHashMap<>();
    Map<String, Long> counts = new LinkedHashMap<>();
    for (SourceRecord record : records) {
      last.merge(record.lane(), record.position(), (a, b) -> LaneRange.compare(a, b) >= 0 ? a : b);
      counts.merge(record.lane(), 1L, Long::sum);
    }
    List<LaneRange> ranges = new ArrayList<>();
    last.forEach((lane, position) ->
        ranges.add(new LaneRange(lane, committedPositions.get(lane), position, counts.get(lane))));
    return ranges;
  }

  public long bytes() {
    long total = 0;
    for (SourceRecord record : records) {
      total += record.size();
    }
    return total;
  }
}
