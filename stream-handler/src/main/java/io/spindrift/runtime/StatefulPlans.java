package io.spindrift.runtime;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Deduplicate;
import org.apache.spark.sql.catalyst.plans.logical.DeduplicateWithinWatermark;
import org.apache.spark.sql.catalyst.plans.logical.FlatMapGroupsWithState;
import org.apache.spark.sql.catalyst.plans.logical.Join;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.runtime.AbstractFunction1;
import java.util.ArrayList;
import java.util.List;

/** Tells whether a job's streaming plan keeps state across micro-batches (and so needs the durable state store). */
final class StatefulPlans {
  private StatefulPlans() {}

  static boolean isStateful(Dataset<Row> output) {
    return output.queryExecution().analyzed().find(new AbstractFunction1<LogicalPlan, Object>() {
      @Override
      public Object apply(LogicalPlan plan) {
        return plan instanceof Aggregate
            || plan instanceof Deduplicate
            || plan instanceof DeduplicateWithinWatermark
            || plan instanceof FlatMapGroupsWithState
            || (plan instanceof Join join && join.left().isStreaming() && join.right().isStreaming());
      }
    }).isDefined();
  }

  /**
   * Why a stateful job's batches cannot fan out to reduce children that each own whole state partitions (DESIGN
   * §8), or null when they can: exactly one stateful operator, keyed (a keyless aggregation keeps all its state in
   * one partition), and no stream-stream join.
   */
  static String unsplittable(Dataset<Row> output) {
    List<String> operators = new ArrayList<>();
    output.queryExecution().analyzed().foreach(new AbstractFunction1<LogicalPlan, scala.runtime.BoxedUnit>() {
      @Override
      public scala.runtime.BoxedUnit apply(LogicalPlan plan) {
        if (plan instanceof Join join && join.left().isStreaming() && join.right().isStreaming()) {
          operators.add("stream-stream join");
        } else if (plan instanceof Aggregate aggregate && aggregate.child().isStreaming()) {
          operators.add(aggregate.groupingExpressions().isEmpty() ? "keyless aggregation" : "aggregation");
        } else if ((plan instanceof Deduplicate || plan instanceof DeduplicateWithinWatermark)
            && plan.children().head().isStreaming()) {
          operators.add("deduplication");
        } else if (plan instanceof FlatMapGroupsWithState groups && groups.child().isStreaming()) {
          operators.add("flatMapGroupsWithState");
        }
        return scala.runtime.BoxedUnit.UNIT;
      }
    });
    if (operators.contains("stream-stream join")) {
      return "the job joins two streams (each side keeps state keyed its own way)";
    }
    if (operators.contains("keyless aggregation")) {
      return "the job aggregates without a key (all its state is one partition)";
    }
    if (operators.size() > 1) {
      return "the job has " + operators.size() + " stateful operators " + operators
          + " (a reduce child can own the partitions of only one)";
    }
    return null;
  }
}
