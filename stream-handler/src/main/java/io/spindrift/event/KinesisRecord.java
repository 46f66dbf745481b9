package io.spindrift.event;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * A Kinesis record; its lane is {@code kinesis:<stream>/<shardId>}, its position the sequence number. A user record
 * of a KPL aggregate ({@link KplAggregate}) shares its aggregate's sequence number and has its index in it as {@code
 * subSequenceNumber} (null for a record that was not aggregated) and the explicit hash key its producer gave it (or
 * null). The position stays the outer sequence number: Lambda's partial-batch responses and the commit log's lane
 * ranges can only name that, and an aggregate's user records always arrive in one batch; the row's {@code
 * spindrift_position} names the user record itself ({@code <sequenceNumber>/<subSequenceNumber>}), for rejects.
 */
public record KinesisRecord(
    String streamName, String shardId, String partitionKey, String sequenceNumber, Long subSequenceNumber,
    String explicitHashKey, long arrivalMs, byte[] data) implements SourceRecord {

  /** A record as Kinesis stores it (not, or not yet, de-aggregated). */
  public KinesisRecord(String streamName, String shardId, String partitionKey, String sequenceNumber, long arrivalMs,
      byte[] data) {
    this(streamName, shardId, partitionKey, sequenceNumber, null, null, arrivalMs, data);
  }

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

  /** True for a user record taken out of a KPL aggregate. */
  public boolean isSubRecord() {
    return subSequenceNumber != null;
  }

  /** The position as rejects name it: the sequence number, then {@code /<subSequenceNumber>} for a user record. */
  public String recordPosition() {
    return isSubRecord() ? sequenceNumber + "/" + subSequenceNumber : sequenceNumber;
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
        subSequenceNumber,
        UTF8String.fromString(lane()),
        UTF8String.fromString(recordPosition())});
  }
}
