package io.spindrift.event;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.unsafe.types.UTF8String;

/** A Kinesis record; its lane is {@code kinesis:<stream>/<shardId>}, its position the sequence number. */
public record KinesisRecord(
    String streamName, String shardId, String partitionKey, String sequenceNumber, long arrivalMs, byte[] data)
    implements SourceRecord {

  public static String lane(String streamName, String shardId) {
    return "kinesis:" + streamName + "/" + shardId;
  }

  @Override
  public String lane() {
    return lane(streamName, shardId);
  }

  @Override
  public String position() {
    return sequenceNumber;
  }

  @Override
  public long timestampMs() {
    return arrivalMs;
  }

  @Override
  public int size() {
    return data.length;
  }

  @Override
  public InternalRow toRow() {
    return new GenericInternalRow(new Object[] {
        data,
        UTF8String.fromString(streamName),
        UTF8String.fromString(partitionKey),
        UTF8String.fromString(sequenceNumber),
        arrivalMs * 1000L,
        UTF8String.fromString(lane()),
        UTF8String.fromString(sequenceNumber)});
  }
}
