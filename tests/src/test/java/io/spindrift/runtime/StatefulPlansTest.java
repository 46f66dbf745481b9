package io.spindrift.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.apache.spark.sql.functions.col;

import io.spindrift.config.SpindriftConfig;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which streaming plans fan out to reduce children that own whole state partitions (DESIGN §8) and, for the others,
 * the reason the fan-out falls back to single invocations with (logged by {@code FanOutMicroBatch}).
 */
class StatefulPlansTest {
  private static SparkSession spark;

  @BeforeAll
  static void spark() {
    // the settings the end-to-end tests build the JVM's one session with (LocalPipeline.config): whichever test
    // builds it first, a stateful runtime's state partitions are its shuffle partitions
    spark = SpindriftRuntime.sparkSession(SpindriftConfig.of(Map.of("SPINDRIFT_SHUFFLE_PARTITIONS", "2",
        "SPARK_MASTER", "local[2]"))).newSession();
  }

  private static Dataset<Row> stream() {
    return spark.readStream().format("rate").load();
  }

  @Test
  void oneKeyedStatefulOperatorSplitsAndAStatelessPlanIsNotStateful() {
    assertThat(StatefulPlans.unsplittable(stream().groupBy("value").count())).isNull();
    assertThat(StatefulPlans.unsplittable(stream().dropDuplicates("value"))).isNull();
    assertThat(StatefulPlans.isStateful(stream().groupBy("value").count())).isTrue();

    Dataset<Row> stateless = stream().where(col("value").gt(3)).select(col("value").plus(1));
    assertThat(StatefulPlans.isStateful(stateless)).isFalse();
    assertThat(StatefulPlans.unsplittable(stateless)).isNull();
  }

  @Test
  void plansAReduceChildCannotOwnWholeStatePartitionsOfAreNamedWithTheirReason() {
    assertThat(StatefulPlans.unsplittable(stream().groupBy().count()))
        .isEqualTo("the job aggregates without a key (all its state is one partition)");
    assertThat(StatefulPlans.unsplittable(stream().dropDuplicates("value").groupBy("value").count()))
        .isEqualTo("the job has 2 stateful operators [aggregation, deduplication] (a reduce child can own the"
            + " partitions of only one)");
    Dataset<Row> left = stream().withColumnRenamed("timestamp", "left_ts");
    Dataset<Row> right = stream().withColumnRenamed("timestamp", "right_ts");
    assertThat(StatefulPlans.unsplittable(left.join(right, "value")))
        .isEqualTo("the job joins two streams (each side keeps state keyed its own way)");
    assertThat(StatefulPlans.isStateful(left.join(right, "value"))).isTrue();
  }
}
