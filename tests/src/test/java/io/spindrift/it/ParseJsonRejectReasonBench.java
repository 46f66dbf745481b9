package io.spindrift.it;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.spark_partition_id;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.spindrift.event.SourceKind;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.job.JobContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What the precise reject reasons of {@link JobContext#parseJson} cost: the Clickstream parse over cached
 * clickstream payloads (0.5% malformed, as the demo), with today's reasons and with the previous single coarse
 * reason ("malformed JSON or wrong field type"), rounds interleaved; prints a {@code PARSE-BENCH} line with the
 * medians and their ratio. Not a test: {@code mvn -pl tests -am test -Dspindrift.bench=true
 * -Dtest=ParseJsonRejectReasonBench -Dsurefire.failIfNoSpecifiedTests=false} (-Dparse.records=N, default 400000;
 * -Dparse.malformed=share, default 0.005).
 */
@EnabledIfSystemProperty(named = "spindrift.bench", matches = "true")
class ParseJsonRejectReasonBench {
  private static final int ROUNDS = 7;

  @Test
  void preciseReasonsCostAgainstTheCoarseOne() {
    SparkSession spark = SparkSession.builder().master("local[2]").appName("parse-bench")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    int records = Integer.getInteger("parse.records", 400_000);
    Dataset<Row> input = input(spark, records).cache();
    input.count();
    JobContext ctx = new JobContext("bench", SourceKind.KINESIS);
    Supplier<Dataset<Row>> precise = () -> ctx.parseJson(input, Clickstream.EVENT, "event_id", "user_id", "ts");
    Supplier<Dataset<Row>> coarse = () -> coarseParseJson(input, Clickstream.EVENT, "event_id", "user_id", "ts");
    run(precise);
    run(coarse);
    long[] preciseMs = new long[ROUNDS];
    long[] coarseMs = new long[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
      coarseMs[i] = run(coarse);
      preciseMs[i] = run(precise);
    }
    System.out.printf(Locale.ROOT, "PARSE-BENCH %,d records (malformed share %s) x %d rounds: coarse reason median"
            + " %d ms, precise reasons median %d ms, ratio %.3f (coarse %s, precise %s)%n", records,
        System.getProperty("parse.malformed", "0.005"), ROUNDS, median(coarseMs), median(preciseMs),
        median(preciseMs) / (double) median(coarseMs), Arrays.toString(coarseMs),
        Arrays.toString(preciseMs));
  }

  /** Wall time of one full pass that reads every parsed column and the reason. */
  private static long run(Supplier<Dataset<Row>> parse) {
    long start = System.nanoTime();
    Dataset<Row> parsed = parse.get();
    parsed.agg(count(col(JobContext.REJECT_COLUMN)), count(col("ts")), sum(col("amount")),
        count(col("user_id")), count(col("page"))).collectAsList();
    return (System.nanoTime() - start) / 1_000_000;
  }

  /** The reason as it was before the precise messages: the same parse, one coarse message for a flagged record. */
  private static Dataset<Row> coarseParseJson(Dataset<Row> input, StructType schema, String... required) {
    String corrupt = "_spindrift_corrupt";
    Column payload = col(SourceKind.KINESIS.payloadColumn());
    Column text = when(spark_partition_id().geq(0), payload.cast("string"));
    Column parsed = from_json(text, schema.add(corrupt, DataTypes.StringType, true),
        Map.of("mode", "PERMISSIVE", "columnNameOfCorruptRecord", corrupt));
    Dataset<Row> withParsed = input.withColumn("_p", parsed);
    Column reason = when(payload.isNull(), lit("empty record"))
        .when(col("_p").isNull(), lit("not a JSON object"))
        .when(col("_p." + corrupt).isNotNull(), lit("malformed JSON or wrong field type"));
    for (String field : required) {
      reason = reason.when(col("_p." + field).isNull(), lit("missing required field '" + field + "'"));
    }
    List<Column> columns = new ArrayList<>();
    for (String field : schema.fieldNames()) {
      columns.add(col("_p." + field).as(field));
    }
    columns.add(col(SourceKind.LANE_COLUMN));
    columns.add(col(SourceKind.POSITION_COLUMN));
    columns.add(reason.as(JobContext.REJECT_COLUMN));
    return withParsed.select(columns.toArray(Column[]::new));
  }

  private static Dataset<Row> input(SparkSession spark, int records) {
    double malformed = Double.parseDouble(System.getProperty("parse.malformed", "0.005"));
    ClickstreamGenerator generator = new ClickstreamGenerator(42, malformed, 1_795_390_000_000L);
    StructType schema = SourceKind.KINESIS.schema();
    List<Row> rows = new ArrayList<>(records);
    for (int n = 0; n < records; n++) {
      Object[] values = new Object[schema.size()];
      for (int i = 0; i < values.length; i++) {
        String name = schema.fields()[i].name();
        if (name.equals(SourceKind.KINESIS.payloadColumn())) {
          values[i] = generator.next().json();
        } else if (name.equals(SourceKind.POSITION_COLUMN)) {
          values[i] = Integer.toString(n);
        } else if (name.equals(SourceKind.LANE_COLUMN)) {
          values[i] = "kinesis:clicks/shardId-000000000000";
        }
      }
      rows.add(RowFactory.create(values));
    }
    return spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 2), schema);
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
