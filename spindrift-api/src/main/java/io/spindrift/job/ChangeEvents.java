package io.spindrift.job;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import io.spindrift.event.SourceKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Change streams as upserts and deletes. A job's output row whose {@value #DELETE_COLUMN} (boolean) is true deletes
 * its key from an upsert sink instead of writing the row (only the key columns of such a row matter); every other
 * row upserts. Changes of one key apply in commit order: the last change of a key in a batch wins, and a later
 * batch's change wins over an earlier one's. A delete for an appending sink is a reject (lane, position, error),
 * never a silent drop. Like every {@code spindrift_*} column, {@value #DELETE_COLUMN} never reaches the table.
 *
 * <p>{@link JobContext#unwrapDebezium} turns Debezium change events into such rows and {@link
 * JobContext#parseJsonWithTombstones} turns Kafka tombstones (a record with a key and a null value) into deletes of
 * their key. A SQL job sets the column itself, e.g. {@code value IS NULL AS spindrift_delete}.
 */
public final class ChangeEvents {
  /** The output column that marks a row as the delete of its key (boolean; null counts as false). */
  public static final String DELETE_COLUMN = "spindrift_delete";
  private static final String TOMBSTONE = "_spindrift_tombstone";
  private static final List<String> OPS = List.of("c", "u", "r", "d");

  private ChangeEvents() {}

  /**
   * Debezium change events (JSON, with or without the {@code schema}/{@code payload} wrapping of Kafka Connect's
   * JSON converter) as rows of {@code rowSchema}: {@code op} {@code c}, {@code u} or {@code r} (create, update,
   * snapshot read) upserts {@code after}; {@code d} deletes the key of {@code before}; on Kafka, a tombstone (a null
   * value, which Debezium writes after a delete) deletes the key its record key names. An event that is not JSON,
   * has another op (such as {@code t}, truncate) or lacks the image its op needs is a reject naming why.
   *
   * @return {@code rowSchema}'s fields, then {@code spindrift_lane}, {@code spindrift_position},
   *     {@code spindrift_payload}, {@code spindrift_reject} and {@value #DELETE_COLUMN}
   */
  static Dataset<Row> unwrapDebezium(JobContext ctx, Dataset<Row> input, StructType rowSchema) {
    StructType change = new StructType()
        .add("op", DataTypes.StringType).add("before", rowSchema).add("after", rowSchema);
    StructType envelope = change.add("payload", change);
    Dataset<Row> withTombstones = input;
    if (ctx.source() == SourceKind.KAFKA) {
      Column tombstone = col("value").isNull().and(col("key").isNotNull());
      Column delete = to_json(struct(lit("d").as("op"), keyStruct(col("key"), rowSchema, false).as("before")));
      withTombstones = input.withColumn("value", when(tombstone, delete.cast("binary")).otherwise(col("value")));
    }
    Dataset<Row> parsed = ctx.parseJson(withTombstones, envelope);
    Column op = envelopeField("op");
    Column deletes = coalesce(op.equalTo("d"), lit(false));
    Column reason = when(col(JobContext.REJECT_COLUMN).isNotNull(), col(JobContext.REJECT_COLUMN))
        .when(op.isNull(), lit("not a Debezium change event: no 'op' field"))
        .when(not(op.isin(OPS.toArray())),
            concat(lit("unsupported Debezium op '"), op, lit("' (expected c, u, r or d)")))
        .when(deletes.and(envelopeField("before").isNull()), lit("Debezium delete (op 'd') without 'before'"))
        .when(not(deletes).and(envelopeField("after").isNull()),
            concat(lit("Debezium op '"), op, lit("' without 'after'")));
    Column image = when(deletes, envelopeField("before")).otherwise(envelopeField("after"));
    List<Column> columns = new ArrayList<>();
    for (StructField field : rowSchema.fields()) {
      columns.add(image.getField(field.name()).as(field.name()));
    }
    return parsed.select(withSpindriftColumns(columns, reason, deletes));
  }

  /**
   * As {@link JobContext#parseJson} with {@code keys} required, on Kafka, where a record with a key and a null
   * value (a tombstone) is the delete of its key: the record key is a JSON object holding the key fields (also
   * inside a {@code payload} field, as Kafka Connect writes keys), or, for one key column, the key's value as text.
   *
   * @return {@code schema}'s fields, then {@code spindrift_lane}, {@code spindrift_position},
   *     {@code spindrift_payload}, {@code spindrift_reject} and {@value #DELETE_COLUMN}
   * @throws IllegalArgumentException for a Kinesis source (its records have no key and always a payload), or a key
   *     that is not a field of {@code schema}
   */
  static Dataset<Row> parseJsonWithTombstones(JobContext ctx, Dataset<Row> input, StructType schema, String... keys) {
    if (ctx.source() != SourceKind.KAFKA) {
      throw new IllegalArgumentException("parseJsonWithTombstones reads Kafka tombstones, but app " + ctx.app()
          + " reads " + ctx.source() + ": use parseJson and set " + DELETE_COLUMN + " for the rows that delete");
    }
    List<String> names = Arrays.asList(schema.fieldNames());
    for (String key : keys) {
      if (!names.contains(key)) {
        throw new IllegalArgumentException("Key '" + key + "' is not a field of the schema (" + String.join(", ", names)
            + ")");
      }
    }
    StructType keySchema = new StructType(Arrays.stream(keys).map(key -> schema.apply(key)).toArray(StructField[]::new));
    Column key = keyStruct(col("key"), keySchema, true);
    List<Column> tombstoneFields = new ArrayList<>();
    for (String name : keys) {
      tombstoneFields.add(key.getField(name).as(name));
    }
    tombstoneFields.add(lit(true).as(TOMBSTONE));
    Column tombstone = col("value").isNull().and(col("key").isNotNull());
    Dataset<Row> marked = input.withColumn("value",
        when(tombstone, to_json(struct(tombstoneFields.toArray(Column[]::new))).cast("binary")).otherwise(col("value")));
    Dataset<Row> parsed = ctx.parseJson(marked, schema.add(TOMBSTONE, DataTypes.BooleanType), keys);
    List<Column> columns = new ArrayList<>();
    for (String name : schema.fieldNames()) {
      columns.add(col(name));
    }
    Column deletes = coalesce(col(TOMBSTONE), lit(false));
    return parsed.select(withSpindriftColumns(columns, col(JobContext.REJECT_COLUMN), deletes));
  }

  private static Column[] withSpindriftColumns(List<Column> columns, Column reason, Column deletes) {
    List<Column> out = new ArrayList<>(columns);
    out.add(col(SourceKind.LANE_COLUMN));
    out.add(col(SourceKind.POSITION_COLUMN));
    out.add(col(JobContext.PAYLOAD_COLUMN));
    out.add(reason.as(JobContext.REJECT_COLUMN));
    out.add(deletes.as(DELETE_COLUMN));
    return out.toArray(Column[]::new);
  }

  /** A field of the change, from Kafka Connect's {@code payload} wrapping when the event has one. */
  private static Column envelopeField(String name) {
    return when(col("payload").isNotNull(), col("payload." + name)).otherwise(col(name));
  }

  /**
   * The fields of {@code schema} read from a Kafka record key: a JSON object with those fields, or with them under
   * {@code payload}; with {@code rawSingle}, a key that is not a JSON object is the one field's value as text.
   */
  private static Column keyStruct(Column key, StructType schema, boolean rawSingle) {
    Column text = key.cast("string");
    Column plain = from_json(text, schema);
    Column wrapped = from_json(text, new StructType().add("payload", schema)).getField("payload");
    boolean raw = rawSingle && schema.size() == 1;
    List<Column> fields = new ArrayList<>();
    for (StructField field : schema.fields()) {
      Column fromJson = coalesce(wrapped.getField(field.name()), plain.getField(field.name()));
      Column value = raw ? when(trim(text).startsWith("{"), fromJson).otherwise(text.cast(field.dataType())) : fromJson;
      fields.add(value.as(field.name()));
    }
    return struct(fields.toArray(Column[]::new));
  }
}
