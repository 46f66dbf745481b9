package io.spindrift.protocol;

import java.util.List;
import java.util.Map;

/**
 * What one invocation did. {@code seq} is the commit it made (0 when every record was a duplicate);
 * {@code failedPositions} lists records to report as batch item failures (empty unless a record could not be
 * handled at all); {@code timingsMs} breaks the invocation into phases.
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
    Map<String, Long> timingsMs) {}
