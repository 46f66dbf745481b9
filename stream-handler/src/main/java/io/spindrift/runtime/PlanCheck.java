package io.spindrift.runtime;

import java.util.Locale;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.analysis.UnsupportedOperationChecker;
import org.apache.spark.sql.catalyst.plans.logical.GlobalLimit;
import org.apache.spark.sql.catalyst.plans.logical.LocalLimit;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Tail;
import org.apache.spark.sql.streaming.OutputMode;
import scala.Option;
import scala.runtime.AbstractFunction1;

/**
 * Refuses, before the first batch, a job whose streaming plan Spindrift cannot run correctly one micro-batch per
 * invocation, naming the operator and what to write instead; then runs Spark's own checks of the plan against the
 * output mode, so what Spark would refuse when the query starts is refused when the job is loaded.
 */
final class PlanCheck {
  private PlanCheck() {}

  /** Throws {@link IllegalStateException} naming the first operator of {@code output} Spindrift cannot run. */
  static void check(Dataset<Row> output, String outputMode) {
    String mode = outputMode == null ? "" : outputMode.toLowerCase(Locale.ROOT);
    if (mode.equals("complete")) {
      throw new IllegalStateException("The job uses output mode 'complete', which rewrites the whole result table"
          + " every batch: Spindrift publishes each batch's rows once and cannot. Use output mode 'append' with a"
          + " watermark on the event time (finished groups are written once), or 'update' where supported.");
    }
    if (!mode.equals("append") && !mode.equals("update")) {
      throw new IllegalStateException("Unknown output mode '" + outputMode + "' (StreamJob.outputMode): use 'append'"
          + " or 'update'");
    }
    LogicalPlan plan = output.queryExecution().analyzed();
    Option<LogicalPlan> limit = plan.find(new AbstractFunction1<LogicalPlan, Object>() {
      @Override
      public Object apply(LogicalPlan node) {
        return node.isStreaming() && (node instanceof GlobalLimit || node instanceof LocalLimit || node instanceof Tail);
      }
    });
    if (limit.isDefined()) {
      throw new IllegalStateException("The job applies " + limit.get().nodeName() + " (limit or tail) to the stream:"
          + " Spindrift runs each batch in its own invocation and would apply it per batch, not to the stream. Filter"
          + " the stream instead, or apply the limit when you read the table.");
    }
    try {
      OutputMode sparkMode = mode.equals("update") ? OutputMode.Update() : OutputMode.Append();
      UnsupportedOperationChecker.checkForStreaming(plan, sparkMode);
    } catch (Exception e) {
      // Spark throws its (checked) AnalysisException, which the Scala signature does not declare
      if (!(e instanceof AnalysisException)) {
        throw e;
      }
      throw new IllegalStateException("Spark cannot run the job's query in output mode '" + outputMode + "': "
          + e.getMessage(), e);
    }
  }
}
