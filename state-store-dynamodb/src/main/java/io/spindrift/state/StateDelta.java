package io.spindrift.state;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What one committed Spark state store changed in one {@link StateBucket} during one micro-batch: keys put (with
 * their new value bytes) and keys removed. A key is in at most one of the two. Deltas are values: nobody changes
 * the byte arrays they hold.
 */
public record StateDelta(StateBucket bucket, Map<KeyBytes, byte[]> puts, Set<KeyBytes> removes) {
  public StateDelta {
    Objects.requireNonNull(bucket, "bucket");
    puts = Map.copyOf(puts);
    removes = Set.copyOf(removes);
    for (KeyBytes removed : removes) {
      if (puts.containsKey(removed)) {
        throw new IllegalArgumentException("Key " + removed + " is both put and removed in " + bucket);
      }
    }
  }

  public boolean isEmpty() {
    return puts.isEmpty() && removes.isEmpty();
  }

  /** Number of keys this delta changes. */
  public int size() {
    return puts.size() + removes.size();
  }
}
