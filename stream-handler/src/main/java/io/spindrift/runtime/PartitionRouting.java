package io.spindrift.runtime;

import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/**
 * The map side of a stateful fan-out (DESIGN §8): which state partitions each record of a split feeds. The job's
 * plan runs over the split's records as a plain Spark job up to its stateful operator, and every row there gets the
 * partition Spark's exchange before that operator would send it to ({@link OwnedPartitions#partitionId}: the same
 * hash of the same keys, the same count); a record is routed to every partition one of its rows lands in. To tell
 * rows' records apart, the plan carries the source's lane and position columns up to the operator (each projection
 * on the way keeps them; operators that rebuild rows, like a typed {@code map}, cannot, and then the split is not
 * routed: {@link Routes#partitions} is null and every reducer reads it, as if it owned all of it).
 *
 * <p>A record with no row at the operator (filtered, malformed) still goes to one partition, derived from its lane
 * and position: its reducer sees its event time (Spark's watermark counts it) and its rejects, once. Reducers keep
 * only their own partitions' rows right below the operator ({@link OwnedPartitions}), so routing a record to more
 * reducers than needed changes nothing but work.
 */
final class PartitionRouting {
  private final SparkSession session;
  private final StreamJob job;
  private final JobContext context;

  PartitionRouting(SparkSession session, StreamJob job, JobContext context) {
    this.session = session;
    this.job = job;
    this.context = context;
  }

  /**
   * Where a split's records go.
   *
   * @param partitions per record (in order) its state partitions, ascending; null when the split cannot be routed
   * @param newestPerLane the split's newest event time per lane at the job's watermark (empty: no watermark, or the
   *     lane column does not reach it)
   * @param newestMs the split's newest event time at the watermark; null without a watermark or rows
   */
  record Routes(List<int[]> partitions, Map<String, Long> newestPerLane, Long newestMs) {}

  Routes route(List<SourceRecord> records, int count) {
    List<InternalRow> rows = new ArrayList<>(records.size());
    records.forEach(record -> rows.add(record.toRow()));
    EventTimes.BatchPlan plan = new EventTimes.BatchPlan(session, job, context, rows);
    Map<String, Long> newestPerLane = plan.newestPerLane();
    Long newestMs = plan.newest().orElse(null);
    Map<String, TreeSet<Integer>> byRecord = partitionsByRecord(plan.analyzed(), count);
    if (byRecord == null) {
      return new Routes(null, newestPerLane, newestMs);
    }
    List<int[]> partitions = new ArrayList<>(records.size());
    for (SourceRecord record : records) {
      String id = record.lane() + "\n" + record.position();
      TreeSet<Integer> found = byRecord.get(id);
      partitions.add(found == null ? new int[] {Math.floorMod(id.hashCode(), count)}
          : found.stream().mapToInt(Integer::intValue).toArray());
    }
    return new Routes(partitions, newestPerLane, newestMs);
  }

  /** Each record's (lane, position) partitions at the stateful operator; null when rows cannot be told apart. */
  private Map<String, TreeSet<Integer>> partitionsByRecord(LogicalPlan analyzed, int count) {
    LogicalPlan operator = statefulOperator(analyzed);
    if (operator == null) {
      return null;
    }
    Seq<? extends Expression> keys = OwnedPartitions.statefulKeys(operator);
    LogicalPlan input = EventTimes.withoutWatermarks(operator.children().head());
    Optional<Attribute> lane = sourceAttribute(input, SourceKind.LANE_COLUMN);
    Optional<Attribute> position = sourceAttribute(input, SourceKind.POSITION_COLUMN);
    if (lane.isEmpty() || position.isEmpty()) {
      return null;
    }
    LogicalPlan carried = carry(input, List.of(lane.get(), position.get()));
    if (!carried.outputSet().contains(lane.get()) || !carried.outputSet().contains(position.get())) {
      return null;
    }
    Map<String, TreeSet<Integer>> out = new HashMap<>();
    for (Row row : Dataset.ofRows(session, carried)
        .select(new Column(lane.get()), new Column(position.get()),
            new Column(OwnedPartitions.partitionId(keys, count)))
        .collectAsList()) {
      out.computeIfAbsent(row.getString(0) + "\n" + row.getString(1), id -> new TreeSet<>()).add(row.getInt(2));
    }
    return out;
  }

  private static LogicalPlan statefulOperator(LogicalPlan plan) {
    if (OwnedPartitions.statefulKeys(plan) != null) {
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

  /** The source's column {@code name} as the plan's leaves produce it (the attribute projections pass on). */
  private static Optional<Attribute> sourceAttribute(LogicalPlan plan, String name) {
    if (plan.children().isEmpty()) {
      return JavaConverters.seqAsJavaList(plan.output()).stream().filter(a -> a.name().equals(name)).findFirst();
    }
    if (plan.children().size() != 1) {
      return Optional.empty();
    }
    return sourceAttribute(plan.children().head(), name);
  }

  /** {@code plan} with every projection keeping {@code attributes} where its input has them. */
  private static LogicalPlan carry(LogicalPlan plan, List<Attribute> attributes) {
    if (attributes.stream().allMatch(a -> plan.outputSet().contains(a))) {
      return plan;
    }
    List<LogicalPlan> children = new ArrayList<>();
    for (LogicalPlan child : JavaConverters.seqAsJavaList(plan.children())) {
      children.add(carry(child, attributes));
    }
    LogicalPlan next = children.isEmpty() ? plan
        : plan.withNewChildren(JavaConverters.asScalaBuffer(children).toSeq());
    if (next instanceof Project project) {
      List<NamedExpression> list = new ArrayList<>(JavaConverters.seqAsJavaList(project.projectList()));
      for (Attribute attribute : attributes) {
        if (!next.outputSet().contains(attribute) && project.child().outputSet().contains(attribute)) {
          list.add(attribute);
        }
      }
      next = new Project(JavaConverters.asScalaBuffer(list).toSeq(), project.child());
    }
    return next;
  }
}
