package io.spindrift.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.spark_partition_id;
import static org.apache.spark.sql.functions.when;

import io.spindrift.event.SourceKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** What a job may know about where it runs: the app, the source kind, and helpers for bad input. */
public final class JobContext {
  public static final String REJECT_COLUMN = "spindrift_reject";
  public static final String PAYLOAD_COLUMN = "spindrift_payload";
  private static final String CORRUPT = "_spindrift_corrupt";

  private static final String DECODED = "_spindrift_decoded";

  private final String app;
  private final SourceKind source;
  private final PayloadDecoders decoders;

  public JobContext(String app, SourceKind source) {
    this(app, source, null);
  }

  /** A context whose {@link #parseAvro} and {@link #parseProtobuf} decode with {@code decoders} (the runtime's). */
  public JobContext(String app, SourceKind source, PayloadDecoders decoders) {
    this.app = app;
    this.source = source;
    this.decoders = decoders;
  }

  public String app() {
    return app;
  }

  public SourceKind source() {
    return source;
  }

  /**
   * Parses the payload (Kinesis {@code data} or Kafka {@code value}) as JSON of {@code schema}. The result has the
   * schema's fields, then Spindrift's lane, position, payload and reject columns. A record that is not JSON, not an
   * object, has a field of the wrong type or lacks one of {@code required} fields gets a reject reason that says
   * which ({@code field 'ts': expected timestamp, got "yesterday"}, {@code missing required field 'user_id'},
   * {@code not a JSON object}, {@code malformed JSON (not valid JSON text)}, {@code empty record}) and goes to the
   * rejects table.
   */
  public Dataset<Row> parseJson(Dataset<Row> input, StructType schema, String... required) {
    StructType withCorrupt = schema.add(CORRUPT, DataTypes.StringType, true);
    Column payload = col(source.payloadColumn());
    // The text goes through a no-op that Spark must treat as nondeterministic (a partition id is never negative;
    // not rand(), whose comparisons Spark's optimizer folds): Spark then never pushes a filter on the parsed columns
    // (the usual "drop the rejects") below this projection, which would copy from_json into the filter and parse
    // every record twice or more.
    Column text = when(spark_partition_id().geq(0), payload.cast("string"));
    Column parsed = from_json(text, withCorrupt, Map.of("mode", "PERMISSIVE", "columnNameOfCorruptRecord", CORRUPT));
    Dataset<Row> withParsed = input.withColumn("_spindrift_parsed", parsed);
    Column reason = JsonRejectReason.of(payload, col("_spindrift_parsed"), schema, CORRUPT, required);
    List<Column> columns = new ArrayList<>();
    for (StructField field : schema.fields()) {
      columns.add(col("_spindrift_parsed." + field.name()).as(field.name()));
    }
    columns.add(col(SourceKind.LANE_COLUMN));
    columns.add(col(SourceKind.POSITION_COLUMN));
    columns.add(payload.as(PAYLOAD_COLUMN));
    columns.add(reason.as(REJECT_COLUMN));
    return withParsed.select(columns.toArray(Column[]::new));
  }

  /**
   * Parses Avro payloads framed by a schema registry: the Confluent wire format (magic byte 0, a 4-byte schema id)
   * or the AWS Glue Schema Registry's (header version 3, compression none or zlib, a schema version UUID). Each
   * payload is read with the writer schema its id names (fetched from the registry once per container) and
   * resolved against {@code readerSchema}, so a producer that adds an optional field under a new id needs no
   * redeploy. The result has the reader schema's fields, then Spindrift's lane, position, payload and reject
   * columns. A payload that cannot be read is a reject naming why and the schema id ({@code Confluent schema id
   * 42: unknown to the registry at …}, {@code not framed by a schema registry: …}), as is a record lacking one of
   * {@code required} fields; the rest of the batch commits.
   *
   * @param readerSchema Avro schema JSON, or {@code file:…}, {@code s3://…}, {@code classpath:…} or {@code
   *     registry:<subject>} (the subject's latest version in the Confluent registry)
   * @throws IllegalStateException if this context has no decoders (outside the Spindrift runtime)
   */
  public Dataset<Row> parseAvro(Dataset<Row> input, String readerSchema, String... required) {
    return decoded(decoders().avro(input, col(source.payloadColumn()), readerSchema, DECODED), required);
  }

  /**
   * As {@link #parseAvro}, for Protobuf payloads read as {@code messageName} of a descriptor set ({@code protoc
   * --descriptor_set_out=… --include_imports}), at {@code descriptorSet}: {@code file:…}, {@code s3://…} or {@code
   * classpath:…}. Messages become structs, repeated fields arrays, maps maps, enums their names; a field without
   * presence that is unset reads as its default, one with presence (a message, {@code optional}) as null.
   */
  public Dataset<Row> parseProtobuf(Dataset<Row> input, String descriptorSet, String messageName,
      String... required) {
    return decoded(decoders().protobuf(input, col(source.payloadColumn()), descriptorSet, messageName, DECODED),
        required);
  }

  private PayloadDecoders decoders() {
    if (decoders == null) {
      throw new IllegalStateException("Avro and Protobuf payloads are decoded by the Spindrift runtime: this"
          + " JobContext of app " + app + " was made without it");
    }
    return decoders;
  }

  private Dataset<Row> decoded(Dataset<Row> withDecoded, String... required) {
    Column payload = col(source.payloadColumn());
    StructType value = (StructType) ((StructType) withDecoded.schema().apply(DECODED).dataType())
        .apply("value").dataType();
    Column record = col(DECODED).getField("value");
    Column error = col(DECODED).getField("error");
    Column reason = when(payload.isNull().or(functions.length(payload).equalTo(0)), lit("empty record"))
        .when(error.isNotNull(), error);
    for (String field : required) {
      value.apply(field); // fails fast, naming the field, if the schema lacks it
      reason = reason.when(record.getField(field).isNull(),
          lit("missing required field '" + field + "'"));
    }
    List<Column> columns = new ArrayList<>();
    for (StructField field : value.fields()) {
      columns.add(record.getField(field.name()).as(field.name()));
    }
    columns.add(col(SourceKind.LANE_COLUMN));
    columns.add(col(SourceKind.POSITION_COLUMN));
    columns.add(payload.as(PAYLOAD_COLUMN));
    columns.add(reason.as(REJECT_COLUMN));
    return withDecoded.select(columns.toArray(Column[]::new));
  }

  /**
   * Debezium change events as upserts and deletes of rows of {@code rowSchema} ({@link ChangeEvents}): op
   * {@code c}/{@code u}/{@code r} upserts {@code after}, {@code d} and a Kafka tombstone delete the key. For an
   * upsert sink on the table's key columns.
   *
   * @return {@code rowSchema}'s fields, then Spindrift's lane, position, payload, reject and
   *     {@value ChangeEvents#DELETE_COLUMN} columns
   */
  public Dataset<Row> unwrapDebezium(Dataset<Row> input, StructType rowSchema) {
    return ChangeEvents.unwrapDebezium(this, input, rowSchema);
  }

  /**
   * As {@link #parseJson} with {@code keys} required, on Kafka, where a tombstone (a key and a null value) deletes
   * its key ({@link ChangeEvents}). For an upsert sink on {@code keys}.
   *
   * @return {@code schema}'s fields, then Spindrift's lane, position, payload, reject and
   *     {@value ChangeEvents#DELETE_COLUMN} columns
   * @throws IllegalArgumentException on a Kinesis source, or for a key that is not a field of {@code schema}
   */
  public Dataset<Row> parseJsonWithTombstones(Dataset<Row> input, StructType schema, String... keys) {
    return ChangeEvents.parseJsonWithTombstones(this, input, schema, keys);
  }
}
