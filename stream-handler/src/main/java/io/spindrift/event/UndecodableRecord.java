package io.spindrift.event;

import org.apache.spark.sql.catalyst.InternalRow;

/**
 * A delivered record the decoder could not turn into input rows (a KPL aggregate with a bad MD5 trailer or an
 * unreadable protobuf): it keeps its lane and position, so de-duplication and lane ranges count it like any other
 * record, but it never reaches the job: the runtime stages it straight into the rejects table with {@code reason}
 * and the raw bytes, in the batch's commit. Never dropped, and never a reason to fail the batch.
 */
public record UndecodableRecord(SourceRecord raw, String reason) implements SourceRecord {
  @Override
  public String lane() {
    return raw.lane();
  }

  @Override
  public String position() {
    return raw.position();
  }

  @Override
  public long timestampMs() {
    return raw.timestampMs();
  }

  @Override
  public int size() {
    return raw.size();
  }

  /** The raw record's row: what a replay of the raw record would also start from. */
  @Override
  public InternalRow toRow() {
    return raw.toRow();
  }

  /** The raw record's payload (the aggregate's bytes as delivered). */
  public byte[] payload() {
    return raw instanceof KinesisRecord kinesis ? kinesis.data() : null;
  }
}
