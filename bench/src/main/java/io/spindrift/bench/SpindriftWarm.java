package io.spindrift.bench;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.List;
import java.util.Map;

/**
 * Spindrift in a warm container: the {@link KinesisHandler} over one runtime, called through
 * {@link InProcessInvoker} with Kinesis event JSON as Lambda sends it. Timed from handler-in (event JSON) to
 * handler-out (response JSON), commit included, and publish too unless the runtime defers it
 * ({@code SPINDRIFT_PUBLISH=deferred}): then {@link #settle} waits for it untimed, and {@link #chain} times it.
 * Building the event JSON is not timed.
 */
final class SpindriftWarm implements WarmSystem {
  static final String NAME = "spindrift";
  static final String DEFERRED = "spindrift-deferred";
  private final String name;
  private final SpindriftRuntime runtime;
  private final InProcessInvoker<KinesisEvent, StreamsEventResponse> invoker;
  private final KinesisEvents events;
  private final InvocationLog log;
  private boolean reportsProgress = true;

  SpindriftWarm(String name, SpindriftRuntime runtime, KinesisEvents events, InvocationLog log) {
    this.name = name;
    this.runtime = runtime;
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
    checkClean(response);
    InvocationLog.Line line = log.last();
    checkCommitted(line, batch.size());
    return new Trial(millis,
        PhaseBreakdown.spindrift(millis, line.durationMs(), line.timingsMs(), sparkProgress(start)));
  }

  @Override
  public void settle() {
    if (!runtime.awaitPublication()) {
      throw new IllegalStateException(name + ": a deferred publish failed (see the io.spindrift.publish log)");
    }
  }

  /** Events built beforehand, invocations back to back, and the deferred publish of the last one timed too. */
  @Override
  public double chain(List<List<ClickstreamGenerator.Event>> batches) throws Exception {
    List<String> built = batches.stream().map(events::event).toList();
    log.clear();
    long start = System.nanoTime();
    for (String event : built) {
      checkClean(invoker.invoke(event));
    }
    settle();
    double millis = (System.nanoTime() - start) / 1e6;
    List<InvocationLog.Line> lines = log.drain();
    if (lines.size() != batches.size()) {
      throw new IllegalStateException("Expected " + batches.size() + " invocation lines, the runtime logged "
          + lines.size());
    }
    for (int i = 0; i < lines.size(); i++) {
      checkCommitted(lines.get(i), batches.get(i).size());
    }
    return millis;
  }

  private static void checkClean(String response) {
    if (!response.replace(" ", "").equals("{\"batchItemFailures\":[]}")) {
      throw new IllegalStateException("The handler reported failures on a clean batch: " + response);
    }
  }

  private static void checkCommitted(InvocationLog.Line line, int records) {
    if (line.records() != records || line.txnId() == null) {
      throw new IllegalStateException("Expected a commit of " + records + " fresh records, the runtime logged "
          + line + ": were records de-duplicated?");
    }
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
