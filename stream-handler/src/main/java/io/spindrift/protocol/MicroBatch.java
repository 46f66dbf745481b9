package io.spindrift.protocol;

import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.sink.StagedOutput;
import io.spindrift.state.StateChanges;
import java.util.Map;

/**
 * Step 3 of the protocol as the protocol sees it: run the job as one Spark micro-batch over exactly the batch's
 * new records and stage what it produced, without making anything visible. The runtime's micro-batch query
 * implements it; protocol tests use a fake.
 */
public interface MicroBatch extends AutoCloseable {
  /**
   * Runs {@code fresh} (records after each lane's committed position) as the micro-batch after {@code snapshot}'s
   * head, staging output under {@code txnId}. Adds its phases to {@code timings}.
   *
   * @return what the batch staged and, for a stateful job, its state changes and next query checkpoint
   * @throws RuntimeException if the job failed on the batch; nothing durable has changed
   */
  Result run(Batch fresh, String txnId, LogSnapshot snapshot, Map<String, Long> timings);

  /** The batch of {@code result} was committed as {@code seq} (a warm query may then take the next batch as is). */
  default void committed(Result result, long seq) {}

  /** True when the job keeps state (its batches carry state changes and a checkpoint). */
  boolean isStateful();

  @Override
  void close();

  /**
   * What a micro-batch produced: staged table rows and rejects, the state changes ({@link StateChanges#NONE} for
   * a stateless job), the query checkpoint to leave on the head (null for a stateless job) and the run's id.
   */
  record Result(StagedOutput table, StagedOutput rejects, StateChanges changes, String checkpoint, long run) {}
}
