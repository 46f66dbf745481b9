package io.spindrift.registry;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.spark_partition_id;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.spindrift.config.SpindriftConfig;
import io.spindrift.job.PayloadDecoders;
import io.spindrift.runtime.AwsClients;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.avro.functions;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The runtime's {@link PayloadDecoders}: Avro through Spark's own {@code from_avro} after {@link
 * AvroPayloadDecoder} has unwrapped the registry framing and resolved the writer schema against the reader's, and
 * Protobuf through {@link ProtobufPayloadDecoder}. Reader schemas and descriptor sets are read once, when the job's
 * plan is built: inline, from a file, the classpath, S3, or the registry ({@code registry:<subject>} for a
 * Confluent subject's latest version, {@code glue:<registry>/<schema>} for a Glue schema's). The per-row steps are
 * nondeterministic to Spark, so its optimizer neither runs them twice nor pushes a filter on the decoded columns
 * below them (which would decode every record again).
 */
public final class RegistryPayloads implements PayloadDecoders {
  private static final String FRAMED = "_spindrift_framed";
  private static final String AVRO = "_spindrift_avro";

  private final SpindriftConfig config;
  private final RegistrySettings settings;

  public RegistryPayloads(SpindriftConfig config) {
    this.config = config;
    this.settings = RegistrySettings.of(config);
  }

  @Override
  public Dataset<Row> avro(Dataset<Row> input, Column payload, String readerSchema, String column) {
    String json = avroSchemaText(readerSchema);
    String envelope;
    try {
      envelope = AvroPayloadDecoder.envelope(new Schema.Parser().parse(json));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("The Avro reader schema " + shown(readerSchema) + " is not valid Avro: "
          + e.getMessage(), e);
    }
    Column decode = udf(new AvroPayloadDecoder(json, settings), AvroPayloadDecoder.RESULT).asNondeterministic()
        .apply(payload);
    Column framed = col(FRAMED);
    // the same guard as parseJson's: keeps from_avro in its own projection, decoded once per record
    Column bytes = when(spark_partition_id().geq(0), framed.getField("avro"));
    Dataset<Row> decoded = input.withColumn(FRAMED, decode)
        .withColumn(AVRO, functions.from_avro(bytes, envelope, Map.of("mode", "PERMISSIVE")));
    Column value = col(AVRO).getField("value");
    Column error = when(framed.getField("error").isNotNull(), framed.getField("error"))
        .when(framed.getField("avro").isNotNull().and(col(AVRO).getField("ok").isNull()),
            concat(framed.getField("schema"), lit(": the payload does not decode as Avro of that schema")));
    return decoded.withColumn(column, struct(value.as("value"), error.as("error")));
  }

  @Override
  public Dataset<Row> protobuf(Dataset<Row> input, Column payload, String descriptorSet, String messageName,
      String column) {
    byte[] descriptors = bytes(descriptorSet);
    ProtobufPayloadDecoder.find(descriptors, messageName); // fails fast, naming the message
    ProtobufPayloadDecoder decoder = new ProtobufPayloadDecoder(descriptors, messageName, settings);
    Column decode = udf(decoder, decoder.resultType()).asNondeterministic().apply(payload);
    Column framed = col(FRAMED);
    return input.withColumn(FRAMED, decode)
        .withColumn(column, struct(framed.getField("value").as("value"), framed.getField("error").as("error")));
  }

  /** The reader schema's JSON: inline, or read from where {@code location} says. */
  private String avroSchemaText(String location) {
    String trimmed = location.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[") || trimmed.startsWith("\"")) {
      return trimmed;
    }
    try {
      if (trimmed.startsWith("registry:")) {
        return WriterSchemas.of(settings).latestConfluent(trimmed.substring("registry:".length())).text();
      }
      if (trimmed.startsWith("glue:")) {
        String[] parts = trimmed.substring("glue:".length()).split("/", 2);
        if (parts.length != 2) {
          throw new IllegalArgumentException("A Glue reader schema is glue:<registry>/<schema>, not " + trimmed);
        }
        return WriterSchemas.of(settings).latestGlue(parts[0], parts[1]).text();
      }
    } catch (SchemaUnavailableException e) {
      throw new IllegalArgumentException("Cannot read the reader schema " + trimmed + ": " + e.getMessage(), e);
    }
    return new String(bytes(trimmed), StandardCharsets.UTF_8);
  }

  /** The bytes at {@code file:…} (or a plain path), {@code classpath:…} or {@code s3://…}. */
  private byte[] bytes(String location) {
    try {
      if (location.startsWith("classpath:")) {
        String resource = location.substring("classpath:".length()).replaceFirst("^/", "");
        try (InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(resource)) {
          if (in == null) {
            throw new IllegalArgumentException("No resource " + resource + " on the classpath (" + location + ")");
          }
          return in.readAllBytes();
        }
      }
      if (location.startsWith("s3://")) {
        URI uri = URI.create(location);
        try (S3Client s3 = AwsClients.s3(config)) {
          return s3.getObject(b -> b.bucket(uri.getHost()).key(uri.getPath().substring(1)),
              ResponseTransformer.toBytes()).asByteArray();
        }
      }
      return Files.readAllBytes(Path.of(location.replaceFirst("^file:", "")));
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException illegal) {
        throw illegal;
      }
      throw new IllegalArgumentException("Cannot read " + location + ": " + e, e);
    }
  }

  private static String shown(String schema) {
    return schema.length() > 80 ? schema.substring(0, 77) + "..." : schema;
  }
}
