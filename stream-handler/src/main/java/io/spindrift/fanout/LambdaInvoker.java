package io.spindrift.fanout;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * Runs child tasks by invoking the child-executor function (AWS SDK v2 {@code Invoke}, request-response), at most
 * {@code ratePerSecond} starts per second, backing off with jitter on {@code TooManyRequestsException} (Lambda's
 * throttle) up to the caller's attempt budget. A function error (the child threw) fails the task's future.
 */
public final class LambdaInvoker implements ChildInvoker {
  private static final int THROTTLE_RETRIES = 8;

  private final LambdaClient lambda;
  private final String function;
  private final int concurrency;
  private final RateLimiter limiter;
  private final ExecutorService pool;

  public LambdaInvoker(LambdaClient lambda, String function, int concurrency, double ratePerSecond) {
    if (function == null || function.isBlank()) {
      throw new IllegalArgumentException("SPINDRIFT_FANOUT_FUNCTION is empty: the Lambda invoker needs the"
          + " child-executor function's name (the CDK app sets it)");
    }
    this.lambda = lambda;
    this.function = function;
    this.concurrency = concurrency;
    this.limiter = new RateLimiter(ratePerSecond);
    this.pool = Executors.newFixedThreadPool(concurrency, runnable -> {
      Thread thread = new Thread(runnable, "spindrift-invoke");
      thread.setDaemon(true);
      return thread;
    });
  }

  @Override
  public CompletableFuture<String> invoke(ChildTask task) {
    String payload = task.toJson();
    return CompletableFuture.supplyAsync(() -> call(task, payload), pool);
  }

  private String call(ChildTask task, String payload) {
    for (int attempt = 1; ; attempt++) {
      limiter.acquire();
      try {
        InvokeResponse response = lambda.invoke(b -> b.functionName(function)
            .invocationType(InvocationType.REQUEST_RESPONSE)
            .payload(SdkBytes.fromString(payload, StandardCharsets.UTF_8)));
        String body = response.payload() == null ? "" : response.payload().asUtf8String();
        if (response.functionError() != null) {
          throw new IllegalStateException("Child " + task.describe() + " failed (" + response.functionError()
              + "): " + body);
        }
        return body;
      } catch (TooManyRequestsException throttled) {
        if (attempt >= THROTTLE_RETRIES) {
          throw throttled;
        }
        long ceiling = Math.min(5_000, 100L << attempt);
        LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling) * 1_000_000L);
      }
    }
  }

  @Override
  public int concurrency() {
    return concurrency;
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }

  /** Spaces starts at least 1/rate seconds apart (a token bucket of one: Lambda's burst is per account anyway). */
  static final class RateLimiter {
    private final long intervalNanos;
    private long next;

    RateLimiter(double perSecond) {
      this.intervalNanos = perSecond <= 0 ? 0 : (long) (1_000_000_000L / perSecond);
    }

    void acquire() {
      long wait;
      synchronized (this) {
        long now = System.nanoTime();
        long at = Math.max(now, next);
        next = at + intervalNanos;
        wait = at - now;
      }
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
    }
  }
}
