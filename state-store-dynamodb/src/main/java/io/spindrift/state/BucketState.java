package io.spindrift.state;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * The rows of one bucket as read from DynamoDB (or kept warm since), immutable: applying a delta makes a new
 * one. {@code appliedSeq} is the bucket's marker when it was read: the last commit whose delta had reached it.
 */
final class BucketState {
  /** No rows, never applied to (a store of a partition this process does not own). */
  static final BucketState EMPTY = new BucketState(Map.of(), -1);

  private final Map<KeyBytes, byte[]> rows;
  private final long appliedSeq;

  BucketState(Map<KeyBytes, byte[]> rows, long appliedSeq) {
    this.rows = rows;
    this.appliedSeq = appliedSeq;
  }

  /** Value bytes by key; do not modify the arrays. */
  public Map<KeyBytes, byte[]> rows() {
    return Collections.unmodifiableMap(rows);
  }

  /** The value of {@code key}, or null; do not modify the array. */
  public byte[] get(KeyBytes key) {
    return rows.get(key);
  }

  public boolean contains(KeyBytes key) {
    return rows.containsKey(key);
  }

  public int size() {
    return rows.size();
  }

  public long appliedSeq() {
    return appliedSeq;
  }

  /** This state with {@code delta} (the delta of commit {@code seq}) applied. */
  BucketState with(StateDelta delta, long seq) {
    Map<KeyBytes, byte[]> next = new HashMap<>(rows);
    delta.removes().forEach(next::remove);
    next.putAll(delta.puts());
    return new BucketState(next, Math.max(seq, appliedSeq));
  }
}
