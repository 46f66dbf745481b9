package io.spindrift.job;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.event.SourceKind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A reject's reason says what a person must fix: the field and what was expected, or what the payload is. */
class ParseJsonRejectReasonTest {
  private static final StructType SCHEMA = new StructType()
      .add("event_id", "string").add("user_id", "string").add("ts", "timestamp").add("price", "double")
      .add("tags", "array<string>");
  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[1]").appName("reject-reasons")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC").getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void aValueOfTheWrongTypeNamesTheFieldTheTypeExpectedAndTheValue() {
    assertThat(reasons("{\"event_id\":\"e\",\"user_id\":\"u\",\"ts\":\"yesterday\"}"))
        .containsExactly("field 'ts': expected timestamp, got \"yesterday\"");
    assertThat(reasons("{\"event_id\":\"e\",\"user_id\":\"u\",\"ts\":\"2026-11-23T00:00:00Z\",\"price\":\"cheap\"}"))
        .containsExactly("field 'price': expected double, got \"cheap\"");
    assertThat(reasons("{\"event_id\":\"e\",\"user_id\":\"u\",\"price\":\"cheap\",\"tags\":\"a\"}"))
        .containsExactly("field 'price': expected double, got \"cheap\"; field 'tags': expected array<string>, got \"a\"");
  }

  @Test
  void aMissingOrNullRequiredFieldIsNamed() {
    assertThat(reasons("{\"event_id\":\"e\",\"ts\":\"2026-11-23T00:00:00Z\"}"))
        .containsExactly("missing required field 'user_id'");
    assertThat(reasons("{\"event_id\":\"e\",\"user_id\":null}")).containsExactly("missing required field 'user_id'");
  }

  @Test
  void aPayloadThatIsNoJsonObjectSaysWhatItIs() {
    assertThat(reasons("[1,2,3]")).containsExactly("not a JSON object");
    assertThat(reasons("hello")).containsExactly("not a JSON object");
    assertThat(reasons("42")).containsExactly("not a JSON object");
    assertThat(reasons("{\"event_id\":\"e\",\"user_id\":\"u")).containsExactly("malformed JSON (not valid JSON text)");
    assertThat(reasons("")).containsExactly("empty record");
  }

  @Test
  void aLongValueIsShortenedAndAGoodRecordHasNoReason() {
    String longValue = "x".repeat(100);
    assertThat(reasons("{\"event_id\":\"e\",\"user_id\":\"u\",\"ts\":\"" + longValue + "\"}"))
        .containsExactly("field 'ts': expected timestamp, got \"" + "x".repeat(57) + "...\"");
    List<Row> good = parse("{\"event_id\":\"e\",\"user_id\":\"u\",\"ts\":\"2026-11-23T00:00:00Z\",\"price\":1.5,\"tags\":[\"a\"]}")
        .select("event_id", "price", JobContext.REJECT_COLUMN).collectAsList();
    assertThat(good).extracting(Row::toString).containsExactly("[e,1.5,null]");
  }

  @Test
  void fieldsWithOtherCharactersAreAddressedByName() {
    assertThat(JsonRejectReason.path("ts")).isEqualTo("$.ts");
    assertThat(JsonRejectReason.path("a.b")).isEqualTo("$['a.b']");
  }

  private static List<String> reasons(String payload) {
    return parse(payload).select(col(JobContext.REJECT_COLUMN)).collectAsList().stream()
        .map(row -> row.getString(0)).toList();
  }

  private static Dataset<Row> parse(String payload) {
    StructType input = SourceKind.KINESIS.schema();
    Object[] values = new Object[input.size()];
    for (int i = 0; i < values.length; i++) {
      String name = input.fields()[i].name();
      if (name.equals(SourceKind.KINESIS.payloadColumn())) {
        values[i] = payload.getBytes(StandardCharsets.UTF_8);
      } else if (name.equals(SourceKind.POSITION_COLUMN)) {
        values[i] = "1";
      } else if (name.equals(SourceKind.LANE_COLUMN)) {
        values[i] = "kinesis:s/shardId-0";
      }
    }
    List<Row> rows = new ArrayList<>(List.of(RowFactory.create(values)));
    return new JobContext("reasons", SourceKind.KINESIS)
        .parseJson(spark.createDataFrame(rows, input), SCHEMA, "event_id", "user_id");
  }
}
