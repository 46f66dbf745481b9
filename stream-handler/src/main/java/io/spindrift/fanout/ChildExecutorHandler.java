package io.spindrift.fanout;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Lambda entry point of the child-executor function (DESIGN §8): the payload is a {@link ChildTask}'s JSON, the
 * response the child's {@link ChildResult} (or a pointer to it in S3 when larger than a response may be). A failure
 * is thrown: the parent sees a function error and retries the task a bounded number of times. Handler string:
 * {@code io.spindrift.fanout.ChildExecutorHandler::handleRequest}.
 */
public final class ChildExecutorHandler implements RequestStreamHandler {
  private final java.util.function.Supplier<SpindriftRuntime> runtime;

  /** The Lambda entry point: the container's runtime, built from the environment. */
  public ChildExecutorHandler() {
    this(SpindriftRuntime::container);
  }

  /** A handler over another runtime than the container's (a stand-in for Lambda's Invoke API in tests). */
  public ChildExecutorHandler(SpindriftRuntime runtime) {
    this(() -> runtime);
  }

  private ChildExecutorHandler(java.util.function.Supplier<SpindriftRuntime> runtime) {
    this.runtime = runtime;
  }

  @Override
  public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
    String task = new String(input.readAllBytes(), StandardCharsets.UTF_8);
    output.write(runtime.get().runChild(task).getBytes(StandardCharsets.UTF_8));
  }
}
