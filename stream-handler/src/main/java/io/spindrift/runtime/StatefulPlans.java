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
}
