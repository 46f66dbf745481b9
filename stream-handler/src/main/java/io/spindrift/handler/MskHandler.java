package io.spindrift.handler;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.spindrift.event.EventDecoder;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.function.Supplier;

/**
 * Lambda entry point for a Kafka event-source mapping: Amazon MSK ({@code "eventSource": "aws:kafka"}) or a
 * self-managed Apache Kafka cluster ({@code "SelfManagedKafka"}, whose events name {@code bootstrapServers} instead
 * of a cluster ARN). A batch may mix partitions; each partition is a lane, {@code kafka:<topic>-<partition>} for
 * either source. Same failure contract as {@link KinesisHandler}; an event of another source is refused. Handler
 * string: {@code io.spindrift.handler.MskHandler::handleRequest}.
 */
public final class MskHandler implements RequestHandler<KafkaEvent, KafkaBatchResponse> {
  private final Supplier<SpindriftRuntime> runtime;

  public MskHandler() {
    this(SpindriftRuntime::container);
  }

  public MskHandler(SpindriftRuntime runtime) {
    this(() -> runtime);
  }

  private MskHandler(Supplier<SpindriftRuntime> runtime) {
    this.runtime = runtime;
  }

  @Override
  public KafkaBatchResponse handleRequest(KafkaEvent event, Context context) {
    BatchOutcome outcome = runtime.get().process(EventDecoder.decode(event),
        context == null ? Long.MAX_VALUE : context.getRemainingTimeInMillis());
    KafkaBatchResponse response = new KafkaBatchResponse();
    for (String failed : outcome.failedPositions()) {
      int at = failed.lastIndexOf('@');
      response.getBatchItemFailures().add(new KafkaBatchResponse.BatchItemFailure(
          failed.substring(0, at), Long.parseLong(failed.substring(at + 1))));
    }
    return response;
  }
}
