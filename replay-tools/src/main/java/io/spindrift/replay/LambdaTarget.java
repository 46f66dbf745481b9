package io.spindrift.replay;

import io.spindrift.event.Batch;
import io.spindrift.event.SourceRecord;
import io.spindrift.protocol.BatchOutcome;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * The deployed function as the target: each batch becomes the event the event-source mapping would send and is
 * invoked synchronously (AWS SDK v2 {@code Invoke}); a batch whose event exceeds the payload cap (Lambda's 6 MB
 * for a synchronous request) is split in halves until every part fits. A function error or a partial batch
 * response fails the batch (the replay tries it again; what the function committed is dropped as duplicates).
 *
 * <p>The function's response carries no counts: this target reports every record it delivered as committed and
 * none as a duplicate (the function drops those itself); {@code spindrift status} shows the app's positions.
 */
final class LambdaTarget implements ReplayTarget {
  /** Lambda's synchronous request payload limit. */
  static final int LAMBDA_PAYLOAD_CAP = 6 * 1024 * 1024;
  private final LambdaClient lambda;
  private final String function;
  private final LambdaEvents events;
  private final int payloadCap;

  LambdaTarget(LambdaClient lambda, String function, LambdaEvents events, int payloadCap) {
    this.lambda = lambda;
    this.function = function;
    this.events = events;
    this.payloadCap = payloadCap;
  }

  @Override
  public BatchOutcome process(Batch batch) {
    long start = System.nanoTime();
    int invocations = invoke(batch);
    return new BatchOutcome(0, "", batch.size(), 0, 0, 0, 0, 0, List.of(),
        Map.of("invocations", (long) invocations, "invokeMs", (System.nanoTime() - start) / 1_000_000));
  }

  /** Invokes the function with {@code batch}, split as needed; returns how many invocations that took. */
  private int invoke(Batch batch) {
    byte[] payload = events.encode(batch).getBytes(StandardCharsets.UTF_8);
    if (payload.length > payloadCap) {
      if (batch.size() == 1) {
        SourceRecord record = batch.records().get(0);
        throw new IllegalStateException("lane " + record.lane() + ", position " + record.position() + ": one record "
            + "makes an event of " + payload.length + " bytes, over the function's payload cap of " + payloadCap);
      }
      int half = batch.size() / 2;
      return invoke(new Batch(batch.kind(), batch.records().subList(0, half)))
          + invoke(new Batch(batch.kind(), batch.records().subList(half, batch.size())));
    }
    InvokeResponse response = lambda.invoke(b -> b.functionName(function)
        .invocationType(InvocationType.REQUEST_RESPONSE).payload(SdkBytes.fromByteArray(payload)));
    String body = response.payload() == null ? "" : response.payload().asUtf8String();
    if (response.functionError() != null) {
      throw new IllegalStateException("function " + function + " failed (" + response.functionError() + ") on lane "
          + batch.lanes() + " from position " + batch.records().get(0).position() + ": " + body);
    }
    List<String> failed = LambdaEvents.failures(body);
    if (!failed.isEmpty()) {
      throw new IllegalStateException("function " + function + " reported lane " + batch.lanes() + " failed from "
          + "position " + failed.get(0));
    }
    return 1;
  }

  @Override
  public void close() {
    lambda.close();
  }
}
