package io.spindrift.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.sql.streaming.StreamingQueryListener;

/**
 * Keeps the duration breakdown Spark reports for every streaming micro-batch with input (queryPlanning,
 * latestOffset, addBatch, walCommit, triggerExecution…), with the query's name and when it arrived. It is
 * registered on every SparkSession, including the runtime's own sessions, through
 * {@code spark.sql.streaming.streamingQueryListeners}, set as a system property before the JVM's SparkContext
 * starts; Spark instantiates it once per session, hence the shared queue (the benchmark's only static state).
 */
public final class QueryProgressLog extends StreamingQueryListener {
  public static final String CONF = "spark.sql.streaming.streamingQueryListeners";
  private static final ConcurrentLinkedQueue<Progress> PROGRESS = new ConcurrentLinkedQueue<>();

  /** One micro-batch's durations, as reported. */
  private record Progress(long arrivedNanos, String query, Map<String, Double> durations) {}

  /** Makes every SparkSession created from now on report to this log. */
  static void register() {
    System.setProperty(CONF, QueryProgressLog.class.getName());
  }

  @Override
  public void onQueryStarted(QueryStartedEvent event) {}

  @Override
  public void onQueryProgress(QueryProgressEvent event) {
    String name = event.progress().name();
    if (name == null || event.progress().numInputRows() == 0) {
      return;
    }
    Map<String, Double> durations = new LinkedHashMap<>();
    event.progress().durationMs().forEach((phase, ms) -> durations.put(phase, ms.doubleValue()));
    PROGRESS.add(new Progress(System.nanoTime(), name, durations));
  }

  @Override
  public void onQueryIdle(QueryIdleEvent event) {}

  @Override
  public void onQueryTerminated(QueryTerminatedEvent event) {}

  /**
   * The summed durations of the micro-batches of queries named {@code prefix}… that arrived since
   * {@code sinceNanos}, waiting up to {@code waitMs} for the first (Spark's listener bus is asynchronous); empty if
   * none came. Older reports are forgotten.
   */
  static Map<String, Double> since(String prefix, long sinceNanos, long waitMs) {
    long deadline = System.nanoTime() + waitMs * 1_000_000;
    while (true) {
      PROGRESS.removeIf(p -> p.arrivedNanos() < sinceNanos);
      List<Progress> matching = new ArrayList<>();
      for (Progress progress : PROGRESS) {
        if (progress.query().startsWith(prefix)) {
          matching.add(progress);
        }
      }
      if (!matching.isEmpty() || System.nanoTime() >= deadline) {
        PROGRESS.removeAll(matching);
        return sum(matching);
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return sum(matching);
      }
    }
  }

  private static Map<String, Double> sum(List<Progress> batches) {
    Map<String, Double> total = new LinkedHashMap<>();
    for (Progress progress : batches) {
      progress.durations().forEach((phase, ms) -> total.merge(phase, ms, Double::sum));
    }
    return total;
  }
}
