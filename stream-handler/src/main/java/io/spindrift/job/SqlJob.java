package io.spindrift.job;

import io.spindrift.sink.SinkSpec;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A job written as one SQL query over the view {@code events} (the input stream). Header comments set the sink:
 * <pre>
 * -- spindrift.sink.table: analytics.page_views
 * -- spindrift.sink.mode: append
 * -- spindrift.output.mode: append
 * SELECT ... FROM events
 * </pre>
 * Avro or Protobuf payloads behind a schema registry are decoded by a header that names the reader schema: {@code
 * -- spindrift.payload.avro: file:/schemas/order.avsc} (any location {@link JobContext#parseAvro} takes) or {@code
 * -- spindrift.payload.protobuf: s3://bucket/order.desc#shop.Order} (a descriptor set, then the message); the
 * query then also sees the view {@code payloads}: the decoded fields with Spindrift's lane, position, payload and
 * reject columns, as {@code parseAvro}/{@code parseProtobuf} return them (keep them to send rejects on).
 */
public final class SqlJob implements StreamJob {
  private static final Pattern HEADER = Pattern.compile("^\\s*--\\s*spindrift\\.([a-z.-]+)\\s*[:=]\\s*(\\S+)\\s*$",
      Pattern.MULTILINE);
  private final String sql;
  private final String source;
  private final SinkSpec sink;
  private final String outputMode;
  private final String avroSchema;
  private final String protobufSchema;

  /**
   * @param sql the query text, with optional header comments
   * @param source where it came from, for messages
   * @param tableOverride SPINDRIFT_SINK_TABLE, or blank
   */
  public SqlJob(String sql, String source, String tableOverride) {
    this.sql = sql;
    this.source = source;
    String table = tableOverride == null || tableOverride.isBlank() ? null : tableOverride;
    SinkSpec.Mode mode = SinkSpec.Mode.APPEND;
    SinkSpec.Format format = SinkSpec.Format.ICEBERG;
    List<String> keys = List.of();
    String partitionBy = null;
    String output = "append";
    String avro = null;
    String protobuf = null;
    Matcher matcher = HEADER.matcher(sql);
    while (matcher.find()) {
      String value = matcher.group(2);
      switch (matcher.group(1)) {
        case "sink.table" -> table = table == null ? value : table;
        case "sink.mode" -> mode = SinkSpec.Mode.valueOf(value.toUpperCase(Locale.ROOT));
        case "sink.format" -> format = SinkSpec.Format.valueOf(value.toUpperCase(Locale.ROOT));
        case "sink.keys" -> keys = java.util.Arrays.stream(value.split(",")).map(String::trim).toList();
        case "sink.partition-by" -> partitionBy = value;
        case "output.mode" -> output = value.toLowerCase(Locale.ROOT);
        case "payload.avro" -> avro = value;
        case "payload.protobuf" -> protobuf = protobufHeader(value, source);
        default -> throw new IllegalArgumentException(
            "Unknown header 'spindrift." + matcher.group(1) + "' in SQL job " + source);
      }
    }
    if (table == null) {
      throw new IllegalArgumentException("SQL job " + source
          + " names no table: add a header line '-- spindrift.sink.table: namespace.table' or set SPINDRIFT_SINK_TABLE");
    }
    this.sink = new SinkSpec(format, table, mode, keys, partitionBy);
    this.outputMode = output;
    this.avroSchema = avro;
    this.protobufSchema = protobuf;
  }

  private static String protobufHeader(String value, String source) {
    if (value.indexOf('#') <= 0 || value.endsWith("#")) {
      throw new IllegalArgumentException("SQL job " + source + ": spindrift.payload.protobuf is <descriptor set>#"
          + "<message>, e.g. s3://bucket/order.desc#shop.Order, not " + value);
    }
    return value;
  }

  @Override
  public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
    input.createOrReplaceTempView("events");
    if (avroSchema != null) {
      ctx.parseAvro(input, avroSchema).createOrReplaceTempView("payloads");
    } else if (protobufSchema != null) {
      int hash = protobufSchema.lastIndexOf('#');
      ctx.parseProtobuf(input, protobufSchema.substring(0, hash), protobufSchema.substring(hash + 1))
          .createOrReplaceTempView("payloads");
    }
    return input.sparkSession().sql(sql);
  }

  @Override
  public SinkSpec sink() {
    return sink;
  }

  @Override
  public String outputMode() {
    return outputMode;
  }

  public String source() {
    return source;
  }
}
