package io.spindrift.it;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.event.SourceKind;
import io.spindrift.examples.Clickstream;
import io.spindrift.job.JobContext;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * {@link JobContext#parseJson} parses each record once even when the job filters on parsed columns (the usual
 * "drop the rejects" of a stateful job): Spark would otherwise push the filter below the parse and copy
 * {@code from_json} into it.
 */
class ParseJsonPlanTest {
  @Test
  void aFilterOnParsedColumnsDoesNotParseTheRecordAgain() {
    SparkSession spark = TestPipeline.runtime(TestPipeline.uniqueApp("plan")).spark();
    JobContext ctx = new JobContext("plan", SourceKind.KINESIS);
    List<Row> rows = List.of(
        row("{\"event_id\":\"a\",\"user_id\":\"u\",\"page\":\"/\",\"ts\":\"2026-11-23T00:00:01Z\"}", 1),
        row("{\"event_id\":\"b\",\"user_id\":\"u\",\"page\":\"/cart\",\"ts\":\"2026-11-23T00:00:02Z\"}", 2),
        row("{\"event_id\":\"c\",\"user_id\":\"u\",\"page\":\"/\",\"ts\":\"2026-11-23T00:00:03Z\"}", 3),
        row("not json", 4),
        row("{\"user_id\":\"u\",\"page\":\"/\",\"ts\":\"2026-11-23T00:00:04Z\"}", 5));
    // an RDD, not a local relation: the optimizer would evaluate a local relation's plan away
    Dataset<Row> input = spark.createDataFrame(
        JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 2), SourceKind.KINESIS.schema());

    Dataset<Row> counts = ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
        .filter(col(JobContext.REJECT_COLUMN).isNull())
        .filter(col("page").equalTo("/"))
        .groupBy("page").count();

    String plan = counts.queryExecution().optimizedPlan().toString().toLowerCase(java.util.Locale.ROOT);
    assertThat(plan.split("from_json\\(|jsontostructs\\(", -1).length - 1).as("from_json in the optimized plan:%n%s", plan)
        .isEqualTo(1);
    assertThat(counts.collectAsList()).extracting(r -> r.getString(0) + "=" + r.getLong(1)).containsExactly("/=2");
  }

  private static Row row(String payload, long position) {
    Object[] values = new Object[SourceKind.KINESIS.schema().size()];
    for (int i = 0; i < values.length; i++) {
      String name = SourceKind.KINESIS.schema().fields()[i].name();
      if (name.equals(SourceKind.KINESIS.payloadColumn())) {
        values[i] = payload.getBytes(StandardCharsets.UTF_8);
      } else if (name.equals(SourceKind.POSITION_COLUMN)) {
        values[i] = String.valueOf(position);
      } else if (name.equals(SourceKind.LANE_COLUMN)) {
        values[i] = "kinesis:clicks/shardId-000000000000";
      }
    }
    return RowFactory.create(values);
  }
}
