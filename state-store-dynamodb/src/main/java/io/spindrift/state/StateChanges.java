package io.spindrift.state;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything one micro-batch did to state, as drained from {@link StateDeltas#drain}: the deltas its state stores
 * committed (at most one per bucket, none for a store that changed nothing) and the buckets it read from. The
 * runtime makes the deltas part of its commit and checks the buckets read and touched against later commits.
 */
public record StateChanges(List<StateDelta> deltas, Set<StateBucket> bucketsRead) {
  /** No state read or changed: a stateless batch. */
  public static final StateChanges NONE = new StateChanges(List.of(), Set.of());

  public StateChanges {
    deltas = List.copyOf(deltas);
    bucketsRead = Set.copyOf(bucketsRead);
  }

  /** The buckets the deltas change, for the commit record. */
  public Set<StateBucket> touched() {
    Set<StateBucket> touched = new LinkedHashSet<>();
    deltas.forEach(delta -> touched.add(delta.bucket()));
    return touched;
  }

  public boolean isEmpty() {
    return deltas.isEmpty();
  }
}
