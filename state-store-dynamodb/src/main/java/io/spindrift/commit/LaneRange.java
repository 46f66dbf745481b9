package io.spindrift.commit;

import java.math.BigInteger;
import java.util.List;
import java.util.Objects;

/**
 * The positions of one lane that a commit covers: records after {@code previous} (exclusive, null when the lane
 * had never committed) up to {@code last} (inclusive), and how many records that was.
 */
public record LaneRange(String lane, String previous, String last, long records) {
  public LaneRange {
    Objects.requireNonNull(lane, "lane");
    Objects.requireNonNull(last, "last");
  }

  /** {@code lane=(previous,last]#records} for each range, joined with {@code ;}. */
  public static String describe(List<LaneRange> ranges) {
    StringBuilder out = new StringBuilder();
    for (LaneRange r : ranges) {
      if (out.length() > 0) {
        out.append(';');
      }
      out.append(r.lane()).append("=(").append(r.previous() == null ? "" : r.previous()).append(',')
          .append(r.last()).append("]#").append(r.records());
    }
    return out.toString();
  }

  /** Positions are decimal strings (Kinesis sequence numbers, Kafka offsets), compared as numbers. */
  public static int compare(String a, String b) {
    return new BigInteger(a).compareTo(new BigInteger(b));
  }
}
