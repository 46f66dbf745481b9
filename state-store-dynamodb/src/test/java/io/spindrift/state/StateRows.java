package io.spindrift.state;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/** Keys (one string) and values (one long) as Spark's state rows and as their bytes, for tests. */
final class StateRows {
  static final StructType KEY = new StructType().add("key", DataTypes.StringType);
  static final StructType VALUE = new StructType().add("count", DataTypes.LongType);

  private StateRows() {}

  static UnsafeRow key(String key) {
    return UnsafeProjection.create(KEY).apply(new GenericInternalRow(new Object[] {UTF8String.fromString(key)})).copy();
  }

  static UnsafeRow value(long count) {
    return UnsafeProjection.create(VALUE).apply(new GenericInternalRow(new Object[] {count})).copy();
  }

  static KeyBytes keyBytes(String key) {
    return KeyBytes.wrap(DynamoDbStateStore.bytesOf(key(key)));
  }

  static byte[] valueBytes(long count) {
    return DynamoDbStateStore.bytesOf(value(count));
  }

  static long count(byte[] valueBytes) {
    UnsafeRow row = new UnsafeRow(1);
    row.pointTo(valueBytes, valueBytes.length);
    return row.getLong(0);
  }

  static String keyString(UnsafeRow key) {
    return key.getUTF8String(0).toString();
  }

  static StateDelta puts(StateBucket bucket, Map<String, Long> counts) {
    Map<KeyBytes, byte[]> puts = new HashMap<>();
    counts.forEach((key, count) -> puts.put(keyBytes(key), valueBytes(count)));
    return new StateDelta(bucket, puts, Set.of());
  }

  static StateDelta removes(StateBucket bucket, String... keys) {
    Set<KeyBytes> removes = new HashSet<>();
    for (String key : keys) {
      removes.add(keyBytes(key));
    }
    return new StateDelta(bucket, Map.of(), removes);
  }
}
