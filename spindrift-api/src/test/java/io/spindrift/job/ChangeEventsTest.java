package io.spindrift.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.event.SourceKind;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The change-stream helpers' rows, on a plain (batch) DataFrame of the Kafka input schema. */
class ChangeEventsTest {
  private static final StructType ORDER = new StructType()
      .add("order_id", DataTypes.LongType).add("status", DataTypes.StringType);
  private static final JobContext KAFKA = new JobContext("orders", SourceKind.KAFKA);
  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[1]").appName("change-events-test")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1").getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** Kafka records (key, value; either null) at offsets 0, 1, … of partition 0. */
  private static Dataset<Row> kafka(String... keysAndValues) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      rows.add(RowFactory.create(bytes(keysAndValues[i]), bytes(keysAndValues[i + 1]), "orders", 0, (long) i / 2,
          new Timestamp(0), 0, null, "kafka:orders-0", Long.toString(i / 2)));
    }
    return spark.createDataFrame(rows, SourceKind.KAFKA.schema());
  }

  private static byte[] bytes(String text) {
    return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
  }

  /** The rows as {@code order_id|status|delete|reject}. */
  private static List<String> changes(Dataset<Row> output) {
    return output.selectExpr("concat_ws('|', coalesce(CAST(order_id AS STRING), '-'), coalesce(status, '-'),"
        + " CAST(spindrift_delete AS STRING), coalesce(spindrift_reject, '-'))").as(org.apache.spark.sql.Encoders.STRING())
        .collectAsList();
  }

  @Test
  void debeziumOpsBecomeUpsertsAndDeletesAndTheRestRejects() {
    String wrappedKey = "{\"schema\":{},\"payload\":{\"order_id\":7}}";
    Dataset<Row> out = KAFKA.unwrapDebezium(kafka(
        "{\"order_id\":1}", "{\"before\":null,\"after\":{\"order_id\":1,\"status\":\"new\"},\"op\":\"c\"}",
        "{\"order_id\":1}", "{\"schema\":{},\"payload\":{\"before\":{\"order_id\":1},\"after\":{\"order_id\":1,"
            + "\"status\":\"paid\"},\"op\":\"u\",\"source\":{\"lsn\":5},\"ts_ms\":1}}",
        "{\"order_id\":2}", "{\"before\":null,\"after\":{\"order_id\":2,\"status\":\"old\"},\"op\":\"r\"}",
        "{\"order_id\":1}", "{\"before\":{\"order_id\":1,\"status\":\"paid\"},\"after\":null,\"op\":\"d\"}",
        wrappedKey, null,
        null, null,
        "{\"order_id\":3}", "{\"op\":\"t\"}",
        "{\"order_id\":4}", "{\"before\":null,\"after\":null,\"op\":\"c\"}",
        "{\"order_id\":5}", "{\"before\":null,\"op\":\"d\"}",
        "{\"order_id\":6}", "{\"after\":{\"order_id\":6}}"), ORDER);

    assertThat(out.columns()).containsExactly("order_id", "status", "spindrift_lane", "spindrift_position",
        "spindrift_payload", "spindrift_reject", ChangeEvents.DELETE_COLUMN);
    List<String> rows = changes(out);
    assertThat(rows.subList(0, 5)).containsExactly("1|new|false|-", "1|paid|false|-", "2|old|false|-",
        "1|paid|true|-", "7|-|true|-");
    assertThat(rows.get(5)).endsWith("|false|empty record");
    assertThat(rows.get(6)).endsWith("unsupported Debezium op 't' (expected c, u, r or d)");
    assertThat(rows.get(7)).endsWith("Debezium op 'c' without 'after'");
    assertThat(rows.get(8)).endsWith("Debezium delete (op 'd') without 'before'");
    assertThat(rows.get(9)).endsWith("not a Debezium change event: no 'op' field");
  }

  @Test
  void aKafkaTombstoneDeletesTheKeyItsRecordKeyNames() {
    Dataset<Row> out = KAFKA.parseJsonWithTombstones(kafka(
        "42", "{\"order_id\":42,\"status\":\"new\"}",
        "42", null,
        "{\"order_id\":43}", null,
        "{\"payload\":{\"order_id\":44}}", null,
        "not-a-number", null,
        null, null), ORDER, "order_id");

    List<String> rows = changes(out);
    assertThat(rows.subList(0, 4)).containsExactly("42|new|false|-", "42|-|true|-", "43|-|true|-", "44|-|true|-");
    assertThat(rows.get(4)).contains("'order_id'");
    assertThat(rows.get(5)).endsWith("empty record");
    assertThat(Arrays.asList(out.columns())).doesNotContain("_spindrift_tombstone");
  }

  @Test
  void tombstonesNeedKafkaAndKeysOfTheSchema() {
    JobContext kinesis = new JobContext("clicks", SourceKind.KINESIS);
    Dataset<Row> input = spark.createDataFrame(List.of(), SourceKind.KINESIS.schema());
    assertThatThrownBy(() -> kinesis.parseJsonWithTombstones(input, ORDER, "order_id"))
        .hasMessageContaining("KINESIS").hasMessageContaining(ChangeEvents.DELETE_COLUMN);
    assertThatThrownBy(() -> KAFKA.parseJsonWithTombstones(kafka(), ORDER, "id"))
        .hasMessageContaining("'id'");
  }
}
