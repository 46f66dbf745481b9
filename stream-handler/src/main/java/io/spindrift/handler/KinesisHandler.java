package io.spindrift.handler;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.event.EventDecoder;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.List;
import java.util.function.Supplier;

/**
 * Lambda entry point for a Kinesis event-source mapping: one invocation, one micro-batch, committed exactly once.
 * Rejected records are not failures (they are in the rejects table); an error that is not the records' fault
 * (S3 or DynamoDB unreachable, a commit that kept conflicting) is thrown, so Lambda retries the batch.
 * Handler string: {@code io.spindrift.handler.KinesisHandler::handleRequest}.
 */
public final class KinesisHandler implements RequestHandler<KinesisEvent, StreamsEventResponse> {
  private final Supplier<SpindriftRuntime> runtime;

  /** Used by Lambda: the container's runtime, configured from the environment. */
  public KinesisHandler() {
    this(SpindriftRuntime::container);
  }

  public KinesisHandler(SpindriftRuntime runtime) {
    this(() -> runtime);
  }

  private KinesisHandler(Supplier<SpindriftRuntime> runtime) {
    this.runtime = runtime;
  }

  @Override
  public StreamsEventResponse handleRequest(KinesisEvent event, Context context) {
    BatchOutcome outcome = runtime.get().process(EventDecoder.decode(event),
        context == null ? Long.MAX_VALUE : context.getRemainingTimeInMillis());
    List<StreamsEventResponse.BatchItemFailure> failures = outcome.failedPositions().stream()
        .map(position -> StreamsEventResponse.BatchItemFailure.builder().withItemIdentifier(position).build())
        .toList();
    return StreamsEventResponse.builder().withBatchItemFailures(failures).build();
  }
}
