package io.spindrift.local.mapping;

import java.util.List;

/** Reads one lane's records in order and shapes them into AWS events; one per mapping worker. */
interface LanePoller extends AutoCloseable {
  /** At most {@code maxRecords} records that arrived since the last call, in order; empty when none is available now. */
  List<PolledRecord> poll(int maxRecords) throws Exception;

  /** True once the lane is closed (a Kinesis shard after a reshard) and every record was returned by {@link #poll}. */
  boolean exhausted();

  /** The AWS event for these records, as JSON. */
  String eventJson(List<PolledRecord> records);

  /** The records a partial-batch response names as failed, as (lane, position) pairs. */
  List<String[]> failedItems(String responseJson, List<PolledRecord> batch) throws Exception;

  @Override
  void close();
}
