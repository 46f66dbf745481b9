package io.spindrift.bench;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.List;
import java.util.Map;

/**
 * Spindrift in a warm container: the {@link KinesisHandler} over one runtime, called through
 * {@link InProcessInvoker} with Kinesis event JSON as Lambda sends it. Timed from handler-in (event JSON) to
 * handler-out (response JSON), commit and publish included. Building the event JSON is not timed.
 */
final class SpindriftWarm implements WarmSystem {
  static final String NAME = "spindrift";
  private final String name;
  private final InProcessInvoker<KinesisEvent, StreamsEventResponse> invoker;
  private final KinesisEvents events;
  private final InvocationLog log;
  private boolean reportsProgress = true;

  SpindriftWarm(String name, SpindriftRuntime runtime, KinesisEvents events, InvocationLog log) {
    this.name = name;
    this.invoker = new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class,
        StreamsEventResponse.class, 1);
    this.events = events;
    this.log = log;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Trial run(List<ClickstreamGenerator.Event> batch) throws Exception {
    String event = events.event(batch);
    log.clear();
    long start = System.nanoTime();
    String response = invoker.invoke(event);
    double millis = (System.nanoTime() - start) / 1e6;
    if (!response.replace(" ", "").equals("{\"batchItemFailures\":[]}")) {
      throw new IllegalStateException("The handler reported failures on a clean batch: " + response);
    }
    InvocationLog.Line line = log.last();
    if (line.records() != batch.size() || line.txnId() == null) {
      throw new IllegalStateException("Expected a commit of " + batch.size() + " fresh records, the runtime logged "
          + line + ": were records de-duplicated?");
    }
    return new Trial(millis,
        PhaseBreakdown.spindrift(millis, line.durationMs(), line.timingsMs(), sparkProgress(start)));
  }

  /**
   * Spark's durations for the runtime's micro-batches during this invocation (its queries are named
   * {@code spindrift-…}); once a runtime has shown it reports none, nobody waits for them again.
   */
  private Map<String, Double> sparkProgress(long sinceNanos) {
    Map<String, Double> progress = QueryProgressLog.since("spindrift-", sinceNanos, reportsProgress ? 1000 : 0);
    reportsProgress = !progress.isEmpty();
    return progress;
  }
}
