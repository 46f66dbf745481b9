package io.spindrift.protocol;

/**
 * A batch failed for a reason that is not its records' fault (S3 or DynamoDB unreachable, a job bug, a timeout):
 * the invocation fails and Lambda retries it. The message names the app, the lanes with their position ranges, the
 * seq the batch was taking and its transaction id, then the cause.
 */
public final class BatchFailedException extends RuntimeException {
  BatchFailedException(String context, RuntimeException cause) {
    super(context + ": " + cause.getMessage(), cause);
  }
}
