package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.MskHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Avro and Protobuf payloads behind the two schema registries users meet on MSK and Kinesis, end to end through
 * real handler invocations, against a local stand-in registry ({@link SchemaRegistryStandIn}: Confluent's REST API
 * and Glue's JSON API). AWS Glue payloads are written by the real AWS Glue serializer ({@link GlueSerdePayloads}: the
 * serde in a child JVM, registering its schemas, compressing some with zlib); Confluent's client jars are not served,
 * so its payloads are records written by the real Avro library ({@code GenericDatumWriter}) and protobuf-java
 * ({@code DynamicMessage}) framed as Confluent's documented wire format. A producer that
 * registers an evolved writer schema mid-stream needs no redeploy; a payload whose schema cannot be read is a
 * reject naming the schema id, and the rest of the batch commits.
 */
class SchemaRegistryPayloadsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Schema V1 = readerSchema();
  private static final Schema V2 = new Schema.Parser().parse(V1.toString().replace("]}",
      ",{\"name\":\"coupon\",\"type\":[\"null\",\"string\"],\"default\":null}]}"));
  private static final String PROTO = "syntax = \"proto3\"; package shop; message Order {"
      + " int64 order_id = 1; string customer = 2; double amount = 3; repeated string tags = 4; }";
  private static final FileDescriptorProto ORDER_FILE = FileDescriptorProto.newBuilder().setName("shop/order.proto")
      .setPackage("shop").setSyntax("proto3").addMessageType(DescriptorProto.newBuilder().setName("Order")
          .addField(field("order_id", 1, FieldDescriptorProto.Type.TYPE_INT64))
          .addField(field("customer", 2, FieldDescriptorProto.Type.TYPE_STRING))
          .addField(field("amount", 3, FieldDescriptorProto.Type.TYPE_DOUBLE))
          .addField(field("tags", 4, FieldDescriptorProto.Type.TYPE_STRING)
              .setLabel(FieldDescriptorProto.Label.LABEL_REPEATED)))
      .build();
  private static final Descriptor ORDER = orderDescriptor();
  private static SchemaRegistryStandIn registry;
  /** Orders 6-10 (V1; 9 and 10 zlib) and 15-16 (V2, zlib), by the AWS Glue serializer. */
  private static List<byte[]> glueAvroV1;
  private static List<byte[]> glueAvroV2;
  /** Protobuf orders 7 and 8 (8 zlib), by the AWS Glue serializer. */
  private static List<byte[]> glueProtobuf;

  @BeforeAll
  static void startRegistryAndWriteGluePayloads() throws Exception {
    registry = new SchemaRegistryStandIn();
    // one child JVM runs the real AWS Glue serializer for both tests; it registers shop/orders V1 and V2 and
    // shop/orders-proto in the registry itself, as a producer with auto-registration does
    GlueSerdePayloads writer = new GlueSerdePayloads(registry.url(), "shop");
    for (long id = 6; id <= 10; id++) {
      writer.avro("orders", order(V1, id), id > 8);
    }
    for (long id = 15; id <= 16; id++) {
      writer.avro("orders", order(V2, id), true);
    }
    for (long id = 7; id <= 8; id++) {
      writer.protobuf("orders-proto", protobuf(ORDER, id), id == 8);
    }
    List<byte[]> payloads = writer.write();
    glueAvroV1 = payloads.subList(0, 5);
    glueAvroV2 = payloads.subList(5, 7);
    glueProtobuf = payloads.subList(7, 9);
    assertThat(payloads).allSatisfy(p -> assertThat(p[0]).as("Glue header version").isEqualTo((byte) 3));
    assertThat(payloads).extracting(p -> p[1]).as("compression: 0 none, 5 zlib")
        .containsExactly((byte) 0, (byte) 0, (byte) 0, (byte) 5, (byte) 5, (byte) 5, (byte) 5, (byte) 0, (byte) 5);
  }

  @AfterAll
  static void stopRegistry() {
    registry.close();
  }

  @Test
  void avroOfBothRegistriesLandsAcrossASchemaChangeAndUnreadablePayloadsAreRejectsNamingTheSchemaId()
      throws Exception {
    String app = TestPipeline.uniqueApp("avro_registry");
    SpindriftRuntime runtime = TestPipeline.runtime(app, settings(RegistryJobs.AvroOrders.class.getName()));
    int confluentV1 = registerConfluent("orders-value", V1.toString(), "AVRO");
    UUID glueV1 = GlueSerdePayloads.schemaVersionOf(glueAvroV1.get(0));
    assertThat(glueAvroV1).extracting(GlueSerdePayloads::schemaVersionOf).containsOnly(glueV1);
    assertThat(glueAvroV2).extracting(GlueSerdePayloads::schemaVersionOf).doesNotContain(glueV1);
    try {
      List<byte[]> first = new ArrayList<>();
      for (long id = 1; id <= 5; id++) {
        first.add(confluent(confluentV1, avro(V1, order(V1, id))));
      }
      first.addAll(glueAvroV1);
      assertThat(invokeKinesis(runtime, 0, first)).contains("\"batchItemFailures\":[]");

      // mid-stream, the producer adds an optional field and registers the new writer schema (the Glue serializer
      // registered it itself): no redeploy
      int confluentV2 = registerConfluent("orders-value", V2.toString(), "AVRO");
      List<byte[]> second = new ArrayList<>();
      for (long id = 11; id <= 14; id++) {
        GenericRecord order = order(V2, id);
        order.put("coupon", id % 2 == 0 ? "SAVE" + id : null);
        second.add(confluent(confluentV2, avro(V2, order)));
      }
      second.addAll(glueAvroV2);
      UUID unknownVersion = UUID.fromString("00000000-0000-0000-0000-00000000beef");
      byte[] cut = confluent(confluentV1, avro(V1, order(V1, 99)));
      second.add(confluent(999, avro(V1, order(V1, 97))));
      second.add(glue(unknownVersion, avro(V1, order(V1, 98))));
      second.add("{\"order_id\":96}".getBytes(StandardCharsets.UTF_8));
      second.add(new byte[] {0, 0, 0});
      second.add(java.util.Arrays.copyOf(cut, cut.length - 4));
      assertThat(invokeKinesis(runtime, 10, second)).contains("\"batchItemFailures\":[]");

      String table = TestPipeline.qualified(runtime, "it." + app);
      List<Row> rows = TestPipeline.rows(runtime, "SELECT order_id, customer, amount FROM " + table
          + " ORDER BY order_id");
      assertThat(rows).extracting(r -> r.getLong(0)).containsExactlyElementsOf(
          java.util.stream.LongStream.rangeClosed(1, 16).boxed().toList());
      assertThat(rows.get(13).getString(1)).isEqualTo("customer-14");
      assertThat(rows.stream().mapToDouble(r -> r.getDouble(2)).sum()).isEqualTo(amountsOf(1, 16));
      List<Row> rejects = TestPipeline.rows(runtime, "SELECT lane, position, error FROM "
          + TestPipeline.qualified(runtime, "it." + app + "_rejects") + " ORDER BY lane, position");
      assertThat(rejects).extracting(r -> r.getString(0)).containsOnly("kinesis:orders/shardId-000000000000");
      assertThat(rejects).extracting(r -> r.getString(1)).containsExactly(KinesisEvents.sequence(16),
          KinesisEvents.sequence(17), KinesisEvents.sequence(18), KinesisEvents.sequence(19),
          KinesisEvents.sequence(20));
      assertThat(rejects.get(0).getString(2))
          .isEqualTo("Confluent schema id 999: unknown to the registry at " + registry.url());
      assertThat(rejects.get(1).getString(2))
          .startsWith("Glue schema version " + unknownVersion + ": unknown to the Glue Schema Registry");
      assertThat(rejects.get(2).getString(2)).startsWith("not framed by a schema registry: first byte 0x7b");
      assertThat(rejects.get(3).getString(2)).startsWith("truncated Confluent framing: 3 bytes");
      assertThat(rejects.get(4).getString(2))
          .isEqualTo("Confluent schema id " + confluentV1 + ": the payload does not decode as Avro of that schema");
      assertThat(registry.reads("confluent:" + confluentV1)).as("writer schemas are cached per container").isEqualTo(1);
      assertThat(registry.reads("glue:" + glueV1)).isEqualTo(1);

      // another container whose registry is down: its payloads are rejects naming the id, the batch commits
      int closedPort;
      try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        closedPort = socket.getLocalPort();
      }
      SpindriftRuntime down = TestPipeline.runtime(app, Map.of("SPINDRIFT_JOB", RegistryJobs.AvroOrders.class.getName(),
          "SPINDRIFT_SCHEMA_REGISTRY_URL", "http://127.0.0.1:" + closedPort));
      try {
        String response = new InProcessInvoker<>(new KinesisHandler(down), KinesisEvent.class,
            StreamsEventResponse.class, 1).invoke(KinesisEvents.event("orders", "shardId-000000000001", 0,
                List.of(confluent(confluentV1, avro(V1, order(V1, 17))), confluent(confluentV1, avro(V1, order(V1, 18))))));
        assertThat(response).contains("\"batchItemFailures\":[]");
      } finally {
        down.close();
      }
      assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(16);
      assertThat(TestPipeline.rows(runtime, "SELECT error FROM " + TestPipeline.qualified(runtime, "it." + app
          + "_rejects") + " WHERE lane = 'kinesis:orders/shardId-000000000001'")).hasSize(2)
          .allSatisfy(r -> assertThat(r.getString(0)).startsWith("Confluent schema id " + confluentV1
              + ": the registry at http://127.0.0.1:" + closedPort + " cannot be reached"));
    } finally {
      runtime.close();
    }
  }

  @Test
  void protobufOfBothRegistriesOnKafkaThroughASqlJobLandsAndUnreadablePayloadsAreRejects(@TempDir Path dir) throws Exception {
    Path descriptors = Files.write(dir.resolve("order.desc"),
        FileDescriptorSet.newBuilder().addFile(ORDER_FILE).build().toByteArray());
    Path sql = Files.writeString(dir.resolve("orders.sql"), "-- spindrift.payload.protobuf: file:" + descriptors
        + "#shop.Order\nSELECT order_id, customer, amount, tags, spindrift_lane, spindrift_position,"
        + " spindrift_payload, spindrift_reject FROM payloads\n");
    String app = TestPipeline.uniqueApp("proto_registry");
    SpindriftRuntime runtime = TestPipeline.runtime(app, settings("file:" + sql));
    int id = registerConfluent("orders-proto-value", PROTO, "PROTOBUF");
    int avroId = registerConfluent("orders-value", V1.toString(), "AVRO");
    try {
      List<byte[]> values = new ArrayList<>();
      for (long i = 1; i <= 6; i++) {
        DynamicMessage message = protobuf(ORDER, i);
        // Confluent's Protobuf framing: magic byte, id, the message indexes ([0]: a count of 0), the message
        values.add(confluent(id, concat(new byte[] {0}, message.toByteArray())));
      }
      // by the AWS Glue serializer: header, version UUID, the message index (unsigned varint), the message
      values.addAll(glueProtobuf);
      values.add(confluent(998, new byte[] {0, 8, 1}));
      values.add(confluent(avroId, new byte[] {0, 8, 1}));
      values.add(confluent(id, new byte[] {0, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
      String topic = "orders-proto";
      new InProcessInvoker<>(new MskHandler(runtime), KafkaEvent.class, KafkaBatchResponse.class, 1)
          .invoke(kafkaEvent(topic, values));

      String table = TestPipeline.qualified(runtime, "it." + app);
      List<Row> rows = TestPipeline.rows(runtime, "SELECT order_id, customer, amount, tags FROM " + table
          + " ORDER BY order_id");
      assertThat(rows).extracting(r -> r.getLong(0)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
      assertThat(rows.get(1).getString(1)).isEqualTo("customer-2");
      assertThat(rows.get(1).getList(3)).containsExactly("t2", "all");
      assertThat(rows.get(7).getList(3)).containsExactly("t8", "all");
      assertThat(rows.stream().mapToDouble(r -> r.getDouble(2)).sum()).isEqualTo(amountsOf(1, 8));
      List<Row> rejects = TestPipeline.rows(runtime, "SELECT lane, position, error FROM "
          + TestPipeline.qualified(runtime, "it." + app + "_rejects") + " ORDER BY CAST(position AS BIGINT)");
      assertThat(rejects).extracting(r -> r.getString(0)).containsOnly("kafka:" + topic + "-0");
      assertThat(rejects).extracting(r -> r.getString(1)).containsExactly("8", "9", "10");
      assertThat(rejects.get(0).getString(2)).isEqualTo("Confluent schema id 998: unknown to the registry at "
          + registry.url());
      assertThat(rejects.get(1).getString(2)).isEqualTo("Confluent schema id " + avroId
          + ": registered as AVRO, not Protobuf");
      assertThat(rejects.get(2).getString(2))
          .startsWith("Confluent schema id " + id + ": the payload does not decode as Protobuf shop.Order");
    } finally {
      runtime.close();
    }
  }

  private static Descriptor orderDescriptor() {
    try {
      return FileDescriptor.buildFrom(ORDER_FILE, new FileDescriptor[0]).findMessageTypeByName("Order");
    } catch (com.google.protobuf.Descriptors.DescriptorValidationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static DynamicMessage protobuf(Descriptor order, long id) {
    return DynamicMessage.newBuilder(order)
        .setField(order.findFieldByName("order_id"), id)
        .setField(order.findFieldByName("customer"), "customer-" + id)
        .setField(order.findFieldByName("amount"), amount(id))
        .addRepeatedField(order.findFieldByName("tags"), "t" + id)
        .addRepeatedField(order.findFieldByName("tags"), "all")
        .build();
  }

  private static Map<String, String> settings(String job) {
    return Map.of("SPINDRIFT_JOB", job, "SPINDRIFT_SCHEMA_REGISTRY_URL", registry.url(),
        "SPINDRIFT_GLUE_ENDPOINT", registry.url());
  }

  private static Schema readerSchema() {
    try (InputStream in = SchemaRegistryPayloadsTest.class.getResourceAsStream("/registry/order.avsc")) {
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static double amount(long id) {
    return id * 10 + 0.5;
  }

  private static double amountsOf(long from, long to) {
    double sum = 0;
    for (long id = from; id <= to; id++) {
      sum += amount(id);
    }
    return sum;
  }

  private static GenericRecord order(Schema schema, long id) {
    GenericRecord record = new GenericData.Record(schema);
    record.put("order_id", id);
    record.put("customer", "customer-" + id);
    record.put("amount", amount(id));
    return record;
  }

  /** The record as the producer's Avro serializer writes it: Avro binary, no container file. */
  private static byte[] avro(Schema schema, GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  /** Confluent's wire format: magic byte 0, the schema id (4 bytes, big-endian), the record. */
  private static byte[] confluent(int id, byte[] record) {
    return ByteBuffer.allocate(5 + record.length).put((byte) 0).putInt(id).put(record).array();
  }

  /**
   * The AWS Glue Schema Registry's framing (header version 3, compression 0: none, the version UUID, the record),
   * framed by hand for a version no registry holds, which the real serializer cannot write.
   */
  private static byte[] glue(UUID version, byte[] record) {
    return ByteBuffer.allocate(18 + record.length).put((byte) 3).put((byte) 0)
        .putLong(version.getMostSignificantBits()).putLong(version.getLeastSignificantBits()).put(record).array();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    return ByteBuffer.allocate(a.length + b.length).put(a).put(b).array();
  }

  private static FieldDescriptorProto.Builder field(String name, int number, FieldDescriptorProto.Type type) {
    return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type)
        .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL).setJsonName(name);
  }

  /** Registers a schema over the Confluent REST API, as a producer's serializer does; returns its id. */
  private static int registerConfluent(String subject, String schema, String type) throws Exception {
    ObjectNode body = JSON.createObjectNode().put("schema", schema);
    if (!type.equals("AVRO")) {
      body.put("schemaType", type);
    }
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create(registry.url() + "/subjects/" + subject + "/versions"))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return JSON.readTree(response.body()).get("id").asInt();
  }

  private static String invokeKinesis(SpindriftRuntime runtime, long first, List<byte[]> payloads) throws Exception {
    return new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1)
        .invoke(KinesisEvents.event("orders", "shardId-000000000000", first, payloads));
  }

  /** An MSK event with binary values at offsets 0, 1, … of {@code topic}-0. */
  private static String kafkaEvent(String topic, List<byte[]> values) {
    ObjectNode event = JSON.createObjectNode();
    event.put("eventSource", "aws:kafka");
    event.put("eventSourceArn", "arn:aws:kafka:us-east-1:000000000000:cluster/local/1");
    event.put("bootstrapServers", "127.0.0.1:9092");
    ArrayNode list = event.putObject("records").putArray(topic + "-0");
    for (int i = 0; i < values.size(); i++) {
      ObjectNode node = list.addObject();
      node.put("topic", topic);
      node.put("partition", 0);
      node.put("offset", i);
      node.put("timestamp", 1_795_390_000_000L + i);
      node.put("timestampType", "CREATE_TIME");
      node.put("key", Base64.getEncoder().encodeToString(("k" + i).getBytes(StandardCharsets.UTF_8)));
      node.put("value", Base64.getEncoder().encodeToString(values.get(i)));
      node.putArray("headers");
    }
    return event.toString();
  }
}
