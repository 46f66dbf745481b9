package io.spindrift.protocol;

import java.util.List;
import java.util.Map;

/**
 * What one invocation did. {@code seq} is the commit it made (0 when every record was a duplicate);
 * {@code failedPositions} lists records to report as batch item failures (empty unless a record could not be
 * handled at all); {@code timingsMs} breaks the invocation into phases ({@code publish_wait}: time spent waiting
 * for another invocation's group publish); {@code publication} says what step 5 did about the commit.
 */
public record BatchOutcome(
    long seq,
    String txnId,
    int records,
    int duplicates,
    long outputRows,
    long rejected,
    int conflicts,
    int published,
    List<String> failedPositions,
    Map<String, Long> timingsMs,
    PublishOutcome publication) {

  /** An outcome that says nothing about publication ({@link PublishOutcome#NOTHING}). */
  public BatchOutcome(long seq, String txnId, int records, int duplicates, long outputRows, long rejected,
      int conflicts, int published, List<String> failedPositions, Map<String, Long> timingsMs) {
    this(seq, txnId, records, duplicates, outputRows, rejected, conflicts, published, failedPositions, timingsMs,
        PublishOutcome.NOTHING);
  }

  /** This outcome with {@code failed} as its failed positions. */
  public BatchOutcome withFailedPositions(List<String> failed) {
    return new BatchOutcome(seq, txnId, records, duplicates, outputRows, rejected, conflicts, published, failed,
        timingsMs, publication);
  }
}
