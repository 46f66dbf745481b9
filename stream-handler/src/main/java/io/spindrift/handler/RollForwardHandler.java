package io.spindrift.handler;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.protocol.RollForward;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lambda entry point of the scheduled roll-forward (an EventBridge schedule in the CDK app; a timer locally):
 * publishes whatever the app has committed and not yet published, so publication completes (I1) even when a
 * deferred publish was frozen with its container and no invocation follows on a quiet stream. Logs one line in
 * CloudWatch Embedded Metric Format with {@code OldestUnpublishedCommitAgeSeconds}, the age of the oldest commit
 * that was waiting, which the CDK app's alarm watches. A publish that fails (S3 or DynamoDB unreachable) is thrown,
 * so the invocation fails and the next tick tries again. Handler string: {@code
 * io.spindrift.handler.RollForwardHandler::handleRequest}; any input event is accepted and ignored.
 */
public final class RollForwardHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.rollforward");
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Supplier<SpindriftRuntime> runtime;

  /** Used by Lambda: the container's runtime, configured from the environment. */
  public RollForwardHandler() {
    this(SpindriftRuntime::container);
  }

  public RollForwardHandler(SpindriftRuntime runtime) {
    this(() -> runtime);
  }

  private RollForwardHandler(Supplier<SpindriftRuntime> runtime) {
    this.runtime = runtime;
  }

  /** Returns {@code headSeq}, {@code unpublished}, {@code published} and {@code oldestUnpublishedAgeSeconds}. */
  @Override
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    SpindriftRuntime current = runtime.get();
    RollForward done = current.rollForward();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("headSeq", done.headSeq());
    result.put("unpublished", done.unpublished());
    result.put("published", done.published());
    result.put("oldestUnpublishedAgeSeconds", done.oldestUnpublishedAgeMs() / 1000);
    log(current.config().app(), done);
    return result;
  }

  private static void log(String app, RollForward done) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("app", app);
    line.put("rollForward", true);
    line.put("headSeq", done.headSeq());
    line.put("UnpublishedCommits", done.unpublished());
    line.put("published", done.published());
    line.put("OldestUnpublishedCommitAgeSeconds", done.oldestUnpublishedAgeMs() / 1000);
    line.put("App", app);
    line.put("_aws", Map.of("Timestamp", System.currentTimeMillis(), "CloudWatchMetrics", List.of(Map.of(
        "Namespace", "Spindrift", "Dimensions", List.of(List.of("App")),
        "Metrics", List.of(Map.of("Name", "OldestUnpublishedCommitAgeSeconds", "Unit", "Seconds"),
            Map.of("Name", "UnpublishedCommits", "Unit", "Count"))))));
    try {
      LOG.info(JSON.writeValueAsString(line));
    } catch (Exception e) {
      LOG.info("{}", line);
    }
  }
}
