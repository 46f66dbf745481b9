package io.spindrift.job;

import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.get_json_object;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.ltrim;
import static org.apache.spark.sql.functions.substring;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The reject reason of {@link JobContext#parseJson}, as one Spark SQL expression in the plan (no Java UDF): it
 * names the field and what was expected ({@code field 'ts': expected timestamp, got "yesterday"}), a missing
 * required field, or says that the payload is not a JSON object or not JSON at all. The field-by-field diagnosis
 * re-reads the raw JSON values ({@code get_json_object}) only for records the typed parse already flagged, inside
 * the branch of a {@code CASE WHEN}, so records that parse cleanly pay nothing for it.
 */
final class JsonRejectReason {
  static final int SHOWN_CHARACTERS = 60;

  private JsonRejectReason() {}

  /**
   * Returns the reason, null for a record that is fine.
   *
   * @param payload the raw payload column (binary)
   * @param parsed the struct parsed with {@code schema} plus the corrupt-record column {@code corrupt}
   * @param schema the fields the job asked for
   * @param corrupt the name of the corrupt-record field inside {@code parsed}
   * @param required fields that must be present and not null
   */
  static Column of(Column payload, Column parsed, StructType schema, String corrupt, String... required) {
    Column text = payload.cast("string");
    Column reason = when(payload.isNull().or(length(payload).equalTo(0)), lit("empty record"))
        .when(parsed.isNull(), lit("not a JSON object"))
        .when(parsed.getField(corrupt).isNotNull(), notParsed(text, parsed, schema));
    for (String field : required) {
      reason = reason.when(parsed.getField(field).isNull(), lit("missing required field '" + field + "'"));
    }
    return reason;
  }

  /** Why the typed parse flagged a record: the fields whose value has the wrong type, else what the text is. */
  private static Column notParsed(Column text, Column parsed, StructType schema) {
    List<Column> wrongTypes = new ArrayList<>();
    for (StructField field : schema.fields()) {
      if (field.dataType().equals(DataTypes.StringType)) {
        continue; // any JSON value reads as a string
      }
      Column raw = get_json_object(text, path(field.name()));
      wrongTypes.add(when(parsed.getField(field.name()).isNull().and(raw.isNotNull()),
          concat(lit("field '" + field.name() + "': expected " + field.dataType().simpleString() + ", got \""),
              shortened(raw), lit("\""))));
    }
    Column fields = wrongTypes.isEmpty() ? lit("") : concat_ws("; ", wrongTypes.toArray(Column[]::new));
    return when(fields.notEqual(lit("")), fields)
        .when(ltrim(text).startsWith("{"), lit("malformed JSON (not valid JSON text)"))
        .otherwise(lit("not a JSON object"));
  }

  private static Column shortened(Column value) {
    return when(length(value).gt(SHOWN_CHARACTERS),
        concat(substring(value, 1, SHOWN_CHARACTERS - 3), lit("..."))).otherwise(value);
  }

  /** A JSON path to a top-level field: {@code $.name}, or {@code $['na.me']} for other names. */
  static String path(String name) {
    return name.matches("[A-Za-z_][A-Za-z0-9_]*") ? "$." + name : "$['" + name.replace("'", "\\'") + "']";
  }
}
