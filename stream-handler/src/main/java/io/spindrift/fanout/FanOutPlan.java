package io.spindrift.fanout;

import java.util.ArrayList;
import java.util.List;

/**
 * How one batch fans out: {@code splits} map children (stateless job), or {@code splits} partition maps that route
 * the records by state partition and {@code reducers} reduce children that each own whole state partitions of the
 * app's {@code partitions} (stateful job), and why.
 */
public record FanOutPlan(boolean stateful, int splits, int reducers, int partitions, String reason) {
  /** The state partitions reducer {@code r} owns: every {@code reducers}-th, from {@code r}. */
  public List<Integer> owned(int reducer) {
    List<Integer> owned = new ArrayList<>();
    for (int p = reducer; p < partitions; p += reducers) {
      owned.add(p);
    }
    return owned;
  }

  /** Children this plan starts. */
  public int children() {
    return stateful ? splits + reducers : splits;
  }

  /** What the exchange id depends on besides the input: the plan's shape. */
  String fingerprint() {
    return (stateful ? "partition:" + splits + "/reduce:" + reducers + "/" + partitions : "map:" + splits);
  }

  public String describe() {
    return stateful
        ? splits + " partition maps, " + reducers + " reduce children over " + partitions + " state partitions ("
            + reason + ")"
        : splits + " map children (" + reason + ")";
  }
}
