package io.spindrift.examples;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.event.SourceKind;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.MskHandler;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.LocalStack;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The local event-source mappings of one run: for each source kind, a mapping over the local stream or topic
 * {@code name} that invokes the real handler ({@link KinesisHandler}, {@link MskHandler}) in this JVM with events
 * serialized as AWS serializes them. The only class of the demo that touches the local mapping's API.
 *
 * <p>Function errors are retried, bisected and finally sent to the on-failure destination as Lambda does; the
 * first few error messages are kept for the summary.
 */
final class LocalMappings implements AutoCloseable {
  private static final int KEPT_ERRORS = 5;

  private final List<LocalEventSourceMapping> mappings = new ArrayList<>();
  private final List<FailedBatch> failures = new CopyOnWriteArrayList<>();
  private final List<String> functionErrors = new CopyOnWriteArrayList<>();
  private final List<AmazonKinesis> clients = new ArrayList<>();

  private LocalMappings() {}

  /** Starts one mapping per kind over {@code name}; Kinesis runs one worker per shard, Kafka one over all partitions. */
  static LocalMappings start(SpindriftRuntime runtime, LocalStack stack, String name, List<SourceKind> kinds,
      int batchSize) {
    LocalMappings run = new LocalMappings();
    MappingOptions options = MappingOptions.defaults().withBatchSize(batchSize);
    try {
      for (SourceKind kind : kinds) {
        run.mappings.add(switch (kind) {
          case KINESIS -> {
            AmazonKinesis kinesis = LocalPipeline.kinesis(stack);
            run.clients.add(kinesis);
            int shards = kinesis.describeStream(name).getStreamDescription().getShards().size();
            yield EventSources.kinesis(kinesis, name, stack.region(), run.recording(new InProcessInvoker<>(
                new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, shards)),
                options, run.failures::add);
          }
          case KAFKA -> EventSources.kafka(stack.kafkaBootstrap(), name, stack.region(), run.recording(
              new InProcessInvoker<>(new MskHandler(runtime), KafkaEvent.class, KafkaBatchResponse.class, 1)),
              options, run.failures::add);
        });
      }
    } catch (RuntimeException e) {
      run.close();
      throw e;
    }
    return run;
  }

  private LambdaInvoker recording(LambdaInvoker function) {
    return eventJson -> {
      try {
        return function.invoke(eventJson);
      } catch (LambdaInvoker.FunctionError e) {
        if (functionErrors.size() < KEPT_ERRORS) {
          functionErrors.add(e.getMessage());
        }
        throw e;
      }
    };
  }

  /** Records acknowledged by the function or given up (sent to the on-failure destination). */
  long settled() {
    return mappings.stream().mapToLong(m -> m.delivered() + m.sentToDestination()).sum();
  }

  long invocations() {
    return mappings.stream().mapToLong(LocalEventSourceMapping::invocations).sum();
  }

  /** Records sent to the on-failure destination: lost to the table. */
  long givenUp() {
    return failures.stream().mapToLong(FailedBatch::records).sum();
  }

  /** What the on-failure destination received, one line per failed batch. */
  List<String> failureDescriptions() {
    return failures.stream()
        .map(f -> f.records() + " records of " + f.lanes() + " from " + f.firstPosition() + " to " + f.lastPosition()
            + ": " + f.reason() + (f.error() == null ? "" : " (" + f.error() + ")"))
        .toList();
  }

  /** The first few function errors (each one retried by the mapping). */
  List<String> functionErrors() {
    return List.copyOf(functionErrors);
  }

  /** Latency of every successful invocation, in milliseconds. */
  List<Long> latenciesMs() {
    List<Long> all = new ArrayList<>();
    mappings.forEach(m -> all.addAll(m.latenciesMs()));
    return all;
  }

  /** Stops polling; waits for invocations in flight. */
  @Override
  public void close() {
    mappings.forEach(LocalEventSourceMapping::close);
    clients.forEach(AmazonKinesis::shutdown);
  }
}
