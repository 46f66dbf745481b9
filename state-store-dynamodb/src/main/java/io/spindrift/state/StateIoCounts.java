package io.spindrift.state;

/**
 * DynamoDB requests a {@link StateTable} has made so far, by kind: state reads (Query requests and the items they
 * returned), reads of bookkeeping items (bucket markers and schemas), and writes (TransactWriteItems requests and
 * the items they wrote). Subtract two snapshots to see what one step cost.
 */
public record StateIoCounts(long readRequests, long itemsRead, long metaReads, long writeRequests, long itemsWritten) {
  /** What happened between {@code earlier} and this snapshot. */
  public StateIoCounts minus(StateIoCounts earlier) {
    return new StateIoCounts(readRequests - earlier.readRequests, itemsRead - earlier.itemsRead,
        metaReads - earlier.metaReads, writeRequests - earlier.writeRequests, itemsWritten - earlier.itemsWritten);
  }
}
