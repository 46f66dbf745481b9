package io.spindrift.replay;

import io.spindrift.event.Batch;
import io.spindrift.protocol.BatchOutcome;

/**
 * Where a replay's batches go: through the exactly-once protocol, as an event-source mapping's invocation would.
 * {@link #process} may be called from several lane workers at once.
 */
interface ReplayTarget extends AutoCloseable {
  /** Processes one batch (one lane); throws when the batch did not commit, so that it is tried again. */
  BatchOutcome process(Batch batch);

  @Override
  void close();
}
