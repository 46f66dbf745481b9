package io.spindrift.fanout;

import java.util.ArrayList;
import java.util.List;

/**
 * How one batch fans out: {@code splits} map children (stateless job), or {@code splits} partition maps that route
 * the records by state partition and {@code reducers} reduce children that each own whole state partitions of the
 * app's {@code partitions} (stateful job), with {@code combiners} between them in a two-level exchange (0: one
 * level), and why.
 */
public record FanOutPlan(boolean stateful, int splits, int reducers, int partitions, String reason, int combiners) {
  /** A one-level plan. */
  public FanOutPlan(boolean stateful, int splits, int reducers, int partitions, String reason) {
    this(stateful, splits, reducers, partitions, reason, 0);
  }

  /** This plan as a two-level exchange: ceil(sqrt(splits)) combiners, each gathering a group of map objects. */
  public FanOutPlan twoLevel() {
    return new FanOutPlan(stateful, splits, reducers, partitions, reason, (int) Math.ceil(Math.sqrt(splits)));
  }

  /** The partition maps combiner {@code g} gathers: a contiguous group, so reducers see records in batch order. */
  public List<Integer> group(int combiner) {
    List<Integer> maps = new ArrayList<>();
    for (int m = (int) ((long) splits * combiner / combiners); m < (long) splits * (combiner + 1) / combiners; m++) {
      maps.add(m);
    }
    return maps;
  }

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
    return stateful ? splits + combiners + reducers : splits;
  }

  /** What the exchange id depends on besides the input: the plan's shape. */
  String fingerprint() {
    return (stateful ? "partition:" + splits + "/combine:" + combiners + "/reduce:" + reducers + "/" + partitions : "map:" + splits);
  }

  public String describe() {
    return stateful
        ? splits + " partition maps, " + (combiners > 0 ? combiners + " combiners, " : "") + reducers
            + " reduce children over " + partitions + " state partitions ("
            + reason + ")"
        : splits + " map children (" + reason + ")";
  }
}
