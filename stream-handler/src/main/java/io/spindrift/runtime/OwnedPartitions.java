package io.spindrift.runtime;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.In;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Deduplicate;
import org.apache.spark.sql.catalyst.plans.logical.DeduplicateWithinWatermark;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.FlatMapGroupsWithState;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.physical.HashPartitioning;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.types.DataTypes;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/**
 * The optimizer rule of a fan-out reduce child (DESIGN §8): right below the job's stateful operator it keeps only
 * the rows whose state partition the child owns, computed exactly as Spark's exchange before that operator computes
 * it ({@link HashPartitioning#partitionIdExpression()} over the operator's keys, with the app's partition count).
 * With it, a child that runs the whole job over a batch feeds its stateful operator only its own partitions' rows;
 * with the state store serving nothing for the other partitions ({@code StateDeltas} ownership), a partition it does
 * not own is never read, evicted or committed by it, and the reducers together compute what one query would.
 *
 * <p>Added once to the session of a child's reduce queries; {@link #own} sets the partitions of the next query
 * (none: the rule changes nothing). Jobs with more than one stateful operator never reach it (they do not fan out).
 */
final class OwnedPartitions extends Rule<LogicalPlan> {
  private volatile int[] owned;
  private volatile int partitions;

  /** The partitions (of {@code count}) the next query keeps; null for all. */
  void own(List<Integer> ownedPartitions, int count) {
    this.partitions = count;
    this.owned = ownedPartitions == null ? null : ownedPartitions.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public LogicalPlan apply(LogicalPlan plan) {
    int[] keep = owned;
    return keep == null ? plan : rewrite(plan, keep, partitions);
  }

  private static LogicalPlan rewrite(LogicalPlan plan, int[] keep, int count) {
    List<LogicalPlan> children = JavaConverters.seqAsJavaList(plan.children());
    List<LogicalPlan> rewritten = new ArrayList<>(children.size());
    boolean changed = false;
    for (LogicalPlan child : children) {
      LogicalPlan next = rewrite(child, keep, count);
      changed |= next != child;
      rewritten.add(next);
    }
    Seq<? extends Expression> keys = statefulKeys(plan);
    if (keys != null && !rewritten.isEmpty() && !isOwnedFilter(rewritten.get(0))) {
      // the stateful input is the first child (FlatMapGroupsWithState's second is its initial state)
      rewritten.set(0, new Filter(condition(keys, keep, count), rewritten.get(0)));
      changed = true;
    }
    return changed ? plan.withNewChildren(JavaConverters.asScalaBuffer(rewritten).toSeq()) : plan;
  }

  /** The keys Spark's exchange hashes before {@code plan}, if it is a streaming stateful operator; else null. */
  @SuppressWarnings("unchecked")
  static Seq<? extends Expression> statefulKeys(LogicalPlan plan) {
    if (plan instanceof Aggregate aggregate && aggregate.child().isStreaming()) {
      return aggregate.groupingExpressions();
    }
    if (plan instanceof Deduplicate dedup && dedup.child().isStreaming()) {
      return dedup.keys();
    }
    if (plan instanceof DeduplicateWithinWatermark dedup && dedup.child().isStreaming()) {
      return dedup.keys();
    }
    if (plan instanceof FlatMapGroupsWithState groups && groups.child().isStreaming()) {
      return groups.groupingAttributes();
    }
    return null;
  }

  /** The state partition (of {@code count}) Spark's exchange sends a row with these keys to. */
  @SuppressWarnings("unchecked")
  static Expression partitionId(Seq<? extends Expression> keys, int count) {
    return new HashPartitioning((Seq<Expression>) keys, count).partitionIdExpression();
  }

  private static Expression condition(Seq<? extends Expression> keys, int[] keep, int count) {
    Expression partition = partitionId(keys, count);
    List<Expression> values = new ArrayList<>();
    for (int p : keep) {
      values.add(Literal.create(p, DataTypes.IntegerType));
    }
    return new In(partition, JavaConverters.asScalaBuffer(values).toSeq());
  }

  private static boolean isOwnedFilter(LogicalPlan plan) {
    return plan instanceof Filter filter && filter.condition() instanceof In in
        && in.value() instanceof org.apache.spark.sql.catalyst.expressions.Pmod pmod
        && pmod.left() instanceof org.apache.spark.sql.catalyst.expressions.Murmur3Hash;
  }
}
