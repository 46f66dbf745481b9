package io.spindrift.runtime;

import io.spindrift.event.SourceKind;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GetStructField;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Deduplicate;
import org.apache.spark.sql.catalyst.plans.logical.DeduplicateWithinWatermark;
import org.apache.spark.sql.catalyst.plans.logical.EventTimeWatermark;
import org.apache.spark.sql.catalyst.plans.logical.FlatMapGroupsWithState;
import org.apache.spark.sql.catalyst.plans.logical.LocalRelation;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.types.DataTypeUtils;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.streaming.EventTimeStats;
import org.apache.spark.sql.execution.streaming.EventTimeWatermarkExec;
import org.apache.spark.sql.execution.streaming.IncrementalExecution;
import org.apache.spark.sql.execution.streaming.MicroBatchExecution;
import org.apache.spark.sql.execution.streaming.StreamingQueryWrapper;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

/**
 * What a stateful micro-batch's event times were, per lane, and which of its records Spark's stateful operator
 * dropped as late (issue 14 defect 11). The batch-wide figures come for free from Spark's own watermark operator
 * ({@link EventTimeWatermarkExec}'s statistics). Per-lane figures of a batch with several lanes, and the late
 * records, take one more small Spark job: the job's plan re-run over the batch's rows as a plain DataFrame, up to
 * its watermark (per lane: newest event time) or up to its stateful operator (late records: the same predicate
 * Spark's operator drops rows with, {@code eventTime <= watermark}, or {@code window.end <= watermark} for a
 * windowed aggregation). Both run only when needed: several lanes in the batch, or an event older than the
 * watermark.
 */
final class EventTimes {
  private static final Logger LOG = LoggerFactory.getLogger(EventTimes.class);

  private EventTimes() {}

  /**
   * One batch's event times as Spark's watermark operator saw them, the job's watermark delay, the watermark the
   * batch evicted state with and the one it dropped late rows with (the batch before's, as Spark does).
   */
  record Observed(long maxMs, long minMs, long rows, long delayMs, long batchWatermarkMs, long lateWatermarkMs) {
    /** Whether a row of the batch may be behind the late-event watermark. */
    boolean mayHaveLateRows() {
      return rows > 0 && minMs <= lateWatermarkMs;
    }
  }

  /** A record of the batch that the stateful operator dropped as late, and its newest event (or window end). */
  record Late(String lane, String position, long eventMs) {}

  /** The event times of the micro-batch {@code query} ran last; empty when its plan has no watermark. */
  static Optional<Observed> observed(StreamingQuery query) {
    IncrementalExecution last = execution(query).lastExecution();
    if (last == null) {
      return Optional.empty();
    }
    List<EventTimeWatermarkExec> operators = new ArrayList<>();
    collect(last.executedPlan(), operators);
    if (operators.isEmpty()) {
      return Optional.empty();
    }
    long max = Long.MIN_VALUE;
    long min = Long.MAX_VALUE;
    long rows = 0;
    long delay = 0;
    for (EventTimeWatermarkExec operator : operators) {
      EventTimeStats stats = operator.eventTimeStats().value();
      if (stats.count() > 0) {
        max = Math.max(max, stats.max());
        min = Math.min(min, stats.min());
        rows += stats.count();
      }
      delay = Math.max(delay, operator.delayMs());
    }
    long late = last.prevOffsetSeqMetadata().isDefined() ? last.prevOffsetSeqMetadata().get().batchWatermarkMs() : 0;
    return Optional.of(new Observed(max, min, rows, delay, last.offsetSeqMetadata().batchWatermarkMs(), late));
  }

  /** Sets the watermark the running {@code query} gives its next micro-batch (Spark's own would be higher). */
  static void setNextWatermark(StreamingQuery query, long watermarkMs) {
    execution(query).watermarkTracker().setWatermark(watermarkMs);
  }

  private static MicroBatchExecution execution(StreamingQuery query) {
    return (MicroBatchExecution) ((StreamingQueryWrapper) query).streamingQuery();
  }

  private static void collect(SparkPlan plan, List<EventTimeWatermarkExec> into) {
    if (plan instanceof EventTimeWatermarkExec watermark) {
      into.add(watermark);
    }
    for (SparkPlan child : JavaConverters.seqAsJavaList(plan.children())) {
      collect(child, into);
    }
  }

  /**
   * The job's plan over one batch's rows: what the late-record and per-lane queries read. The rows' relation is
   * marked streaming, or the analyzer would drop the job's watermark (it does for plain DataFrames), and the
   * queries run its parts below the stateful operator as plain Spark jobs, on a session of its own that skips
   * Spark's check against running streaming plans as batches (and leaves a SQL job's view of the stream alone).
   */
  static final class BatchPlan {
    private final SparkSession session;
    private final LogicalPlan analyzed;

    BatchPlan(SparkSession session, StreamJob job, JobContext context, List<InternalRow> rows) {
      this.session = session;
      session.conf().set("spark.sql.streaming.unsupportedOperationCheck", "false");
      StructType schema = context.source().schema();
      List<InternalRow> copies = new ArrayList<>(rows.size());
      rows.forEach(row -> copies.add(row.copy()));
      LocalRelation relation = new LocalRelation(
          JavaConverters.asScalaBuffer(new ArrayList<Attribute>(JavaConverters.seqAsJavaList(
              DataTypeUtils.toAttributes(schema)))).toSeq(),
          JavaConverters.asScalaBuffer(copies).toSeq(), true);
      this.analyzed = job.transform(Dataset.ofRows(session, relation), context).queryExecution().analyzed();
    }

    /** The job's plan over the rows, analyzed. */
    LogicalPlan analyzed() {
      return analyzed;
    }

    SparkSession session() {
      return session;
    }

    /** The newest event time of any row at the job's watermark (milliseconds); empty without a watermark or rows. */
    Optional<Long> newest() {
      EventTimeWatermark watermark = find(analyzed, EventTimeWatermark.class);
      if (watermark == null) {
        return Optional.empty();
      }
      Row row = Dataset.ofRows(session, withoutWatermarks(watermark.child()))
          .agg(functions.max(functions.unix_micros(new Column(watermark.eventTime())))).first();
      return row.isNullAt(0) ? Optional.empty() : Optional.of(row.getLong(0) / 1000);
    }

    /** Newest event time per lane (milliseconds); empty when the lane column does not reach the watermark. */
    Map<String, Long> newestPerLane() {
      EventTimeWatermark watermark = find(analyzed, EventTimeWatermark.class);
      if (watermark == null) {
        return Map.of();
      }
      Optional<Attribute> lane = attribute(watermark.child(), SourceKind.LANE_COLUMN);
      if (lane.isEmpty()) {
        return Map.of();
      }
      Map<String, Long> newest = new HashMap<>();
      for (Row row : Dataset.ofRows(session, withoutWatermarks(watermark.child()))
          .groupBy(new Column(lane.get()))
          .agg(functions.max(functions.unix_micros(new Column(watermark.eventTime()))))
          .collectAsList()) {
        if (!row.isNullAt(0) && !row.isNullAt(1)) {
          newest.put(row.getString(0), row.getLong(1) / 1000);
        }
      }
      return newest;
    }

    /**
     * The records the stateful operator drops as late with watermark {@code watermarkMs}: every row a record made
     * is at or before it (by event time, or by window end for a windowed aggregation). Empty when the plan does not
     * keep lane and position up to its stateful operator, or its operator is one whose drops cannot be told per
     * record (a session window's sessions merge across records; a stream-stream join): those are logged.
     */
    List<Late> late(long watermarkMs) {
      LogicalPlan operator = statefulOperator(analyzed);
      if (operator == null) {
        return List.of();
      }
      LogicalPlan input = operator.children().head();
      Optional<Attribute> lane = attribute(input, SourceKind.LANE_COLUMN);
      Optional<Attribute> position = attribute(input, SourceKind.POSITION_COLUMN);
      Optional<Attribute> eventTime = JavaConverters.seqAsJavaList(input.output()).stream()
          .filter(a -> a.metadata().contains(EventTimeWatermark.delayKey())).findFirst();
      if (lane.isEmpty() || position.isEmpty() || eventTime.isEmpty()
          || eventTime.get().name().equals("session_window")) {
        LOG.warn("Records behind the watermark cannot be sent to the rejects table for this job (its stateful"
            + " operator's input keeps no {}/{} columns, or it is a session window): Spark drops them",
            SourceKind.LANE_COLUMN, SourceKind.POSITION_COLUMN);
        return List.of();
      }
      Expression time = eventTime.get().dataType() instanceof StructType
          ? new GetStructField(eventTime.get(), 1, scala.Option.empty()) : eventTime.get();
      Dataset<Row> rows = Dataset.ofRows(session, withoutWatermarks(input));
      Optional<Attribute> reject = attribute(input, JobContext.REJECT_COLUMN);
      if (reject.isPresent()) {
        rows = rows.filter(new Column(reject.get()).isNull());
      }
      List<Late> late = new ArrayList<>();
      for (Row row : rows.groupBy(new Column(lane.get()), new Column(position.get()))
          .agg(functions.max(functions.unix_micros(new Column(time))).as("newest"))
          .filter(functions.col("newest").leq(watermarkMs * 1000))
          .collectAsList()) {
        late.add(new Late(row.getString(0), row.getString(1), row.getLong(2) / 1000));
      }
      return late;
    }
  }

  private static LogicalPlan statefulOperator(LogicalPlan plan) {
    if ((plan instanceof Aggregate || plan instanceof Deduplicate || plan instanceof DeduplicateWithinWatermark
        || plan instanceof FlatMapGroupsWithState) && hasWatermark(plan.children().head())) {
      return plan;
    }
    for (LogicalPlan child : JavaConverters.seqAsJavaList(plan.children())) {
      LogicalPlan found = statefulOperator(child);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  /** {@code plan} without its watermark nodes: only a streaming query can plan them (its attributes stay). */
  static LogicalPlan withoutWatermarks(LogicalPlan plan) {
    if (plan instanceof EventTimeWatermark watermark) {
      return withoutWatermarks(watermark.child());
    }
    List<LogicalPlan> children = new ArrayList<>();
    for (LogicalPlan child : JavaConverters.seqAsJavaList(plan.children())) {
      children.add(withoutWatermarks(child));
    }
    return children.isEmpty() ? plan : plan.withNewChildren(JavaConverters.asScalaBuffer(children).toSeq());
  }

  private static boolean hasWatermark(LogicalPlan plan) {
    return find(plan, EventTimeWatermark.class) != null;
  }

  private static <T extends LogicalPlan> T find(LogicalPlan plan, Class<T> type) {
    if (type.isInstance(plan)) {
      return type.cast(plan);
    }
    for (LogicalPlan child : JavaConverters.seqAsJavaList(plan.children())) {
      T found = find(child, type);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  private static Optional<Attribute> attribute(LogicalPlan plan, String name) {
    return JavaConverters.seqAsJavaList(plan.output()).stream().filter(a -> a.name().equals(name)).findFirst();
  }
}
