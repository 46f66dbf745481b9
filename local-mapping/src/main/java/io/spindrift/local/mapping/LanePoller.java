package io.spindrift.local.mapping;

import java.util.List;

/** Reads one source's records in order and shapes them into AWS events; one per mapping worker. */
interface LanePoller extends AutoCloseable {
  /** The records that arrived since the last call, in order; empty when none is available now. */
  List<PolledRecord> poll() throws Exception;

  /** The AWS event for these records, as JSON. */
  String eventJson(List<PolledRecord> records);

  /** The records a partial-batch response names as failed, as (lane, position) pairs. */
  List<String[]> failedItems(String responseJson, List<PolledRecord> batch) throws Exception;

  @Override
  void close();
}
