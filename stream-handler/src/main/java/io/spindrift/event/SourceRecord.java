package io.spindrift.event;

import org.apache.spark.sql.catalyst.InternalRow;

/** One record of a batch: its lane, its position in the lane, and its row in the job's input schema. */
public interface SourceRecord {
  String lane();

  /** The position as a decimal string (Kinesis sequence number, Kafka offset). */
  String position();

  /** Arrival time in epoch milliseconds (for max record age). */
  long timestampMs();

  /** Payload size in bytes. */
  int size();

  /** The record as a row of {@link SourceKind#schema()}, in Spark's internal representation. */
  InternalRow toRow();
}
