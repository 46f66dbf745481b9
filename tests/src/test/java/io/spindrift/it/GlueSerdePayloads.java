package io.spindrift.it;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DynamicMessage;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;

/**
 * Payloads written by the real AWS Glue Schema Registry serializer ({@code software.amazon.glue:schema-registry-serde},
 * its Kafka serializer with auto-registration), for tests. The serde's dependencies (Scala, Avro, Protobuf, Kotlin,
 * SDK v1) clash with Spark's, so it runs in one child JVM on its own classpath, built by the module {@code
 * tests-glue-serde-writer} ({@code target/classes} plus {@code target/glue-serde-writer.classpath}), against the
 * Glue endpoint given (the tests' {@link SchemaRegistryStandIn}).
 *
 * <p>Add records, then {@link #write()} once: it returns the framed payloads in the order added, and the schemas
 * they name are registered in the registry by the serializer itself (CreateSchema, then RegisterSchemaVersion for a
 * new definition).
 */
final class GlueSerdePayloads {
  private static final long TIMEOUT_SECONDS = 120;

  private final String endpoint;
  private final String registry;
  private final List<String> lines = new ArrayList<>();

  GlueSerdePayloads(String endpoint, String registry) {
    this.endpoint = endpoint;
    this.registry = registry;
  }

  /** Adds an Avro record to be written under schema {@code schemaName}, zlib-compressed if {@code zlib}. */
  GlueSerdePayloads avro(String schemaName, GenericRecord record, boolean zlib) throws IOException {
    Schema schema = record.getSchema();
    java.io.ByteArrayOutputStream json = new java.io.ByteArrayOutputStream();
    JsonEncoder encoder = EncoderFactory.get().jsonEncoder(schema, json);
    new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
    encoder.flush();
    lines.add(String.join("\t", "AVRO", schemaName, compression(zlib), schema.toString(),
        json.toString(StandardCharsets.UTF_8)));
    return this;
  }

  /** Adds a Protobuf message (its file must have no imports) to be written under schema {@code schemaName}. */
  GlueSerdePayloads protobuf(String schemaName, DynamicMessage message, boolean zlib) {
    FileDescriptorProto file = message.getDescriptorForType().getFile().toProto();
    lines.add(String.join("\t", "PROTOBUF", schemaName, compression(zlib),
        Base64.getEncoder().encodeToString(file.toByteArray()), message.getDescriptorForType().getName(),
        Base64.getEncoder().encodeToString(message.toByteArray())));
    return this;
  }

  /**
   * Runs the serializer over the records added; returns its payloads in the same order.
   *
   * @throws IllegalStateException if the writer module is not built or the serializer fails (with its output)
   */
  List<byte[]> write() throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("glue-serde-writer");
    Path input = Files.write(dir.resolve("records.tsv"), lines, StandardCharsets.UTF_8);
    Path output = dir.resolve("payloads.b64");
    Path log = dir.resolve("writer.log");
    List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath(),
        "io.spindrift.it.gluewriter.GlueSerdeWriter", endpoint, registry, input.toString(), output.toString());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("The Glue serde writer took over " + TIMEOUT_SECONDS + " s:\n"
          + Files.readString(log));
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException("The Glue serde writer failed with code " + process.exitValue() + ":\n"
          + Files.readString(log));
    }
    List<byte[]> payloads = Files.readAllLines(output, StandardCharsets.UTF_8).stream()
        .map(Base64.getDecoder()::decode).toList();
    if (payloads.size() != lines.size()) {
      throw new IllegalStateException("The Glue serde writer wrote " + payloads.size() + " payloads for "
          + lines.size() + " records:\n" + Files.readString(log));
    }
    return payloads;
  }

  /** The schema version id in a Glue-framed payload's header (bytes 2 to 17). */
  static UUID schemaVersionOf(byte[] payload) {
    ByteBuffer header = ByteBuffer.wrap(payload, 2, 16);
    return new UUID(header.getLong(), header.getLong());
  }

  private static String compression(boolean zlib) {
    return zlib ? "ZLIB" : "NONE";
  }

  private static String classpath() throws IOException {
    Path target = Path.of(System.getProperty("spindrift.repo.root", ".."), "tests-glue-serde-writer", "target");
    Path dependencies = target.resolve("glue-serde-writer.classpath");
    if (!Files.exists(dependencies)) {
      throw new IllegalStateException("No " + dependencies + ": build the module tests-glue-serde-writer first"
          + " (mvn -pl tests -am test-compile builds it)");
    }
    return target.resolve("classes") + File.pathSeparator + Files.readString(dependencies).strip();
  }
}
