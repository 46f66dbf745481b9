package io.spindrift.local.mapping;

import java.time.Duration;

/**
 * The event-source mapping settings the local mapping honours, with AWS's names and meanings.
 *
 * @param batchSize maximum records per invocation
 * @param batchingWindow how long to gather records before invoking with fewer than batchSize
 * @param bisectOnError split a failed batch in two and retry each half
 * @param maxRetries retries of a failed batch before it goes to the on-failure destination (-1: forever)
 * @param maxRecordAge records older than this are not sent, but go to the destination (null: no limit)
 * @param reportBatchItemFailures honour {@code batchItemFailures} in the response
 */
public record MappingOptions(
    int batchSize,
    Duration batchingWindow,
    boolean bisectOnError,
    int maxRetries,
    Duration maxRecordAge,
    boolean reportBatchItemFailures) {
  public MappingOptions {
    if (batchSize < 1 || batchSize > 10_000) {
      throw new IllegalArgumentException("Invalid batchSize: " + batchSize + " (1 to 10000)");
    }
    if (maxRetries < -1) {
      throw new IllegalArgumentException("Invalid maxRetries: " + maxRetries + " (-1 or more)");
    }
  }

  public static MappingOptions defaults() {
    return new MappingOptions(100, Duration.ZERO, true, 3, null, true);
  }

  public MappingOptions withBatchSize(int size) {
    return new MappingOptions(size, batchingWindow, bisectOnError, maxRetries, maxRecordAge, reportBatchItemFailures);
  }

  public MappingOptions withBatchingWindow(Duration window) {
    return new MappingOptions(batchSize, window, bisectOnError, maxRetries, maxRecordAge, reportBatchItemFailures);
  }

  public MappingOptions withBisectOnError(boolean bisect) {
    return new MappingOptions(batchSize, batchingWindow, bisect, maxRetries, maxRecordAge, reportBatchItemFailures);
  }

  public MappingOptions withMaxRetries(int retries) {
    return new MappingOptions(batchSize, batchingWindow, bisectOnError, retries, maxRecordAge, reportBatchItemFailures);
  }

  public MappingOptions withMaxRecordAge(Duration age) {
    return new MappingOptions(batchSize, batchingWindow, bisectOnError, maxRetries, age, reportBatchItemFailures);
  }
}
