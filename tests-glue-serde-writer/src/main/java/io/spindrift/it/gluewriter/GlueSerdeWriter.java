package io.spindrift.it.gluewriter;

import com.amazonaws.services.schemaregistry.serializers.GlueSchemaRegistryKafkaSerializer;
import com.amazonaws.services.schemaregistry.utils.AWSSchemaRegistryConstants;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * For tests only: serializes records with the real AWS Glue Schema Registry serializer (the one Kafka producers
 * configure, {@link GlueSchemaRegistryKafkaSerializer}, with schema auto-registration on) against the Glue endpoint
 * given, and writes the framed payloads as base64 lines.
 *
 * <p>Arguments: the Glue endpoint, the registry name, the input file and the output file. Each input line is
 * tab-separated, one record per line:
 * <ul>
 *   <li>{@code AVRO <schema name> <NONE|ZLIB> <Avro schema JSON> <the record in Avro's JSON encoding>}
 *   <li>{@code PROTOBUF <schema name> <NONE|ZLIB> <base64 FileDescriptorProto> <message name> <base64 message>}
 * </ul>
 * Output line {@code n} is the serializer's bytes for input line {@code n}. Exits non-zero, with the serde's
 * exception, if any record cannot be serialized.
 */
public final class GlueSerdeWriter {
  private static final String TOPIC = "orders";

  private final String endpoint;
  private final String registry;
  private final Map<String, GlueSchemaRegistryKafkaSerializer> serializers = new HashMap<>();

  private GlueSerdeWriter(String endpoint, String registry) {
    this.endpoint = endpoint;
    this.registry = registry;
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 4) {
      throw new IllegalArgumentException("usage: GlueSerdeWriter <glue endpoint> <registry> <input> <output>");
    }
    GlueSerdeWriter writer = new GlueSerdeWriter(args[0], args[1]);
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[2]), StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        out.add(Base64.getEncoder().encodeToString(writer.write(line.split("\t"))));
      }
    }
    Files.write(Path.of(args[3]), out, StandardCharsets.UTF_8);
  }

  private byte[] write(String[] fields) throws IOException {
    String format = fields[0];
    Object record = switch (format) {
      case "AVRO" -> avro(new Schema.Parser().parse(fields[3]), fields[4]);
      case "PROTOBUF" -> protobuf(fields[3], fields[4], fields[5]);
      default -> throw new IllegalArgumentException("unknown data format " + format + " (AVRO or PROTOBUF)");
    };
    return serializer(format, fields[1], fields[2]).serialize(TOPIC, record);
  }

  private static GenericRecord avro(Schema schema, String json) throws IOException {
    return new GenericDatumReader<GenericRecord>(schema).read(null, DecoderFactory.get().jsonDecoder(schema, json));
  }

  private static DynamicMessage protobuf(String fileDescriptor, String messageName, String message) throws IOException {
    try {
      FileDescriptor file = FileDescriptor.buildFrom(
          FileDescriptorProto.parseFrom(Base64.getDecoder().decode(fileDescriptor)), new FileDescriptor[0]);
      Descriptor type = file.findMessageTypeByName(messageName);
      return DynamicMessage.parseFrom(type, Base64.getDecoder().decode(message));
    } catch (com.google.protobuf.Descriptors.DescriptorValidationException e) {
      throw new IllegalArgumentException("bad FileDescriptorProto: " + e.getMessage(), e);
    }
  }

  /** One serializer per (format, schema name, compression), as a producer configures one per topic. */
  private GlueSchemaRegistryKafkaSerializer serializer(String format, String schemaName, String compression) {
    return serializers.computeIfAbsent(format + "/" + schemaName + "/" + compression, key -> {
      Map<String, Object> config = new HashMap<>();
      config.put(AWSSchemaRegistryConstants.AWS_ENDPOINT, endpoint);
      config.put(AWSSchemaRegistryConstants.AWS_REGION, "us-east-1");
      config.put(AWSSchemaRegistryConstants.REGISTRY_NAME, registry);
      config.put(AWSSchemaRegistryConstants.SCHEMA_NAME, schemaName);
      config.put(AWSSchemaRegistryConstants.DATA_FORMAT, format);
      config.put(AWSSchemaRegistryConstants.SCHEMA_AUTO_REGISTRATION_SETTING, true);
      config.put(AWSSchemaRegistryConstants.COMPRESSION_TYPE, compression);
      return new GlueSchemaRegistryKafkaSerializer(
          StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")), config);
    });
  }
}
