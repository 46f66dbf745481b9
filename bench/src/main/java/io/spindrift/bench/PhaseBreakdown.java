package io.spindrift.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Attributes a timed batch to phases, from the wall time the benchmark measured, the runtime's own timings
 * ({@code BatchOutcome.timingsMs}: read, spark_and_stage, commit, publish) and Spark's per-batch durations
 * ({@code StreamingQueryProgress.durationMs}). Every phase is a difference or a reported figure, never a
 * guess; the phases of one batch (all but the {@link #RAW} ones) add up to its wall time.
 */
final class PhaseBreakdown {
  static final String DECODE = "decode";
  static final String READ = "read (de-dup)";
  static final String QUERY_START_STOP = "spark query start+stop";
  static final String PLAN = "spark plan";
  static final String OFFSETS = "spark offsets+checkpoint";
  static final String EXECUTE_STAGE = "spark execute+stage";
  static final String EXECUTE_WRITE = "spark execute+write+commit";
  static final String SPARK_OTHER = "spark other";
  static final String COMMIT = "commit";
  static final String PUBLISH = "publish";
  static final String PUBLISH_JOIN = "join deferred publish";
  static final String OTHER = "other";
  static final String FEED_AND_WAIT = "feed+trigger wait";
  static final String SPARK_ALL = "spark plan+execute+stage";
  static final String SPARK_START = "spark query (re)start";
  static final String TRIGGER_AND_PLAN = "spark trigger+offsets+plan";
  static final String EXECUTE = "spark execute";
  static final String STAGE = "stage (Parquet to S3)";
  /** Prefix of the runtime's own timings, kept as reported beside the breakdown (they overlap it). */
  static final String RAW = "timingsMs.";

  private PhaseBreakdown() {}

  /**
   * A Spindrift invocation: {@code totalMs} handler-in to handler-out, {@code runtimeMs} and {@code timings}
   * from the runtime's log line, {@code spark} Spark's durations for the invocation's micro-batch. The runtime's
   * own split of its micro-batch ({@code spark_*} timings) is used where it reports one, Spark's otherwise.
   */
  static Map<String, Double> spindrift(double totalMs, double runtimeMs, Map<String, Double> timings,
      Map<String, Double> spark) {
    Map<String, Double> phases = new LinkedHashMap<>();
    double read = timings.getOrDefault("read", 0.0);
    double commit = timings.getOrDefault("commit", 0.0);
    double publish = timings.getOrDefault("publish", 0.0);
    // The micro-batch is whatever the runtime did besides reading, committing and publishing, if not reported.
    double sparkTotal = timings.getOrDefault("spark_and_stage",
        timings.getOrDefault("spark_total", Math.max(0, runtimeMs - read - commit - publish)));
    phases.put(DECODE, Math.max(0, totalMs - runtimeMs));
    phases.put(READ, read);
    if (timings.containsKey("spark_execute_and_stage")) {
      phases.putAll(runtimeSparkPhases(sparkTotal, timings));
    } else if (!spark.isEmpty()) {
      phases.putAll(sparkPhases(sparkTotal, spark, EXECUTE_STAGE));
    } else {
      phases.put(SPARK_ALL, sparkTotal);
    }
    double join = timings.getOrDefault("publish_join", 0.0);
    if (timings.containsKey("publish_join")) {
      phases.put(PUBLISH_JOIN, join);
    }
    phases.put(COMMIT, commit);
    phases.put(PUBLISH, publish);
    phases.put(OTHER, Math.max(0, runtimeMs - read - sparkTotal - join - commit - publish));
    timings.forEach((name, ms) -> phases.put(RAW + name, ms));
    spark.forEach((name, ms) -> phases.put(RAW + "spark." + name, ms));
    phases.put(RAW + "durationMs", runtimeMs);
    return phases;
  }

  /**
   * The micro-batch split by the runtime's own timings (a query that stays up across invocations): query
   * start-up, offer to foreachBatch (trigger, offsets, planning), execution, staging the Parquet files.
   */
  private static Map<String, Double> runtimeSparkPhases(double sparkTotal, Map<String, Double> timings) {
    Map<String, Double> phases = new LinkedHashMap<>();
    double start = timings.getOrDefault("spark_start", 0.0);
    double plan = timings.getOrDefault("spark_plan", 0.0);
    double executeAndStage = timings.get("spark_execute_and_stage");
    double execute = Math.min(executeAndStage, timings.getOrDefault("spark_execute", executeAndStage));
    phases.put(SPARK_START, start);
    phases.put(TRIGGER_AND_PLAN, plan);
    phases.put(EXECUTE, execute);
    phases.put(STAGE, executeAndStage - execute);
    phases.put(SPARK_OTHER, Math.max(0, sparkTotal - start - plan - executeAndStage));
    return phases;
  }

  /** A plain Spark query started for one batch: everything outside the trigger is start-up and shut-down. */
  static Map<String, Double> restartedQuery(double totalMs, Map<String, Double> spark) {
    return sparkPhases(totalMs, spark, EXECUTE_WRITE);
  }

  /** A long-running query fed one batch: outside the trigger is adding the data and waiting for the trigger. */
  static Map<String, Double> longRunningQuery(double totalMs, Map<String, Double> spark) {
    Map<String, Double> phases = sparkPhases(totalMs, spark, EXECUTE_WRITE);
    Double outside = phases.remove(QUERY_START_STOP);
    Map<String, Double> renamed = new LinkedHashMap<>();
    if (outside != null) {
      renamed.put(FEED_AND_WAIT, outside);
    }
    renamed.putAll(phases);
    return renamed;
  }

  /** Splits {@code outerMs} (a span holding one micro-batch) by Spark's reported durations. */
  private static Map<String, Double> sparkPhases(double outerMs, Map<String, Double> spark, String addBatchName) {
    Map<String, Double> phases = new LinkedHashMap<>();
    Double trigger = spark.get("triggerExecution");
    if (trigger == null) {
      phases.put("spark (no progress reported)", outerMs);
      return phases;
    }
    double plan = spark.getOrDefault("queryPlanning", 0.0);
    double offsets = spark.getOrDefault("latestOffset", 0.0) + spark.getOrDefault("getBatch", 0.0)
        + spark.getOrDefault("walCommit", 0.0) + spark.getOrDefault("commitOffsets", 0.0);
    double addBatch = spark.getOrDefault("addBatch", 0.0);
    phases.put(QUERY_START_STOP, Math.max(0, outerMs - trigger));
    phases.put(PLAN, plan);
    phases.put(OFFSETS, offsets);
    phases.put(addBatchName, addBatch);
    phases.put(SPARK_OTHER, Math.max(0, Math.min(trigger, outerMs) - plan - offsets - addBatch));
    return phases;
  }
}
