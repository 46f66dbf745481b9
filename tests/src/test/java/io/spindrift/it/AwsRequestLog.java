package io.spindrift.it;

import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Records the AWS requests every SDK client of the test JVM makes while recording is on (registered for all
 * clients through {@code software/amazon/awssdk/global/handlers/execution.interceptors}): which requests a path
 * makes is behaviour the tests pin down.
 */
public final class AwsRequestLog implements ExecutionInterceptor {
  /**
   * One request: service, operation, the DynamoDB table or S3 key it names, the thread that made it, and whether
   * it failed (a conditional write that did not apply, for one).
   */
  record Request(String service, String operation, String target, String thread, boolean failed) {}

  private static final List<Request> REQUESTS = new ArrayList<>();
  private static volatile boolean recording;

  /** Starts a new recording (the previous one is dropped). */
  static synchronized void start() {
    REQUESTS.clear();
    recording = true;
  }

  /** Stops recording and returns the requests made since {@link #start()}, in order of completion. */
  static synchronized List<Request> stop() {
    recording = false;
    return List.copyOf(REQUESTS);
  }

  @Override
  public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
    record(context.request(), attributes, false);
  }

  @Override
  public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
    record(context.request(), attributes, true);
  }

  private static void record(SdkRequest sdkRequest, ExecutionAttributes attributes, boolean failed) {
    if (!recording) {
      return;
    }
    String target = sdkRequest.getValueForField("TableName", String.class)
        .or(() -> sdkRequest.getValueForField("Key", String.class))
        .orElse("");
    Request request = new Request(attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME),
        attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME), target, Thread.currentThread().getName(),
        failed);
    synchronized (AwsRequestLog.class) {
      if (recording) {
        REQUESTS.add(request);
      }
    }
  }
}
