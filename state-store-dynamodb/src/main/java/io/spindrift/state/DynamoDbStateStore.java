package io.spindrift.state;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.execution.streaming.state.StateStore;
import org.apache.spark.sql.execution.streaming.state.StateStoreCustomMetric;
import org.apache.spark.sql.execution.streaming.state.StateStoreId;
import org.apache.spark.sql.execution.streaming.state.StateStoreMetrics;
import org.apache.spark.sql.execution.streaming.state.UnsafeRowPair;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;
import scala.collection.Iterator;
import scala.collection.JavaConverters;

/**
 * One Spark state store over one bucket for one micro-batch: reads see the snapshot it was opened on plus its own
 * buffered writes; {@link #commit} hands the buffered writes, as a {@link StateDelta}, to its listener and writes
 * nothing. Rows are copied in and out, since Spark reuses the buffers of the rows it passes and may change rows it
 * gets back; iterators are snapshots, since Spark removes keys while it iterates (eviction).
 */
final class DynamoDbStateStore implements StateStore {
  /** Told about reads (for conflict detection) and about the delta at commit. */
  interface Listener {
    void read();

    void committed(StateDelta delta);
  }

  private enum Phase { UPDATING, COMMITTED, ABORTED }

  private final StateStoreId id;
  private final StateBucket bucket;
  private final long version;
  private final BucketState base;
  private final int keyFields;
  private final int valueFields;
  private final StructType prefixSchema;
  private final Listener listener;
  private final Map<KeyBytes, byte[]> puts = new HashMap<>();
  private final Set<KeyBytes> removes = new HashSet<>();
  private UnsafeProjection prefixProjection;
  private Phase phase = Phase.UPDATING;

  DynamoDbStateStore(StateStoreId id, StateBucket bucket, long version, BucketState base, int keyFields,
      int valueFields, StructType prefixSchema, Listener listener) {
    this.id = id;
    this.bucket = bucket;
    this.version = version;
    this.base = base;
    this.keyFields = keyFields;
    this.valueFields = valueFields;
    this.prefixSchema = prefixSchema;
    this.listener = listener;
  }

  @Override
  public StateStoreId id() {
    return id;
  }

  @Override
  public long version() {
    return phase == Phase.COMMITTED ? version + 1 : version;
  }

  @Override
  public UnsafeRow get(UnsafeRow key) {
    listener.read();
    byte[] value = valueOf(KeyBytes.wrap(bytesOf(key)));
    return value == null ? null : row(value, valueFields);
  }

  private byte[] valueOf(KeyBytes key) {
    byte[] put = puts.get(key);
    if (put != null) {
      return put;
    }
    return removes.contains(key) ? null : base.get(key);
  }

  @Override
  public void put(UnsafeRow key, UnsafeRow value) {
    checkUpdating("put");
    byte[] keyBytes = bytesOf(key);
    byte[] valueBytes = bytesOf(value);
    StateTable.checkKeySize(bucket, keyBytes.length);
    KeyBytes wrapped = KeyBytes.wrap(keyBytes);
    removes.remove(wrapped);
    puts.put(wrapped, valueBytes);
  }

  @Override
  public void remove(UnsafeRow key) {
    checkUpdating("remove");
    KeyBytes wrapped = KeyBytes.wrap(bytesOf(key));
    puts.remove(wrapped);
    if (base.contains(wrapped)) {
      removes.add(wrapped);
    }
  }

  @Override
  public Iterator<UnsafeRowPair> iterator() {
    listener.read();
    return JavaConverters.asScalaIterator(snapshot(null).iterator());
  }

  @Override
  public Iterator<UnsafeRowPair> prefixScan(UnsafeRow prefixKey) {
    if (prefixSchema == null) {
      throw new IllegalStateException("prefixScan on " + bucket + ", whose store has no prefix key columns");
    }
    listener.read();
    return JavaConverters.asScalaIterator(snapshot(KeyBytes.wrap(bytesOf(prefixKey))).iterator());
  }

  /** Copies of the current rows (all, or those whose key starts with {@code prefix}'s columns). */
  private List<UnsafeRowPair> snapshot(KeyBytes prefix) {
    List<UnsafeRowPair> rows = new ArrayList<>();
    base.rows().forEach((key, value) -> {
      if (!puts.containsKey(key) && !removes.contains(key) && matches(key, prefix)) {
        rows.add(pair(key, value));
      }
    });
    puts.forEach((key, value) -> {
      if (matches(key, prefix)) {
        rows.add(pair(key, value));
      }
    });
    return rows;
  }

  private boolean matches(KeyBytes key, KeyBytes prefix) {
    if (prefix == null) {
      return true;
    }
    if (prefixProjection == null) {
      prefixProjection = UnsafeProjection.create(prefixSchema);
    }
    UnsafeRow keyRow = new UnsafeRow(keyFields);
    keyRow.pointTo(key.bytes(), key.length());
    return KeyBytes.wrap(bytesOf(prefixProjection.apply(keyRow))).equals(prefix);
  }

  private UnsafeRowPair pair(KeyBytes key, byte[] value) {
    return new UnsafeRowPair(row(key.bytes(), keyFields), row(value, valueFields));
  }

  @Override
  public long commit() {
    checkUpdating("commit");
    StateDelta delta = new StateDelta(bucket, puts, removes);
    if (!delta.isEmpty()) {
      listener.committed(delta);
    }
    phase = Phase.COMMITTED;
    return version + 1;
  }

  @Override
  public void abort() {
    if (phase == Phase.UPDATING) {
      phase = Phase.ABORTED;
      puts.clear();
      removes.clear();
    }
  }

  @Override
  public boolean hasCommitted() {
    return phase == Phase.COMMITTED;
  }

  @Override
  public StateStoreMetrics metrics() {
    long keys = base.size() - removes.size();
    for (KeyBytes key : puts.keySet()) {
      if (!base.contains(key)) {
        keys++;
      }
    }
    long bytes = 0;
    for (Map.Entry<KeyBytes, byte[]> entry : puts.entrySet()) {
      bytes += entry.getKey().length() + entry.getValue().length;
    }
    scala.collection.immutable.Map<StateStoreCustomMetric, Object> none = scala.collection.immutable.Map$.MODULE$.empty();
    return new StateStoreMetrics(keys, bytes, none);
  }

  private void checkUpdating(String operation) {
    if (phase != Phase.UPDATING) {
      throw new IllegalStateException("Cannot " + operation + " state of " + bucket + " (Spark version " + version
          + "): the store was already " + phase.name().toLowerCase());
    }
  }

  /** A fresh copy of the row's bytes: Spark reuses the buffers behind the rows it passes in. */
  static byte[] bytesOf(UnsafeRow row) {
    byte[] bytes = new byte[row.getSizeInBytes()];
    row.writeToMemory(bytes, Platform.BYTE_ARRAY_OFFSET);
    return bytes;
  }

  /** A row over a copy of {@code bytes}: Spark may write into rows it gets back. */
  private static UnsafeRow row(byte[] bytes, int fields) {
    UnsafeRow row = new UnsafeRow(fields);
    row.pointTo(bytes.clone(), bytes.length);
    return row;
  }

  @Override
  public String toString() {
    return "DynamoDbStateStore[" + bucket + ", Spark version " + version + ", " + phase + "]";
  }
}
