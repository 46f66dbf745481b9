package io.spindrift.event;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.unsafe.types.UTF8String;

/** A Kafka record; its lane is {@code kafka:<topic>-<partition>}, its position the offset. */
public record KafkaRecord(
    String topic, int partition, long offset, long timestampMs, int timestampType, byte[] key, byte[] value,
    List<Map.Entry<String, byte[]>> headers) implements SourceRecord {

  public static String lane(String topic, int partition) {
    return "kafka:" + topic + "-" + partition;
  }

  @Override
  public String lane() {
    return lane(topic, partition);
  }

  @Override
  public String position() {
    return Long.toString(offset);
  }

  @Override
  public int size() {
    return (value == null ? 0 : value.length) + (key == null ? 0 : key.length);
  }

  @Override
  public InternalRow toRow() {
    Object[] headerRows = new Object[headers.size()];
    for (int i = 0; i < headerRows.length; i++) {
      Map.Entry<String, byte[]> header = headers.get(i);
      headerRows[i] = new GenericInternalRow(new Object[] {UTF8String.fromString(header.getKey()), header.getValue()});
    }
    return new GenericInternalRow(new Object[] {
        key,
        value,
        UTF8String.fromString(topic),
        partition,
        offset,
        timestampMs * 1000L,
        timestampType,
        new GenericArrayData(headerRows),
        UTF8String.fromString(lane()),
        UTF8String.fromString(position())});
  }
}
