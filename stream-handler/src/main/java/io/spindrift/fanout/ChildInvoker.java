package io.spindrift.fanout;

import java.util.concurrent.CompletableFuture;

/**
 * Starts child executors (DESIGN §8): {@link LambdaInvoker} invokes the child-executor function, {@link
 * LocalProcessInvoker} runs warm child JVMs on this machine (separate processes: they prove the children share
 * nothing with the parent but S3 and DynamoDB), {@link InProcessInvoker} runs them on threads of this JVM (tests).
 */
public interface ChildInvoker extends AutoCloseable {
  /**
   * Runs one task (its JSON) on a child. Completes with the child's response (a {@link ChildResult}'s JSON, or
   * {@code {"resultKey": …}} when too large for a response), or exceptionally when the child failed or died.
   */
  CompletableFuture<String> invoke(ChildTask task);

  /** Children this invoker can run at once (the coordinator starts no more than that). */
  int concurrency();

  @Override
  default void close() {}
}
